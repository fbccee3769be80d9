package consumer

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capastan/capastan/internal/kafkatest"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaveTransaction plays a worker that died inside a transaction: with
// transactional id txid it opens a transaction, adds offsets for group
// to it and disappears without ending it. inID is the input topic's id
// (TxnOffsetCommit v6 names topics by id).
func leaveTransaction(t *testing.T, brokers []string, inID [16]byte, txid, group string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	// The group exists, as a previous worker's would: a member joins it
	// and leaves.
	member, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(inTopic))
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if fs := member.PollFetches(pctx); fs.NumRecords() == 0 {
		t.Fatalf("the group member read nothing: %v", fs.Errors())
	}
	cancel()
	member.Close()
	check := func(what string, code int16) {
		t.Helper()
		if err := kerr.ErrorForCode(code); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID = &txid
	init.TransactionTimeoutMillis = int32(time.Minute.Milliseconds())
	init.ProducerID, init.ProducerEpoch = -1, -1
	ir, err := init.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("init producer id: %v", err)
	}
	check("init producer id", ir.ErrorCode)
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = txid, ir.ProducerID, ir.ProducerEpoch, group
	ar, err := add.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("add offsets to txn: %v", err)
	}
	check("add offsets to txn", ar.ErrorCode)
	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.TransactionalID, commit.Group = txid, group
	commit.ProducerID, commit.ProducerEpoch, commit.Generation = ir.ProducerID, ir.ProducerEpoch, -1
	tt := kmsg.NewTxnOffsetCommitRequestTopic()
	tt.Topic, tt.TopicID = inTopic, inID
	for p := range streamTopics[inTopic] {
		tp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		tp.Partition, tp.Offset, tp.LeaderEpoch = p, 0, -1
		tt.Partitions = append(tt.Partitions, tp)
	}
	commit.Topics = append(commit.Topics, tt)
	cr, err := commit.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("txn offset commit: %v", err)
	}
	for _, rt := range cr.Topics {
		for _, rp := range rt.Partitions {
			check("txn offset commit", rp.ErrorCode)
		}
	}
	// The group's offsets are now unstable: what a new session reads
	// them with (require_stable) is refused.
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.RequireStable = true
	fg := kmsg.NewOffsetFetchRequestGroup()
	fg.Group = group
	ft := kmsg.NewOffsetFetchRequestGroupTopic()
	ft.Topic, ft.TopicID = inTopic, inID
	for p := range streamTopics[inTopic] {
		ft.Partitions = append(ft.Partitions, p)
	}
	fg.Topics = append(fg.Topics, ft)
	fetch.Groups = append(fetch.Groups, fg)
	fr, err := fetch.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	unstable := false
	for _, g := range fr.Groups {
		for _, rt := range g.Topics {
			for _, rp := range rt.Partitions {
				unstable = unstable || rp.ErrorCode == kerr.UnstableOffsetCommit.Code
			}
		}
	}
	if !unstable {
		t.Fatalf("the left transaction did not make group %q's offsets unstable: %+v", group, fr)
	}
}

// TestWorkerLeftoverTransaction (exactly-once): the worker's previous
// incarnation died inside a transaction that already held offsets for
// the group, so the group's offsets read as unstable. Its successor,
// with the same transactional id, ends that transaction itself and gets
// to work at once, well inside the transaction timeout (a minute here)
// the broker would otherwise wait out, and labels every review once.
func TestWorkerLeftoverTransaction(t *testing.T) {
	c := kafkatest.FakeCluster(t, streamTopics)
	brokers := c.ListenAddrs()
	const n = 300
	produceInput(t, brokers, n)
	w := newWorker(t, brokers, ExactlyOnce, "tx-leftover")
	w.cfg.TransactionTimeout = time.Minute
	leaveTransaction(t, brokers, c.TopicInfo(inTopic).TopicID, w.cfg.TransactionalID, w.cfg.Group)
	start := time.Now()
	stop := runWorker(t, w)
	defer stop()
	waitConsumed(t, w, int64(n+len(poison))) // fails after 20 s
	t.Logf("every review consumed %s after the start", time.Since(start).Round(time.Millisecond))
	checkOutputs(t, brokers, n, true)
}

// TestWorkerLeftoverTransactionRefused (exactly-once): when the broker
// refuses the clean-up of the leftover transaction (here the first
// InitProducerID of the worker's transactional id, with an error that is
// not retried), the worker says so and starts its session anyway: every
// review is labeled once.
func TestWorkerLeftoverTransactionRefused(t *testing.T) {
	c := kafkatest.FakeCluster(t, streamTopics)
	var refused atomic.Int32
	c.ControlKey(kmsg.InitProducerID.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		ir := req.(*kmsg.InitProducerIDRequest)
		if ir.TransactionalID == nil || *ir.TransactionalID != "tx-refused" || refused.Add(1) > 1 {
			return nil, nil, false
		}
		resp := ir.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil, true
	})
	brokers := c.ListenAddrs()
	const n = 300
	produceInput(t, brokers, n)
	w := newWorker(t, brokers, ExactlyOnce, "tx-refused")
	var logs kafkatest.SyncBuffer
	w.log = slog.New(slog.NewTextHandler(&logs, nil))
	stop := runWorker(t, w)
	defer stop()
	waitConsumed(t, w, int64(n+len(poison)))
	checkOutputs(t, brokers, n, true)
	if refused.Load() < 2 {
		t.Errorf("%d InitProducerID requests for the worker's id: the session never initialised its own producer", refused.Load())
	}
	if !strings.Contains(logs.String(), "could not end this transactional id's leftover transaction") ||
		!strings.Contains(logs.String(), "TRANSACTIONAL_ID_AUTHORIZATION_FAILED") {
		t.Errorf("the refused clean-up was not logged:\n%s", logs.String())
	}
}
