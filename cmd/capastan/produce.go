package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/capastan/capastan/producer"
	"github.com/capastan/capastan/schemas"
)

func runProduce(ctx context.Context, args []string, sio stdio) error {
	stderr := sio.err
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := producer.DefaultConfig()
	m := producer.DefaultMapping()
	var (
		kf                  kafkaFlags
		file, format, keyBy string
		opt                 producer.RunOptions
		quiet               bool
	)
	kf.register(fs)
	fs.StringVar(&cfg.Topic, "topic", cfg.Topic, "topic to produce to")
	fs.StringVar(&file, "file", "", "input file, JSON Lines or CSV; - for stdin (required)")
	fs.StringVar(&format, "format", "", "input format: jsonl or csv (default: by extension; jsonl for stdin)")
	fs.StringVar(&keyBy, "key", producer.KeyProduct, "record key: product_id (falling back to review_id), review_id or none")
	fs.Float64Var(&opt.Rate, "rate", 0, "records per second (0: as fast as acknowledged)")
	fs.Int64Var(&opt.Count, "count", 0, "stop after this many records (0: no limit)")
	fs.DurationVar(&opt.Duration, "duration", 0, "stop after this long (0: no limit)")
	fs.BoolVar(&opt.Loop, "loop", false, "read the input again at its end (needs -count or -duration); later passes get unique ids")
	fs.BoolVar(&opt.Strict, "strict", false, "stop at the first invalid input line instead of skipping it")
	fs.IntVar(&opt.Source.MaxTextBytes, "max-text-bytes", schemas.DefaultMaxTextBytes, "longest text accepted, in bytes")
	fs.BoolVar(&quiet, "quiet", false, "no progress line")
	// Field mapping: each names the input field or column for one event field.
	fs.StringVar(&m.ID, "id-field", m.ID, "input field for review_id (falls back to \"id\")")
	fs.StringVar(&m.Text, "text-field", m.Text, "input field for text")
	fs.StringVar(&m.Title, "title-field", m.Title, "input field for title, or none")
	fs.StringVar(&m.Product, "product-field", m.Product, "input field for product_id")
	fs.StringVar(&m.Rating, "rating-field", m.Rating, "input field for rating (1-5), or none")
	fs.StringVar(&m.Source, "source-field", m.Source, "input field for source")
	fs.StringVar(&m.Lang, "lang-field", m.Lang, "input field for lang")
	fs.StringVar(&m.CreatedAt, "created-field", m.CreatedAt, "input field for created_at (RFC 3339)")
	// Producer tuning: each overrides a field of producer.DefaultConfig.
	fs.DurationVar(&cfg.BatchTimeout, "batch-timeout", cfg.BatchTimeout, "longest wait for a batch to fill")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "records per batch at most")
	fs.StringVar(&cfg.Compression, "compression", cfg.Compression, "none, gzip, snappy, lz4 or zstd")
	fs.IntVar(&cfg.MaxAttempts, "max-attempts", cfg.MaxAttempts, "tries per batch before its records count as failed")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", cfg.MaxInFlight, "unacknowledged records at most (memory bound)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" {
		fmt.Fprintln(stderr, "produce: -file is required (- for stdin)")
		return errUsage
	}
	var err error
	if cfg.Conn, err = kf.config(); err != nil {
		return err
	}
	opt.Source.Mapping, opt.Source.KeyBy = m, keyBy
	switch keyBy {
	case producer.KeyProduct, producer.KeyReview, producer.KeyNone:
	default:
		return fmt.Errorf("-key %q: want product_id, review_id or none", keyBy)
	}
	opt.Source.Format = format
	if format == "" && strings.EqualFold(filepath.Ext(file), ".csv") {
		opt.Source.Format = "csv"
	}
	open := func() (io.ReadCloser, error) { return os.Open(file) }
	opt.Batch = 256 // a file is read as fast as the producer takes it
	if file == "-" {
		opt.Batch = 1 // stdin may be a person typing: send each line at once
		if opt.Loop {
			return errors.New("-loop cannot reread stdin")
		}
		used := false
		open = func() (io.ReadCloser, error) {
			if used {
				return nil, io.EOF
			}
			used = true
			return io.NopCloser(sio.in), nil
		}
	} else if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("-file: %w", err)
	}
	prog := newProgress(stderr, quiet)
	if prog.on {
		opt.Progress = func(s producer.Summary) {
			fmt.Fprintf(stderr, "\rsent %d, acked %d, failed %d, bad lines %d, %.0f rec/s   ",
				s.Sent, s.Acked, s.Failed, s.BadLines, float64(s.Acked)/s.Elapsed.Seconds())
		}
	}
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	sum, err := producer.Run(ctx, p, open, opt)
	if prog.on {
		fmt.Fprintln(stderr)
	}
	for _, b := range sum.BadSample {
		fmt.Fprintf(stderr, "produce: skipped %v\n", b)
	}
	if sum.BadLines > int64(len(sum.BadSample)) {
		fmt.Fprintf(stderr, "produce: ... and %d more bad lines\n", sum.BadLines-int64(len(sum.BadSample)))
	}
	secs := sum.Elapsed.Seconds()
	fmt.Fprintf(stderr, "produce: topic %s: sent %d, acknowledged %d, failed %d, bad input lines %d, in %s (%.0f records/s, %.2f MB/s)\n",
		cfg.Topic, sum.Sent, sum.Acked, sum.Failed, sum.BadLines, sum.Elapsed.Round(time.Millisecond),
		float64(sum.Acked)/secs, float64(sum.Bytes)/1e6/secs)
	return err
}
