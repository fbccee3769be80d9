package consumer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/capastan/capastan/internal/kafkaconn"
	"github.com/capastan/capastan/schemas"
)

// Delivery modes.
const (
	ExactlyOnce = "exactly-once"
	AtLeastOnce = "at-least-once"
)

// Config is the worker's configuration. DefaultConfig holds every
// default; each field says what it controls.
type Config struct {
	Conn kafkaconn.Config
	// InputTopic, OutputTopic and DeadLetterTopic name the topics.
	InputTopic      string
	OutputTopic     string
	DeadLetterTopic string
	// Group is the consumer group every worker of a deployment shares.
	Group string
	// Delivery is ExactlyOnce or AtLeastOnce.
	Delivery string
	// TransactionalID identifies this worker's transactions (exactly-once
	// only); it must differ between live workers. Default: group, host
	// name and process id.
	TransactionalID string
	// MaxPollRecords bounds one batch (one transaction).
	MaxPollRecords int
	// MaxTextBytes is the longest text accepted; longer ones are
	// dead-lettered as text_too_long.
	MaxTextBytes int
	// CopyText copies the review text into the labeled record.
	CopyText bool
	// EventSource is the CloudEvents source of the output records.
	EventSource string
	// DeliveryTimeout bounds how long one output record may take to be
	// acknowledged before the batch is given up and retried.
	DeliveryTimeout time.Duration
	// RetryBackoff is the pause before a failed batch is retried.
	RetryBackoff time.Duration
}

// DefaultConfig is the worker's defaults.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		Conn:            kafkaconn.Config{Brokers: []string{kafkaconn.DefaultBrokers}},
		InputTopic:      "reviews",
		OutputTopic:     "reviews.labeled",
		DeadLetterTopic: "reviews.dlq",
		Group:           "capastan",
		Delivery:        ExactlyOnce,
		TransactionalID: fmt.Sprintf("capastan-%s-%d", host, os.Getpid()),
		MaxPollRecords:  2000,
		MaxTextBytes:    schemas.DefaultMaxTextBytes,
		EventSource:     schemas.DefaultEventSource,
		DeliveryTimeout: 30 * time.Second,
		RetryBackoff:    time.Second,
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if err := c.Conn.Validate(); err != nil {
		return err
	}
	switch {
	case c.InputTopic == "" || c.OutputTopic == "" || c.DeadLetterTopic == "":
		return errors.New("input, output and dead-letter topics must all be named")
	case c.InputTopic == c.OutputTopic || c.InputTopic == c.DeadLetterTopic:
		return errors.New("the input topic must differ from the output and dead-letter topics")
	case c.Group == "":
		return errors.New("a consumer group is required")
	case c.Delivery != ExactlyOnce && c.Delivery != AtLeastOnce:
		return fmt.Errorf("delivery must be %q or %q, got %q", ExactlyOnce, AtLeastOnce, c.Delivery)
	case c.Delivery == ExactlyOnce && c.TransactionalID == "":
		return errors.New("exactly-once delivery needs a transactional id")
	case c.MaxPollRecords < 1:
		return fmt.Errorf("max poll records must be at least 1, got %d", c.MaxPollRecords)
	case c.MaxTextBytes < 1:
		return fmt.Errorf("max text bytes must be at least 1, got %d", c.MaxTextBytes)
	case c.DeliveryTimeout <= 0 || c.RetryBackoff < 0:
		return errors.New("delivery timeout must be positive and retry backoff not negative")
	}
	return nil
}
