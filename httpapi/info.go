package httpapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/capastan/capastan/classifier"
)

//go:embed ui/index.html
var homePage []byte

// homeCSP allows the page its own inline script and style and calls to
// this origin, and nothing from anywhere else.
const homeCSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (a *API) home(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", homeCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(homePage)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(homePage)
	}
}

type status struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, status{Status: "ok"})
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if ok, reason := a.opts.Ready(); !ok {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, status{Status: "not_ready", Reason: reason})
		return
	}
	writeJSON(w, http.StatusOK, status{Status: "ready"})
}

func (a *API) metricsHandler() http.HandlerFunc {
	h := promhttp.HandlerFor(a.opts.Gatherer, promhttp.HandlerOpts{
		ErrorLog: promLogger{a}, ErrorHandling: promhttp.ContinueOnError,
	})
	return h.ServeHTTP
}

type promLogger struct{ a *API }

func (l promLogger) Println(v ...any) { l.a.opts.Log.Warn("metrics gathering", "error", v) }

// modelInfo is ModelInfo of openapi.yaml.
type modelInfo struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	SHA256    string    `json:"sha256"`
	Classes   []string  `json:"classes"`
	CreatedAt time.Time `json:"created_at"`
	// NeutralMargin is the model's decision rule for mixed texts (see
	// classifier.Config.NeutralMargin): why a label can be neutral at a
	// low confidence. Absent when 0.
	NeutralMargin float64                       `json:"neutral_margin,omitempty"`
	Training      training                      `json:"training"`
	Evaluation    map[string]*classifier.Report `json:"evaluation,omitempty"`
}

type training struct {
	DataSHA256     string                `json:"data_sha256,omitempty"`
	Data           []classifier.DataFile `json:"data,omitempty"`
	TrainDocs      map[string]uint64     `json:"train_docs,omitempty"`
	Features       int                   `json:"features"`
	PrunedFeatures int                   `json:"pruned_features,omitempty"`
	Calibration    string                `json:"calibration,omitempty"`
}

func (a *API) model(w http.ResponseWriter, r *http.Request) {
	m := a.opts.Model()
	meta := m.Metadata()
	writeJSON(w, http.StatusOK, modelInfo{
		Name: meta.Name, Version: meta.Version, SHA256: m.SHA256(), Classes: m.Classes(), CreatedAt: meta.CreatedAt.UTC(),
		NeutralMargin: m.Config().NeutralMargin,
		Training: training{DataSHA256: meta.DataSHA256, Data: meta.Data, TrainDocs: meta.TrainDocs,
			Features: m.Features(), PrunedFeatures: meta.PrunedFeatures, Calibration: meta.Calibration},
		Evaluation: meta.Evaluation,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "encoding the answer failed")
		return
	}
	writeBody(w, code, append(b, '\n'))
}

func writeBody(w http.ResponseWriter, code int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(code)
	w.Write(b)
}

var jsonContentType = []string{"application/json"}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	writeBody(w, code, append(appendError(make([]byte, 0, 64+len(msg)), errCode, msg), '\n'))
}

// appendError appends {"error": {"code", "message"}}.
func appendError(dst []byte, code, msg string) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = appendJSONString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, msg)
	return append(dst, "}}"...)
}
