package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// counts the handler's allocations and not a recorder's.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// review is a ~130-byte review, the load test's body.
const review = `{"text": "The battery lasts two days and the screen is bright, but the speaker crackles at full volume. Decent for the price."}`

func benchRoute(b *testing.B, path, body string) {
	f := newAPI(b, DefaultConfig(), Options{})
	req, _ := http.NewRequest(http.MethodPost, "http://x"+path, nil)
	req.Header.Set("Content-Type", jsonType)
	w := &discardWriter{h: http.Header{}}
	r := strings.NewReader(body)
	rc := io.NopCloser(r)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		req.Body = rc
		req.ContentLength = int64(len(body))
		clear(w.h)
		f.api.ServeHTTP(w, req)
	}
}

// BenchmarkPredict is one /predict request through the handler.
func BenchmarkPredict(b *testing.B) { benchRoute(b, "/predict", review) }

// BenchmarkPredictBatch100 is one /predict/batch of 100 reviews.
func BenchmarkPredictBatch100(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := 0; i < 100; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(review)
	}
	buf.WriteByte(']')
	benchRoute(b, "/predict/batch", buf.String())
}
