package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/models"
)

// TestServeStartupErrors: bad settings stop start-up with a message that
// names the variable or flag, before any broker is contacted.
func TestServeStartupErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad int variable", map[string]string{"CAPASTAN_MAX_POLL_RECORDS": "lots"}, nil, "CAPASTAN_MAX_POLL_RECORDS"},
		{"bad duration variable", map[string]string{"CAPASTAN_SHUTDOWN_TIMEOUT": "soon"}, nil, "CAPASTAN_SHUTDOWN_TIMEOUT"},
		{"bad bool variable", map[string]string{"CAPASTAN_KAFKA_TLS": "maybe"}, nil, "CAPASTAN_KAFKA_TLS"},
		{"bad classify-title variable", map[string]string{"CAPASTAN_CLASSIFY_TITLE": "sometimes"}, nil, "CAPASTAN_CLASSIFY_TITLE"},
		{"bad delivery", map[string]string{"CAPASTAN_DELIVERY": "twice"}, nil, "delivery must be"},
		{"delivery flag beats variable", map[string]string{"CAPASTAN_DELIVERY": "at-least-once"}, []string{"-delivery", "never", "-model", "/nonexistent.cpst"}, "delivery must be"},
		{"missing model", nil, []string{"-model", "/nonexistent/model.cpst"}, "/nonexistent/model.cpst"},
		{"bad brokers", map[string]string{"CAPASTAN_KAFKA_BROKERS": "nohost"}, nil, "not host:port"},
		{"bad log level", nil, []string{"-log-level", "loud"}, "log level"},
		{"same topics", nil, []string{"-topic", "x", "-output-topic", "x"}, "must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, errs := capastan(t, "", append([]string{"serve"}, tt.args...)...)
			if code != 1 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 mentioning %q", code, errs, tt.want)
			}
		})
	}
}

// TestServePredictTitle: /predict classifies a title with the text, as the
// stream does, unless --classify-title or CAPASTAN_CLASSIFY_TITLE turns it
// off; a title that breaks the review's rules is answered like any other
// schema violation.
func TestServePredictTitle(t *testing.T) {
	m, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	const title, text = "Waste of money", "It arrived on Tuesday."
	plain, titled := m.Classify(text), m.Classify(classifier.Titled(title, text))
	if plain.Label == titled.Label {
		t.Fatalf("the default model labels %q %s with and without its title: pick another example", text, plain.Label)
	}
	tests := []struct {
		name  string
		env   []string
		args  []string
		title bool // whether a title is classified
	}{
		{"default", nil, nil, true},
		{"flag off", nil, []string{"--classify-title=false"}, false},
		{"variable off", []string{"CAPASTAN_CLASSIFY_TITLE=false"}, nil, false},
		{"flag beats variable", []string{"CAPASTAN_CLASSIFY_TITLE=false"}, []string{"--classify-title"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"CAPASTAN_HTTP_ADDR=127.0.0.1:0", "CAPASTAN_MODEL_WATCH_INTERVAL=0"}, tt.env...)
			p := start(t, env, append([]string{"serve", "--no-kafka"}, tt.args...)...)
			withTitle := plain
			if tt.title {
				withTitle = titled
			}
			for _, req := range []struct {
				name, ctype, body string
				want              classifier.Prediction
			}{
				{"no title", "application/json", `{"text":"` + text + `"}`, plain},
				{"title", "application/json", `{"title":"` + title + `","text":"` + text + `"}`, withTitle},
				{"blank title", "application/json", `{"title":"  ","text":"` + text + `"}`, plain},
				{"form with a title", "application/x-www-form-urlencoded", url.Values{"title": {title}, "text": {text}}.Encode(), withTitle},
			} {
				status, body := post(t, p, req.ctype, req.body)
				if status != http.StatusOK {
					t.Errorf("%s: status %d: %s", req.name, status, body)
					continue
				}
				var got struct {
					Label  string
					Scores map[string]float64
				}
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("%s: %v: %s", req.name, err, body)
				}
				if got.Label != req.want.Label {
					t.Errorf("%s: label %s, want %s", req.name, got.Label, req.want.Label)
				}
				for i, c := range m.Classes() {
					if got.Scores[c] != req.want.Probs[i] {
						t.Errorf("%s: score %s = %v, want %v", req.name, c, got.Scores[c], req.want.Probs[i])
					}
				}
			}
			// A bad title is a schema violation, answered with the status
			// of the others (a text that is not a string).
			wantStatus, _ := post(t, p, "application/json", `{"text":42}`)
			if wantStatus != http.StatusUnprocessableEntity {
				t.Fatalf("a text that is not a string: status %d, want 422", wantStatus)
			}
			for name, body := range map[string]string{
				"title of 1025 characters": `{"title":"` + strings.Repeat("é", 1025) + `","text":"` + text + `"}`,
				"title a number":           `{"title":7,"text":"` + text + `"}`,
				"title null":               `{"title":null,"text":"` + text + `"}`,
			} {
				status, resp := post(t, p, "application/json", body)
				var e struct {
					Error struct{ Code, Message string }
				}
				json.Unmarshal([]byte(resp), &e)
				if status != wantStatus || e.Error.Code != "schema_violation" || !strings.HasPrefix(e.Error.Message, "title: ") {
					t.Errorf("%s: status %d, body %s; want %d schema_violation about the title", name, status, resp, wantStatus)
				}
			}
		})
	}
}

// post sends body to p's /predict and returns the status and answer.
func post(t *testing.T, p *proc, ctype, body string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+p.addr+"/predict", ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
