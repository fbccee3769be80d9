package main

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/capastan/capastan/internal/kafkaconn"
)

// TestEnvListsEverySetting: `capastan env` names every variable serve
// reads (each env tag of its settings and of the Kafka connection), and
// nothing else.
func TestEnvListsEverySetting(t *testing.T) {
	code, out, errs := capastan(t, "", "env")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || !strings.HasPrefix(f[0], "CAPASTAN_") || f[2] == "" {
			t.Errorf("line %q: want NAME<TAB>default<TAB>description", line)
			continue
		}
		listed[f[0]] = f[1]
	}
	want := map[string]string{}
	envKeys(reflect.TypeOf(serveSettings{}), envPrefix, want)
	kafka := map[string]string{}
	envKeys(reflect.TypeOf(struct {
		Conn kafkaconn.Config `envPrefix:"KAFKA_"`
	}{}), envPrefix, kafka)
	for _, name := range want {
		if _, ok := listed[name]; !ok {
			t.Errorf("%s is read by serve but not listed", name)
		}
	}
	for _, name := range kafka {
		if _, ok := listed[name]; !ok {
			t.Errorf("%s is read by serve but not listed", name)
		}
	}
	if len(listed) != len(want)+len(kafka) {
		t.Errorf("%d variables listed, serve reads %d", len(listed), len(want)+len(kafka))
	}
	for name, def := range map[string]string{"CAPASTAN_HTTP_ADDR": ":8080", "CAPASTAN_DELIVERY": "exactly-once",
		"CAPASTAN_SHUTDOWN_TIMEOUT": "30s", "CAPASTAN_KAFKA_BROKERS": "127.0.0.1:9092", "CAPASTAN_HTTP_MAX_BODY_BYTES": "1048576",
		"CAPASTAN_CLASSIFY_TITLE": "true", "CAPASTAN_COPY_TEXT": "false"} {
		if listed[name] != def {
			t.Errorf("%s default %q, want %q", name, listed[name], def)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name   string
		status int
		env    string
		args   []string
		want   int
	}{
		{"healthy, address from the environment", 200, addr, nil, 0},
		{"unhealthy", 503, addr, nil, 1},
		{"explicit url", 200, "", []string{"-url", srv.URL + "/healthz"}, 0},
		{"nothing listening", 200, "127.0.0.1:1", []string{"-timeout", "1s"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status = tt.status
			t.Setenv("CAPASTAN_HTTP_ADDR", tt.env)
			if code, _, errs := capastan(t, "", append([]string{"healthcheck"}, tt.args...)...); code != tt.want {
				t.Errorf("exit %d, want %d: %s", code, tt.want, errs)
			}
		})
	}
}

func TestHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":               "http://127.0.0.1:8080/healthz",
		":9000":          "http://127.0.0.1:9000/healthz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		"127.0.0.2:8081": "http://127.0.0.2:8081/healthz",
		"[::1]:8080":     "http://[::1]:8080/healthz",
	} {
		if got := healthURL(addr); got != want {
			t.Errorf("healthURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
