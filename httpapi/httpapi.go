// Package httpapi is Capastan's HTTP side port. For now it serves the
// operational endpoints of schemas/openapi.yaml: GET /healthz (the process
// serves) and GET /readyz (the worker has joined its group and is not
// shutting down). Every error is JSON: {"error": {"code", "message"}}.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Config is the side port's configuration; DefaultConfig holds the
// defaults.
type Config struct {
	// Addr is the listen address; empty disables the port.
	Addr string
	// The timeouts bound slow clients (slow-loris) and idle connections.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
}

// DefaultConfig listens on :8080.
func DefaultConfig() Config {
	return Config{Addr: ":8080", ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
}

// Readiness answers whether the service is ready, and if not, why.
type Readiness func() (ready bool, reason string)

// Server is the running side port.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Handler returns the side port's routes.
func Handler(ready Readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			if !allow(w, r, http.MethodGet, http.MethodHead) {
				return
			}
			writeJSON(w, http.StatusOK, status{Status: "ok"})
		case "/readyz":
			if !allow(w, r, http.MethodGet, http.MethodHead) {
				return
			}
			if ok, reason := ready(); !ok {
				writeJSON(w, http.StatusServiceUnavailable, status{Status: "not_ready", Reason: reason})
				return
			}
			writeJSON(w, http.StatusOK, status{Status: "ready"})
		default:
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route %s", r.URL.Path))
		}
	})
}

// Start listens on cfg.Addr at once, so a taken port is an error at start-up
// rather than in a log line later, and serves in the background.
func Start(cfg Config, ready Readiness) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("http: listen on %s: %w", cfg.Addr, err)
	}
	s := &Server{ln: ln, srv: &http.Server{Handler: Handler(ready), ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout}}
	// Serve returns ErrServerClosed after Shutdown; if the listener broke
	// instead, /healthz stops answering and the liveness probe restarts us.
	go s.srv.Serve(ln) //nolint:errcheck
	return s, nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting and waits for requests in flight, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

type status struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", joinMethods(methods))
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s does not accept %s", r.URL.Path, r.Method))
	return false
}

func joinMethods(ms []string) string {
	out := ""
	for i, m := range ms {
		if i > 0 {
			out += ", "
		}
		out += m
	}
	return out
}

func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = errCode, msg
	writeJSON(w, code, e)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
