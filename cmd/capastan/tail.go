package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tailRecord is one line of `capastan tail`.
type tailRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp time.Time         `json:"timestamp"`
	Key       string            `json:"key,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	// Value is the record's JSON as is, or a JSON string when the value
	// is not JSON (a dead-letter record of malformed input, say).
	Value json.RawMessage `json:"value"`
}

func runTail(ctx context.Context, args []string, sio stdio) error {
	stdout, stderr := sio.out, sio.err
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		kf        kafkaFlags
		topic     string
		max       int
		timeout   time.Duration
		committed bool
	)
	kf.register(fs)
	fs.StringVar(&topic, "topic", "reviews.labeled", "topic to read from the beginning")
	fs.IntVar(&max, "max", 0, "stop after this many records (0: no limit)")
	fs.DurationVar(&timeout, "timeout", 10*time.Second, "stop after this long without a new record (0: never)")
	fs.BoolVar(&committed, "read-committed", true, "skip records of aborted or open transactions")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	conn, err := kf.config()
	if err != nil {
		return err
	}
	opts, err := conn.FranzOpts()
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID("capastan-tail"))
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	for {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, timeout)
		}
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return nil // interrupted: what was printed stands
		}
		if fetches.IsClientClosed() {
			return nil
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			for _, fe := range errs {
				if errors.Is(fe.Err, context.DeadlineExceeded) {
					fmt.Fprintf(stderr, "tail: no new record on %s for %s; %d printed\n", topic, timeout, n)
					return nil
				}
			}
			return fmt.Errorf("fetch %s: %w", topic, errs[0].Err)
		}
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr != nil || (max > 0 && n >= max) {
				return
			}
			out := tailRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Key: string(r.Key), Value: r.Value}
			if !json.Valid(r.Value) {
				out.Value, _ = json.Marshal(string(r.Value))
			}
			if len(r.Headers) > 0 {
				out.Headers = make(map[string]string, len(r.Headers))
				for _, h := range r.Headers {
					out.Headers[h.Key] = string(h.Value)
				}
			}
			werr = enc.Encode(out)
			n++
		})
		if werr != nil {
			return fmt.Errorf("write: %w", werr)
		}
		if max > 0 && n >= max {
			return nil
		}
	}
}
