// Package httpapi is Capastan's HTTP side port, as schemas/openapi.yaml
// describes it: POST /predict and /predict/batch classify texts with the
// model in use; GET /healthz, /readyz, /metrics and /model tell how the
// process is; GET / is a page to try the classifier in a browser.
//
// Every error is JSON, {"error": {"code", "message"}}, with the codes of
// the dead-letter records where the problem is the same. Nothing a client
// sends produces a 500: a handler panic is recovered, logged, counted and
// answered with code internal.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/schemas"
)

// Config is the side port's configuration; DefaultConfig holds every
// default. The env tags name the variables `capastan serve` reads after
// its CAPASTAN_HTTP_ prefix.
type Config struct {
	// Addr is the listen address; empty disables the port.
	Addr string `env:"ADDR"`
	// ReadHeaderTimeout and ReadTimeout bound slow clients (slow-loris):
	// the headers, then the whole request, must arrive within them.
	ReadHeaderTimeout time.Duration `env:"READ_HEADER_TIMEOUT"`
	ReadTimeout       time.Duration `env:"READ_TIMEOUT"`
	// WriteTimeout bounds a request from the end of its headers to the end
	// of the answer.
	WriteTimeout time.Duration `env:"WRITE_TIMEOUT"`
	// IdleTimeout closes keep-alive connections idle that long.
	IdleTimeout time.Duration `env:"IDLE_TIMEOUT"`
	// MaxBodyBytes is the largest request body (413 body_too_large past it).
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES"`
	// MaxBatchItems is the most requests one /predict/batch may carry (413
	// batch_too_large past it).
	MaxBatchItems int `env:"MAX_BATCH_ITEMS"`
	// MaxExplain is how many features per class ?explain=true lists.
	MaxExplain int `env:"MAX_EXPLAIN"`
	// MaxTextBytes is the longest text, as for the stream; `capastan serve`
	// sets it from CAPASTAN_MAX_TEXT_BYTES.
	MaxTextBytes int `env:"-"`
	// ClassifyTitle classifies a request's title with its text
	// (classifier.Titled), as the stream does a review's; `capastan serve`
	// sets it from CAPASTAN_CLASSIFY_TITLE, so that /predict answers what
	// the stream would.
	ClassifyTitle bool `env:"-"`
}

// DefaultConfig listens on :8080 and takes bodies up to 1 MiB and batches
// of up to 1000 texts.
func DefaultConfig() Config {
	return Config{
		Addr:              ":8080",
		ReadHeaderTimeout: 5 * time.Second,
		// A 1 MiB body arrives in well under a second on any link that
		// matters; 10 s frees a slow-loris connection soon.
		ReadTimeout:   10 * time.Second,
		WriteTimeout:  30 * time.Second,
		IdleTimeout:   2 * time.Minute,
		MaxBodyBytes:  1 << 20,
		MaxBatchItems: 1000,
		MaxExplain:    8,
		MaxTextBytes:  schemas.DefaultMaxTextBytes,
		ClassifyTitle: true,
	}
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.WriteTimeout <= 0 || c.IdleTimeout <= 0:
		return errors.New("http: the timeouts must be positive")
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("http: the body limit must be at least 1024 bytes, got %d", c.MaxBodyBytes)
	case c.MaxBatchItems < 1:
		return fmt.Errorf("http: the batch limit must be at least 1, got %d", c.MaxBatchItems)
	case c.MaxExplain < 1:
		return fmt.Errorf("http: explain must list at least 1 feature, got %d", c.MaxExplain)
	}
	return nil
}

// Readiness answers whether the service is ready, and if not, why.
type Readiness func() (ready bool, reason string)

// Options are what the API serves besides its Config.
type Options struct {
	// Model returns the model in use; it is called once per request, so a
	// hot reload takes effect at the next request. Required.
	Model func() *classifier.Model
	// Ready backs /readyz; nil means always ready.
	Ready Readiness
	// Log receives panics and failures; nil discards them.
	Log *slog.Logger
	// Metrics, Predictions and Gatherer are the shared registry's; nil
	// gives the API a private registry of its own.
	Metrics     *metrics.HTTP
	Predictions *metrics.Model
	Gatherer    prometheus.Gatherer
}

// API is the side port's handler.
type API struct {
	cfg    Config
	opts   Options
	routes map[string]*route
	other  *route
	bufs   bufPool
	cache  modelCache
}

// route is one path: its methods, handler and pre-bound metrics.
type route struct {
	path    string
	methods []string
	allow   string
	handle  func(w http.ResponseWriter, r *http.Request)
	metrics *metrics.Route
}

// New returns the API; it panics if opts.Model is nil (a programming
// error, not a run-time condition).
func New(cfg Config, opts Options) *API {
	if opts.Model == nil {
		panic("httpapi: Options.Model is required")
	}
	if opts.Ready == nil {
		opts.Ready = func() (bool, string) { return true, "" }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Metrics == nil || opts.Predictions == nil || opts.Gatherer == nil {
		reg := prometheus.NewRegistry()
		opts.Metrics, opts.Predictions, opts.Gatherer = metrics.NewHTTP(reg), metrics.NewModel(reg, 0), reg
		opts.Predictions.SetModel(opts.Model())
	}
	if cfg.MaxTextBytes <= 0 {
		cfg.MaxTextBytes = schemas.DefaultMaxTextBytes
	}
	a := &API{cfg: cfg, opts: opts, routes: map[string]*route{}}
	get := []string{http.MethodGet, http.MethodHead}
	post := []string{http.MethodPost}
	a.add("/predict", post, a.predict, 200, 400, 413, 415, 422)
	a.add("/predict/batch", post, a.predictBatch, 200, 400, 413, 415, 422)
	a.add("/healthz", get, a.healthz, 200)
	a.add("/readyz", get, a.readyz, 200, 503)
	a.add("/metrics", get, a.metricsHandler(), 200)
	a.add("/model", get, a.model, 200)
	a.add("/", get, a.home, 200)
	a.other = &route{path: "other", metrics: opts.Metrics.Route("other", nil, nil)}
	return a
}

func (a *API) add(path string, methods []string, h http.HandlerFunc, codes ...int) {
	allow := ""
	for i, m := range methods {
		if i > 0 {
			allow += ", "
		}
		allow += m
	}
	// The main method's answers are bound (and exported at 0) from the
	// start, so rate() and alerts see them before the first request.
	a.routes[path] = &route{path: path, methods: methods, allow: allow, handle: h,
		metrics: a.opts.Metrics.Route(path, methods[:1], codes)}
}

// knownMethods bounds the method label: anything else counts as "other".
var knownMethods = map[string]string{"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT",
	"DELETE": "DELETE", "PATCH": "PATCH", "OPTIONS": "OPTIONS"}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rt := a.routes[r.URL.Path]
	if rt == nil {
		rt = a.other
	}
	m := a.opts.Metrics
	m.InFlight.Inc()
	rw := recorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared, as net/http does
				panic(p)
			}
			m.Panics.Inc()
			a.opts.Log.Error("http handler panic", "path", r.URL.Path, "method", r.Method, "panic", fmt.Sprint(p))
			if !rw.wrote {
				writeError(&rw, http.StatusInternalServerError, schemas.CodeInternal, "the server failed on this request; it has been logged")
			}
		}
		m.InFlight.Dec()
		method, ok := knownMethods[r.Method]
		if !ok {
			method = "other"
		}
		rt.metrics.Observe(method, rw.status(), time.Since(start).Seconds())
	}()
	switch {
	case rt == a.other:
		writeError(&rw, http.StatusNotFound, "not_found", "no such path: "+r.URL.Path)
	case !rt.accepts(r.Method):
		rw.Header().Set("Allow", rt.allow)
		writeError(&rw, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+rt.path+"; use "+rt.allow)
	default:
		rt.handle(&rw, r)
	}
}

func (rt *route) accepts(method string) bool {
	for _, m := range rt.methods {
		if m == method {
			return true
		}
	}
	return false
}

// recorder notes the status code for the metrics.
type recorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.code, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) status() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.code
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Server is the running side port.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Start listens on cfg.Addr at once, so a taken port is an error at start-up
// rather than in a log line later, and serves h in the background.
func Start(cfg Config, h http.Handler, log *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("http: listen on %s: %w", cfg.Addr, err)
	}
	s := &Server{ln: ln, done: make(chan error, 1), srv: &http.Server{Handler: h, ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout,
		MaxHeaderBytes: 64 << 10}}
	if log != nil {
		s.srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Done delivers the error that stopped the server: http.ErrServerClosed
// after Shutdown, anything else if the listener broke.
func (s *Server) Done() <-chan error { return s.done }

// Shutdown stops accepting and waits for the requests in flight, up to
// ctx; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}
