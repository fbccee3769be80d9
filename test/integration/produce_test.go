package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capastan/capastan/internal/kafkaconn"
	"github.com/capastan/capastan/producer"
	"github.com/capastan/capastan/schemas"
)

func reviewsFile(t *testing.T, n, products int) string {
	t.Helper()
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"review_id":"r%d","product_id":"p%d","text":"review %d: the battery lasts and the screen is fine","rating":%d}`+"\n", i, i%products, i, i%5+1)
	}
	p := filepath.Join(t.TempDir(), "reviews.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProducerRealBroker: 20,000 events to a 6-partition topic on a real
// broker; every one arrives once, keyed by product, in order per product.
func TestProducerRealBroker(t *testing.T) {
	bs := brokers(t)
	tp := topic(t, bs, "it-produce", 6)
	const n = 20000
	file := reviewsFile(t, n, 50)
	cfg := producer.DefaultConfig()
	cfg.Conn, cfg.Topic = kafkaconn.Config{Brokers: bs}, tp
	p, err := producer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := producer.Run(context.Background(), p, func() (io.ReadCloser, error) { return os.Open(file) }, producer.RunOptions{})
	if err != nil || sum.Acked != n || sum.Failed != 0 {
		t.Fatalf("Run: %v %+v", err, sum)
	}
	last := map[string]int{}
	seen := map[string]bool{}
	for _, r := range consume(t, bs, tp, n) {
		rev, derr := schemas.DecodeReview(r.Value, schemas.DecodeOptions{})
		if derr != nil {
			t.Fatalf("record %q: %v", r.Value, derr)
		}
		if seen[rev.ReviewID] {
			t.Fatalf("review %s twice", rev.ReviewID)
		}
		seen[rev.ReviewID] = true
		if string(r.Key) != rev.ProductID {
			t.Fatalf("review %s keyed %q", rev.ReviewID, r.Key)
		}
		var seq int
		fmt.Sscanf(rev.ReviewID, "r%d", &seq)
		if prev, ok := last[rev.ProductID]; ok && seq < prev {
			t.Fatalf("product %s: review %d after %d", rev.ProductID, seq, prev)
		}
		last[rev.ProductID] = seq
	}
	if len(seen) != n {
		t.Fatalf("%d distinct reviews, want %d", len(seen), n)
	}
}

// TestKcatInterop: events put on the topic by kcat (librdkafka) and by our
// producer decode identically, and kcat reads what our producer wrote.
func TestKcatInterop(t *testing.T) {
	bs := brokers(t)
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed (Debian package kcat); .ci/run installs it")
	}
	const n = 500
	file := reviewsFile(t, n, 10)
	ours := topic(t, bs, "it-ours", 3)
	theirs := topic(t, bs, "it-kcat", 3)

	cfg := producer.DefaultConfig()
	cfg.Conn, cfg.Topic = kafkaconn.Config{Brokers: bs}, ours
	p, err := producer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := producer.Run(context.Background(), p, func() (io.ReadCloser, error) { return os.Open(file) }, producer.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	// kcat sends the same file's lines as values, keyed by product.
	var keyed bytes.Buffer
	data, _ := os.ReadFile(file)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var ev struct {
			ProductID string `json:"product_id"`
		}
		json.Unmarshal([]byte(line), &ev)
		fmt.Fprintf(&keyed, "%s\t%s\n", ev.ProductID, line)
	}
	cmd := exec.Command(kcat, "-b", strings.Join(bs, ","), "-P", "-t", theirs, "-K", "\t", "-X", "acks=all")
	cmd.Stdin = &keyed
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	decode := func(tp string) map[string]schemas.Review {
		out := map[string]schemas.Review{}
		for _, r := range consume(t, bs, tp, n) {
			rev, derr := schemas.DecodeReview(r.Value, schemas.DecodeOptions{})
			if derr != nil {
				t.Fatalf("%s: %v", tp, derr)
			}
			if string(r.Key) != rev.ProductID {
				t.Fatalf("%s: review %s keyed %q", tp, rev.ReviewID, r.Key)
			}
			out[rev.ReviewID] = rev
		}
		return out
	}
	a, b := decode(ours), decode(theirs)
	if len(a) != n || len(b) != n {
		t.Fatalf("%d and %d reviews, want %d each", len(a), len(b), n)
	}
	for id, ra := range a {
		ja, _ := json.Marshal(ra)
		jb, _ := json.Marshal(b[id])
		if !bytes.Equal(ja, jb) {
			t.Fatalf("review %s decodes differently:\nours %s\nkcat %s", id, ja, jb)
		}
	}
	// And kcat reads our producer's records (lz4-compressed batches).
	out, err := exec.Command(kcat, "-b", strings.Join(bs, ","), "-C", "-t", ours, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n").Output()
	if err != nil {
		t.Fatalf("kcat -C: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != n {
		t.Fatalf("kcat read %d records of our topic, want %d", len(lines), n)
	}
	for _, l := range lines {
		key, val, _ := strings.Cut(l, "\t")
		rev, derr := schemas.DecodeReview([]byte(val), schemas.DecodeOptions{})
		if derr != nil || rev.ProductID != key {
			t.Fatalf("kcat line %q: %v", l, derr)
		}
	}
}
