// Command bare is the ceiling peer of bench/http.sh: a stdlib net/http
// server that answers POST /predict and POST /predict/batch with the same
// JSON shapes as capastan's HTTP API (schemas/openapi.yaml), decoding the
// request into a struct and encoding the answer with encoding/json, but
// WITHOUT classifying: every text gets the same fixed scores. The gap
// between it and capastan is what the classifier and capastan's own
// handler (validation, limits, metrics) cost.
//
//	go run ./bench/http/bare -addr 127.0.0.1:8081
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strings"
	"time"
)

type predictRequest struct {
	Text string `json:"text"`
	ID   string `json:"id,omitempty"`
}

type modelRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

type prediction struct {
	ID         string             `json:"id,omitempty"`
	Label      string             `json:"label"`
	Confidence float64            `json:"confidence"`
	Scores     map[string]float64 `json:"scores"`
	Model      modelRef           `json:"model"`
}

type batchResult struct {
	*prediction
	Error *apiError `json:"error,omitempty"`
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Fixed scores with as many digits as real float64 probabilities, so the
// encoder formats numbers of the same length as capastan's.
const (
	pNeg = 0.07215332158791812
	pNeu = 0.18841727401963352
	pPos = 0.73942940439244836
)

var model = modelRef{Name: "bare", Version: "0.0.0",
	SHA256: "0000000000000000000000000000000000000000000000000000000000000000"}

const maxBody = 1 << 20

func predict(req *predictRequest) *prediction {
	return &prediction{ID: req.ID, Label: "positive", Confidence: pPos,
		Scores: map[string]float64{"negative": pNeg, "neutral": pNeu, "positive": pPos}, Model: model}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, struct {
		Error apiError `json:"error"`
	}{apiError{errCode, msg}})
}

func handlePredict(w http.ResponseWriter, r *http.Request) {
	var req predictRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		writeError(w, http.StatusUnprocessableEntity, "empty_text", "text: missing, empty or only white space")
		return
	}
	writeJSON(w, http.StatusOK, predict(&req))
}

func handleBatch(w http.ResponseWriter, r *http.Request) {
	var reqs []predictRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16*maxBody)).Decode(&reqs); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	out := struct {
		Results []batchResult `json:"results"`
	}{make([]batchResult, len(reqs))}
	for i := range reqs {
		if strings.TrimSpace(reqs[i].Text) == "" {
			out.Results[i].Error = &apiError{"empty_text", "text: missing, empty or only white space"}
			continue
		}
		out.Results[i].prediction = predict(&reqs[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /predict", handlePredict)
	mux.HandleFunc("POST /predict/batch", handleBatch)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Printf("bare peer listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
