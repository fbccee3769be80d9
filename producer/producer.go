// Package producer publishes review events to a Kafka topic with
// segmentio/kafka-go. Any upstream service can embed it; `capastan produce`
// is a thin command on top.
//
// Nothing is dropped silently: every record handed to Send is either
// acknowledged by the cluster (acks from all in-sync replicas) or counted
// as failed with the error, and Close reports whether all were acknowledged.
// Memory is bounded: Send blocks while MaxInFlight records await an answer.
package producer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/capastan/capastan/internal/kafkaconn"
)

// Config is the producer's configuration. DefaultConfig holds every
// default; each field documents what it overrides.
type Config struct {
	Conn  kafkaconn.Config
	Topic string
	// BatchTimeout bounds how long a record waits for its batch to fill.
	// kafka-go's own default is one second, far too slow for a stream.
	BatchTimeout time.Duration
	// BatchSize and BatchBytes bound one batch.
	BatchSize  int
	BatchBytes int64
	// Compression: none, gzip, snappy, lz4 or zstd.
	Compression string
	// MaxAttempts bounds the tries of one batch; between tries the
	// producer backs off from BackoffMin doubling up to BackoffMax.
	MaxAttempts int
	BackoffMin  time.Duration
	BackoffMax  time.Duration
	// WriteTimeout bounds one produce request.
	WriteTimeout time.Duration
	// MaxInFlight bounds the records handed to Send and not yet
	// acknowledged or failed; Send blocks past it.
	MaxInFlight int
}

// DefaultConfig is the producer's defaults: acks from all in-sync
// replicas, 5 ms batches, lz4, 5 tries with backoff.
func DefaultConfig() Config {
	return Config{
		Conn:         kafkaconn.Config{Brokers: []string{kafkaconn.DefaultBrokers}},
		Topic:        "reviews",
		BatchTimeout: 5 * time.Millisecond,
		BatchSize:    1000,
		BatchBytes:   1 << 20,
		Compression:  "lz4",
		MaxAttempts:  5,
		BackoffMin:   100 * time.Millisecond,
		BackoffMax:   2 * time.Second,
		WriteTimeout: 10 * time.Second,
		MaxInFlight:  100_000,
	}
}

// Stats counts what happened to the records handed to Send.
type Stats struct {
	Sent   int64 // handed to Send
	Acked  int64 // acknowledged by the cluster
	Failed int64 // given up on after MaxAttempts
	Bytes  int64 // value bytes acknowledged
	// LastError is the most recent delivery error, if any.
	LastError error
}

// Producer publishes records. It is safe for concurrent use.
type Producer struct {
	cfg   Config
	w     *kafka.Writer
	slots chan struct{}

	sent, acked, failed, bytes atomic.Int64
	mu                         sync.Mutex
	lastErr                    error
	closed                     atomic.Bool
}

// New validates cfg and returns a producer. It does not contact the
// cluster: the first Send does.
func New(cfg Config) (*Producer, error) {
	if err := cfg.Conn.Validate(); err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	if cfg.Topic == "" {
		return nil, errors.New("producer: no topic")
	}
	if cfg.MaxInFlight < 1 || cfg.BatchSize < 1 || cfg.MaxAttempts < 1 || cfg.BatchBytes < 1 {
		return nil, errors.New("producer: MaxInFlight, BatchSize, BatchBytes and MaxAttempts must be positive")
	}
	comp, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	mech, err := mechanism(&cfg.Conn)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.Conn.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("producer: %w", err)
	}
	p := &Producer{cfg: cfg, slots: make(chan struct{}, cfg.MaxInFlight)}
	p.w = &kafka.Writer{
		Addr:  kafka.TCP(cfg.Conn.Brokers...),
		Topic: cfg.Topic,
		// Murmur2 on the key, like the Java client: one product's reviews
		// land on one partition, in order, whichever client wrote them.
		Balancer:        &kafka.Murmur2Balancer{},
		MaxAttempts:     cfg.MaxAttempts,
		WriteBackoffMin: cfg.BackoffMin,
		WriteBackoffMax: cfg.BackoffMax,
		BatchSize:       cfg.BatchSize,
		BatchBytes:      cfg.BatchBytes,
		BatchTimeout:    cfg.BatchTimeout,
		WriteTimeout:    cfg.WriteTimeout,
		RequiredAcks:    kafka.RequireAll,
		Async:           true,
		Completion:      p.complete,
		Compression:     comp,
		Transport:       &kafka.Transport{SASL: mech, TLS: tlsCfg, ClientID: "capastan-producer", DialTimeout: 5 * time.Second},
	}
	return p, nil
}

// Message is one record to send.
type Message struct {
	Key, Value []byte
}

// Send queues one record. It blocks while MaxInFlight records are
// unanswered, and returns early only if ctx ends or the producer is closed.
// The producer keeps key and value until the record is answered: do not
// reuse them.
func (p *Producer) Send(ctx context.Context, key, value []byte) error {
	return p.SendBatch(ctx, []Message{{Key: key, Value: value}})
}

// SendBatch queues several records in one call, which costs the writer far
// less per record than one Send each. It blocks like Send.
func (p *Producer) SendBatch(ctx context.Context, batch []Message) error {
	if p.closed.Load() {
		return errors.New("producer: closed")
	}
	msgs := make([]kafka.Message, len(batch))
	for i, m := range batch {
		msgs[i] = kafka.Message{Key: m.Key, Value: m.Value}
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			for ; i > 0; i-- {
				<-p.slots
			}
			return ctx.Err()
		}
	}
	p.sent.Add(int64(len(msgs)))
	// With Async the writer queues and returns at once; delivery errors
	// arrive in complete. It fails synchronously when it cannot learn the
	// topic's partitions (no broker answers): retry that with backoff, as
	// the writer retries batches, so a broker restart is ridden out; past
	// MaxAttempts the records count as failed.
	backoff := p.cfg.BackoffMin
	for attempt := 1; ; attempt++ {
		err := p.w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		if attempt >= p.cfg.MaxAttempts || ctx.Err() != nil {
			for range msgs {
				<-p.slots
			}
			p.fail(len(msgs), err)
			return fmt.Errorf("producer: %d records not sent after %d attempts: %w", len(msgs), attempt, err)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, p.cfg.BackoffMax)
	}
}

// complete is kafka-go's per-batch callback.
func (p *Producer) complete(msgs []kafka.Message, err error) {
	if err != nil {
		p.fail(len(msgs), err)
	} else {
		p.acked.Add(int64(len(msgs)))
		for _, m := range msgs {
			p.bytes.Add(int64(len(m.Value)))
		}
	}
	for range msgs {
		<-p.slots
	}
}

func (p *Producer) fail(n int, err error) {
	p.failed.Add(int64(n))
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
}

// Stats returns the counts so far.
func (p *Producer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Sent: p.sent.Load(), Acked: p.acked.Load(), Failed: p.failed.Load(), Bytes: p.bytes.Load(), LastError: p.lastErr}
}

// Close flushes what is queued, waits for every answer, and returns an
// error unless every record handed to Send was acknowledged.
func (p *Producer) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	werr := p.w.Close()
	st := p.Stats()
	if unanswered := st.Sent - st.Acked - st.Failed; unanswered > 0 {
		// kafka-go answers every queued message on Close; count any that
		// were not as failed rather than lose track of them.
		p.fail(int(unanswered), errors.New("no answer before close"))
		st = p.Stats()
	}
	if st.Failed > 0 {
		return fmt.Errorf("producer: %d of %d records not acknowledged: %w", st.Failed, st.Sent, st.LastError)
	}
	if werr != nil {
		return fmt.Errorf("producer: close: %w", werr)
	}
	return nil
}

func compression(name string) (kafka.Compression, error) {
	switch name {
	case "", "none":
		return 0, nil
	case "gzip":
		return kafka.Gzip, nil
	case "snappy":
		return kafka.Snappy, nil
	case "lz4":
		return kafka.Lz4, nil
	case "zstd":
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("producer: unknown compression %q (want none, gzip, snappy, lz4 or zstd)", name)
}

func mechanism(c *kafkaconn.Config) (sasl.Mechanism, error) {
	switch c.SASLMechanism {
	case "":
		return nil, nil
	case kafkaconn.PLAIN:
		return plain.Mechanism{Username: c.SASLUser, Password: c.SASLPassword}, nil
	case kafkaconn.SCRAMSHA256:
		return scram.Mechanism(scram.SHA256, c.SASLUser, c.SASLPassword)
	case kafkaconn.SCRAMSHA512:
		return scram.Mechanism(scram.SHA512, c.SASLUser, c.SASLPassword)
	}
	return nil, fmt.Errorf("producer: unknown SASL mechanism %q", c.SASLMechanism)
}
