package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/models"
)

var (
	modelOnce    sync.Once
	defaultModel *classifier.Model
)

func model(t testing.TB) *classifier.Model {
	modelOnce.Do(func() {
		m, err := models.Default()
		if err != nil {
			panic(err)
		}
		defaultModel = m
	})
	return defaultModel
}

type fixture struct {
	api  *API
	reg  *prometheus.Registry
	http *metrics.HTTP
	mdl  *metrics.Model
}

func newAPI(t testing.TB, cfg Config, opts Options) *fixture {
	reg := prometheus.NewRegistry()
	f := &fixture{reg: reg, http: metrics.NewHTTP(reg), mdl: metrics.NewModel(reg, 1000)}
	m := model(t)
	f.mdl.SetModel(m)
	if opts.Model == nil {
		opts.Model = func() *classifier.Model { return m }
	}
	opts.Metrics, opts.Predictions, opts.Gatherer = f.http, f.mdl, reg
	f.api = New(cfg, opts)
	return f
}

// do sends one request through the handler.
func (f *fixture) do(method, target, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, req)
	return rec
}

type errBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type prediction struct {
	ID         string             `json:"id"`
	Label      string             `json:"label"`
	Confidence float64            `json:"confidence"`
	Scores     map[string]float64 `json:"scores"`
	Model      struct {
		Name, Version, SHA256 string
	} `json:"model"`
	Explain map[string][]classifier.Contribution `json:"explain"`
}

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"
)

func TestPredictErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 4096
	cfg.MaxTextBytes = 100
	f := newAPI(t, cfg, Options{})
	long := strings.Repeat("a", 101)
	tests := []struct {
		name, method, target, ctype string
		body                        string
		status                      int
		code                        string
		inMessage                   string
	}{
		{"malformed JSON", "POST", "/predict", jsonType, `{"text": "ok"`, 400, "invalid_json", "not well-formed"},
		{"trailing data", "POST", "/predict", jsonType, `{"text": "ok"} {}`, 400, "invalid_json", "more data"},
		{"empty body", "POST", "/predict", jsonType, ``, 400, "invalid_json", "empty"},
		{"not an object", "POST", "/predict", jsonType, `["text"]`, 422, "schema_violation", "JSON object"},
		{"text a number", "POST", "/predict", jsonType, `{"text": 42}`, 422, "schema_violation", "text: must be a string"},
		{"text null", "POST", "/predict", jsonType, `{"text": null}`, 422, "schema_violation", "text"},
		{"id a number", "POST", "/predict", jsonType, `{"text": "ok", "id": 7}`, 422, "schema_violation", "id: must be a string"},
		{"id empty", "POST", "/predict", jsonType, `{"text": "ok", "id": ""}`, 422, "schema_violation", "id"},
		{"missing text", "POST", "/predict", jsonType, `{"txt": "ok"}`, 422, "missing_field", "text"},
		{"empty text", "POST", "/predict", jsonType, `{"text": ""}`, 422, "empty_text", "is empty"},
		{"blank text", "POST", "/predict", jsonType, `{"text": " \u00a0\t"}`, 422, "empty_text", "white space"},
		{"text over the limit", "POST", "/predict", jsonType, `{"text": "` + long + `"}`, 422, "text_too_long", "101 bytes"},
		{"invalid UTF-8", "POST", "/predict", jsonType, "{\"text\": \"caf\xe9\"}", 400, "invalid_utf8", "offset 13"},
		{"body over the limit", "POST", "/predict", jsonType, `{"text": "` + strings.Repeat("b", 5000) + `"}`, 413, "body_too_large", "4096"},
		{"wrong content type", "POST", "/predict", "application/xml", `<text>hi</text>`, 415, "unsupported_media_type", "application/xml"},
		{"text/plain", "POST", "/predict", "text/plain", `hi`, 415, "unsupported_media_type", "text/plain"},
		{"form without text", "POST", "/predict", formType, `id=3`, 422, "missing_field", "text"},
		{"form with blank text", "POST", "/predict", formType, `text=+++`, 422, "empty_text", ""},
		{"form malformed", "POST", "/predict", formType, `text=%zz`, 400, "bad_request", "form"},
		{"bad explain", "POST", "/predict?explain=maybe", jsonType, `{"text": "ok"}`, 400, "bad_request", "explain"},
		{"wrong method", "GET", "/predict", "", ``, 405, "method_not_allowed", "GET is not allowed on /predict"},
		{"unknown route", "GET", "/predcit", "", ``, 404, "not_found", "/predcit"},
		{"batch not an array", "POST", "/predict/batch", jsonType, `{"text": "ok"}`, 422, "schema_violation", "array"},
		{"batch malformed", "POST", "/predict/batch", jsonType, `[{"text": "ok"},`, 400, "invalid_json", ""},
		{"batch wrong type", "POST", "/predict/batch", "text/csv", `a,b`, 415, "unsupported_media_type", ""},
		{"batch as a form", "POST", "/predict/batch", formType, `text=hi`, 415, "unsupported_media_type", ""},
		{"batch wrong method", "PUT", "/predict/batch", jsonType, `[]`, 405, "method_not_allowed", ""},
		{"health wrong method", "DELETE", "/healthz", "", ``, 405, "method_not_allowed", ""},
		{"odd method", "BREW", "/metrics", "", ``, 405, "method_not_allowed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(tt.method, tt.target, tt.ctype, []byte(tt.body))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != jsonType {
				t.Errorf("Content-Type %q", ct)
			}
			var e errBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body is not JSON: %q", rec.Body)
			}
			if e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.inMessage) || e.Error.Message == "" {
				t.Errorf("error %+v, want code %q and a message containing %q", e.Error, tt.code, tt.inMessage)
			}
			if tt.status == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
	// Every answer above was counted under its route, method and code.
	if got := testutil.ToFloat64(f.http.RequestsForTest("/predict", "POST", 422)); got != 11 {
		t.Errorf("http_requests_total{route=/predict,method=POST,code=422} = %v, want 11", got)
	}
	if got := testutil.ToFloat64(f.http.RequestsForTest("other", "GET", 404)); got != 1 {
		t.Errorf("unknown routes counted %v times under route=other, want 1", got)
	}
	if got := testutil.ToFloat64(f.http.RequestsForTest("/metrics", "other", 405)); got != 1 {
		t.Errorf("an unknown method counted %v times under method=other, want 1", got)
	}
}

func TestPredict(t *testing.T) {
	f := newAPI(t, DefaultConfig(), Options{})
	m := model(t)
	tests := []struct {
		name, target, ctype, body string
		text, id                  string
		explain                   bool
	}{
		{"json", "/predict", jsonType, `{"text": "worst purchase ever", "id": "q-42", "extra": [1, {"x": 2}]}`, "worst purchase ever", "q-42", false},
		{"json with charset", "/predict", "application/json; charset=utf-8", `{"text": "great value"}`, "great value", "", false},
		{"no content type", "/predict", "", `{"text": "great value"}`, "great value", "", false},
		{"escapes", "/predict", jsonType, `{"text": "caf\u00e9 \"ok\"\n"}`, "café \"ok\"\n", "", false},
		{"form", "/predict", formType, `text=the+acting+was+wooden&id=f1`, "the acting was wooden", "f1", false},
		{"JSON posted as a form (curl -d)", "/predict", formType, `{"text": "loved it"}`, "loved it", "", false},
		{"explain", "/predict?explain=true", jsonType, `{"text": "not bad at all, I loved the ending"}`, "not bad at all, I loved the ending", "", true},
		{"explain=false", "/predict?explain=false", jsonType, `{"text": "fine"}`, "fine", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do("POST", tt.target, tt.ctype, []byte(tt.body))
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var p prediction
			dec := json.NewDecoder(rec.Body)
			if err := dec.Decode(&p); err != nil {
				t.Fatal(err)
			}
			want := m.Classify(tt.text)
			if p.Label != want.Label || p.Confidence != want.Confidence || p.ID != tt.id {
				t.Errorf("got %+v, want label %s confidence %v id %q", p, want.Label, want.Confidence, tt.id)
			}
			sum := 0.0
			for i, c := range m.Classes() {
				if p.Scores[c] != want.Probs[i] {
					t.Errorf("score %s = %v, want %v", c, p.Scores[c], want.Probs[i])
				}
				sum += p.Scores[c]
			}
			if sum < 0.999999 || sum > 1.000001 {
				t.Errorf("scores sum to %v", sum)
			}
			meta := m.Metadata()
			if p.Model.Name != meta.Name || p.Model.SHA256 != m.SHA256() {
				t.Errorf("model %+v", p.Model)
			}
			if tt.explain {
				if len(p.Explain) != 3 || len(p.Explain[p.Label]) == 0 {
					t.Errorf("explain %v", p.Explain)
				}
			} else if p.Explain != nil {
				t.Errorf("explain given unasked: %v", p.Explain)
			}
		})
	}
	if got := testutil.ToFloat64(f.http.RequestsForTest("/predict", "POST", 200)); got != float64(len(tests)) {
		t.Errorf("200s counted %v, want %d", got, len(tests))
	}
}

func TestPredictBatch(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxBatchItems = 5
	f := newAPI(t, cfg, Options{})
	type result struct {
		prediction
		Error *struct{ Code, Message string } `json:"error"`
	}
	tests := []struct {
		name, ctype, body string
		status            int
		want              []string // label, or "!code" for an item error
	}{
		{"array", jsonType, `[{"text": "great value", "id": "a"}, {"text": "arrived broken", "id": "b"}]`, 200, []string{"positive", "negative"}},
		{"empty array", jsonType, `[]`, 200, []string{}},
		{"bad items", jsonType, `[{"text": ""}, 3, {"text": "great value"}, {"id": "x"}, {"text": "ok", "id": 9}]`, 200,
			[]string{"!empty_text", "!schema_violation", "positive", "!missing_field", "!schema_violation"}},
		{"ndjson", "application/x-ndjson", "{\"text\": \"great value\"}\n\n{\"text\": \"arrived broken\"}\r\nnot json\n", 200,
			[]string{"positive", "negative", "!invalid_json"}},
		{"curl -d array", formType, `[{"text": "great value"}]`, 200, []string{"positive"}},
		{"too many", jsonType, `[{"text":"a"},{"text":"a"},{"text":"a"},{"text":"a"},{"text":"a"},{"text":"a"}]`, 413, nil},
		{"too many ndjson", "application/x-ndjson", strings.Repeat("{\"text\":\"a\"}\n", 6), 413, nil},
		{"invalid UTF-8", jsonType, "[{\"text\": \"\xff\"}]", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do("POST", "/predict/batch", tt.ctype, []byte(tt.body))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				var e errBody
				if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code == "" {
					t.Errorf("error body %s", rec.Body)
				}
				if tt.status == 413 && e.Error.Code != "batch_too_large" {
					t.Errorf("code %q, want batch_too_large", e.Error.Code)
				}
				return
			}
			var out struct{ Results []result }
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
			if len(out.Results) != len(tt.want) {
				t.Fatalf("%d results, want %d: %s", len(out.Results), len(tt.want), rec.Body)
			}
			for i, w := range tt.want {
				r := out.Results[i]
				if strings.HasPrefix(w, "!") {
					if r.Error == nil || r.Error.Code != w[1:] || r.Label != "" {
						t.Errorf("item %d: %+v, want error %s", i, r, w[1:])
					}
				} else if r.Error != nil || r.Label != w {
					t.Errorf("item %d: %+v, want label %s", i, r, w)
				}
			}
		})
	}
}

func TestOperationalRoutes(t *testing.T) {
	var ready atomic.Bool
	f := newAPI(t, DefaultConfig(), Options{Ready: func() (bool, string) {
		if ready.Load() {
			return true, ""
		}
		return false, "joining the consumer group"
	}})
	f.do("POST", "/predict", jsonType, []byte(`{"text": "great value"}`))
	m := model(t)
	tests := []struct {
		name, method, path string
		ready              bool
		status             int
		ctype              string
		check              func(body []byte, h http.Header) bool
	}{
		{"health", "GET", "/healthz", false, 200, jsonType, func(b []byte, _ http.Header) bool { return bytes.Contains(b, []byte(`"status":"ok"`)) }},
		{"not ready", "GET", "/readyz", false, 503, jsonType, func(b []byte, h http.Header) bool {
			return bytes.Contains(b, []byte(`"reason":"joining the consumer group"`)) && h.Get("Retry-After") != ""
		}},
		{"ready", "GET", "/readyz", true, 200, jsonType, func(b []byte, _ http.Header) bool { return bytes.Contains(b, []byte(`"status":"ready"`)) }},
		{"head", "HEAD", "/healthz", true, 200, jsonType, func([]byte, http.Header) bool { return true }},
		{"model", "GET", "/model", true, 200, jsonType, func(b []byte, _ http.Header) bool {
			var mi struct {
				Name, SHA256  string
				Classes       []string
				NeutralMargin float64 `json:"neutral_margin"`
				Training      struct{ Features int }
				Evaluation    map[string]json.RawMessage
			}
			return json.Unmarshal(b, &mi) == nil && mi.SHA256 == m.SHA256() && len(mi.Classes) == 3 &&
				mi.NeutralMargin == m.Config().NeutralMargin && mi.NeutralMargin > 0 &&
				mi.Training.Features == m.Features() && len(mi.Evaluation) > 0
		}},
		{"metrics", "GET", "/metrics", true, 200, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", func(b []byte, _ http.Header) bool {
			return bytes.Contains(b, []byte(`capastan_predictions_total{label="positive",source="http"} 1`)) &&
				bytes.Contains(b, []byte(`capastan_model_info{`))
		}},
		{"page", "GET", "/", true, 200, "text/html; charset=utf-8", func(b []byte, h http.Header) bool {
			return bytes.Contains(b, []byte("<html")) && strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready.Store(tt.ready)
			rec := f.do(tt.method, tt.path, "", nil)
			if rec.Code != tt.status || !tt.check(rec.Body.Bytes(), rec.Header()) {
				t.Errorf("%s %s = %d %s", tt.method, tt.path, rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, strings.SplitN(tt.ctype, ";", 2)[0]) {
				t.Errorf("Content-Type %q, want %q", ct, tt.ctype)
			}
		})
	}
}

// TestPanicRecovered: a failing handler answers 500 internal, is counted
// and logged, and the server goes on answering.
func TestPanicRecovered(t *testing.T) {
	var log bytes.Buffer
	var boom atomic.Bool
	m := model(t)
	f := newAPI(t, DefaultConfig(), Options{
		Model: func() *classifier.Model {
			if boom.Load() {
				panic("model store broken")
			}
			return m
		},
		Log: slogTo(&log),
	})
	boom.Store(true)
	rec := f.do("POST", "/predict", jsonType, []byte(`{"text": "hi"}`))
	var e errBody
	if rec.Code != 500 || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != "internal" {
		t.Errorf("panic answered %d %s", rec.Code, rec.Body)
	}
	if got := testutil.ToFloat64(f.http.Panics); got != 1 {
		t.Errorf("panics counted %v", got)
	}
	if !strings.Contains(log.String(), "model store broken") {
		t.Errorf("panic not logged: %q", log.String())
	}
	boom.Store(false)
	if rec := f.do("POST", "/predict", jsonType, []byte(`{"text": "hi"}`)); rec.Code != 200 {
		t.Errorf("after a panic: %d", rec.Code)
	}
}

// startServer serves f on a loopback port with cfg's timeouts.
func startServer(t *testing.T, cfg Config, f *fixture) *Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := Start(cfg, f.api, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s
}

// TestSlowClients: a client that never finishes its headers (slow-loris)
// or its body is cut off by the timeouts, and one that hangs up mid-body
// leaves the server answering others.
func TestSlowClients(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ReadHeaderTimeout = 200 * time.Millisecond
	cfg.ReadTimeout = 400 * time.Millisecond
	f := newAPI(t, cfg, Options{})
	s := startServer(t, cfg, f)
	closedWithin := func(name, send string, limit time.Duration) {
		t.Helper()
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, send)
		start := time.Now()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, c) // until the server closes
		if d := time.Since(start); d > limit {
			t.Errorf("%s: connection held %v, want it closed within %v", name, d, limit)
		}
	}
	closedWithin("slow headers", "POST /predict HTTP/1.1\r\nHost: x\r\n", 2*time.Second)
	closedWithin("slow body", "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"te", 2*time.Second)

	// A client that sends half its body and hangs up.
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"text\": \"half")
	c.Close()
	resp, err := http.Post("http://"+s.Addr()+"/predict", jsonType, strings.NewReader(`{"text": "still here"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after a client hung up: %d", resp.StatusCode)
	}
}

// TestShutdownDrains: Shutdown lets a request in flight finish and answer.
func TestShutdownDrains(t *testing.T) {
	m := model(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	f := newAPI(t, DefaultConfig(), Options{Model: func() *classifier.Model {
		once.Do(func() { close(entered); <-release })
		return m
	}})
	s := startServer(t, DefaultConfig(), f)
	got := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+s.Addr()+"/predict", jsonType, strings.NewReader(`{"text": "slow one"}`))
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	if code := <-got; code != 200 {
		t.Errorf("the request in flight got %d, want 200", code)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
		t.Error("the server still accepts after Shutdown")
	}
}

func TestStartPortTaken(t *testing.T) {
	f := newAPI(t, DefaultConfig(), Options{})
	s := startServer(t, DefaultConfig(), f)
	cfg := DefaultConfig()
	cfg.Addr = s.Addr()
	if _, err := Start(cfg, f.api, nil); err == nil {
		t.Error("a second server on the same port must fail at start")
	}
}

// TestKeepAlive: many requests on one connection (the load generator's
// pattern) are all answered, with the body fully consumed each time.
func TestKeepAlive(t *testing.T) {
	f := newAPI(t, DefaultConfig(), Options{})
	s := startServer(t, DefaultConfig(), f)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := `{"text": "great value for the money"}`
	r := bufio.NewReader(c)
	for i := 0; i < 50; i++ {
		io.WriteString(c, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "+itoa(len(body))+"\r\n\r\n"+body)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"zero timeout":   func(c *Config) { c.ReadTimeout = 0 },
		"tiny body":      func(c *Config) { c.MaxBodyBytes = 10 },
		"no batch":       func(c *Config) { c.MaxBatchItems = 0 },
		"explain none":   func(c *Config) { c.MaxExplain = 0 },
		"negative write": func(c *Config) { c.WriteTimeout = -1 },
	} {
		c := DefaultConfig()
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
