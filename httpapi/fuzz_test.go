package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzPredict: whatever the body, content type and query, /predict and
// /predict/batch answer a documented status with a JSON body, never a 500.
func FuzzPredict(f *testing.F) {
	seeds := []struct{ path, ctype, body string }{
		{"/predict", jsonType, `{"text": "great value", "id": "a"}`},
		{"/predict", jsonType, `{"text": "caf\u00e9 \ud83d\ude00", "x": [1, {"y": null}]}`},
		{"/predict?explain=true", jsonType, `{"text": "not bad at all"}`},
		{"/predict", formType, `text=hello+world&id=7`},
		{"/predict", formType, `{"text": "json as a form"}`},
		{"/predict", "application/xml", `<x/>`},
		{"/predict", jsonType, "{\"text\": \"\xff\xfe\"}"},
		{"/predict", jsonType, `{"text": "\ud800"}`},
		{"/predict", jsonType, `[[[[[[[[[[[[[[[[[[[[`},
		{"/predict/batch", jsonType, `[{"text": "a"}, 1, null, {"text": ""}]`},
		{"/predict/batch", "application/x-ndjson", "{\"text\": \"a\"}\n{\nnot json\n\n"},
		{"/predict/batch?explain=1", formType, `[{"text": "b"}]`},
	}
	for _, s := range seeds {
		f.Add(s.path, s.ctype, []byte(s.body))
	}
	cfg := DefaultConfig()
	cfg.MaxBatchItems = 20
	cfg.MaxBodyBytes = 64 << 10
	fx := newAPI(f, cfg, Options{})
	f.Fuzz(func(t *testing.T, path, ctype string, body []byte) {
		if path != "/predict/batch" && !bytes.HasPrefix([]byte(path), []byte("/predict?")) {
			path = "/predict"
		}
		req, err := http.NewRequest(http.MethodPost, "http://x"+path, bytes.NewReader(body))
		if err != nil {
			return // not a URL a client could send
		}
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		fx.api.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413, 415, 422:
		default:
			t.Fatalf("status %d for %q %q %q: %s", rec.Code, path, ctype, body, rec.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("answer is not a JSON object: %q", rec.Body)
		}
		if rec.Code != 200 {
			e, _ := v["error"].(map[string]any)
			if c, _ := e["code"].(string); c == "" {
				t.Fatalf("error without a code: %s", rec.Body)
			}
		}
	})
}
