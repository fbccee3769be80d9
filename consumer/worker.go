package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/schemas"
)

// Worker consumes, classifies and produces until its context ends.
type Worker struct {
	cfg         Config
	models      func() *classifier.Model
	current     atomic.Pointer[modelInUse]
	log         *slog.Logger
	metrics     *metrics.Stream
	predictions *metrics.Model
	owned       sync.Map // "topic\x00partition" of the partitions assigned, for the lag gauge

	procs sync.Pool
	ready atomic.Bool

	consumed, produced, deadLettered, retried, aborted, restarts atomic.Int64
	// fetched counts records polled (committed or not): the watchdog's
	// sign that the client still fetches.
	fetched atomic.Int64
}

// Stats counts what a worker has done.
type Stats struct {
	Consumed     int64 // input records in committed batches
	Produced     int64 // labeled records in committed batches
	DeadLettered int64 // dead-letter records in committed batches
	Retried      int64 // batches given up and processed again
	Aborted      int64 // transactions aborted (exactly-once)
	Restarts     int64 // Kafka clients (transactional sessions) replaced after a failure or a stall
}

// modelInUse is a model with what the output records say of it.
type modelInUse struct {
	model   *classifier.Model
	classes []string
	ref     schemas.ModelRef
}

// New validates cfg and prepares a worker for model.
func New(cfg Config, model *classifier.Model, log *slog.Logger, opts ...Option) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	if model == nil {
		return nil, errors.New("worker: no model")
	}
	if log == nil {
		log = slog.Default()
	}
	w := &Worker{cfg: cfg, models: func() *classifier.Model { return model }, log: log}
	for _, o := range opts {
		o(w)
	}
	if w.metrics == nil {
		set := metrics.New()
		w.metrics, w.predictions = set.Stream, set.Model
		set.Model.SetModel(model)
	}
	w.procs.New = func() any { return &processor{w: w} }
	return w, nil
}

// modelForBatch returns the model a new batch uses.
func (w *Worker) modelForBatch() *modelInUse {
	m := w.models()
	if cur := w.current.Load(); cur != nil && cur.model == m {
		return cur
	}
	meta := m.Metadata()
	mu := &modelInUse{model: m, classes: m.Classes(), ref: schemas.ModelRef{Name: meta.Name, Version: meta.Version, SHA256: m.SHA256()}}
	w.current.Store(mu)
	return mu
}

// Ready reports whether the worker has joined its group and is consuming.
func (w *Worker) Ready() bool { return w.ready.Load() }

// Stats returns the counts so far.
func (w *Worker) Stats() Stats {
	return Stats{Consumed: w.consumed.Load(), Produced: w.produced.Load(), DeadLettered: w.deadLettered.Load(),
		Retried: w.retried.Load(), Aborted: w.aborted.Load(), Restarts: w.restarts.Load()}
}

func (w *Worker) clientOpts() ([]kgo.Opt, error) {
	opts, err := w.cfg.Conn.FranzOpts()
	if err != nil {
		return nil, err
	}
	if w.cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(w.cfg.InstanceID))
	}
	return append(opts,
		// Ready once the group has given this worker its share (which may
		// be nothing, with more workers than partitions).
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			w.ready.Store(true)
			w.metrics.Assigned.Inc()
			w.own(ps, true)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			w.metrics.Revoked.Inc()
			w.own(ps, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			w.metrics.Lost.Inc()
			w.own(ps, false)
		}),
		kgo.ClientID("capastan-worker"),
		kgo.WithLogger(kgoLogger{w.log}),
		kgo.SessionTimeout(w.cfg.SessionTimeout),
		kgo.ConsumerGroup(w.cfg.Group),
		kgo.ConsumeTopics(w.cfg.InputTopic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.RecordDeliveryTimeout(w.cfg.DeliveryTimeout),
		kgo.ProducerLinger(2*time.Millisecond),
	), nil
}

// Run consumes until ctx ends, then finishes the batch in hand, commits it
// and leaves the group. It returns nil after a clean shutdown and an error
// only when the worker cannot go on (a fenced or failed transactional
// producer, a client that cannot be built).
func (w *Worker) Run(ctx context.Context) error {
	defer w.ready.Store(false)
	opts, err := w.clientOpts()
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if w.cfg.CreateTopics {
		if err := w.createTopics(ctx); err != nil {
			return err
		}
	}
	if w.cfg.Delivery == ExactlyOnce {
		return w.runExactlyOnce(ctx, opts)
	}
	return w.runAtLeastOnce(ctx, opts)
}

// finishCtx is the context for finishing a batch: not ctx, which may be
// cancelled by a shutdown that must still commit (or abort) cleanly.
func finishCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

func (w *Worker) runExactlyOnce(ctx context.Context, opts []kgo.Opt) error {
	// franz-go always requires stable offsets for groups, as EOS needs.
	opts = append(opts, kgo.TransactionalID(w.cfg.TransactionalID), kgo.TransactionTimeout(w.cfg.TransactionTimeout))
	// The transactional client gave up (a broker away longer than its
	// retries, a fenced epoch, a stall): a new session rejoins the group
	// and resumes from the committed offsets. Nothing past them was
	// committed, so nothing is lost or doubled.
	return w.restarting(ctx, "transactional session failed; starting a new one", 5*w.cfg.RetryBackoff,
		func() error { return w.transactLoop(ctx, opts) })
}

// restarting runs loop until ctx ends or it fails fatally, starting it
// again after pause whenever it fails otherwise.
func (w *Worker) restarting(ctx context.Context, msg string, pause time.Duration, loop func() error) error {
	for {
		err := loop()
		if err == nil || ctx.Err() != nil {
			return nil
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return err
		}
		w.ready.Store(false)
		w.restarts.Add(1)
		if errors.Is(err, errStalled) {
			w.metrics.Stalls.Inc()
		} else {
			w.metrics.Failures.Inc()
		}
		w.log.Error(msg, "err", err)
		sleep(ctx, pause)
	}
}

// errClientClosed is a Kafka client that closed while the worker was not
// shutting down; errStalled, one the stall watchdog gave up on.
var (
	errClientClosed = errors.New("the Kafka client closed unexpectedly")
	errStalled      = errors.New("the Kafka client stopped fetching while the partitions have lag")
)

// fatalError is an error a new session cannot cure.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// transactLoop runs one transactional session until ctx ends (nil) or the
// session fails (its error).
func (w *Worker) transactLoop(ctx context.Context, opts []kgo.Opt) error {
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return &fatalError{fmt.Errorf("worker: kafka client: %w", err)}
	}
	defer sess.Close()
	// pctx ends the poll, and the lag reporter with it, at shutdown, when
	// this session returns, or when the stall watchdog gives up on it.
	pctx, stall := context.WithCancel(ctx)
	defer stall()
	go w.reportLag(pctx, sess.Client(), stall)
	for {
		fetches := sess.PollRecords(pctx, w.cfg.MaxPollRecords)
		if stop, err := w.afterPoll(ctx, pctx, sess.Client(), fetches); stop {
			return err
		}
		if fetches.NumRecords() == 0 {
			continue
		}
		outs, n := w.processAll(fetches)
		fctx, cancel := finishCtx()
		if err := sess.Begin(); err != nil {
			cancel()
			return fmt.Errorf("begin transaction: %w", err)
		}
		var produceErr atomic.Value
		for _, rec := range outs {
			sess.Produce(fctx, rec, func(_ *kgo.Record, err error) {
				if err != nil {
					produceErr.CompareAndSwap(nil, err)
				}
			})
		}
		try := kgo.TryCommit
		t0 := time.Now()
		if e := sess.Client().Flush(fctx); e != nil || produceErr.Load() != nil {
			try = kgo.TryAbort
		}
		t1 := time.Now()
		w.metrics.Produce.Observe(t1.Sub(t0).Seconds())
		committed, err := sess.End(fctx, try)
		w.metrics.Commit.Observe(time.Since(t1).Seconds())
		cancel()
		if err != nil {
			return fmt.Errorf("end transaction: %w", err)
		}
		if !committed {
			// The session rewinds to the last committed offsets: the batch
			// is processed again, by this worker or the partition's new owner.
			w.aborted.Add(1)
			w.retried.Add(1)
			w.metrics.Aborted.Inc()
			w.metrics.BatchesRetried.Inc()
			w.log.Warn("batch aborted; it will be processed again", "records", n, "produce_error", produceErr.Load())
			sleep(ctx, w.cfg.RetryBackoff)
			continue
		}
		w.metrics.Committed.Inc()
		w.count(fetches, outs, n)
	}
}

func (w *Worker) runAtLeastOnce(ctx context.Context, opts []kgo.Opt) error {
	// A new client rejoins the group and resumes from the committed
	// offsets; what was produced and not committed is produced again
	// (at-least-once).
	return w.restarting(ctx, "Kafka client failed; starting a new one", w.cfg.RetryBackoff,
		func() error { return w.atLeastOnceLoop(ctx, opts) })
}

// atLeastOnceLoop runs one client until ctx ends (nil) or the client must
// be replaced (its error).
func (w *Worker) atLeastOnceLoop(ctx context.Context, opts []kgo.Opt) error {
	// With BlockRebalanceOnPoll a rebalance waits until the batch in hand
	// is produced and committed (AllowRebalance), so a revoked partition
	// never has uncommitted work.
	cl, err := kgo.NewClient(append(opts, kgo.BlockRebalanceOnPoll())...)
	if err != nil {
		return &fatalError{fmt.Errorf("worker: kafka client: %w", err)}
	}
	defer cl.Close()
	pctx, stall := context.WithCancel(ctx)
	defer stall()
	go w.reportLag(pctx, cl, stall)
	for {
		fetches := cl.PollRecords(pctx, w.cfg.MaxPollRecords)
		if stop, err := w.afterPoll(ctx, pctx, cl, fetches); stop {
			cl.AllowRebalance()
			return err
		}
		if fetches.NumRecords() == 0 {
			cl.AllowRebalance()
			continue
		}
		outs, n := w.processAll(fetches)
		fctx, cancel := finishCtx()
		var produceErr atomic.Value
		t0 := time.Now()
		for _, rec := range outs {
			cl.Produce(fctx, rec, func(_ *kgo.Record, err error) {
				if err != nil {
					produceErr.CompareAndSwap(nil, err)
				}
			})
		}
		ferr := cl.Flush(fctx)
		t1 := time.Now()
		w.metrics.Produce.Observe(t1.Sub(t0).Seconds())
		if perr := produceErr.Load(); perr != nil || ferr != nil {
			// Not every output is acknowledged: commit nothing and rewind
			// to the batch's first offsets, so it is processed again.
			cl.SetOffsets(firstOffsets(fetches))
			w.retried.Add(1)
			w.metrics.BatchesRetried.Inc()
			w.log.Warn("batch not fully acknowledged; it will be processed again", "records", n, "produce_error", perr, "flush_error", ferr)
			cancel()
			cl.AllowRebalance()
			sleep(ctx, w.cfg.RetryBackoff)
			continue
		}
		if err := cl.CommitRecords(fctx, fetchedRecords(fetches)...); err != nil {
			// The outputs are out; the offsets are not: the batch may be
			// produced again after a restart (at-least-once).
			w.log.Warn("offset commit failed; the batch may be delivered again", "err", err)
		}
		w.metrics.Commit.Observe(time.Since(t1).Seconds())
		cancel()
		w.count(fetches, outs, n)
		cl.AllowRebalance()
	}
}

// processAll processes each partition of fetches on its own goroutine (at
// most GOMAXPROCS at once), keeping each partition's order, and returns the
// output records partition by partition, with the input record count.
func (w *Worker) processAll(fetches kgo.Fetches) ([]*kgo.Record, int) {
	type part struct {
		in  []*kgo.Record
		out []*kgo.Record
	}
	var parts []*part
	n := 0
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 {
			parts = append(parts, &part{in: p.Records})
			n += len(p.Records)
		}
	})
	now := time.Now()
	defer func() { w.metrics.Process.Observe(time.Since(now).Seconds()) }()
	mu := w.modelForBatch()
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, p := range parts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			pr := w.procs.Get().(*processor)
			p.out = make([]*kgo.Record, len(p.in))
			for i, r := range p.in {
				p.out[i] = pr.process(mu, r, now)
			}
			w.procs.Put(pr)
		}()
	}
	wg.Wait()
	outs := make([]*kgo.Record, 0, n)
	for _, p := range parts {
		outs = append(outs, p.out...)
	}
	return outs, n
}

// count records a committed batch in the stats and metrics.
func (w *Worker) count(fetches kgo.Fetches, outs []*kgo.Record, n int) {
	m := w.metrics
	w.consumed.Add(int64(n))
	m.Consumed.Add(float64(n))
	m.BatchRecords.Observe(float64(n))
	m.Buffered.Set(0)
	produced := 0
	for _, r := range outs {
		if r.Topic == w.cfg.DeadLetterTopic {
			w.deadLettered.Add(1)
			m.DeadLettered(headerValue(r, schemas.HeaderErrorCode))
		} else {
			produced++
		}
	}
	w.produced.Add(int64(produced))
	m.Produced.Add(float64(produced))
	if !w.cfg.Passthrough {
		m.Classified.Add(float64(produced))
	}
	// End-to-end latency runs from each input's timestamp (its producer's
	// clock, or the broker's with LogAppendTime) to this commit.
	now := time.Now()
	fetches.EachRecord(func(r *kgo.Record) {
		if !r.Timestamp.IsZero() {
			m.EndToEnd.Observe(max(now.Sub(r.Timestamp).Seconds(), 0))
		}
	})
}

func headerValue(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return "unknown"
}

// afterPoll handles what every poll needs, in both delivery modes. It
// says stop when the loop must return: nil at shutdown (ctx ended), or the
// reason the client must be replaced (the stall watchdog ended pctx, or
// the client closed on its own). Otherwise it logs fetch errors, marks the
// worker ready, and counts the records fetched (for the watchdog) and
// buffered.
func (w *Worker) afterPoll(ctx, pctx context.Context, cl *kgo.Client, f kgo.Fetches) (stop bool, err error) {
	switch {
	case ctx.Err() != nil:
		return true, nil
	case pctx.Err() != nil:
		return true, errStalled
	case f.IsClientClosed():
		return true, errClientClosed
	}
	w.logFetchErrors(f)
	w.ready.Store(true)
	if n := int64(f.NumRecords()); n > 0 {
		w.fetched.Add(n)
		w.metrics.Buffered.Set(float64(n + cl.BufferedFetchRecords()))
	}
	return false, nil
}

func (w *Worker) logFetchErrors(f kgo.Fetches) {
	f.EachError(func(topic string, partition int32, err error) {
		w.log.Warn("fetch error", "topic", topic, "partition", partition, "err", err)
	})
}

func fetchedRecords(f kgo.Fetches) []*kgo.Record {
	out := make([]*kgo.Record, 0, f.NumRecords())
	f.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	return out
}

// firstOffsets maps each fetched partition to its first record's offset.
func firstOffsets(f kgo.Fetches) map[string]map[int32]kgo.EpochOffset {
	out := map[string]map[int32]kgo.EpochOffset{}
	f.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		if out[p.Topic] == nil {
			out[p.Topic] = map[int32]kgo.EpochOffset{}
		}
		r := p.Records[0]
		out[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
	})
	return out
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// createTopics creates whichever of the worker's topics are missing,
// retrying while the cluster is not reachable yet.
func (w *Worker) createTopics(ctx context.Context) error {
	opts, err := w.cfg.Conn.FranzOpts()
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("worker: admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	want := []struct {
		topic      string
		partitions int32
	}{{w.cfg.InputTopic, w.cfg.TopicPartitions}, {w.cfg.OutputTopic, w.cfg.TopicPartitions}, {w.cfg.DeadLetterTopic, 1}}
	for _, t := range want {
		for {
			resp, err := adm.CreateTopic(ctx, t.partitions, w.cfg.TopicReplication, nil, t.topic)
			if err == nil {
				err = resp.Err
			}
			if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
				if err == nil {
					w.log.Info("created topic", "topic", t.topic, "partitions", t.partitions, "replication", w.cfg.TopicReplication)
				}
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			w.log.Warn("cannot create topic yet; retrying", "topic", t.topic, "err", err)
			sleep(ctx, w.cfg.RetryBackoff)
		}
	}
	return nil
}
