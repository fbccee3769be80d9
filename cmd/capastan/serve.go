package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/consumer"
	"github.com/capastan/capastan/httpapi"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/modelstore"
)

// serveSettings is everything `capastan serve` reads: the worker's and
// the HTTP port's configuration plus the process's own settings. Defaults
// come from consumer.DefaultConfig, httpapi.DefaultConfig and
// defaultServeSettings; CAPASTAN_* variables override them, and flags
// override those.
type serveSettings struct {
	Worker consumer.Config
	HTTP   httpapi.Config `envPrefix:"HTTP_"`
	// NoKafka runs the HTTP API alone, without the worker.
	NoKafka bool   `env:"NO_KAFKA"`
	Model   string `env:"MODEL"`
	// ModelWatchInterval is how often the model file is checked for a
	// change (0: only SIGHUP reloads it).
	ModelWatchInterval time.Duration `env:"MODEL_WATCH_INTERVAL"`
	ShutdownTimeout    time.Duration `env:"SHUTDOWN_TIMEOUT"`
	LogLevel           string        `env:"LOG_LEVEL"`
	LogFormat          string        `env:"LOG_FORMAT"`
}

func defaultServeSettings() serveSettings {
	w := consumer.DefaultConfig()
	h := httpapi.DefaultConfig()
	h.MaxTextBytes = w.MaxTextBytes
	return serveSettings{
		Worker:             w,
		HTTP:               h,
		ModelWatchInterval: 10 * time.Second,
		ShutdownTimeout:    30 * time.Second,
		LogLevel:           "info",
		LogFormat:          "json",
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
	fs.IntVar(&w.MaxTextBytes, "max-text-bytes", w.MaxTextBytes, "longest text accepted; longer ones are dead-lettered, or answered 422 by the HTTP API ($CAPASTAN_MAX_TEXT_BYTES)")
	fs.BoolVar(&w.CopyText, "copy-text", w.CopyText, "copy the review text into the labeled record ($CAPASTAN_COPY_TEXT)")
	fs.BoolVar(&w.ClassifyTitle, "classify-title", w.ClassifyTitle, "classify a review's title, when it has one, with its text (title, a period, a line break, the text), on the stream and in /predict; false reads the text alone ($CAPASTAN_CLASSIFY_TITLE)")
	fs.DurationVar(&w.DeliveryTimeout, "delivery-timeout", w.DeliveryTimeout, "longest wait for one output's acknowledgement before the batch is retried ($CAPASTAN_DELIVERY_TIMEOUT)")
	fs.StringVar(&s.HTTP.Addr, "http-addr", s.HTTP.Addr, "HTTP port (/predict, /metrics, /healthz, /readyz, ...); empty disables it ($CAPASTAN_HTTP_ADDR)")
	fs.IntVar(&s.HTTP.MaxBatchItems, "max-batch-items", s.HTTP.MaxBatchItems, "most texts in one /predict/batch request ($CAPASTAN_HTTP_MAX_BATCH_ITEMS)")
	fs.Int64Var(&s.HTTP.MaxBodyBytes, "max-body-bytes", s.HTTP.MaxBodyBytes, "largest HTTP request body ($CAPASTAN_HTTP_MAX_BODY_BYTES)")
	fs.StringVar(&s.Model, "model", s.Model, "model file (default: the built-in model); SIGHUP or a change of the file reloads it ($CAPASTAN_MODEL)")
	fs.DurationVar(&s.ModelWatchInterval, "model-watch-interval", s.ModelWatchInterval, "how often the model file is checked for a change; 0 leaves reloads to SIGHUP ($CAPASTAN_MODEL_WATCH_INTERVAL)")
	fs.DurationVar(&s.ShutdownTimeout, "shutdown-timeout", s.ShutdownTimeout, "on SIGTERM, longest wait for the batch in hand to commit and HTTP requests to finish ($CAPASTAN_SHUTDOWN_TIMEOUT)")
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
	fs.BoolVar(&s.NoKafka, "no-kafka", s.NoKafka, "run the HTTP API alone, without the Kafka worker ($CAPASTAN_NO_KAFKA)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if envErr != nil {
		return envErr
	}
	if !s.NoKafka {
		conn, err := kf.config()
		if err != nil {
			return err
		}
		s.Worker.Conn = conn
		if err := s.Worker.Validate(); err != nil {
			return err
		}
	} else if s.HTTP.Addr == "" {
		return errors.New("--no-kafka leaves only the HTTP API, and CAPASTAN_HTTP_ADDR is empty: nothing to run")
	}
	s.HTTP.MaxTextBytes = s.Worker.MaxTextBytes
	if err := s.HTTP.Validate(); err != nil {
		return err
	}
	if s.ShutdownTimeout <= 0 {
		return fmt.Errorf("CAPASTAN_SHUTDOWN_TIMEOUT must be positive, got %s", s.ShutdownTimeout)
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
	return serveAll(ctx, &s, model, log)
}

// serveAll runs the worker (unless NoKafka) and the HTTP port until ctx
// ends, then gives them ShutdownTimeout to finish the batch in hand and
// the requests in flight.
func serveAll(ctx context.Context, s *serveSettings, model *classifier.Model, log *slog.Logger) error {
	set := metrics.New()
	store := modelstore.New(s.Model, model, modelstore.Options{Log: log, OnChange: set.Model.SetModel, OnResult: set.Model.Reloaded})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wctx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go store.Watch(wctx, hup, s.ModelWatchInterval)

	var w *consumer.Worker
	if !s.NoKafka {
		var err error
		w, err = consumer.New(s.Worker, model, log, consumer.WithModelSource(store.Current), consumer.WithMetrics(set))
		if err != nil {
			return err
		}
	}
	meta := model.Metadata()
	if w != nil {
		log.Info("worker starting", "brokers", s.Worker.Conn.Brokers, "input", s.Worker.InputTopic, "output", s.Worker.OutputTopic,
			"dead_letter", s.Worker.DeadLetterTopic, "group", s.Worker.Group, "delivery", s.Worker.Delivery,
			"model", meta.Name, "model_version", meta.Version, "model_sha256", model.SHA256())
	} else {
		log.Info("HTTP API only (no Kafka worker)", "model", meta.Name, "model_version", meta.Version, "model_sha256", model.SHA256())
	}
	var draining atomic.Bool
	ready := func() (bool, string) {
		switch {
		case draining.Load():
			return false, "shutting down"
		case w != nil && !w.Ready():
			return false, "joining the consumer group"
		}
		return true, ""
	}
	set.SetReadiness(func() bool { ok, _ := ready(); return ok })
	var srvDone <-chan error
	var srv *httpapi.Server
	if s.HTTP.Addr != "" {
		// /predict reads a title as the worker does. Set here, not where
		// the flags are read, so that every command serving both (serve,
		// dev) gets it.
		hcfg := s.HTTP
		hcfg.ClassifyTitle = s.Worker.ClassifyTitle
		api := httpapi.New(hcfg, httpapi.Options{Model: store.Current, Ready: ready, Log: log,
			Metrics: set.HTTP, Predictions: set.Model, Gatherer: set.Registry})
		var err error
		if srv, err = httpapi.Start(hcfg, api, log); err != nil {
			return err
		}
		srvDone = srv.Done()
		log.Info("http port listening", "addr", srv.Addr())
	}
	done := make(chan error, 1)
	if w != nil {
		go func() { done <- w.Run(ctx) }()
	}
	select {
	case err := <-done:
		// The worker stopped without being asked: exit non-zero, so the
		// supervisor restarts the process.
		shutdownHTTP(srv, s.ShutdownTimeout, log)
		if err == nil {
			err = errors.New("the worker stopped on its own")
		}
		return err
	case err := <-srvDone:
		return fmt.Errorf("http port stopped: %w", err)
	case <-ctx.Done():
	}
	// Not ready from the first moment of the shutdown, so no new traffic
	// is routed here while the batch in hand commits.
	draining.Store(true)
	deadline := time.Now().Add(s.ShutdownTimeout)
	log.Info("shutting down: finishing the batch in hand and the requests in flight", "timeout", s.ShutdownTimeout)
	if w != nil {
		select {
		case err := <-done:
			st := w.Stats()
			log.Info("worker stopped", "consumed", st.Consumed, "labeled", st.Produced, "dead_lettered", st.DeadLettered, "retried_batches", st.Retried)
			if err != nil {
				shutdownHTTP(srv, time.Until(deadline), log)
				return err
			}
		case <-time.After(s.ShutdownTimeout):
			return errors.New("shutdown timeout: the batch in hand did not commit in time; it will be processed again")
		}
	}
	return shutdownHTTP(srv, time.Until(deadline), log)
}

// shutdownHTTP stops the HTTP port, letting requests in flight finish
// within timeout (at least a second, so a worker that used the whole
// deadline does not cut answers being written).
func shutdownHTTP(srv *httpapi.Server, timeout time.Duration, log *slog.Logger) error {
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(timeout, time.Second))
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("http port: requests still in flight at the deadline were cut", "err", err)
		return fmt.Errorf("shutdown timeout: HTTP requests still in flight: %w", err)
	}
	return nil
}
