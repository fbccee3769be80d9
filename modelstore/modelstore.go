// Package modelstore holds the model a running service uses and replaces
// it while the service runs: on SIGHUP, or when the model file changes.
// A new file is loaded and verified in full (format, checksum, classes)
// before it is swapped in atomically; readers that took the old model
// finish with it. A bad file is rejected, logged and counted, and the old
// model keeps serving.
package modelstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capastan/capastan/classifier"
)

// Store holds the model in use. Current is one atomic load, cheap enough
// for every request and every batch.
type Store struct {
	path string
	load func(path string) (*classifier.Model, error)
	log  *slog.Logger
	// onChange and onResult are told of every swap and of every reload's
	// outcome (the metrics).
	onChange func(*classifier.Model)
	onResult func(ok bool)

	cur atomic.Pointer[classifier.Model]
	mu  sync.Mutex // one reload at a time
	// seen is the file's state when last loaded or rejected, so the watch
	// tries a file once per change.
	seen fileState
}

// Options configures New; the zero value is valid.
type Options struct {
	// Load reads a model file; default classifier.Load.
	Load func(path string) (*classifier.Model, error)
	Log  *slog.Logger
	// OnChange is called with each model swapped in (and with the first).
	OnChange func(*classifier.Model)
	// OnResult is called after each reload with its outcome.
	OnResult func(ok bool)
}

// New returns a store serving initial, which was loaded from path ("" for
// a model with no file, such as the built-in one: Reload then fails).
func New(path string, initial *classifier.Model, opts Options) *Store {
	if opts.Load == nil {
		opts.Load = classifier.Load
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Store{path: path, load: opts.Load, log: opts.Log, onChange: opts.OnChange, onResult: opts.OnResult}
	s.cur.Store(initial)
	if path != "" {
		s.seen, _ = stat(path)
	}
	if s.onChange != nil {
		s.onChange(initial)
	}
	return s
}

// Current returns the model in use.
func (s *Store) Current() *classifier.Model { return s.cur.Load() }

// ErrNoFile is Reload's error for a store whose model has no file.
var ErrNoFile = errors.New("the model in use is the built-in one: there is no file to reload; set CAPASTAN_MODEL")

// Reload loads the file again and swaps it in if it is valid and has the
// same classes as the model in use (the output's scores are keyed by
// class, so a change of classes needs a deliberate restart). It returns
// why a file was rejected; the model in use is then unchanged.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path == "" {
		return ErrNoFile
	}
	st, _ := stat(s.path)
	s.seen = st
	err := s.reload()
	if s.onResult != nil {
		s.onResult(err == nil)
	}
	old := s.cur.Load()
	if err != nil {
		s.log.Error("model reload rejected; the model in use keeps serving", "path", s.path, "err", err,
			"model", old.Metadata().Name, "model_sha256", old.SHA256())
		return err
	}
	return nil
}

func (s *Store) reload() error {
	m, err := s.load(s.path)
	if err != nil {
		return err
	}
	old := s.cur.Load()
	if !slices.Equal(m.Classes(), old.Classes()) {
		return fmt.Errorf("model %s: classes %q differ from the model in use's %q; restart the service to change classes",
			s.path, m.Classes(), old.Classes())
	}
	// A last check that the model answers: a probability for every class,
	// summing to 1.
	p := m.Classify("capastan model check: this is fine")
	sum := 0.0
	for _, v := range p.Probs {
		sum += v
	}
	if len(p.Probs) != len(old.Classes()) || sum < 0.999 || sum > 1.001 {
		return fmt.Errorf("model %s: a test classification gave probabilities %v", s.path, p.Probs)
	}
	if m.SHA256() == old.SHA256() {
		s.log.Info("model file reloaded; it is the model already in use", "path", s.path, "model_sha256", m.SHA256())
		return nil
	}
	s.cur.Store(m)
	if s.onChange != nil {
		s.onChange(m)
	}
	meta := m.Metadata()
	s.log.Info("model swapped", "path", s.path, "model", meta.Name, "model_version", meta.Version, "model_sha256", m.SHA256(),
		"previous_sha256", old.SHA256())
	return nil
}

// Watch reloads on every value of hup (SIGHUP) and, when interval > 0,
// when the file at the path changes, until ctx ends. A change is acted on
// once the file has stayed the same for one interval, so a file being
// copied in place is not read half-written.
func (s *Store) Watch(ctx context.Context, hup <-chan os.Signal, interval time.Duration) {
	var tick <-chan time.Time
	if interval > 0 && s.path != "" {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	var pending fileState
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			s.log.Info("SIGHUP: reloading the model", "path", s.path)
			if err := s.Reload(); errors.Is(err, ErrNoFile) {
				s.log.Warn("SIGHUP ignored", "reason", err.Error())
			}
		case <-tick:
			st, err := stat(s.path)
			if err != nil {
				// Gone for now (being replaced): wait for it to come back.
				continue
			}
			s.mu.Lock()
			seen := s.seen
			s.mu.Unlock()
			switch {
			case st == seen:
				pending = fileState{}
			case st != pending:
				pending = st // changed: wait one more interval
			default:
				s.log.Info("model file changed: reloading", "path", s.path)
				s.Reload()
				pending = fileState{}
			}
		}
	}
}

// fileState is what tells a changed file: size and modification time,
// through symlinks (a Kubernetes ConfigMap or volume swaps a link).
type fileState struct {
	size  int64
	mtime time.Time
}

func stat(path string) (fileState, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileState{}, err
	}
	return fileState{size: fi.Size(), mtime: fi.ModTime()}, nil
}
