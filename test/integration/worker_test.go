package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/consumer"
	"github.com/capastan/capastan/internal/kafkaconn"
	"github.com/capastan/capastan/internal/kafkatest"
	"github.com/capastan/capastan/internal/testbin"
	"github.com/capastan/capastan/models"
	"github.com/capastan/capastan/schemas"
)

// poison pills mixed into every stream, with their dead-letter codes.
var poison = []struct{ value, code string }{
	{`{not json`, schemas.CodeInvalidJSON},
	{`{"review_id":"p-types","text":["a"]}`, schemas.CodeSchemaViolation},
	{`{"review_id":"p-empty","text":""}`, schemas.CodeEmptyText},
	{"{\"review_id\":\"p-utf8\",\"text\":\"\xc3\x28\"}", schemas.CodeInvalidUTF8},
	{`{"review_id":"p-version","schema_version":2,"text":"v2"}`, schemas.CodeUnsupportedVersion},
	{`{"review_id":"p-long","text":"` + strings.Repeat("y", 70000) + `"}`, schemas.CodeTextTooLong},
}

type stream struct {
	bs           []string
	in, out, dlq string
	n            int
}

// newStream creates fresh input (6 partitions), output and dead-letter
// topics and produces n reviews over 50 keys with the poison pills spread
// through them.
func newStream(t *testing.T, n int) *stream {
	bs := brokers(t)
	s := &stream{bs: bs, in: topic(t, bs, "it-in", 6), out: topic(t, bs, "it-out", 6), dlq: topic(t, bs, "it-dlq", 1), n: n}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs...), kgo.DefaultProduceTopic(s.in), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("k%d", i%50)
		recs = append(recs, &kgo.Record{Key: []byte(k), Value: []byte(fmt.Sprintf(`{"review_id":"r%d","product_id":"%s","text":"review %d, the screen is great but the battery died"}`, i, k, i))})
		if j := i / (n / len(poison)); i%(n/len(poison)) == 0 && j < len(poison) {
			recs = append(recs, &kgo.Record{Key: []byte("poison"), Value: []byte(poison[j].value)})
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *stream) config(delivery, txid string) consumer.Config {
	cfg := consumer.DefaultConfig()
	cfg.Conn = kafkaconn.Config{Brokers: s.bs}
	cfg.InputTopic, cfg.OutputTopic, cfg.DeadLetterTopic = s.in, s.out, s.dlq
	cfg.Group = "it-" + s.in
	cfg.Delivery, cfg.TransactionalID = delivery, txid
	cfg.RetryBackoff = 100 * time.Millisecond
	return cfg
}

// check reads the output and dead-letter topics read_committed and asserts
// every review is labeled (exactly once when exact), in input order per
// key, and every poison pill dead-lettered with its code.
func (s *stream) check(t *testing.T, exact bool) {
	t.Helper()
	outs := consumeAtLeast(t, s.bs, s.out, s.n)
	seen := map[string]int{}
	last := map[string]int64{}
	for _, r := range outs {
		l, err := schemas.DecodeLabeled(r.Value)
		if err != nil {
			t.Fatalf("output %q: %v", r.Value, err)
		}
		seen[l.ReviewID]++
		if string(r.Key) != l.ProductID {
			t.Fatalf("review %s keyed %q", l.ReviewID, r.Key)
		}
		if exact {
			if prev, ok := last[l.ProductID]; ok && l.Origin.Offset <= prev {
				t.Fatalf("key %s: offset %d labeled after %d", l.ProductID, l.Origin.Offset, prev)
			}
			last[l.ProductID] = l.Origin.Offset
		}
	}
	dups := 0
	for i := 0; i < s.n; i++ {
		c := seen["r"+strconv.Itoa(i)]
		if c == 0 {
			t.Fatalf("review r%d lost", i)
		}
		if c > 1 && exact {
			t.Fatalf("review r%d labeled %d times", i, c)
		}
		dups += c - 1
	}
	t.Logf("%d reviews, %d labeled records, %d duplicates", s.n, len(outs), dups)
	dl := consumeAtLeast(t, s.bs, s.dlq, len(poison))
	codes := map[string]int{}
	for _, r := range dl {
		for _, h := range r.Headers {
			if h.Key == schemas.HeaderErrorCode {
				codes[string(h.Value)]++
			}
		}
	}
	for _, p := range poison {
		if codes[p.code] == 0 || (exact && codes[p.code] != 1) {
			t.Errorf("dead letters with code %s: %d", p.code, codes[p.code])
		}
	}
}

// consumeAtLeast reads topic until at least n records arrived and then no
// new one for 2 s (to catch duplicates).
func consumeAtLeast(t *testing.T, bs []string, topic string, n int) []*kgo.Record {
	return kafkatest.Consume(t, bs, topic, n, 2*time.Second, 3*time.Minute)
}

// TestWorkerSteadyState (fault tests 1 and 5): one in-process worker per
// delivery mode, 50,000 reviews with poison pills, real broker.
func TestWorkerSteadyState(t *testing.T) {
	for _, mode := range []string{consumer.ExactlyOnce, consumer.AtLeastOnce} {
		t.Run(mode, func(t *testing.T) {
			s := newStream(t, 50000)
			m, err := models.Default()
			if err != nil {
				t.Fatal(err)
			}
			w, err := consumer.New(s.config(mode, "it-"+mode), m, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var runErr error
			wg.Add(1)
			go func() { defer wg.Done(); runErr = w.Run(ctx) }()
			start := time.Now()
			s.check(t, mode == consumer.ExactlyOnce)
			t.Logf("%s: %d records in %s", mode, s.n, time.Since(start).Round(time.Millisecond))
			cancel()
			wg.Wait()
			if runErr != nil {
				t.Fatal(runErr)
			}
		})
	}
}

// serve starts `capastan serve` on the stream with the given transactional id.
func (s *stream) serve(t *testing.T, txid string, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(testbin.Capastan(t), "serve", "-log-format", "text")
	cmd.Env = append(os.Environ(),
		"CAPASTAN_KAFKA_BROKERS="+strings.Join(s.bs, ","), "CAPASTAN_INPUT_TOPIC="+s.in, "CAPASTAN_OUTPUT_TOPIC="+s.out,
		"CAPASTAN_DLQ_TOPIC="+s.dlq, "CAPASTAN_GROUP=it-"+s.in, "CAPASTAN_TRANSACTIONAL_ID="+txid, "CAPASTAN_GROUP_INSTANCE_ID="+txid,
		"CAPASTAN_MAX_POLL_RECORDS=500",
		// The stall watchdog within the tests' deadlines: after a broker
		// restart the client has been seen to stop fetching for minutes.
		"CAPASTAN_LAG_INTERVAL=1s", "CAPASTAN_STALL_TIMEOUT=10s",
		"CAPASTAN_HTTP_ADDR=127.0.0.1:0") // several workers run at once: no fixed port
	cmd.Env = append(cmd.Env, env...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A test that fails half-way must not leave workers consuming the
	// next test's topics.
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("capastan serve (%s) log, last 8 KiB:\n%s", txid, tail(logs.Bytes(), 8<<10))
		}
	})
	return cmd, &logs
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// waitOutputs waits until the output topic holds at least n records
// (read_uncommitted, so in-flight transactions count: we want to hit the
// worker mid-stream).
func waitOutputs(t *testing.T, s *stream, n int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.bs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		total, err := totalEnd(ctx, cl, s.out)
		cancel()
		if err == nil && total >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("output never reached %d records", n)
}

// TestWorkerSignals (fault tests 2 and 6): `capastan serve` stopped with
// SIGTERM mid-stream exits cleanly and a restart finishes the stream;
// killed with SIGKILL mid-stream, a restart with the same transactional id
// and group instance id fences the dead one's open transaction and takes
// its partitions back at once. Exactly-once: nothing lost, nothing
// doubled. At-least-once: nothing lost, and after SIGTERM nothing doubled
// either (the batches in hand are committed on the way out).
func TestWorkerSignals(t *testing.T) {
	for _, mode := range []string{consumer.ExactlyOnce, consumer.AtLeastOnce} {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
			t.Run(mode+"/"+sig.String(), func(t *testing.T) {
				s := newStream(t, 100000)
				txid := "it-sig-" + s.in
				cmd, logs := s.serve(t, txid, "CAPASTAN_DELIVERY="+mode)
				waitOutputs(t, s, 20000)
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				err := cmd.Wait()
				if sig == syscall.SIGTERM && err != nil {
					t.Fatalf("SIGTERM: exit %v\n%s", err, logs)
				}
				if sig == syscall.SIGTERM && !strings.Contains(logs.String(), "worker stopped") {
					t.Errorf("SIGTERM: no clean stop in the log:\n%s", logs)
				}
				cmd2, logs2 := s.serve(t, txid, "CAPASTAN_DELIVERY="+mode)
				s.check(t, mode == consumer.ExactlyOnce || sig == syscall.SIGTERM)
				cmd2.Process.Signal(syscall.SIGTERM)
				if err := cmd2.Wait(); err != nil {
					t.Fatalf("restarted worker: exit %v\n%s", err, logs2)
				}
			})
		}
	}
}

// stopServe sends SIGTERM and requires a clean exit.
func stopServe(t *testing.T, cmd *exec.Cmd, logs *bytes.Buffer) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("worker exit %v\n%s", err, logs)
	}
}

// TestWorkerRebalances (fault test 3): two workers start, a third joins
// mid-stream, one leaves; every review once, in order per key. In
// at-least-once mode too: a partition leaves a worker only after its
// outputs are acknowledged and its offsets committed.
func TestWorkerRebalances(t *testing.T) {
	for _, mode := range []string{consumer.ExactlyOnce, consumer.AtLeastOnce} {
		t.Run(mode, func(t *testing.T) {
			s := newStream(t, 100000)
			env := "CAPASTAN_DELIVERY=" + mode
			a, la := s.serve(t, "it-reb-a-"+s.in, env)
			b, lb := s.serve(t, "it-reb-b-"+s.in, env)
			waitOutputs(t, s, 20000)
			c, lc := s.serve(t, "it-reb-c-"+s.in, env)
			waitOutputs(t, s, 50000)
			stopServe(t, a, la)
			s.check(t, true)
			stopServe(t, b, lb)
			stopServe(t, c, lc)
		})
	}
}

// TestWorkerBrokerRestart (fault test 4): the broker is stopped mid-stream
// and started again on the same data; the worker rides it out. Nothing is
// lost in either mode; at-least-once may label a review twice (the
// batches whose commits the restart cut off), and the test reports how
// many.
func TestWorkerBrokerRestart(t *testing.T) {
	if os.Getenv("KAFKA_PORT") == "" {
		t.Skip("needs scripts/integration's broker (KAFKA_PORT) to stop and restart it")
	}
	for _, mode := range []string{consumer.ExactlyOnce, consumer.AtLeastOnce} {
		t.Run(mode, func(t *testing.T) {
			s := newStream(t, 100000)
			cmd, logs := s.serve(t, "it-restart-"+s.in, "CAPASTAN_DELIVERY="+mode)
			waitOutputs(t, s, 20000)
			kafka := func(args ...string) {
				out, err := exec.Command("../../scripts/kafka", args...).CombinedOutput()
				if err != nil {
					t.Fatalf("scripts/kafka %v: %v\n%s", args, err, out)
				}
			}
			kafka("stop")
			time.Sleep(3 * time.Second)
			kafka("start", "--keep")
			s.check(t, mode == consumer.ExactlyOnce)
			stopServe(t, cmd, logs)
		})
	}
}

// TestWorkerModelSwap: the model file is replaced and SIGHUP sent twice
// while the worker labels 100,000 reviews exactly once: nothing is lost or
// doubled, every labeled record names one of the two models, and each
// partition switches model only between batches (at most twice).
func TestWorkerModelSwap(t *testing.T) {
	base, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	meta := base.Metadata()
	meta.Version = "swap-2"
	next := base.WithMetadata(meta)
	path := filepath.Join(t.TempDir(), "model.cpst")
	save := func(m *classifier.Model) {
		if err := m.Save(path); err != nil { // atomic: the worker never reads half a file
			t.Fatal(err)
		}
	}
	save(base)
	s := newStream(t, 100000)
	cmd, logs := s.serve(t, "it-swap-"+s.in, "CAPASTAN_MODEL="+path, "CAPASTAN_MODEL_WATCH_INTERVAL=0")
	waitOutputs(t, s, 20000)
	save(next)
	cmd.Process.Signal(syscall.SIGHUP)
	waitOutputs(t, s, 50000)
	save(base)
	cmd.Process.Signal(syscall.SIGHUP)
	s.check(t, true)
	stopServe(t, cmd, logs)
	if n := strings.Count(logs.String(), "model swapped"); n != 2 {
		t.Errorf("%d swaps logged, want 2:\n%s", n, logs)
	}
	bySHA := map[string]int{}
	switches := map[int32]int{}
	last := map[int32]string{}
	for _, r := range consumeAtLeast(t, s.bs, s.out, s.n) {
		l, err := schemas.DecodeLabeled(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		bySHA[l.Model.SHA256]++
		if prev, ok := last[r.Partition]; ok && prev != l.Model.SHA256 {
			switches[r.Partition]++
		}
		last[r.Partition] = l.Model.SHA256
	}
	t.Logf("labeled by model: %v; switches per partition: %v", bySHA, switches)
	if len(bySHA) != 2 || bySHA[base.SHA256()] == 0 || bySHA[next.SHA256()] == 0 {
		t.Errorf("models named in the output: %v, want both %s and %s", bySHA, base.SHA256(), next.SHA256())
	}
	for p, n := range switches {
		if n > 2 {
			t.Errorf("partition %d switched model %d times, want at most 2", p, n)
		}
	}
}
