package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/internal/kafkatest"
)

// TestProduceTail: produce a file to an in-process broker, tail it back.
func TestProduceTail(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "reviews"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	dir := t.TempDir()
	var lines strings.Builder
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&lines, `{"id":"%d","text":"review %d","label":"positive"}`+"\n", i, i)
	}
	lines.WriteString("{broken\n")
	file := writeFile(t, dir, "in.jsonl", lines.String())

	code, _, errs := capastan(t, "", "produce", "-brokers", brokers, "-topic", "reviews", "-file", file)
	if code != 0 {
		t.Fatalf("produce exit %d: %s", code, errs)
	}
	for _, want := range []string{"sent 25, acknowledged 25, failed 0, bad input lines 1", "line 26: invalid_json"} {
		if !strings.Contains(errs, want) {
			t.Errorf("produce stderr lacks %q:\n%s", want, errs)
		}
	}
	code, out, errs := capastan(t, "", "tail", "-brokers", brokers, "-topic", "reviews", "-max", "25", "-timeout", "5s")
	if code != 0 {
		t.Fatalf("tail exit %d: %s", code, errs)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	if len(got) != 25 {
		t.Fatalf("tail printed %d records, want 25", len(got))
	}
	ids := map[string]bool{}
	for _, l := range got {
		var rec struct {
			Key   string `json:"key"`
			Value struct {
				ReviewID string `json:"review_id"`
				Text     string `json:"text"`
			} `json:"value"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("tail line %q: %v", l, err)
		}
		if rec.Key != rec.Value.ReviewID || rec.Value.Text == "" {
			t.Errorf("tail line %q", l)
		}
		ids[rec.Value.ReviewID] = true
	}
	if len(ids) != 25 {
		t.Errorf("%d distinct ids, want 25", len(ids))
	}
	// With nothing more to read, tail stops after -timeout and says so.
	code, out, errs = capastan(t, "", "tail", "-brokers", brokers, "-topic", "reviews", "-timeout", "1s")
	if code != 0 || strings.Count(out, "\n") != 25 || !strings.Contains(errs, "no new record") {
		t.Errorf("tail to the end: exit %d, %d lines, stderr %q", code, strings.Count(out, "\n"), errs)
	}
}

func TestProduceErrors(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "in.jsonl", `{"review_id":"1","text":"fine"}`+"\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no file", []string{"produce"}, 2, "-file is required"},
		{"missing file", []string{"produce", "-file", filepath.Join(dir, "nope.jsonl")}, 1, "nope.jsonl"},
		{"bad brokers", []string{"produce", "-brokers", "localhost", "-file", file}, 1, "not host:port"},
		{"bad key", []string{"produce", "-key", "color", "-file", file}, 1, "-key"},
		{"loop stdin", []string{"produce", "-file", "-", "-loop", "-count", "5"}, 1, "cannot reread stdin"},
		{"broker down", []string{"produce", "-brokers", "127.0.0.1:1", "-max-attempts", "1", "-file", file}, 1, "not sent after 1 attempts"},
		{"sasl without user", []string{"tail", "-sasl-mechanism", "PLAIN"}, 1, "needs a user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := capastan(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, tt.code, tt.want)
			}
		})
	}
}

// TestDev starts `capastan dev` on a free port, produces the sample reviews
// to it, tails the labeled results, and stops it.
func TestDev(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb kafkatest.SyncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"dev", "-port", strconv.Itoa(port), "-http-addr", "127.0.0.1:0"}, stdio{strings.NewReader(""), &out, &errb})
	}()
	brokers := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", brokers)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev did not listen on %s: %s", brokers, errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, _, errs := capastan(t, "", "produce", "-brokers", brokers, "-file", filepath.Join("..", "..", "docs", "sample-reviews.jsonl"))
	if code != 0 || !strings.Contains(errs, "sent 6, acknowledged 6") {
		t.Fatalf("produce to dev: exit %d: %s", code, errs)
	}
	code, tailed, errs := capastan(t, "", "tail", "-brokers", brokers, "-topic", "reviews.labeled", "-max", "6", "-timeout", "20s")
	if code != 0 || strings.Count(tailed, "\n") != 6 || !strings.Contains(tailed, `"label":"positive"`) || !strings.Contains(tailed, `"label":"negative"`) {
		t.Fatalf("tail labeled results from dev: exit %d, %q, %s", code, tailed, errs)
	}
	// The side port answers ready once the worker has joined its group.
	httpAddr := ""
	for _, line := range strings.Split(errb.String(), "\n") {
		if i := strings.Index(line, " addr="); i >= 0 && strings.Contains(line, "http port listening") {
			httpAddr = strings.TrimSpace(line[i+len(" addr="):])
		}
	}
	resp, err := http.Get("http://" + httpAddr + "/readyz")
	if err != nil {
		t.Fatalf("readyz on %q: %v\n%s", httpAddr, err, errb.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("readyz = %d after the worker labeled records", resp.StatusCode)
	}
	// The same port classifies on demand, and its metrics count the stream
	// and the API on one registry.
	resp, err = http.Post("http://"+httpAddr+"/predict", "application/json", strings.NewReader(`{"text": "arrived broken, total waste of money"}`))
	if err != nil {
		t.Fatal(err)
	}
	pred, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(pred), `"label":"negative"`) {
		t.Errorf("predict on dev: %d %s", resp.StatusCode, pred)
	}
	resp, err = http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	exposition, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"capastan_records_consumed_total 6", "capastan_records_produced_total 6", "capastan_ready 1",
		`capastan_predictions_total{label="negative",source="http"} 1`, "capastan_transactions_total{outcome=\"committed\"}"} {
		if !strings.Contains(string(exposition), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Errorf("dev exit %d: %s", c, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop on cancel")
	}
	if !strings.Contains(out.String(), "in-process Kafka broker on "+brokers) || !strings.Contains(errb.String(), "worker stopped") {
		t.Errorf("dev printed %q and logged %q", out.String(), errb.String())
	}
}

// TestTailNonJSON: a record whose value is not JSON (a dead letter of
// malformed input) is printed with its value as a JSON string, and its
// headers kept.
func TestTailNonJSON(t *testing.T) {
	brokers := kafkatest.Cluster(t, map[string]int32{"reviews.dlq": 1})
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("reviews.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Key: []byte("k"), Value: []byte("{not json"), Headers: []kgo.RecordHeader{{Key: "capastan-error-code", Value: []byte("invalid_json")}}}
	if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	code, out, errs := capastan(t, "", "tail", "-brokers", strings.Join(brokers, ","), "-topic", "reviews.dlq", "-max", "1", "-timeout", "5s")
	if code != 0 {
		t.Fatalf("tail exit %d: %s", code, errs)
	}
	var got struct {
		Key     string            `json:"key"`
		Headers map[string]string `json:"headers"`
		Value   string            `json:"value"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("tail line %q: %v", out, err)
	}
	if got.Value != "{not json" || got.Key != "k" || got.Headers["capastan-error-code"] != "invalid_json" {
		t.Errorf("tail printed %+v", got)
	}
}
