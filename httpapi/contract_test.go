package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/httpapi"
	"github.com/capastan/capastan/models"
	"github.com/capastan/capastan/schemas"
)

// The contract test sends real requests to the API and checks each answer
// against schemas/openapi.yaml: the status is one the operation documents,
// the Content-Type is the documented media type, a JSON body validates
// against the documented schema (JSON Schema 2020-12, format assertion on,
// the same reference validator as package schemas), and documented headers
// hold values of their schema. Every operation, and every status it
// documents (but the few listed in contractUnreachable), must be exercised
// by the table, so a new route or a new documented answer without a case
// fails here.

// contractSpec is openapi.yaml, parsed, with a compiler that resolves its
// $refs to the schema files beside it (by their $id, nothing fetched).
type contractSpec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

const contractBase = schemas.BaseURI + schemas.OpenAPIFile

func loadContractSpec(t *testing.T) *contractSpec {
	t.Helper()
	data, err := schemas.FS.ReadFile(schemas.OpenAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	js, err := json.Marshal(raw)
	if err != nil {
		t.Fatalf("openapi.yaml as JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	doc, ok := inst.(map[string]any)
	if !ok {
		t.Fatal("openapi.yaml is not a mapping")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, name := range []string{schemas.ReviewSchemaFile, schemas.LabeledSchemaFile, schemas.DeadLetterSchemaFile} {
		b, err := schemas.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		d, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource(schemas.BaseURI+name, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddResource(contractBase, inst); err != nil {
		t.Fatal(err)
	}
	return &contractSpec{doc: doc, compiler: c, compiled: map[string]*jsonschema.Schema{}}
}

// contractPtrEscape escapes one JSON-pointer token (RFC 6901).
func contractPtrEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// at resolves a local JSON pointer in the document.
func (s *contractSpec) at(t *testing.T, ptr string) map[string]any {
	t.Helper()
	cur := any(s.doc)
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("openapi.yaml: %s does not resolve", ptr)
		}
		cur = m[tok]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("openapi.yaml: %s is not an object", ptr)
	}
	return m
}

// deref follows an OpenAPI $ref (local ones only; the document has no
// other kind outside schemas) and returns the object and its pointer.
func (s *contractSpec) deref(t *testing.T, ptr string) (map[string]any, string) {
	t.Helper()
	for range 10 {
		m := s.at(t, ptr)
		r, ok := m["$ref"].(string)
		if !ok {
			return m, ptr
		}
		if !strings.HasPrefix(r, "#/") {
			t.Fatalf("%s: $ref %s is not local", ptr, r)
		}
		ptr = r[1:]
	}
	t.Fatalf("%s: $ref loop", ptr)
	return nil, ""
}

func (s *contractSpec) schema(t *testing.T, ptr string) *jsonschema.Schema {
	t.Helper()
	if sch, ok := s.compiled[ptr]; ok {
		return sch
	}
	sch, err := s.compiler.Compile(contractBase + "#" + ptr)
	if err != nil {
		t.Fatalf("schema %s does not compile: %v", ptr, err)
	}
	s.compiled[ptr] = sch
	return sch
}

// operations lists "METHOD /path" for every operation of the document.
func (s *contractSpec) operations() []string {
	var ops []string
	for p, item := range s.doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			switch m {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				ops = append(ops, strings.ToUpper(m)+" "+p)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// methods lists the methods the document gives a path.
func (s *contractSpec) methods(path string) []string {
	var ms []string
	for _, op := range s.operations() {
		m, p, _ := strings.Cut(op, " ")
		if p == path {
			ms = append(ms, m)
		}
	}
	return ms
}

// response returns the documented response (dereferenced) and its pointer
// for a request: the operation's response for the status; for a method the
// path lacks, the 405 response of the path's operations; for a path the
// document lacks, components.responses.NotFound.
func (s *contractSpec) response(t *testing.T, method, path string, status int) (resp map[string]any, ptr, op string, ok bool) {
	t.Helper()
	paths := s.doc["paths"].(map[string]any)
	item, known := paths[path].(map[string]any)
	if !known {
		if status != http.StatusNotFound {
			return nil, "", "", false
		}
		resp, ptr = s.deref(t, "/components/responses/NotFound")
		return resp, ptr, "(no such path)", true
	}
	m := strings.ToLower(method)
	if _, has := item[m]; !has {
		if status != http.StatusMethodNotAllowed {
			return nil, "", "", false
		}
		// Every operation of the path documents the same 405.
		m = strings.ToLower(s.methods(path)[0])
	} else {
		op = method + " " + path
	}
	responses := item[m].(map[string]any)["responses"].(map[string]any)
	code := strconv.Itoa(status)
	for _, key := range []string{code, code[:1] + "XX", "default"} {
		if _, has := responses[key]; has {
			resp, ptr = s.deref(t, "/paths/"+contractPtrEscape(path)+"/"+m+"/responses/"+key)
			return resp, ptr, op, true
		}
	}
	return nil, "", op, false
}

// check asserts that one answer conforms to the document and returns its
// JSON body (nil for other media types).
func (s *contractSpec) check(t *testing.T, method, path string, res *http.Response, body []byte) any {
	t.Helper()
	doc, ptr, _, ok := s.response(t, method, path, res.StatusCode)
	if !ok {
		t.Errorf("status %d is not documented for %s %s; body %.300s", res.StatusCode, method, path, body)
		return nil
	}
	content, _ := doc["content"].(map[string]any)
	ct := res.Header.Get("Content-Type")
	if len(content) == 0 {
		if len(body) > 0 {
			t.Errorf("%s: a body (%s) where the document has none", ptr, ct)
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Errorf("%s: Content-Type %q: %v", ptr, ct, err)
		return nil
	}
	if _, ok := content[mt]; !ok {
		t.Errorf("%s: Content-Type %q is not documented (%v)", ptr, ct, slices.Sorted(contractKeys(content)))
		return nil
	}
	schemaPtr := ptr + "/content/" + contractPtrEscape(mt) + "/schema"
	sch := s.schema(t, schemaPtr)
	var inst any
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Errorf("%s: the body is not JSON: %v: %.300s", ptr, err, body)
			return nil
		}
	} else {
		inst = string(body)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s: the body does not validate: %v\nbody: %.500s", ptr, err, body)
	}
	// Documented headers, when sent, hold values of their schema.
	headers, _ := doc["headers"].(map[string]any)
	for name := range headers {
		h, hptr := s.deref(t, ptr+"/headers/"+contractPtrEscape(name))
		vals := res.Header.Values(name)
		if len(vals) == 0 {
			continue
		}
		hs, _ := h["schema"].(map[string]any)
		var v any = vals[0]
		if ty, _ := hs["type"].(string); ty == "integer" || ty == "number" {
			n := json.Number(strings.TrimSpace(vals[0]))
			if _, err := n.Float64(); err != nil {
				t.Errorf("header %s: %q is not a number", name, vals[0])
				continue
			}
			v = n
		}
		if err := s.schema(t, hptr+"/schema").Validate(v); err != nil {
			t.Errorf("header %s: %q: %v", name, vals[0], err)
		}
	}
	return inst
}

func contractKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// contractCase is one request of the table and what the answer must be,
// beyond conforming to the document.
type contractCase struct {
	name   string
	server string // "" (ready), "notReady" (Ready says no) or "failing" (Model panics)
	method string
	target string // path and query
	ctype  string
	body   string
	status int    // the status wanted; 0: any the operation documents
	code   string // the error code wanted, for an error status
	extra  func(t *testing.T, body any, res *http.Response)
}

// contractUnreachable are the documented answers that this table cannot
// provoke, with why. Every other documented status must be exercised.
var contractUnreachable = map[string]string{
	"GET /healthz 503": "needs a stuck process",
}

func contractModel(t testing.TB) *classifier.Model {
	t.Helper()
	m, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestContract(t *testing.T) {
	spec := loadContractSpec(t)
	m := contractModel(t)
	cfg := httpapi.DefaultConfig()
	if cfg.MaxBodyBytes <= 0 || cfg.MaxTextBytes <= 0 || cfg.MaxBatchItems <= 0 {
		t.Fatalf("DefaultConfig has no limits: %+v", cfg)
	}
	ready := httptest.NewServer(httpapi.New(cfg, httpapi.Options{Model: func() *classifier.Model { return m }}))
	defer ready.Close()
	notReady := httptest.NewServer(httpapi.New(cfg, httpapi.Options{
		Model: func() *classifier.Model { return m },
		Ready: func() (bool, string) { return false, "loading the model" },
	}))
	defer notReady.Close()
	var fail atomic.Bool // armed after New, which may look at the model
	failing := httptest.NewServer(httpapi.New(cfg, httpapi.Options{
		Model: func() *classifier.Model {
			if fail.Load() {
				panic("contract test: a failing model")
			}
			return m
		},
	}))
	defer failing.Close()
	fail.Store(true)

	jsonCT, formCT, ndjsonCT := "application/json", "application/x-www-form-urlencoded", "application/x-ndjson"
	longText := strings.Repeat("a", cfg.MaxTextBytes+1)
	tooBig := `{"text":"` + strings.Repeat("b", int(cfg.MaxBodyBytes)) + `"}`
	// A batch one item over the limit, each item as short as it gets, so
	// that it stays under the body limit where it can.
	var batch strings.Builder
	batch.WriteString("[")
	for i := range cfg.MaxBatchItems + 1 {
		if i > 0 {
			batch.WriteString(",")
		}
		batch.WriteString(`{"text":"x"}`)
	}
	batch.WriteString("]")
	batchCode := "batch_too_large"
	if int64(batch.Len()) > cfg.MaxBodyBytes {
		batchCode = "" // over the body limit too: either code is right
	}

	isPrediction := func(label string, explain bool) func(*testing.T, any, *http.Response) {
		return func(t *testing.T, body any, _ *http.Response) {
			p, _ := body.(map[string]any)
			if label != "" && p["label"] != label {
				t.Errorf("label %v, want %s", p["label"], label)
			}
			if _, has := p["explain"]; has != explain {
				t.Errorf("explain present %v, want %v", has, explain)
			}
			scores, _ := p["scores"].(map[string]any)
			if !slices.Equal(slices.Sorted(contractKeys(scores)), m.Classes()) {
				t.Errorf("scores %v, want the classes %v", scores, m.Classes())
			}
		}
	}
	results := func(codes ...string) func(*testing.T, any, *http.Response) {
		return func(t *testing.T, body any, _ *http.Response) {
			rs, _ := body.(map[string]any)["results"].([]any)
			if len(rs) != len(codes) {
				t.Fatalf("%d results, want %d", len(rs), len(codes))
			}
			for i, r := range rs {
				r := r.(map[string]any)
				e, _ := r["error"].(map[string]any)
				switch {
				case codes[i] == "" && e != nil:
					t.Errorf("result %d: error %v, want a prediction", i, e)
				case codes[i] != "" && (e == nil || e["code"] != codes[i]):
					t.Errorf("result %d: %v, want error %s", i, r, codes[i])
				}
			}
		}
	}
	status := func(want string) func(*testing.T, any, *http.Response) {
		return func(t *testing.T, body any, _ *http.Response) {
			if s := body.(map[string]any)["status"]; s != want {
				t.Errorf("status %v, want %s", s, want)
			}
		}
	}

	cases := []contractCase{
		// POST /predict
		{name: "json", method: "POST", target: "/predict", ctype: jsonCT, body: `{"text":"I loved it, a wonderful film"}`, status: 200, extra: isPrediction("positive", false)},
		{name: "json with id and charset", method: "POST", target: "/predict", ctype: "application/json; charset=utf-8", body: `{"text":"worst purchase ever, it broke at once","id":"q-42","other":[1,2]}`, status: 200,
			extra: func(t *testing.T, body any, res *http.Response) {
				isPrediction("negative", false)(t, body, res)
				if id := body.(map[string]any)["id"]; id != "q-42" {
					t.Errorf("id %v, want q-42 echoed", id)
				}
			}},
		{name: "explain", method: "POST", target: "/predict?explain=true", ctype: jsonCT, body: `{"text":"not bad at all, I loved the ending"}`, status: 200, extra: isPrediction("", true)},
		{name: "explain=false", method: "POST", target: "/predict?explain=false", ctype: jsonCT, body: `{"text":"fine"}`, status: 200, extra: isPrediction("", false)},
		{name: "form", method: "POST", target: "/predict", ctype: formCT, body: url.Values{"text": {"the acting was wooden and the plot predictable"}}.Encode(), status: 200, extra: isPrediction("", false)},
		{name: "form explain", method: "POST", target: "/predict?explain=true", ctype: formCT, body: "text=great+value&id=f-1", status: 200, extra: isPrediction("", true)},
		{name: "explain not a boolean", method: "POST", target: "/predict?explain=maybe", ctype: jsonCT, body: `{"text":"fine"}`, status: 400, code: "bad_request"},
		{name: "form malformed", method: "POST", target: "/predict", ctype: formCT, body: "text=%zz", status: 400, code: "bad_request"},
		{name: "invalid_json", method: "POST", target: "/predict", ctype: jsonCT, body: `{"text": "unfinished`, status: 400, code: "invalid_json"},
		{name: "invalid_json empty body", method: "POST", target: "/predict", ctype: jsonCT, body: ``, status: 400, code: "invalid_json"},
		{name: "invalid_utf8", method: "POST", target: "/predict", ctype: jsonCT, body: "{\"text\":\"caf\xe9\"}", status: 400, code: "invalid_utf8"},
		{name: "missing_field", method: "POST", target: "/predict", ctype: jsonCT, body: `{"id":"a"}`, status: 422, code: "missing_field"},
		{name: "form missing_field", method: "POST", target: "/predict", ctype: formCT, body: "id=a", status: 422, code: "missing_field"},
		{name: "empty_text", method: "POST", target: "/predict", ctype: jsonCT, body: `{"text":" \t\n"}`, status: 422, code: "empty_text"},
		{name: "form empty_text", method: "POST", target: "/predict", ctype: formCT, body: "text=", status: 422, code: "empty_text"},
		{name: "text_too_long", method: "POST", target: "/predict", ctype: jsonCT, body: `{"text":"` + longText + `"}`, status: 422, code: "text_too_long"},
		{name: "schema_violation text type", method: "POST", target: "/predict", ctype: jsonCT, body: `{"text":42}`, status: 422, code: "schema_violation"},
		{name: "schema_violation not an object", method: "POST", target: "/predict", ctype: jsonCT, body: `["a"]`, status: 422, code: "schema_violation"},
		{name: "body_too_large", method: "POST", target: "/predict", ctype: jsonCT, body: tooBig, status: 413, code: "body_too_large"},
		{name: "unsupported_media_type", method: "POST", target: "/predict", ctype: "application/xml", body: `<text>hi</text>`, status: 415, code: "unsupported_media_type"},
		{name: "unsupported_media_type text/plain", method: "POST", target: "/predict", ctype: "text/plain", body: `hi`, status: 415, code: "unsupported_media_type"},
		{name: "predict while not ready", server: "notReady", method: "POST", target: "/predict", ctype: jsonCT, body: `{"text":"fine"}`, status: 200},
		{name: "internal", server: "failing", method: "POST", target: "/predict", ctype: jsonCT, body: `{"text":"fine"}`, status: 500, code: "internal"},
		{name: "GET", method: "GET", target: "/predict", status: 405, code: "method_not_allowed"},
		{name: "PUT", method: "PUT", target: "/predict", ctype: jsonCT, body: `{"text":"hi"}`, status: 405, code: "method_not_allowed"},

		// POST /predict/batch
		{name: "batch json", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `[{"text":"great value","id":"a"},{"text":"arrived broken","id":"b"}]`, status: 200, extra: results("", "")},
		{name: "batch json bad items", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `[{"text":"great value"},{"text":""},{"id":"x"},{"text":"ok","id":""},{"text":7}]`, status: 200,
			extra: results("", "empty_text", "missing_field", "schema_violation", "schema_violation")},
		{name: "batch json explain", method: "POST", target: "/predict/batch?explain=true", ctype: jsonCT, body: `[{"text":"great value"}]`, status: 200,
			extra: func(t *testing.T, body any, _ *http.Response) {
				r := body.(map[string]any)["results"].([]any)[0].(map[string]any)
				if _, ok := r["explain"]; !ok {
					t.Error("no explain in the result")
				}
			}},
		{name: "batch empty array", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `[]`},
		{name: "batch ndjson bad line", method: "POST", target: "/predict/batch", ctype: ndjsonCT, body: "{\"text\":\"great value\",\"id\":\"a\"}\nnot json\n\n{\"text\":\"   \"}\n{\"text\":\"arrived broken\"}\n", status: 200,
			extra: results("", "invalid_json", "empty_text", "")},
		{name: "batch ndjson no final newline", method: "POST", target: "/predict/batch", ctype: ndjsonCT, body: "{\"text\":\"a\"}\n{\"text\":\"b\"}", status: 200, extra: results("", "")},
		{name: "batch ndjson bad utf8 line", method: "POST", target: "/predict/batch", ctype: ndjsonCT, body: "{\"text\":\"ok\"}\n{\"text\":\"caf\xe9\"}\n", status: 200, extra: results("", "invalid_utf8")},
		{name: "batch invalid_json", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `[{"text":"a"},`, status: 400, code: "invalid_json"},
		{name: "batch invalid_utf8", method: "POST", target: "/predict/batch", ctype: jsonCT, body: "[{\"text\":\"caf\xe9\"}]", status: 400, code: "invalid_utf8"},
		{name: "batch not an array", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `{"text":"a"}`, status: 422, code: "schema_violation"},
		{name: "batch_too_large", method: "POST", target: "/predict/batch", ctype: jsonCT, body: batch.String(), status: 413, code: batchCode},
		{name: "batch body_too_large", method: "POST", target: "/predict/batch", ctype: ndjsonCT, body: tooBig, status: 413, code: "body_too_large"},
		{name: "batch unsupported_media_type", method: "POST", target: "/predict/batch", ctype: "text/csv", body: "text\nhi\n", status: 415, code: "unsupported_media_type"},
		{name: "batch form", method: "POST", target: "/predict/batch", ctype: formCT, body: "text=hi", status: 415, code: "unsupported_media_type"},
		{name: "batch while not ready", server: "notReady", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `[{"text":"a"}]`, status: 200},
		{name: "batch internal", server: "failing", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `[{"text":"a"}]`, status: 500, code: "internal"},
		{name: "batch text_too_long item", method: "POST", target: "/predict/batch", ctype: jsonCT, body: `[{"text":"` + longText + `"}]`, status: 200, extra: results("text_too_long")},
		{name: "GET", method: "GET", target: "/predict/batch", status: 405, code: "method_not_allowed"},

		// Operations.
		{name: "healthz", method: "GET", target: "/healthz", status: 200, extra: status("ok")},
		{name: "healthz not ready", server: "notReady", method: "GET", target: "/healthz", status: 200, extra: status("ok")},
		{name: "POST", method: "POST", target: "/healthz", status: 405, code: "method_not_allowed"},
		{name: "readyz", method: "GET", target: "/readyz", status: 200, extra: status("ready")},
		{name: "readyz not ready", server: "notReady", method: "GET", target: "/readyz", status: 503,
			extra: func(t *testing.T, body any, _ *http.Response) {
				status("not_ready")(t, body, nil)
				if r := body.(map[string]any)["reason"]; r != "loading the model" {
					t.Errorf("reason %v, want the Readiness's", r)
				}
			}},
		{name: "DELETE", method: "DELETE", target: "/readyz", status: 405, code: "method_not_allowed"},
		{name: "metrics", method: "GET", target: "/metrics", status: 200,
			extra: func(t *testing.T, body any, _ *http.Response) {
				if s, _ := body.(string); !strings.Contains(s, "# TYPE ") {
					t.Errorf("not Prometheus text: %.200s", s)
				}
			}},
		{name: "POST", method: "POST", target: "/metrics", status: 405, code: "method_not_allowed"},
		{name: "model", method: "GET", target: "/model", status: 200,
			extra: func(t *testing.T, body any, _ *http.Response) {
				mi := body.(map[string]any)
				if mi["sha256"] != m.SHA256() {
					t.Errorf("sha256 %v, want %s", mi["sha256"], m.SHA256())
				}
				var classes []string
				for _, c := range mi["classes"].([]any) {
					classes = append(classes, c.(string))
				}
				if !slices.Equal(classes, m.Classes()) {
					t.Errorf("classes %v, want %v", classes, m.Classes())
				}
			}},
		{name: "POST", method: "POST", target: "/model", ctype: jsonCT, body: `{}`, status: 405, code: "method_not_allowed"},
		{name: "home", method: "GET", target: "/", status: 200,
			extra: func(t *testing.T, body any, res *http.Response) {
				if s, _ := body.(string); !strings.Contains(s, `id="text"`) || !strings.Contains(s, "predict?explain=true") {
					t.Errorf("not the page of ui/index.html: %.200s", s)
				}
				if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
					t.Errorf("Content-Security-Policy %q", csp)
				}
			}},
		{name: "home with text", method: "GET", target: "/?text=hello", status: 200},
		{name: "POST", method: "POST", target: "/", ctype: formCT, body: "text=hi", status: 405, code: "method_not_allowed"},

		// Paths the document does not list.
		{name: "typo", method: "GET", target: "/predcit", status: 404, code: "not_found"},
		{name: "trailing slash", method: "POST", target: "/predict/", ctype: jsonCT, body: `{"text":"hi"}`, status: 404, code: "not_found"},
		{name: "under a route", method: "GET", target: "/model/x", status: 404, code: "not_found"},
		{name: "ui file", method: "GET", target: "/ui/index.html", status: 404, code: "not_found"},
	}

	exercised := map[string]bool{}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range cases {
		srv := map[string]*httptest.Server{"": ready, "notReady": notReady, "failing": failing}[c.server]
		path := c.target
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		t.Run(c.method+" "+path+" "+c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" || c.ctype != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, srv.URL+c.target, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if c.status != 0 && res.StatusCode != c.status {
				t.Errorf("status %d, want %d; body %.300s", res.StatusCode, c.status, data)
			}
			if _, _, op, ok := spec.response(t, c.method, path, res.StatusCode); ok && op != "" {
				exercised[op+" "+strconv.Itoa(res.StatusCode)] = true
			} else if ok && res.StatusCode == http.StatusMethodNotAllowed {
				// A method the path lacks: the 405 every operation of
				// the path documents.
				for _, m := range spec.methods(path) {
					exercised[m+" "+path+" 405"] = true
				}
			}
			inst := spec.check(t, c.method, path, res, data)
			if t.Failed() || inst == nil {
				return
			}
			if res.StatusCode >= 400 {
				e, _ := inst.(map[string]any)["error"].(map[string]any)
				if c.code != "" && e["code"] != c.code {
					t.Errorf("error code %v, want %s (%v)", e["code"], c.code, e["message"])
				}
			}
			if res.StatusCode == http.StatusMethodNotAllowed {
				allow := strings.Split(res.Header.Get("Allow"), ",")
				for i := range allow {
					allow[i] = strings.TrimSpace(allow[i])
				}
				for _, m := range spec.methods(path) {
					if !slices.Contains(allow, m) {
						t.Errorf("Allow %q lacks %s", res.Header.Get("Allow"), m)
					}
				}
				if slices.Contains(allow, c.method) {
					t.Errorf("Allow %q has %s, which was refused", res.Header.Get("Allow"), c.method)
				}
			}
			if c.extra != nil && res.StatusCode == c.status {
				c.extra(t, inst, res)
			}
		})
	}

	// Every operation, and each of its documented statuses, is exercised.
	for _, op := range spec.operations() {
		m, p, _ := strings.Cut(op, " ")
		responses := spec.at(t, "/paths/"+contractPtrEscape(p)+"/"+strings.ToLower(m)+"/responses")
		for code := range responses {
			key := op + " " + code
			if exercised[key] {
				continue
			}
			if why, ok := contractUnreachable[key]; ok {
				t.Logf("not exercised: %s (%s)", key, why)
				continue
			}
			t.Errorf("%s is documented, and no case of the table exercises it", key)
		}
		if !contractExercised(exercised, op, "2") {
			t.Errorf("%s: no case of the table gets a success from it", op)
		}
	}
	// The table names no status an operation does not document.
	for _, c := range cases {
		if c.status == 0 {
			continue
		}
		path, _, _ := strings.Cut(c.target, "?")
		if _, _, _, ok := spec.response(t, c.method, path, c.status); !ok {
			t.Errorf("case %s %s %s wants %d, which the document does not have", c.method, c.target, c.name, c.status)
		}
	}
	if testing.Verbose() {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range exercised {
				if !yield(k) {
					return
				}
			}
		})
		t.Logf("exercised: %s", strings.Join(keys, ", "))
	}
}

// contractExercised tells whether any status of op starting with prefix was
// exercised.
func contractExercised(exercised map[string]bool, op, prefix string) bool {
	for k := range exercised {
		if strings.HasPrefix(k, op+" "+prefix) {
			return true
		}
	}
	return false
}

// TestContractOperationsListed guards the table's own assumptions: the
// operations of the document are the ones it was written for. A new one
// must come with cases in TestContract (which fails without them) and
// here.
func TestContractOperationsListed(t *testing.T) {
	spec := loadContractSpec(t)
	want := []string{"GET /", "GET /healthz", "GET /metrics", "GET /model", "GET /readyz", "POST /predict", "POST /predict/batch"}
	if got := spec.operations(); !slices.Equal(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
}
