package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// openAPIDoc parses openapi.yaml and returns it as JSON-compatible data
// (the YAML is converted through encoding/json, so a value JSON cannot
// hold, such as a non-string key, fails here).
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	data, err := FS.ReadFile(OpenAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("openapi.yaml is not YAML: %v", err)
	}
	js, err := json.Marshal(raw)
	if err != nil {
		t.Fatalf("openapi.yaml holds something JSON cannot: %v", err)
	}
	doc, ok := genericJSON(t, js).(map[string]any)
	if !ok {
		t.Fatal("openapi.yaml is not a mapping")
	}
	return doc
}

// pointer resolves a JSON pointer (RFC 6901) in doc.
func pointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// walk calls fn for every mapping in v with its JSON pointer.
func walk(v any, at string, fn func(m map[string]any, at string)) {
	switch c := v.(type) {
	case map[string]any:
		fn(c, at)
		for k, e := range c {
			walk(e, at+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), fn)
		}
	case []any:
		for i, e := range c {
			walk(e, at+"/"+strconv.Itoa(i), fn)
		}
	}
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// allowed fails for keys of m outside the allowed set (x- extensions aside).
func allowed(t *testing.T, m map[string]any, at string, keys ...string) {
	t.Helper()
	for k := range m {
		if !slices.Contains(keys, k) && !strings.HasPrefix(k, "x-") {
			t.Errorf("%s: %q is not an OpenAPI 3.1 field here", at, k)
		}
	}
}

// TestOpenAPIStructure checks openapi.yaml as an OpenAPI 3.1 document
// without an OpenAPI library: the fields of the objects it uses, the
// required ones, the operations the service must offer, every $ref, and
// (in TestOpenAPISchemasAndExamples) every schema and example.
func TestOpenAPIStructure(t *testing.T) {
	doc := openAPIDoc(t)
	allowed(t, doc, "", "openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags", "externalDocs")
	if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi is %v, want 3.1.x", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	allowed(t, info, "/info", "title", "summary", "description", "termsOfService", "contact", "license", "version")
	for _, k := range []string{"title", "version"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info.%s is required", k)
		}
	}
	if lic, _ := info["license"].(map[string]any); lic["name"] == nil {
		t.Error("info.license needs a name")
	}

	paths, _ := doc["paths"].(map[string]any)
	want := map[string][]string{
		"/predict": {"post"}, "/predict/batch": {"post"}, "/healthz": {"get"}, "/readyz": {"get"},
		"/metrics": {"get"}, "/model": {"get"}, "/": {"get"},
	}
	if !slices.Equal(keysOf(paths), keysOf(map[string]any{"/predict": 0, "/predict/batch": 0, "/healthz": 0, "/readyz": 0, "/metrics": 0, "/model": 0, "/": 0})) {
		t.Errorf("paths %v", keysOf(paths))
	}
	opIDs := map[string]bool{}
	statuses := regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]XX|default)$`)
	for p, methods := range want {
		item, _ := paths[p].(map[string]any)
		allowed(t, item, p, "$ref", "summary", "description", "get", "put", "post", "delete", "options", "head", "patch", "trace", "servers", "parameters")
		for _, m := range methods {
			op, ok := item[m].(map[string]any)
			if !ok {
				t.Errorf("%s %s is missing", m, p)
				continue
			}
			at := p + " " + m
			allowed(t, op, at, "tags", "summary", "description", "externalDocs", "operationId", "parameters", "requestBody", "responses", "callbacks", "deprecated", "security", "servers")
			id, _ := op["operationId"].(string)
			if id == "" || opIDs[id] {
				t.Errorf("%s: operationId %q missing or repeated", at, id)
			}
			opIDs[id] = true
			responses, _ := op["responses"].(map[string]any)
			if len(responses) == 0 {
				t.Errorf("%s: no responses", at)
			}
			for code := range responses {
				if !statuses.MatchString(code) {
					t.Errorf("%s: response key %q", at, code)
				}
			}
		}
	}
	// Every operation may answer 405; the predict operations the rest. They
	// never answer 503: they need only the model, loaded before the port
	// opens, and serve while the worker joins its group or drains.
	for p, codes := range map[string][]string{
		"/predict":       {"200", "400", "405", "413", "415", "422", "500"},
		"/predict/batch": {"200", "400", "405", "413", "415", "422", "500"},
		"/healthz":       {"200", "503", "405"}, "/readyz": {"200", "503", "405"},
		"/metrics": {"200", "405"}, "/model": {"200", "405"}, "/": {"200", "405"},
	} {
		for m := range paths[p].(map[string]any) {
			responses := paths[p].(map[string]any)[m].(map[string]any)["responses"].(map[string]any)
			for _, c := range codes {
				if responses[c] == nil {
					t.Errorf("%s %s: no %s response", m, p, c)
				}
			}
		}
	}
	if c, _ := doc["components"].(map[string]any); c == nil || c["responses"].(map[string]any)["NotFound"] == nil {
		t.Error("components.responses.NotFound (404) is missing")
	}

	// Object-level rules, wherever the objects are.
	var (
		paramAt    = regexp.MustCompile(`^(/paths/[^/]+/[^/]+/parameters/\d+|/components/parameters/[^/]+)$`)
		responseAt = regexp.MustCompile(`^(/paths/[^/]+/[^/]+/responses/[^/]+|/components/responses/[^/]+)$`)
		bodyAt     = regexp.MustCompile(`^/paths/[^/]+/[^/]+/requestBody$`)
		mediaAt    = regexp.MustCompile(`/content/[^/]+$`)
	)
	counts := map[string]int{}
	walk(doc, "", func(m map[string]any, at string) {
		_, isRef := m["$ref"]
		switch {
		case paramAt.MatchString(at):
			counts["parameter"]++
			if isRef {
				allowed(t, m, at, "$ref", "summary", "description")
				return
			}
			allowed(t, m, at, "name", "in", "description", "required", "deprecated", "allowEmptyValue", "style", "explode", "allowReserved", "schema", "example", "examples", "content")
			if in, _ := m["in"].(string); !slices.Contains([]string{"query", "header", "path", "cookie"}, in) {
				t.Errorf("%s: parameter in %v", at, m["in"])
			}
			if m["name"] == nil || (m["schema"] == nil && m["content"] == nil) {
				t.Errorf("%s: a parameter needs a name and a schema", at)
			}
		case responseAt.MatchString(at):
			counts["response"]++
			if isRef {
				allowed(t, m, at, "$ref", "summary", "description")
				return
			}
			allowed(t, m, at, "description", "headers", "content", "links")
			if d, _ := m["description"].(string); d == "" {
				t.Errorf("%s: a response needs a description", at)
			}
		case bodyAt.MatchString(at):
			counts["requestBody"]++
			allowed(t, m, at, "description", "content", "required", "$ref")
			if m["content"] == nil {
				t.Errorf("%s: a request body needs content", at)
			}
		case mediaAt.MatchString(at) && !strings.Contains(at, "/schema/"):
			counts["media type"]++
			allowed(t, m, at, "schema", "example", "examples", "encoding")
		}
	})
	if counts["parameter"] < 3 || counts["response"] < 30 || counts["requestBody"] != 2 || counts["media type"] < 15 {
		t.Errorf("the walk found too few objects: %v", counts)
	}

	// Every $ref resolves: local ones in this document, others in the
	// schema files beside it.
	n := 0
	walk(doc, "", func(m map[string]any, at string) {
		r, ok := m["$ref"].(string)
		if !ok {
			return
		}
		n++
		file, frag, _ := strings.Cut(r, "#")
		target := any(doc)
		if file != "" {
			data, err := FS.ReadFile(file)
			if err != nil {
				t.Errorf("%s: $ref %s: no file %s", at, r, file)
				return
			}
			target = genericJSON(t, data)
		}
		if _, ok := pointer(target, frag); !ok {
			t.Errorf("%s: $ref %s does not resolve", at, r)
		}
	})
	if n < 20 {
		t.Errorf("only %d $refs found", n)
	}
}

// TestOpenAPISchemasAndExamples compiles every schema of openapi.yaml
// with the reference validator (OpenAPI 3.1 schemas are JSON Schema
// 2020-12) and checks every example against its schema.
func TestOpenAPISchemasAndExamples(t *testing.T) {
	doc := openAPIDoc(t)
	c, err := newCompiler()
	if err != nil {
		t.Fatal(err)
	}
	base := BaseURI + OpenAPIFile
	js, _ := json.Marshal(doc)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err := c.AddResource(base, inst); err != nil {
		t.Fatal(err)
	}
	compiled := map[string]*jsonschema.Schema{}
	compile := func(at string) *jsonschema.Schema {
		if s, ok := compiled[at]; ok {
			return s
		}
		s, err := c.Compile(base + "#" + at)
		if err != nil {
			t.Errorf("schema %s does not compile: %v", at, err)
		}
		compiled[at] = s
		return s
	}
	components := doc["components"].(map[string]any)
	for name := range components["schemas"].(map[string]any) {
		compile("/components/schemas/" + name)
	}
	examples := 0
	walk(doc, "", func(m map[string]any, at string) {
		// A media type object or a parameter: schema beside examples.
		if _, ok := m["schema"]; !ok {
			return
		}
		sch := compile(at + "/schema")
		if sch == nil {
			return
		}
		var values []any
		if ex, ok := m["example"]; ok {
			values = append(values, ex)
		}
		if exs, ok := m["examples"].(map[string]any); ok {
			for _, e := range exs {
				e := e.(map[string]any)
				allowed(t, e, at+"/examples", "summary", "description", "value", "externalValue", "$ref")
				values = append(values, e["value"])
			}
		}
		for i, v := range values {
			examples++
			if err := sch.Validate(v); err != nil {
				t.Errorf("%s: example %d is invalid: %v", at, i, err)
			}
		}
	})
	if examples < 15 {
		t.Errorf("only %d examples checked", examples)
	}

	// Errors produced by this package fit the Error schema, and a
	// Labeled's prediction fields fit Prediction.
	errSchema := compile("/components/schemas/Error")
	_, derr := DecodeReview([]byte(`{"review_id":"r","text":""}`), DecodeOptions{})
	body := fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, derr.Code, derr.Message)
	if err := errSchema.Validate(genericJSON(t, []byte(body))); err != nil {
		t.Errorf("%s: %v", body, err)
	}
	l := sampleLabeled()
	labeled := genericJSON(t, l.AppendJSON(nil)).(map[string]any)
	pred := map[string]any{"label": labeled["label"], "confidence": labeled["confidence"], "scores": labeled["scores"], "model": labeled["model"], "id": "x"}
	if err := compile("/components/schemas/Prediction").Validate(pred); err != nil {
		t.Errorf("prediction %v: %v", pred, err)
	}
	// A batch result is a prediction or an error, never both.
	batch := compile("/components/schemas/BatchResponse")
	if err := batch.Validate(map[string]any{"results": []any{pred, genericJSON(t, []byte(body))}}); err != nil {
		t.Errorf("batch: %v", err)
	}
	if err := batch.Validate(map[string]any{"results": []any{map[string]any{"label": "x"}}}); err == nil {
		t.Error("batch accepts a result that is neither")
	}
	// The request schemas share the review's text rules.
	req := compile("/components/schemas/PredictRequest")
	for body, ok := range map[string]bool{`{"text":"hi"}`: true, `{"text":"hi","id":"a","extra":1}`: true, `{"text":" "}`: false, `{"id":"a"}`: false, `{"text":"hi","id":""}`: false,
		`{"text":"hi","title":"Meh"}`: true, `{"text":"hi","title":" "}`: true, `{"text":"hi","title":null}`: false, `{"text":"hi","title":"` + strings.Repeat("é", 1025) + `"}`: false} {
		if err := req.Validate(genericJSON(t, []byte(body))); (err == nil) != ok {
			t.Errorf("PredictRequest %s: %v", body, err)
		}
	}
}
