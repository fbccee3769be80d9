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
	"github.com/twmb/franz-go/pkg/kmsg"

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

	// At-least-once offset commits (commitAsync): at most one is in
	// flight; offsets of batches settled meanwhile wait in commitNext,
	// merged, and go out as one commit when it returns. commitIdle is
	// closed whenever nothing is in flight or waiting.
	commitMu   sync.Mutex
	commitBusy bool
	commitNext map[string]map[int32]kgo.EpochOffset
	commitIdle chan struct{}
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
		// An offset commit still in flight completes before partitions
		// leave, so their new owner starts past what this worker produced.
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			w.awaitCommit()
			w.metrics.Revoked.Inc()
			w.own(ps, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			w.awaitCommit()
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
		func() error {
			if err := w.endLeftoverTransaction(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("could not end this transactional id's leftover transaction; starting the session anyway", "err", err)
			}
			return w.transactLoop(ctx, opts)
		})
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
			w.leaveStatic(ctx)
		} else {
			w.metrics.Failures.Inc()
		}
		w.log.Error(msg, "err", err)
		sleep(ctx, pause)
	}
}

// admin returns an admin client on the worker's connection settings, to
// be closed by the caller.
func (w *Worker) admin() (*kadm.Client, error) {
	cl, err := w.plainClient()
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// plainClient returns a client on the worker's connection settings with
// no group and no transactional id, for one-off requests; the caller
// closes it.
func (w *Worker) plainClient() (*kgo.Client, error) {
	opts, err := w.cfg.Conn.FranzOpts()
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("worker: kafka client: %w", err)
	}
	return cl, nil
}

// leaveStatic removes this worker's static group membership (InstanceID)
// after its client stalled. A static member that rejoins takes its old
// place without a rebalance and gets the group's current assignment back,
// so a replacement client would inherit whatever left the stalled one
// with nothing to fetch (seen after a broker restart, when the assignment
// was made while the broker was still loading its topics). Removed, the
// replacement's join is a new member's, and the group rebalances.
func (w *Worker) leaveStatic(ctx context.Context) {
	if w.cfg.InstanceID == "" {
		return
	}
	adm, err := w.admin()
	if err != nil {
		w.log.Warn("cannot leave the group before replacing the client", "err", err)
		return
	}
	defer adm.Close()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := adm.LeaveGroup(lctx, kadm.LeaveGroup(w.cfg.Group).InstanceIDs(w.cfg.InstanceID).Reason("capastan: replacing a stalled client"))
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		w.log.Warn("cannot leave the group before replacing the client; the new one rejoins as the same static member", "instance_id", w.cfg.InstanceID, "err", err)
		return
	}
	w.log.Info("left the group as a static member before replacing the stalled client", "instance_id", w.cfg.InstanceID)
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
		outs, n := w.processAll(fetches, nil)
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
//
// The loop is a pipeline two batches deep, because the worker is bound by
// CPU (classification) and the broker's round trips would otherwise leave
// it idle: while batch N's outputs are on their way to the broker, batch
// N+1 is polled and processed, each of its partitions produced as soon as
// it is done. N is committed (asynchronously) once every output of N is
// acknowledged, and only then. When an output of N fails, neither N nor
// N+1 is committed and the client rewinds to their first offsets, so both
// are processed again (at-least-once: duplicates, never a loss).
func (w *Worker) atLeastOnceLoop(ctx context.Context, opts []kgo.Opt) error {
	// With BlockRebalanceOnPoll a rebalance waits until AllowRebalance,
	// which the loop calls only with no batch in flight, so a revoked
	// partition never has uncommitted work. franz-go signals a blocked
	// rebalance through OnPartitionsCallbackBlocked; the loop then
	// finishes what it has in hand instead of polling on.
	//
	// No linger: nothing flushes the outputs (the loop waits for their
	// acknowledgements instead), so a linger would hold every batch back by
	// its length. Records produced while a request is in flight are
	// batched anyway.
	var rebalance atomic.Bool
	cl, err := kgo.NewClient(append(opts, kgo.BlockRebalanceOnPoll(), kgo.ProducerLinger(0),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { rebalance.Store(true) }))...)
	if err != nil {
		return &fatalError{fmt.Errorf("worker: kafka client: %w", err)}
	}
	defer cl.Close()
	pctx, stall := context.WithCancel(ctx)
	defer stall()
	go w.reportLag(pctx, cl, stall)
	var inflight *aloBatch // produced, not yet settled
	for {
		fetches := w.pollAlongside(pctx, cl, inflight)
		if stop, err := w.afterPoll(ctx, pctx, cl, fetches); stop {
			if err == nil {
				// Shutdown: finish the batch in hand and commit it. A
				// client being replaced commits nothing more: its
				// uncommitted batch is processed again by the next one.
				w.settle(cl, inflight)
			} else if inflight != nil {
				inflight.cancel()
			}
			// The last commit completes before Close leaves the group.
			w.awaitCommit()
			cl.AllowRebalance()
			return err
		}
		if fetches.NumRecords() == 0 {
			// Nothing new: the batch in hand is acknowledged (or there is
			// none). Commit it and let a waiting rebalance through.
			ok := w.settle(cl, inflight)
			inflight = nil
			cl.AllowRebalance()
			if !ok {
				sleep(ctx, w.cfg.RetryBackoff)
			}
			continue
		}
		b := w.produceAll(cl, fetches)
		if inflight != nil {
			if !w.settle(cl, inflight, b) {
				// inflight failed and b was rewound with it: wait for b's
				// outputs too, so nothing is in flight when a rebalance
				// comes through.
				<-b.acked
				b.cancel()
				inflight = nil
				cl.AllowRebalance()
				sleep(ctx, w.cfg.RetryBackoff)
				continue
			}
		}
		inflight = b
		if rebalance.Swap(false) {
			ok := w.settle(cl, inflight)
			inflight = nil
			cl.AllowRebalance()
			if !ok {
				sleep(ctx, w.cfg.RetryBackoff)
			}
		}
	}
}

// aloBatch is one poll's records on their way out (at-least-once): their
// outputs are produced as each partition is processed, and the batch may
// be committed only once every one of them is acknowledged.
type aloBatch struct {
	fetches kgo.Fetches
	outs    []*kgo.Record
	n       int
	ctx     context.Context // the outputs' produce context
	cancel  context.CancelFunc
	start   time.Time
	pending atomic.Int64  // outputs unacknowledged, plus one until all are produced
	err     atomic.Value  // the first produce error
	acked   chan struct{} // closed once every output is acknowledged or failed
}

// release counts one output acknowledged (or the producing done).
func (b *aloBatch) release(w *Worker) {
	if b.pending.Add(-1) == 0 {
		w.metrics.Produce.Observe(time.Since(b.start).Seconds())
		close(b.acked)
	}
}

// produceAll processes fetches and produces their outputs, each partition's
// as soon as it is processed, and returns the batch without waiting for
// the broker's acknowledgements.
func (w *Worker) produceAll(cl *kgo.Client, fetches kgo.Fetches) *aloBatch {
	b := &aloBatch{fetches: fetches, start: time.Now(), acked: make(chan struct{})}
	b.ctx, b.cancel = finishCtx()
	b.pending.Store(1)
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			b.err.CompareAndSwap(nil, err)
		}
		b.release(w)
	}
	b.outs, b.n = w.processAll(fetches, func(outs []*kgo.Record) {
		b.pending.Add(int64(len(outs)))
		for _, rec := range outs {
			cl.Produce(b.ctx, rec, done)
		}
	})
	b.release(w)
	return b
}

// pollAlongside polls while inflight's outputs are on their way: the poll
// returns when records arrive, or with nothing once inflight is fully
// acknowledged, so an idle input does not hold back its commit.
func (w *Worker) pollAlongside(pctx context.Context, cl *kgo.Client, inflight *aloBatch) kgo.Fetches {
	if inflight == nil {
		return cl.PollRecords(pctx, w.cfg.MaxPollRecords)
	}
	qctx, cancel := context.WithCancel(pctx)
	defer cancel()
	go func() {
		select {
		case <-inflight.acked:
			cancel()
		case <-qctx.Done():
		}
	}()
	f := cl.PollRecords(qctx, w.cfg.MaxPollRecords)
	if f.NumRecords() == 0 && qctx.Err() != nil && pctx.Err() == nil {
		// Cut short by the acknowledgements, not an error to log.
		return nil
	}
	return f
}

// settle waits until every output of b is acknowledged, then commits b's
// offsets asynchronously and counts it. When an output failed it commits
// nothing and rewinds to the first offsets of b and of later (the batches
// polled after b, not committed either), so they are processed again; it
// then returns false. A nil b is settled at once.
func (w *Worker) settle(cl *kgo.Client, b *aloBatch, later ...*aloBatch) bool {
	if b == nil {
		return true
	}
	<-b.acked
	b.cancel()
	if perr := b.err.Load(); perr != nil {
		// Not every output is acknowledged: commit nothing and rewind.
		batches := []kgo.Fetches{b.fetches}
		n := b.n
		for _, l := range later {
			batches = append(batches, l.fetches)
			n += l.n
		}
		cl.SetOffsets(firstOffsets(batches...))
		w.retried.Add(int64(1 + len(later)))
		w.metrics.BatchesRetried.Add(float64(1 + len(later)))
		w.log.Warn("batch not fully acknowledged; it will be processed again", "records", n, "produce_error", perr)
		return false
	}
	w.commitAsync(cl, b.fetches)
	w.count(b.fetches, b.outs, b.n)
	return true
}

// commitAsync commits the offsets past fetches without waiting for the
// broker. One commit is in flight at a time: the offsets of batches
// settled while it is out are merged (a later batch's offset for a
// partition replaces an earlier one's) and committed together when it
// returns. So commits never pile up behind a slow broker, a later batch's
// offsets never land before an earlier one's, and waiting for the last
// commit (awaitCommit: at shutdown, and in the revoke and lost callbacks,
// so a partition leaves with its offsets committed) is waiting for at
// most two round trips.
func (w *Worker) commitAsync(cl *kgo.Client, fetches kgo.Fetches) {
	w.commitMu.Lock()
	if w.commitBusy {
		if w.commitNext == nil {
			w.commitNext = map[string]map[int32]kgo.EpochOffset{}
		}
		addOffsets(w.commitNext, fetches)
		w.commitMu.Unlock()
		return
	}
	w.commitBusy = true
	w.commitIdle = make(chan struct{})
	w.commitMu.Unlock()
	// Issued without the lock: CommitOffsets waits while the group joins,
	// and a revoke callback waiting in awaitCommit must not wait on us.
	offsets := map[string]map[int32]kgo.EpochOffset{}
	addOffsets(offsets, fetches)
	w.commitOffsets(cl, offsets)
}

// addOffsets sets, for each partition of fetches, the offset past its last
// record (a later batch's replacing an earlier one's).
func addOffsets(offsets map[string]map[int32]kgo.EpochOffset, fetches kgo.Fetches) {
	putOffsets(offsets, fetches, false)
}

// putOffsets stores in offsets, for each partition of fetches with
// records, where its records start (first) or the offset past them
// (!first). A first offset already there is kept: it is an earlier
// batch's.
func putOffsets(offsets map[string]map[int32]kgo.EpochOffset, fetches kgo.Fetches, first bool) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		if offsets[p.Topic] == nil {
			offsets[p.Topic] = map[int32]kgo.EpochOffset{}
		}
		if first {
			if _, ok := offsets[p.Topic][p.Partition]; !ok {
				r := p.Records[0]
				offsets[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
			}
			return
		}
		r := p.Records[len(p.Records)-1]
		offsets[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
	})
}

// commitOffsets issues one commit; when it returns, the merged offsets
// waiting for it, if any, go out next.
func (w *Worker) commitOffsets(cl *kgo.Client, offsets map[string]map[int32]kgo.EpochOffset) {
	cctx, cancel := finishCtx()
	t0 := time.Now()
	cl.CommitOffsets(cctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		cancel()
		w.metrics.Commit.Observe(time.Since(t0).Seconds())
		if err == nil {
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && err == nil {
						err = fmt.Errorf("partition %s/%d: %w", t.Topic, p.Partition, perr)
					}
				}
			}
		}
		if err != nil {
			// The outputs are out; the offsets are not: the batch may be
			// produced again after a restart (at-least-once).
			w.log.Warn("offset commit failed; the batch may be delivered again", "err", err)
		}
		// Not from inside this callback: franz-go runs it while the
		// commit still counts as in flight.
		go w.commitNextOrIdle(cl)
	})
}

// commitNextOrIdle sends the offsets that waited for the commit that just
// returned, or marks the committer idle.
func (w *Worker) commitNextOrIdle(cl *kgo.Client) {
	w.commitMu.Lock()
	next := w.commitNext
	w.commitNext = nil
	if next == nil {
		w.commitBusy = false
		close(w.commitIdle)
	}
	w.commitMu.Unlock()
	if next != nil {
		w.commitOffsets(cl, next)
	}
}

// awaitCommit waits until no offset commit is in flight or waiting.
func (w *Worker) awaitCommit() {
	w.commitMu.Lock()
	idle := w.commitIdle
	w.commitMu.Unlock()
	if idle != nil {
		<-idle
	}
}

// processAll processes fetches on up to GOMAXPROCS goroutines and returns
// the output records partition by partition, each partition's in its
// input order, with the input record count. When emit is not nil it is
// given each partition's outputs, in order, as soon as the whole
// partition is processed.
//
// Partitions are cut into chunks rather than processed one per goroutine:
// a fetch brings up to a MiB of each partition, so a batch of a backlog
// often holds one partition alone, which would leave all but one core
// idle.
func (w *Worker) processAll(fetches kgo.Fetches, emit func([]*kgo.Record)) ([]*kgo.Record, int) {
	type part struct {
		in, out []*kgo.Record
		left    atomic.Int32 // chunks not yet processed
	}
	type chunk struct {
		p      *part
		lo, hi int
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
	procs := runtime.GOMAXPROCS(0)
	// About four chunks per core, for balance, but not so small that a
	// goroutine costs more than its records.
	size := max(64, (n+4*procs-1)/(4*procs))
	var chunks []chunk
	for _, p := range parts {
		p.out = make([]*kgo.Record, len(p.in))
		for lo := 0; lo < len(p.in); lo += size {
			chunks = append(chunks, chunk{p, lo, min(lo+size, len(p.in))})
			p.left.Add(1)
		}
	}
	sem := make(chan struct{}, procs)
	var wg sync.WaitGroup
	for _, c := range chunks {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			pr := w.procs.Get().(*processor)
			for i := c.lo; i < c.hi; i++ {
				c.p.out[i] = pr.process(mu, c.p.in[i], now)
			}
			w.procs.Put(pr)
			// The last chunk of a partition done hands the partition on;
			// the atomic makes the other chunks' outputs visible to it.
			if c.p.left.Add(-1) == 0 && emit != nil {
				emit(c.p.out)
			}
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

// firstOffsets maps each partition of batches to its first record's
// offset in the earliest batch that holds it: where to rewind to so that
// every record of batches (polled in this order) is processed again.
func firstOffsets(batches ...kgo.Fetches) map[string]map[int32]kgo.EpochOffset {
	out := map[string]map[int32]kgo.EpochOffset{}
	for _, f := range batches {
		putOffsets(out, f, true)
	}
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
	adm, err := w.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
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
