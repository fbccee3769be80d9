package schemas

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The reference validator: santhosh-tekuri/jsonschema, draft 2020-12, with
// format assertion on (2020-12 makes "format" an annotation by default;
// the contract asks validators to assert it).

type validators struct {
	review, labeled, deadLetter *jsonschema.Schema
	compiler                    *jsonschema.Compiler
}

var (
	refOnce sync.Once
	ref     validators
	refErr  error
)

// newCompiler returns a compiler that knows the contract's schemas by
// their $id, so nothing is fetched.
func newCompiler() (*jsonschema.Compiler, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, name := range []string{ReviewSchemaFile, LabeledSchemaFile, DeadLetterSchemaFile} {
		data, err := FS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(BaseURI+name, doc); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func reference(t testing.TB) *validators {
	t.Helper()
	refOnce.Do(func() {
		c, err := newCompiler()
		if err != nil {
			refErr = err
			return
		}
		ref.compiler = c
		if ref.review, refErr = c.Compile(ReviewSchemaID); refErr != nil {
			return
		}
		if ref.labeled, refErr = c.Compile(LabeledSchemaID); refErr != nil {
			return
		}
		ref.deadLetter, refErr = c.Compile(DeadLetterSchemaID)
	})
	if refErr != nil {
		t.Fatalf("compiling the schemas: %v", refErr)
	}
	return &ref
}

// schemaVerdict is the reference validator's answer for a document: nil
// when valid. A document that does not parse as JSON is invalid.
func schemaVerdict(sch *jsonschema.Schema, doc []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

type example struct {
	name string // file name
	code string // the error code before "--" in an invalid example's name
	data []byte
}

// examples reads examples/<dir>/<kind>/*.json.
func examples(t *testing.T, dir, kind string) []example {
	t.Helper()
	root := path.Join("examples", dir, kind)
	entries, err := fs.ReadDir(os.DirFS("."), root)
	if err != nil {
		t.Fatal(err)
	}
	var out []example
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(path.Join(root, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		code, _, _ := strings.Cut(e.Name(), "--")
		if kind == "valid" || !strings.Contains(e.Name(), "--") {
			code = ""
		}
		out = append(out, example{e.Name(), code, data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) == 0 {
		t.Fatalf("no examples in %s", root)
	}
	return out
}

// genericJSON decodes doc with encoding/json into any, numbers as
// json.Number.
func genericJSON(t testing.TB, doc []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("encoding/json cannot read %q: %v", doc, err)
	}
	return v
}

// checkCodeAndField checks a decoder's error: its code, and that its
// message starts with the field it is about (when field is set).
func checkCodeAndField(t *testing.T, err *Error, code, field string) {
	t.Helper()
	if err.Code != code {
		t.Errorf("code %s (%s), want %s", err.Code, err.Message, code)
	}
	if field != "" && !strings.HasPrefix(err.Message, field+":") {
		t.Errorf("message %q does not start with the field %s", err.Message, field)
	}
}
