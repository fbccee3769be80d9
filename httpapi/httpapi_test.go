package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

func TestRoutes(t *testing.T) {
	var ready atomic.Bool
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	s, err := Start(cfg, func() (bool, string) {
		if ready.Load() {
			return true, ""
		}
		return false, "joining the consumer group"
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	base := "http://" + s.Addr()
	get := func(method, path string) (int, map[string]any, http.Header) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if method != http.MethodHead {
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatalf("%s %s: body %q is not JSON", method, path, body)
			}
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q", method, path, ct)
		}
		return resp.StatusCode, m, resp.Header
	}
	tests := []struct {
		name, method, path string
		setReady           bool
		code               int
		check              func(map[string]any, http.Header) bool
	}{
		{"health", "GET", "/healthz", false, 200, func(m map[string]any, _ http.Header) bool { return m["status"] == "ok" }},
		{"not ready", "GET", "/readyz", false, 503, func(m map[string]any, _ http.Header) bool {
			return m["status"] == "not_ready" && m["reason"] == "joining the consumer group"
		}},
		{"ready", "GET", "/readyz", true, 200, func(m map[string]any, _ http.Header) bool { return m["status"] == "ready" }},
		{"head", "HEAD", "/healthz", true, 200, func(map[string]any, http.Header) bool { return true }},
		{"wrong method", "POST", "/readyz", true, 405, func(m map[string]any, h http.Header) bool {
			e, _ := m["error"].(map[string]any)
			return e["code"] == "method_not_allowed" && h.Get("Allow") == "GET, HEAD"
		}},
		{"unknown route", "GET", "/nope", true, 404, func(m map[string]any, _ http.Header) bool {
			e, _ := m["error"].(map[string]any)
			return e["code"] == "not_found" && e["message"] != ""
		}},
	}
	for _, tt := range tests {
		ready.Store(tt.setReady)
		code, body, hdr := get(tt.method, tt.path)
		if code != tt.code || !tt.check(body, hdr) {
			t.Errorf("%s: %s %s = %d %v", tt.name, tt.method, tt.path, code, body)
		}
	}
}

func TestStartPortTaken(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	s, err := Start(cfg, func() (bool, string) { return true, "" })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	cfg.Addr = s.Addr()
	if _, err := Start(cfg, func() (bool, string) { return true, "" }); err == nil {
		t.Error("a second server on the same port must fail at start")
	}
}
