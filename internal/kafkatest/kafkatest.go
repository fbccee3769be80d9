// Package kafkatest holds the Kafka helpers the tests share: an in-process
// cluster, a read_committed reader that waits for records, what tests
// that control the cluster's answers need to recognise a request, and a
// buffer for the logs of a running worker or command.
package kafkatest

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Cluster starts an in-process broker (kfake) with the given topics and
// partition counts, closed when the test ends, and returns its address.
func Cluster(t testing.TB, topics map[string]int32) []string {
	return FakeCluster(t, topics).ListenAddrs()
}

// FakeCluster is Cluster returning the broker itself, for tests that
// control its answers (ControlKey); extra options follow the defaults.
func FakeCluster(t testing.TB, topics map[string]int32, extra ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	for name, partitions := range topics {
		opts = append(opts, kfake.SeedTopics(partitions, name))
	}
	c, err := kfake.NewCluster(append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// WritesTo reports whether a produce request writes to topic, named or,
// from Produce v13 on, given only by its id (kfake.Cluster.TopicInfo).
func WritesTo(req *kmsg.ProduceRequest, topic string, id [16]byte) bool {
	for _, tp := range req.Topics {
		if tp.Topic == topic || tp.TopicID == id {
			return true
		}
	}
	return false
}

// Consume reads topic from the start, read_committed, until at least n
// records arrived and then none for quiet (0 returns at once: set it to
// catch duplicates), failing the test if n are not there by timeout.
func Consume(t testing.TB, brokers []string, topic string, n int, quiet, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(timeout)
	last := time.Now()
	for {
		if len(out) >= n && time.Since(last) >= quiet {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d records before the deadline", topic, len(out), n)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		f := cl.PollFetches(ctx)
		cancel()
		before := len(out)
		f.EachRecord(func(r *kgo.Record) { out = append(out, r) })
		if len(out) > before {
			last = time.Now()
		}
	}
}
