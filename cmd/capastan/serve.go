package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/consumer"
	"github.com/capastan/capastan/httpapi"
)

// serveSettings is everything `capastan serve` reads: the worker's
// configuration plus the process's own settings. Defaults come from
// consumer.DefaultConfig and defaultServeSettings; CAPASTAN_* variables
// override them, and flags override those.
type serveSettings struct {
	Worker          consumer.Config
	Model           string        `env:"MODEL"`
	HTTPAddr        string        `env:"HTTP_ADDR"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT"`
	LogLevel        string        `env:"LOG_LEVEL"`
	LogFormat       string        `env:"LOG_FORMAT"`
}

func defaultServeSettings() serveSettings {
	return serveSettings{
		Worker:          consumer.DefaultConfig(),
		HTTPAddr:        httpapi.DefaultConfig().Addr,
		ShutdownTimeout: 30 * time.Second,
		LogLevel:        "info",
		LogFormat:       "json",
	}
}

// registerWorkerFlags binds the worker's flags to s (already holding the
// defaults and the environment's values).
func registerWorkerFlags(fs *flag.FlagSet, s *serveSettings) {
	w := &s.Worker
	fs.StringVar(&w.InputTopic, "topic", w.InputTopic, "input topic ($CAPASTAN_INPUT_TOPIC)")
	fs.StringVar(&w.OutputTopic, "output-topic", w.OutputTopic, "output topic ($CAPASTAN_OUTPUT_TOPIC)")
	fs.StringVar(&w.DeadLetterTopic, "dlq-topic", w.DeadLetterTopic, "dead-letter topic ($CAPASTAN_DLQ_TOPIC)")
	fs.StringVar(&w.Group, "group", w.Group, "consumer group ($CAPASTAN_GROUP)")
	fs.StringVar(&w.Delivery, "delivery", w.Delivery, "exactly-once or at-least-once ($CAPASTAN_DELIVERY)")
	fs.StringVar(&w.TransactionalID, "transactional-id", w.TransactionalID, "this worker's transactional id, unique per live worker ($CAPASTAN_TRANSACTIONAL_ID)")
	fs.IntVar(&w.MaxPollRecords, "max-poll-records", w.MaxPollRecords, "records per batch (one transaction) at most ($CAPASTAN_MAX_POLL_RECORDS)")
	fs.IntVar(&w.MaxTextBytes, "max-text-bytes", w.MaxTextBytes, "longest text accepted; longer ones are dead-lettered ($CAPASTAN_MAX_TEXT_BYTES)")
	fs.BoolVar(&w.CopyText, "copy-text", w.CopyText, "copy the review text into the labeled record ($CAPASTAN_COPY_TEXT)")
	fs.DurationVar(&w.DeliveryTimeout, "delivery-timeout", w.DeliveryTimeout, "longest wait for one output's acknowledgement before the batch is retried ($CAPASTAN_DELIVERY_TIMEOUT)")
	fs.StringVar(&s.HTTPAddr, "http-addr", s.HTTPAddr, "HTTP side port (/healthz, /readyz); empty disables it ($CAPASTAN_HTTP_ADDR)")
	fs.StringVar(&s.Model, "model", s.Model, "model file (default: the built-in model) ($CAPASTAN_MODEL)")
	fs.DurationVar(&s.ShutdownTimeout, "shutdown-timeout", s.ShutdownTimeout, "on SIGTERM, longest wait for the batch in hand to commit ($CAPASTAN_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&s.LogLevel, "log-level", s.LogLevel, "debug, info, warn or error ($CAPASTAN_LOG_LEVEL)")
	fs.StringVar(&s.LogFormat, "log-format", s.LogFormat, "json or text ($CAPASTAN_LOG_FORMAT)")
}

func newLogger(s *serveSettings, sio stdio) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", s.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(s.LogFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(sio.err, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(sio.err, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", s.LogFormat)
}

func runServe(ctx context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	s := defaultServeSettings()
	envErr := parseEnv(&s)
	var kf kafkaFlags
	kf.register(fs)
	registerWorkerFlags(fs, &s)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if envErr != nil {
		return envErr
	}
	conn, err := kf.config()
	if err != nil {
		return err
	}
	s.Worker.Conn = conn
	if err := s.Worker.Validate(); err != nil {
		return err
	}
	log, err := newLogger(&s, sio)
	if err != nil {
		return err
	}
	// A missing or invalid model stops start-up with a non-zero exit.
	model, err := loadModel(s.Model)
	if err != nil {
		return err
	}
	return serveWorker(ctx, &s, model, log)
}

// serveWorker runs the worker until ctx ends, then gives it
// ShutdownTimeout to finish and commit the batch in hand.
func serveWorker(ctx context.Context, s *serveSettings, model *classifier.Model, log *slog.Logger) error {
	w, err := consumer.New(s.Worker, model, log)
	if err != nil {
		return err
	}
	meta := model.Metadata()
	log.Info("worker starting", "brokers", s.Worker.Conn.Brokers, "input", s.Worker.InputTopic, "output", s.Worker.OutputTopic,
		"dead_letter", s.Worker.DeadLetterTopic, "group", s.Worker.Group, "delivery", s.Worker.Delivery,
		"model", meta.Name, "model_version", meta.Version, "model_sha256", model.SHA256())
	var draining atomic.Bool
	if s.HTTPAddr != "" {
		hc := httpapi.DefaultConfig()
		hc.Addr = s.HTTPAddr
		srv, err := httpapi.Start(hc, func() (bool, string) {
			switch {
			case draining.Load():
				return false, "shutting down"
			case !w.Ready():
				return false, "joining the consumer group"
			}
			return true, ""
		})
		if err != nil {
			return err
		}
		log.Info("http side port listening", "addr", srv.Addr())
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}()
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// Not ready from the first moment of the shutdown, so no new traffic
	// is routed here while the batch in hand commits.
	draining.Store(true)
	log.Info("shutting down: finishing the batch in hand", "timeout", s.ShutdownTimeout)
	select {
	case err := <-done:
		st := w.Stats()
		log.Info("worker stopped", "consumed", st.Consumed, "labeled", st.Produced, "dead_lettered", st.DeadLettered, "retried_batches", st.Retried)
		return err
	case <-time.After(s.ShutdownTimeout):
		return errors.New("shutdown timeout: the batch in hand did not commit in time; it will be processed again")
	}
}
