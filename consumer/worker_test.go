package consumer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/internal/kafkaconn"
	"github.com/capastan/capastan/internal/kafkatest"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/models"
	"github.com/capastan/capastan/schemas"
)

const (
	inTopic  = "reviews"
	outTopic = "reviews.labeled"
	dlqTopic = "reviews.dlq"
)

// streamTopics are the worker's topics and their partitions in these tests.
var streamTopics = map[string]int32{inTopic: 3, outTopic: 3, dlqTopic: 1}

func startCluster(t *testing.T) []string {
	return kafkatest.Cluster(t, streamTopics)
}

// poison are the bad inputs mixed into every stream, with the dead-letter
// code each must get.
var poison = []struct{ value, code string }{
	{`{not json`, schemas.CodeInvalidJSON},
	{`{"review_id":"p-types","text":42}`, schemas.CodeSchemaViolation},
	{`{"review_id":"p-empty","text":"   "}`, schemas.CodeEmptyText},
	{"{\"review_id\":\"p-utf8\",\"text\":\"bad \xff\"}", schemas.CodeInvalidUTF8},
	{`{"review_id":"p-version","schema_version":7,"text":"from the future"}`, schemas.CodeUnsupportedVersion},
	{`{"review_id":"p-long","text":"` + strings.Repeat("x", 70000) + `"}`, schemas.CodeTextTooLong},
}

// produceInput writes n good reviews over 20 keys, then the poison pills.
func produceInput(t *testing.T, brokers []string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(inTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		v := fmt.Sprintf(`{"review_id":"r%d","product_id":"k%d","text":"review %d: I loved it, great battery"}`, i, i%20, i)
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i%20)), Value: []byte(v)})
	}
	for i, p := range poison {
		recs = append(recs, &kgo.Record{Key: []byte("poison" + strconv.Itoa(i)), Value: []byte(p.value),
			Headers: []kgo.RecordHeader{{Key: "trace-id", Value: []byte("t" + strconv.Itoa(i))}}})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// collect reads topic read_committed until want records arrive, then
// keeps reading briefly to catch duplicates.
func collect(t *testing.T, brokers []string, topic string, want int) []*kgo.Record {
	return kafkatest.Consume(t, brokers, topic, want, 700*time.Millisecond, 30*time.Second)
}

func newWorker(t *testing.T, brokers []string, delivery, txid string) *Worker {
	t.Helper()
	m, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Conn = kafkaconn.Config{Brokers: brokers}
	cfg.Delivery = delivery
	cfg.TransactionalID = txid
	cfg.MaxPollRecords = 500
	cfg.RetryBackoff = 50 * time.Millisecond
	w, err := New(cfg, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func runWorker(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() { defer wg.Done(); runErr = w.Run(ctx) }()
	return func() {
		cancel()
		wg.Wait()
		if runErr != nil {
			t.Errorf("Run: %v", runErr)
		}
	}
}

// checkOutputs asserts each good review labeled exactly `want` times at
// most (1 for exactly-once), keyed like its input, in input order per key,
// and each poison pill dead-lettered with its code.
func checkOutputs(t *testing.T, brokers []string, n int, exactlyOnce bool) {
	t.Helper()
	outs := collect(t, brokers, outTopic, n)
	count := map[string]int{}
	lastOffset := map[string]int64{}
	for _, r := range outs {
		l, err := schemas.DecodeLabeled(r.Value)
		if err != nil {
			t.Fatalf("output %q: %v", r.Value, err)
		}
		count[l.ReviewID]++
		if string(r.Key) != l.ProductID {
			t.Errorf("review %s keyed %q, its input was keyed %q", l.ReviewID, r.Key, l.ProductID)
		}
		if l.Label == "" || len(l.Probs) != 3 || l.Model.SHA256 == "" || l.Origin.Topic != inTopic {
			t.Errorf("incomplete output %s", r.Value)
		}
		if prev, ok := lastOffset[l.ProductID]; ok && l.Origin.Offset < prev && exactlyOnce {
			t.Errorf("key %s: output for offset %d after %d", l.ProductID, l.Origin.Offset, prev)
		}
		lastOffset[l.ProductID] = l.Origin.Offset
	}
	dups := 0
	for i := 0; i < n; i++ {
		c := count[fmt.Sprintf("r%d", i)]
		switch {
		case c == 0:
			t.Fatalf("review r%d never labeled", i)
		case c > 1 && exactlyOnce:
			t.Fatalf("review r%d labeled %d times in exactly-once mode", i, c)
		case c > 1:
			dups += c - 1
		}
	}
	if len(count) != n {
		t.Errorf("%d distinct reviews labeled, want %d", len(count), n)
	}
	t.Logf("%d outputs for %d reviews (%d duplicates)", len(outs), n, dups)
	dl := collect(t, brokers, dlqTopic, len(poison))
	codes := map[string]bool{}
	for _, r := range dl {
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		codes[h[schemas.HeaderErrorCode]] = true
		if h["trace-id"] == "" || h[schemas.HeaderSourceTopic] != inTopic || h[schemas.HeaderErrorMessage] == "" {
			t.Errorf("dead letter %q lacks its original or capastan headers: %v", r.Key, h)
		}
	}
	for _, p := range poison {
		if !codes[p.code] {
			t.Errorf("no dead letter with code %s", p.code)
		}
	}
	if exactlyOnce && len(dl) != len(poison) {
		t.Errorf("%d dead letters, want %d", len(dl), len(poison))
	}
}

func TestWorkerDelivery(t *testing.T) {
	for _, mode := range []string{ExactlyOnce, AtLeastOnce} {
		t.Run(mode, func(t *testing.T) {
			brokers := startCluster(t)
			const n = 3000
			produceInput(t, brokers, n)
			w := newWorker(t, brokers, mode, "tx-"+mode)
			stop := runWorker(t, w)
			checkOutputs(t, brokers, n, mode == ExactlyOnce)
			stop()
			st := w.Stats()
			if st.Consumed != n+int64(len(poison)) || st.DeadLettered != int64(len(poison)) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestWorkerRestart: a worker stops cleanly after the first half of the
// stream, more input arrives, another worker (another transactional id)
// takes over: the second half is labeled, the first is not labeled again.
func TestWorkerRestart(t *testing.T) {
	brokers := startCluster(t)
	const half = 2000
	produceInput(t, brokers, half)
	w1 := newWorker(t, brokers, ExactlyOnce, "tx-a")
	stop1 := runWorker(t, w1)
	want := int64(half + len(poison))
	deadline := time.Now().Add(20 * time.Second)
	for w1.Stats().Consumed < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop1()
	if c := w1.Stats().Consumed; c != want {
		t.Fatalf("first worker consumed %d, want %d", c, want)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(inTopic))
	if err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := half; i < 2*half; i++ {
		v := fmt.Sprintf(`{"review_id":"r%d","product_id":"k%d","text":"second half %d"}`, i, i%20, i)
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", i%20)), Value: []byte(v)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	w2 := newWorker(t, brokers, ExactlyOnce, "tx-b")
	stop2 := runWorker(t, w2)
	checkOutputs(t, brokers, 2*half, true)
	stop2()
	if c := w2.Stats().Consumed; c != half {
		t.Errorf("second worker consumed %d records, want the %d new ones only", c, half)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tweak := range []func(*Config){
		func(c *Config) { c.InputTopic = "" },
		func(c *Config) { c.OutputTopic = c.InputTopic },
		func(c *Config) { c.Delivery = "maybe" },
		func(c *Config) { c.TransactionalID = "" },
		func(c *Config) { c.MaxPollRecords = 0 },
		func(c *Config) { c.Group = "" },
		func(c *Config) { c.Conn.Brokers = nil },
		func(c *Config) { c.LagInterval = -time.Second },
		func(c *Config) { c.StallTimeout = -time.Second },
		func(c *Config) { c.StallTimeout = c.LagInterval },                 // under two lag checks
		func(c *Config) { c.LagInterval, c.StallTimeout = 0, time.Minute }, // a watchdog without lag checks
	} {
		c := DefaultConfig()
		tweak(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("Validate accepted %+v", c)
		}
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	off := DefaultConfig()
	off.LagInterval, off.StallTimeout = 0, 0
	if err := off.Validate(); err != nil {
		t.Errorf("lag gauge and watchdog off: %v", err)
	}
	if _, err := New(c, nil, nil); err == nil {
		t.Error("New without a model must fail")
	}
}

// TestWorkerCreatesTopics: with CreateTopics on an empty cluster the worker
// creates its three topics and then labels what arrives.
func TestWorkerCreatesTopics(t *testing.T) {
	brokers := kafkatest.Cluster(t, nil)
	w := newWorker(t, brokers, AtLeastOnce, "")
	w.cfg.CreateTopics, w.cfg.TopicPartitions, w.cfg.TopicReplication = true, 4, 1
	stop := runWorker(t, w)
	defer stop()
	deadline := time.Now().Add(20 * time.Second)
	for !w.Ready() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	produceInput(t, brokers, 100)
	checkOutputs(t, brokers, 100, false)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(context.Background(), inTopic, outTopic, dlqTopic)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{inTopic: 4, outTopic: 4, dlqTopic: 1} {
		if got := len(topics[name].Partitions); got != want {
			t.Errorf("topic %s has %d partitions, want %d", name, got, want)
		}
	}
}

// TestWorkerDeadLetterWriteFails: the broker rejects the first writes to the
// dead-letter topic. The batch holding them is not committed; it is
// processed again until the dead letters are written, and nothing is lost
// (or doubled, exactly-once).
func TestWorkerDeadLetterWriteFails(t *testing.T) {
	for _, mode := range []string{ExactlyOnce, AtLeastOnce} {
		t.Run(mode, func(t *testing.T) {
			c := kafkatest.FakeCluster(t, streamTopics)
			rejected := rejectWrites(c, dlqTopic, 3, func() bool { return true })
			brokers := c.ListenAddrs()
			const n = 1000
			produceInput(t, brokers, n)
			w := newWorker(t, brokers, mode, "tx-dlq-"+mode)
			stop := runWorker(t, w)
			checkOutputs(t, brokers, n, mode == ExactlyOnce)
			stop()
			if rejected.Load() == 0 || w.Stats().Retried == 0 {
				t.Errorf("rejected %d dead-letter writes, retried %d batches; want both > 0", rejected.Load(), w.Stats().Retried)
			}
		})
	}
}

// TestWorkerMetrics: after a known stream, the metrics tell what happened:
// records consumed, produced, dead-lettered by reason, transactions
// committed, predictions by label, and a lag of 0 on every partition the
// worker owns.
func TestWorkerMetrics(t *testing.T) {
	for _, mode := range []string{ExactlyOnce, AtLeastOnce} {
		t.Run(mode, func(t *testing.T) {
			brokers := startCluster(t)
			const n = 1000
			produceInput(t, brokers, n)
			m, err := models.Default()
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Conn = kafkaconn.Config{Brokers: brokers}
			cfg.Delivery, cfg.TransactionalID = mode, "tx-metrics-"+mode
			cfg.LagInterval = 100 * time.Millisecond
			set := metrics.New()
			set.Model.SetModel(m)
			w, err := New(cfg, m, slog.New(slog.NewTextHandler(io.Discard, nil)), WithMetrics(set))
			if err != nil {
				t.Fatal(err)
			}
			stop := runWorker(t, w)
			defer stop()
			total := float64(n + len(poison))
			value := func(name string, labels map[string]string) (float64, int) {
				mfs, err := set.Registry.Gather()
				if err != nil {
					t.Fatal(err)
				}
				sum, series := 0.0, 0
				for _, mf := range mfs {
					if mf.GetName() != name {
						continue
					}
				next:
					for _, mt := range mf.GetMetric() {
						for _, lp := range mt.GetLabel() {
							if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
								continue next
							}
						}
						series++
						switch {
						case mt.GetCounter() != nil:
							sum += mt.GetCounter().GetValue()
						case mt.GetGauge() != nil:
							sum += mt.GetGauge().GetValue()
						case mt.GetHistogram() != nil:
							sum += float64(mt.GetHistogram().GetSampleCount())
						}
					}
				}
				return sum, series
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				c, _ := value("capastan_records_consumed_total", nil)
				lag, parts := value("capastan_consumer_lag_records", nil)
				if c == total && parts == 3 && lag == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("consumed %v of %v, lag %v over %d partitions", c, total, lag, parts)
				}
				time.Sleep(50 * time.Millisecond)
			}
			checks := []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"capastan_records_produced_total", nil, n},
				{"capastan_records_classified_total", nil, n},
				{"capastan_records_dead_lettered_total", nil, float64(len(poison))},
				{"capastan_records_dead_lettered_total", map[string]string{"reason": "text_too_long"}, 1},
				{"capastan_predictions_total", map[string]string{"source": "kafka"}, n},
				{"capastan_end_to_end_latency_seconds", nil, total},
				{"capastan_batches_retried_total", nil, 0},
			}
			if mode == ExactlyOnce {
				checks = append(checks, struct {
					name   string
					labels map[string]string
					want   float64
				}{"capastan_transactions_total", map[string]string{"outcome": "aborted"}, 0})
			}
			for _, c := range checks {
				if got, _ := value(c.name, c.labels); got != c.want {
					t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
				}
			}
			if got, _ := value("capastan_transactions_total", map[string]string{"outcome": "committed"}); mode == ExactlyOnce && got < 1 {
				t.Errorf("no committed transaction counted")
			}
			if got, _ := value("capastan_rebalances_total", map[string]string{"event": "assigned"}); got < 1 {
				t.Errorf("no assignment counted")
			}
		})
	}
}

// TestWorkerStallWatchdog: the broker answers every fetch with nothing
// while the input has records. After StallTimeout of lag with nothing
// fetched the worker replaces its Kafka client; once fetches work again
// every review is labeled (once, exactly-once).
func TestWorkerStallWatchdog(t *testing.T) {
	for _, mode := range []string{ExactlyOnce, AtLeastOnce} {
		t.Run(mode, func(t *testing.T) {
			c := kafkatest.FakeCluster(t, streamTopics)
			brokers := c.ListenAddrs()
			var stalling atomic.Bool
			stalling.Store(true)
			c.ControlKey(kmsg.Fetch.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				if !stalling.Load() {
					return nil, nil, false
				}
				// An empty answer after a short wait, as a broker that
				// lost track of the data would give. The wait holds the
				// whole fake broker, not just this request: the fetches
				// come back to back on one connection, and kfake's
				// SleepControl queue races with itself when a request
				// sleeps just as the one before it on the same
				// connection is dequeued (two waiters on one queue,
				// seen under -race). Other requests still get through
				// between fetches.
				time.Sleep(20 * time.Millisecond)
				resp := kmsg.NewPtrFetchResponse()
				resp.Version = req.GetVersion()
				return resp, nil, true
			})
			// A static member: before a replacement client joins, the
			// worker removes the stalled one's membership.
			instance := "stall-" + mode
			var left atomic.Bool
			c.ControlKey(kmsg.LeaveGroup.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				for _, m := range req.(*kmsg.LeaveGroupRequest).Members {
					if m.InstanceID != nil && *m.InstanceID == instance {
						left.Store(true)
					}
				}
				return nil, nil, false
			})
			const n = 500
			produceInput(t, brokers, n)
			w := newWorker(t, brokers, mode, "tx-stall-"+mode)
			w.cfg.InstanceID = instance
			w.cfg.LagInterval, w.cfg.StallTimeout = 100*time.Millisecond, 400*time.Millisecond
			stop := runWorker(t, w)
			defer stop()
			deadline := time.Now().Add(20 * time.Second)
			for w.Stats().Restarts == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the worker never replaced its stalled client (stats %+v)", w.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if st := w.Stats(); st.Consumed != 0 {
				t.Fatalf("consumed %d records through a broker that returns none", st.Consumed)
			}
			if got := testutil.ToFloat64(w.metrics.Stalls); got < 1 {
				t.Errorf("capastan_client_restarts_total{reason=\"stall\"} = %v after a stall", got)
			}
			for !left.Load() { // removed on the way to the replacement
				if time.Now().After(deadline) {
					t.Fatalf("the stalled client's static membership (%s) was never removed", instance)
				}
				time.Sleep(10 * time.Millisecond)
			}
			stalling.Store(false)
			checkOutputs(t, brokers, n, mode == ExactlyOnce)
		})
	}
}

// TestFirstOffsets: a rewind after a failed batch goes, for each
// partition, to its first record in the earliest of the batches polled
// since the last commit, so a later batch's records are never skipped;
// a merged commit goes past the last record of the latest.
func TestFirstOffsets(t *testing.T) {
	recs := func(p int32, offsets ...int64) kgo.FetchPartition {
		fp := kgo.FetchPartition{Partition: p}
		for _, o := range offsets {
			fp.Records = append(fp.Records, &kgo.Record{Topic: inTopic, Partition: p, Offset: o, LeaderEpoch: 3})
		}
		return fp
	}
	fetch := func(ps ...kgo.FetchPartition) kgo.Fetches {
		return kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: inTopic, Partitions: ps}}}}
	}
	n := fetch(recs(0, 10, 11), recs(1, 20), recs(2))          // partition 2: nothing polled
	n1 := fetch(recs(0, 12, 13), recs(2, 30, 31), recs(1, 21)) // partition 2 first appears here
	got := firstOffsets(n, n1)[inTopic]
	want := map[int32]int64{0: 10, 1: 20, 2: 30}
	if len(got) != len(want) {
		t.Fatalf("rewind to %v, want offsets %v", got, want)
	}
	for p, o := range want {
		if got[p].Offset != o || got[p].Epoch != 3 {
			t.Errorf("partition %d rewinds to %+v, want offset %d epoch 3", p, got[p], o)
		}
	}
	// The commit merged from the same two batches goes past each
	// partition's last record, the later batch's where both have one.
	merged := map[string]map[int32]kgo.EpochOffset{}
	addOffsets(merged, n)
	addOffsets(merged, n1)
	for p, o := range map[int32]int64{0: 14, 1: 22, 2: 32} {
		if c := merged[inTopic][p]; c.Offset != o || c.Epoch != 3 {
			t.Errorf("partition %d commits %+v, want offset %d epoch 3", p, c, o)
		}
	}
}

// slowCommits makes the broker answer every OffsetCommit only after d, so
// a commit is still in flight when the worker stops or loses partitions.
func slowCommits(c *kfake.Cluster, d time.Duration) { slowRequests(c, kmsg.OffsetCommit, d) }

// slowRequests makes the broker answer every request of key d late. Its
// cluster must be a slowCluster: kfake's in-order sleep queue, the
// default, races with itself when one request on a connection is put to
// sleep just as the previous one is dequeued (the race detector caught
// it in TestWorkerRebalanceMidStream, whose produces sleep back to back).
func slowRequests(c *kfake.Cluster, key kmsg.Key, d time.Duration) {
	c.ControlKey(key.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { time.Sleep(d) })
		return nil, nil, false
	})
}

// committedAll fails the test unless the group has committed the end of
// every input partition.
func committedAll(t *testing.T, brokers []string, group string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(context.Background(), inTopic)
	if err != nil {
		t.Fatal(err)
	}
	got, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := got.Lookup(o.Topic, o.Partition)
		if !ok || c.At != o.Offset {
			t.Errorf("partition %d: committed %d, end %d", o.Partition, c.At, o.Offset)
		}
	})
}

// TestWorkerCommitInFlightAtShutdown (at-least-once): offsets are
// committed asynchronously; the commit of the last batch, still in flight
// when the worker is stopped, completes before Run returns.
func TestWorkerCommitInFlightAtShutdown(t *testing.T) {
	brokers, w, stop := slowCommitWorker(t, 1000)
	// The last batch is counted when its commit is issued: it is in flight
	// for another 300 ms.
	stop()
	committedAll(t, brokers, w.cfg.Group)
}

// TestWorkerCommitInFlightAtRevoke (at-least-once): a second worker joins
// while the first one's last commit is in flight. The partitions it
// takes over carry that commit: it labels nothing again.
func TestWorkerCommitInFlightAtRevoke(t *testing.T) {
	const n = 1000
	brokers, w1, stop1 := slowCommitWorker(t, n)
	defer stop1()
	revoked := testutil.ToFloat64(w1.metrics.Revoked)
	w2 := newWorker(t, brokers, AtLeastOnce, "")
	stop2 := runWorker(t, w2)
	defer stop2()
	deadline := time.Now().Add(20 * time.Second)
	for testutil.ToFloat64(w1.metrics.Revoked) == revoked || !w2.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the first worker never gave up partitions to the second")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // time to fetch, had anything been left uncommitted
	if c := w2.Stats().Consumed; c != 0 {
		t.Errorf("the second worker processed %d records again", c)
	}
	outs := collect(t, brokers, outTopic, n)
	if len(outs) != n {
		t.Errorf("%d labeled records for %d reviews", len(outs), n)
	}
}

// TestWorkerPipelinedProduceFails (at-least-once): the broker rejects
// some writes to the output topic while the worker has two batches in
// flight (small batches). Every batch from the failed one on is processed
// again; nothing is lost.
func TestWorkerPipelinedProduceFails(t *testing.T) {
	c := kafkatest.FakeCluster(t, streamTopics)
	// Every 10th write to the output, three times, the first while the
	// worker is well into the stream.
	var requests atomic.Int32
	rejected := rejectWrites(c, outTopic, 3, func() bool { return requests.Add(1)%10 == 5 })
	brokers := c.ListenAddrs()
	const n = 3000
	produceInput(t, brokers, n)
	w := newWorker(t, brokers, AtLeastOnce, "")
	w.cfg.MaxPollRecords = 50
	stop := runWorker(t, w)
	checkOutputs(t, brokers, n, false)
	stop()
	if rejected.Load() < 3 || w.Stats().Retried == 0 {
		t.Errorf("rejected %d output writes, retried %d batches; want 3 and > 0", rejected.Load(), w.Stats().Retried)
	}
	committedAll(t, brokers, w.cfg.Group)
}

// rejectWrites makes the broker fail, with a non-retriable error, up to
// times produce requests that write to topic and that pick (called once
// for each such request) chooses. It returns how many it failed.
func rejectWrites(c *kfake.Cluster, topic string, times int32, pick func() bool) *atomic.Int32 {
	id := c.TopicInfo(topic).TopicID
	var rejected atomic.Int32
	c.ControlKey(kmsg.Produce.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		if !kafkatest.WritesTo(pr, topic, id) || !pick() || rejected.Load() >= times {
			return nil, nil, false
		}
		rejected.Add(1)
		return rejectProduce(pr), nil, true
	})
	return &rejected
}

// rejectProduce answers a produce request by failing every record of it
// with a non-retriable error.
func rejectProduce(pr *kmsg.ProduceRequest) *kmsg.ProduceResponse {
	resp := pr.ResponseKind().(*kmsg.ProduceResponse)
	for _, tp := range pr.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
		for _, p := range tp.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = kerr.InvalidRecord.Code // not retriable: the record fails
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// slowCluster is the fake broker for slowRequests. With
// kfake.SleepOutOfOrder a sleeping request does not hold up the other
// requests of its connection inside the broker, which answers them still
// in order, and only sleeping requests enter kfake's sleep set, whose
// wake-ups go to one waiter each.
func slowCluster(t *testing.T) *kfake.Cluster {
	return kafkatest.FakeCluster(t, streamTopics, kfake.SleepOutOfOrder())
}

// slowCommitWorker runs an at-least-once worker over n reviews (and the
// poison pills) on a broker that answers offset commits 300 ms late, and
// returns once the worker has consumed them all: its last commit is then
// still in flight.
func slowCommitWorker(t *testing.T, n int) ([]string, *Worker, func()) {
	c := slowCluster(t)
	slowCommits(c, 300*time.Millisecond)
	brokers := c.ListenAddrs()
	produceInput(t, brokers, n)
	w := newWorker(t, brokers, AtLeastOnce, "")
	stop := runWorker(t, w)
	waitConsumed(t, w, int64(n+len(poison)))
	return brokers, w, stop
}

// waitConsumed waits until w has counted total records consumed.
func waitConsumed(t *testing.T, w *Worker, total int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for w.Stats().Consumed < total {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d of %d", w.Stats().Consumed, total)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestWorkerRebalanceMidStream (at-least-once): a second worker joins
// while the first works through a backlog in small batches on a broker
// that answers offset commits slowly. The first worker's revoke waits
// for its offset commits, so those must not pile up behind the slow
// broker (one in flight, the rest merged): the partitions move while the
// stream is still going, with their offsets committed, so no review is
// labeled twice and every one is labeled.
func TestWorkerRebalanceMidStream(t *testing.T) {
	c := slowCluster(t)
	const commitDelay, batch = 40 * time.Millisecond, 50
	slowCommits(c, commitDelay)
	brokers := c.ListenAddrs()
	const n = 20000
	produceInput(t, brokers, n)
	// Slow writes too, so that the stream outlasts the few seconds a
	// rebalance takes to be noticed (the heartbeat interval).
	slowRequests(c, kmsg.Produce, 10*time.Millisecond)
	w1 := newWorker(t, brokers, AtLeastOnce, "")
	w1.cfg.MaxPollRecords = batch
	stop1 := runWorker(t, w1)
	defer stop1()
	waitConsumed(t, w1, 2000)
	w2 := newWorker(t, brokers, AtLeastOnce, "")
	w2.cfg.MaxPollRecords = batch
	joined := time.Now()
	stop2 := runWorker(t, w2)
	defer stop2()
	var moved time.Duration
	total := int64(n + len(poison))
	deadline := time.Now().Add(60 * time.Second)
	for w1.Stats().Consumed+w2.Stats().Consumed < total {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d + %d of %d", w1.Stats().Consumed, w2.Stats().Consumed, total)
		}
		if moved == 0 && w2.Stats().Consumed > 0 {
			moved = time.Since(joined)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the second worker consumed %d of %d, its first records %s after it started", w2.Stats().Consumed, total, moved)
	if w2.Stats().Consumed == 0 {
		t.Fatalf("no partition moved while the stream went on: the first worker consumed all %d", w1.Stats().Consumed)
	}
	// Stopping waits for the last offset commit. Had commits queued one
	// per batch behind the slow broker, that would be seconds of backlog;
	// one in flight and one merged is two round trips.
	t0 := time.Now()
	stop1()
	stop2()
	d := time.Since(t0)
	t.Logf("stopped in %s", d)
	if d > 10*commitDelay {
		t.Errorf("stopping took %s after the stream was consumed: offset commits piled up (commits take %s)", d, commitDelay)
	}
	checkOutputs(t, brokers, n, true)
}

// TestWorkerClassifiesTitle: with ClassifyTitle on (the default) a review
// with a title is labeled with the probabilities of its titled text
// (classifier.Titled), which differ from those of the text alone; a blank
// or absent title, or ClassifyTitle off, gives the text's own.
func TestWorkerClassifiesTitle(t *testing.T) {
	if !DefaultConfig().ClassifyTitle {
		t.Fatal("ClassifyTitle must be on by default")
	}
	m, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	// A neutral text whose verdict is all in the title.
	const title, text = "Waste of money", "It arrived on Tuesday."
	plain, titled := m.Classify(text), m.Classify(classifier.Titled(title, text))
	if plain.Label == titled.Label || math.Abs(plain.Probs[0]-titled.Probs[0]) < 0.2 {
		t.Fatalf("the default model hardly minds the title (%s %v, titled %s %v): pick another example",
			plain.Label, plain.Probs, titled.Label, titled.Probs)
	}
	inputs := map[string]string{
		"r-titled":      `{"review_id":"r-titled","title":"` + title + `","text":"` + text + `"}`,
		"r-blank-title": `{"review_id":"r-blank-title","title":" \t","text":"` + text + `"}`,
		"r-no-title":    `{"review_id":"r-no-title","text":"` + text + `"}`,
	}
	tests := []struct {
		name          string
		classifyTitle bool
		want          map[string]classifier.Prediction
	}{
		{"on", true, map[string]classifier.Prediction{"r-titled": titled, "r-blank-title": plain, "r-no-title": plain}},
		{"off", false, map[string]classifier.Prediction{"r-titled": plain, "r-blank-title": plain, "r-no-title": plain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers := startCluster(t)
			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(inTopic))
			if err != nil {
				t.Fatal(err)
			}
			var recs []*kgo.Record
			for id, v := range inputs {
				recs = append(recs, &kgo.Record{Key: []byte(id), Value: []byte(v)})
			}
			err = cl.ProduceSync(context.Background(), recs...).FirstErr()
			cl.Close()
			if err != nil {
				t.Fatal(err)
			}
			w := newWorker(t, brokers, ExactlyOnce, "tx-title-"+tt.name)
			w.cfg.ClassifyTitle = tt.classifyTitle
			stop := runWorker(t, w)
			outs := collect(t, brokers, outTopic, len(inputs))
			stop()
			if len(outs) != len(inputs) {
				t.Fatalf("%d outputs, want %d", len(outs), len(inputs))
			}
			for _, r := range outs {
				l, err := schemas.DecodeLabeled(r.Value)
				if err != nil {
					t.Fatalf("output %q: %v", r.Value, err)
				}
				want, ok := tt.want[l.ReviewID]
				if !ok {
					t.Fatalf("unexpected output %s", r.Value)
				}
				if l.Label != want.Label || !slices.Equal(l.Classes, m.Classes()) || !slices.Equal(l.Probs, want.Probs) {
					t.Errorf("%s: %s %v, want %s %v", l.ReviewID, l.Label, l.Probs, want.Label, want.Probs)
				}
				// labeled.v1 has no title: it is input to the model only.
				if strings.Contains(string(r.Value), `"title"`) {
					t.Errorf("%s: the labeled record carries the title: %s", l.ReviewID, r.Value)
				}
			}
		})
	}
}
