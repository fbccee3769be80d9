package integration

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/internal/kafkatest"
)

// brokers returns the real broker's address, or skips the test.
func brokers(t *testing.T) []string {
	t.Helper()
	b := os.Getenv("CAPASTAN_IT_BROKERS")
	if b == "" {
		t.Skip("CAPASTAN_IT_BROKERS not set: run scripts/integration (make test does) to start a real Kafka broker")
	}
	return strings.Split(b, ",")
}

// topic creates a fresh topic with n partitions and returns its name.
func topic(t *testing.T, bs []string, name string, partitions int32) string {
	t.Helper()
	name = name + "-" + time.Now().Format("150405.000000")
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, 1, nil, name)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	return name
}

// consume reads n records of topic from the start, read_committed.
func consume(t *testing.T, bs []string, topic string, n int) []*kgo.Record {
	return kafkatest.Consume(t, bs, topic, n, 0, time.Minute)
}

// totalEnd sums the end offsets (high watermarks) of a topic's partitions.
func totalEnd(ctx context.Context, cl *kgo.Client, topic string) (int64, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			total += o.Offset
		}
	})
	return total, nil
}
