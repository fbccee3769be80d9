package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/internal/kafkaconn"
	"github.com/capastan/capastan/internal/kafkatest"
)

func cluster(t *testing.T, topic string) []string {
	return kafkatest.Cluster(t, map[string]int32{topic: 3})
}

func consume(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	return kafkatest.Consume(t, brokers, topic, n, 0, 20*time.Second)
}

func newProducer(t *testing.T, brokers []string, topic string, tweak func(*Config)) *Producer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Conn = kafkaconn.Config{Brokers: brokers}
	cfg.Topic = topic
	if tweak != nil {
		tweak(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openString(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

// events makes n valid review lines over `products` products.
func events(n, products int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"review_id":"r%d","product_id":"p%d","text":"review number %d","rating":%d}`+"\n", i, i%products, i, i%5+1)
	}
	return b.String()
}

func TestRunDeliversEveryEventInKeyOrder(t *testing.T) {
	brokers := cluster(t, "reviews")
	input := events(300, 7) +
		"not json\n" + // line 301
		`{"review_id":"x","product_id":"p1"}` + "\n" + // 302: no text
		"{\"review_id\":\"y\",\"text\":\"bad \xff\"}\n" + // 303: invalid UTF-8
		`{"review_id":"z","text":"ok","rating":9}` + "\n" + // 304: rating out of range
		`{"review_id":"w","text":"   "}` + "\n" // 305: empty text
	p := newProducer(t, brokers, "reviews", nil)
	sum, err := Run(context.Background(), p, openString(input), RunOptions{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Sent != 300 || sum.Acked != 300 || sum.Failed != 0 || sum.BadLines != 5 {
		t.Fatalf("summary %+v, want 300 sent and acked, 0 failed, 5 bad lines", sum)
	}
	wantCodes := map[int]string{301: "invalid_json", 302: "missing_field", 303: "invalid_utf8", 304: "schema_violation", 305: "empty_text"}
	for _, b := range sum.BadSample {
		code, ok := wantCodes[b.Line]
		if !ok || !strings.HasPrefix(b.Err.Error(), code) {
			t.Errorf("bad line %d: %v, want code %s", b.Line, b.Err, code)
		}
	}
	recs := consume(t, brokers, "reviews", 300)
	seen := map[string]bool{}
	lastSeq := map[string]int{} // per product: review numbers must rise
	partitionOf := map[string]int32{}
	for _, r := range recs {
		var ev struct {
			ReviewID  string `json:"review_id"`
			ProductID string `json:"product_id"`
		}
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatalf("record value %q: %v", r.Value, err)
		}
		if seen[ev.ReviewID] {
			t.Errorf("review %s delivered twice", ev.ReviewID)
		}
		seen[ev.ReviewID] = true
		if string(r.Key) != ev.ProductID {
			t.Errorf("review %s keyed %q, want its product %q", ev.ReviewID, r.Key, ev.ProductID)
		}
		if p, ok := partitionOf[ev.ProductID]; ok && p != r.Partition {
			t.Errorf("product %s on partitions %d and %d", ev.ProductID, p, r.Partition)
		}
		partitionOf[ev.ProductID] = r.Partition
		var seq int
		fmt.Sscanf(ev.ReviewID, "r%d", &seq)
		if last, ok := lastSeq[ev.ProductID]; ok && seq <= last {
			t.Errorf("product %s: review %d after %d", ev.ProductID, seq, last)
		}
		lastSeq[ev.ProductID] = seq
	}
	if len(seen) != 300 {
		t.Errorf("%d distinct reviews delivered, want 300", len(seen))
	}
}

func TestRunStrictStopsAtFirstBadLine(t *testing.T) {
	brokers := cluster(t, "reviews")
	p := newProducer(t, brokers, "reviews", nil)
	input := events(10, 2) + "garbage\n" + events(10, 2)
	sum, err := Run(context.Background(), p, openString(input), RunOptions{Strict: true})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "line 11") {
		t.Fatalf("err = %v, want ErrBadInput at line 11", err)
	}
	if sum.Sent != 10 || sum.Acked != 10 {
		t.Errorf("summary %+v: the 10 records before the bad line are sent and acknowledged", sum)
	}
}

func TestRunLoopCountKeepsIDsUnique(t *testing.T) {
	brokers := cluster(t, "reviews")
	p := newProducer(t, brokers, "reviews", func(c *Config) { c.Topic = "reviews" })
	sum, err := Run(context.Background(), p, openString(events(40, 3)), RunOptions{Loop: true, Count: 100, Source: SourceOptions{KeyBy: KeyReview}})
	if err != nil || sum.Acked != 100 || sum.Passes != 3 {
		t.Fatalf("Run: %v, %+v; want 100 acknowledged over 3 passes", err, sum)
	}
	seen := map[string]bool{}
	for _, r := range consume(t, brokers, "reviews", 100) {
		var ev struct {
			ReviewID string `json:"review_id"`
		}
		json.Unmarshal(r.Value, &ev)
		if seen[ev.ReviewID] || string(r.Key) != ev.ReviewID {
			t.Errorf("review %q (key %q) repeated or keyed wrong", ev.ReviewID, r.Key)
		}
		seen[ev.ReviewID] = true
	}
	if !seen["r0"] || !seen["r0#1"] || !seen["r19#2"] {
		t.Errorf("later passes should carry #pass suffixes; got %d ids", len(seen))
	}
}

func TestRunRate(t *testing.T) {
	brokers := cluster(t, "reviews")
	p := newProducer(t, brokers, "reviews", nil)
	start := time.Now()
	sum, err := Run(context.Background(), p, openString(events(60, 3)), RunOptions{Rate: 200})
	if err != nil || sum.Acked != 60 {
		t.Fatalf("Run: %v %+v", err, sum)
	}
	// 60 records at 200/s take at least 295 ms (the first goes at once).
	if el := time.Since(start); el < 290*time.Millisecond {
		t.Errorf("60 records at 200/s took %s, want >= 295ms", el)
	}
}

func TestRunCSVMapping(t *testing.T) {
	brokers := cluster(t, "reviews")
	p := newProducer(t, brokers, "reviews", nil)
	m := DefaultMapping()
	m.ID, m.Text, m.Product, m.Rating = "id", "body", "sku", "stars"
	csv := "id,body,sku,stars\n1,\"great, really\",A,5\n2,awful,B,x\n3,,A,1\n4,fine,A,3\n"
	sum, err := Run(context.Background(), p, openString(csv), RunOptions{Source: SourceOptions{Format: "csv", Mapping: m}})
	if err != nil || sum.Acked != 2 || sum.BadLines != 2 {
		t.Fatalf("Run: %v %+v; want 2 acknowledged, 2 bad (rating x, empty text)", err, sum)
	}
	recs := consume(t, brokers, "reviews", 2)
	for _, r := range recs {
		if string(r.Key) != "A" || !strings.Contains(string(r.Value), `"product_id":"A"`) {
			t.Errorf("record %q key %q", r.Value, r.Key)
		}
	}
}

// TestRunBrokerDown: with no broker the producer retries with backoff,
// then stops: what it tried is counted as failed, nothing as acknowledged,
// Run returns an error, and it does not hang.
func TestRunBrokerDown(t *testing.T) {
	p := newProducer(t, []string{"127.0.0.1:1"}, "reviews", func(c *Config) {
		c.MaxAttempts, c.BackoffMin, c.BackoffMax, c.WriteTimeout = 2, 10*time.Millisecond, 20*time.Millisecond, time.Second
	})
	done := make(chan struct{})
	var sum Summary
	var err error
	go func() {
		sum, err = Run(context.Background(), p, openString(events(20, 2)), RunOptions{})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return with the broker down")
	}
	if err == nil || sum.Acked != 0 || sum.Failed != sum.Sent || sum.Sent == 0 || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Fatalf("err %v, summary %+v; want an error after 2 attempts and every record sent counted failed", err, sum)
	}
}

func TestRunOptionsAndConfigErrors(t *testing.T) {
	if _, err := Run(context.Background(), nil, openString(""), RunOptions{Loop: true}); err == nil {
		t.Error("looping without count or duration must be refused")
	}
	for _, tweak := range []func(*Config){
		func(c *Config) { c.Topic = "" },
		func(c *Config) { c.Compression = "brotli" },
		func(c *Config) { c.MaxInFlight = 0 },
		func(c *Config) { c.Conn.Brokers = nil },
		func(c *Config) { c.Conn.SASLMechanism = "GSSAPI"; c.Conn.SASLUser = "u" },
	} {
		cfg := DefaultConfig()
		tweak(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("New accepted %+v", cfg)
		}
	}
}
