package modelstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/capastan/capastan/classifier"
)

// train builds a small model over classes, named name.
func train(t *testing.T, name string, classes ...string) *classifier.Model {
	t.Helper()
	cfg := classifier.DefaultConfig()
	cfg.Classes = nil
	tr, err := classifier.NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string][]string{
		"negative": {"awful broken waste", "terrible and slow", "never again, bad"},
		"neutral":  {"it is a phone", "arrived on tuesday", "the box is blue"},
		"positive": {"great value, love it", "excellent and fast", "best purchase"},
		"spam":     {"buy cheap pills now", "click this link", "win money"},
	}
	for _, c := range classes {
		for _, x := range texts[c] {
			if err := tr.Add(x, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := tr.Model(classifier.Metadata{Name: name, Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// save writes m to path the way a deployment should: Model.Save writes a
// temporary file beside it and renames it into place, so a reader never
// sees half a file.
func save(t *testing.T, m *classifier.Model, path string) {
	t.Helper()
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
}

type results struct {
	mu      sync.Mutex
	ok, bad int
	changes []string
}

func newStore(t *testing.T, path string, initial *classifier.Model, r *results, log *bytes.Buffer) *Store {
	return New(path, initial, Options{
		Log: slog.New(slog.NewTextHandler(log, nil)),
		OnChange: func(m *classifier.Model) {
			r.mu.Lock()
			r.changes = append(r.changes, m.Metadata().Name)
			r.mu.Unlock()
		},
		OnResult: func(ok bool) {
			r.mu.Lock()
			if ok {
				r.ok++
			} else {
				r.bad++
			}
			r.mu.Unlock()
		},
	})
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.cpst")
	v1 := train(t, "v1", "negative", "neutral", "positive")
	save(t, v1, path)
	var r results
	var log bytes.Buffer
	s := newStore(t, path, v1, &r, &log)
	v2 := train(t, "v2", "negative", "neutral", "positive")
	v2 = v2.WithMetadata(classifier.Metadata{Name: "v2", Version: "2"})

	steps := []struct {
		name    string
		write   func()
		wantErr bool
		want    string // name of the model in use after
	}{
		{"same file", func() {}, false, "v1"},
		{"new model", func() { save(t, v2, path) }, false, "v2"},
		{"truncated file", func() {
			b, _ := v1.MarshalBinary()
			os.WriteFile(path, b[:len(b)/2], 0o644)
		}, true, "v2"},
		{"not a model", func() { os.WriteFile(path, []byte("hello"), 0o644) }, true, "v2"},
		{"other classes", func() { save(t, train(t, "v3", "positive", "spam"), path) }, true, "v2"},
		{"missing file", func() { os.Remove(path) }, true, "v2"},
		{"back to v1", func() { save(t, v1, path) }, false, "v1"},
	}
	for _, st := range steps {
		st.write()
		err := s.Reload()
		if (err != nil) != st.wantErr {
			t.Errorf("%s: Reload() = %v, want error %v", st.name, err, st.wantErr)
		}
		if got := s.Current().Metadata().Name; got != st.want {
			t.Errorf("%s: model in use %q, want %q", st.name, got, st.want)
		}
	}
	if r.ok != 3 || r.bad != 4 {
		t.Errorf("results ok=%d bad=%d, want 3 and 4", r.ok, r.bad)
	}
	if want := []string{"v1", "v2", "v1"}; len(r.changes) != 3 || r.changes[1] != "v2" || r.changes[2] != "v1" {
		t.Errorf("changes %v, want %v", r.changes, want)
	}
	if !bytes.Contains(log.Bytes(), []byte("model reload rejected")) {
		t.Errorf("no log line for a rejected file:\n%s", log.String())
	}
}

func TestReloadWithoutFile(t *testing.T) {
	var r results
	var log bytes.Buffer
	s := newStore(t, "", train(t, "builtin", "negative", "positive"), &r, &log)
	if err := s.Reload(); !errors.Is(err, ErrNoFile) {
		t.Errorf("Reload() = %v, want ErrNoFile", err)
	}
}

// watched saves a model "v1" to a fresh file and returns the file's path
// and a store on it, with what the store reports.
func watched(t *testing.T) (string, *Store, *results, *bytes.Buffer) {
	path := filepath.Join(t.TempDir(), "model.cpst")
	v1 := train(t, "v1", "negative", "positive")
	save(t, v1, path)
	var r results
	var log bytes.Buffer
	return path, newStore(t, path, v1, &r, &log), &r, &log
}

func TestWatch(t *testing.T) {
	path, s, r, log := watched(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	go s.Watch(ctx, hup, 20*time.Millisecond)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, log.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// A changed file is picked up without a signal.
	v2 := train(t, "v2", "negative", "positive").WithMetadata(classifier.Metadata{Name: "v2"})
	time.Sleep(10 * time.Millisecond) // a distinct modification time
	save(t, v2, path)
	waitFor("the watch to load v2", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return s.Current().Metadata().Name == "v2" && r.ok == 1
	})
	// SIGHUP reloads even when the file looks unchanged.
	r.mu.Lock()
	before := r.ok
	r.mu.Unlock()
	hup <- os.Interrupt
	waitFor("SIGHUP to reload", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.ok == before+1 })
	// A bad file is tried once, not at every tick. Renamed into place, as
	// a deployment does: written in place, the watch could catch it empty
	// and then full, two files to reject.
	if err := os.WriteFile(path+".tmp", []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	waitFor("the bad file to be rejected", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.bad == 1 })
	time.Sleep(200 * time.Millisecond)
	r.mu.Lock()
	bad := r.bad
	r.mu.Unlock()
	if bad != 1 || s.Current().Metadata().Name != "v2" {
		t.Errorf("bad file: %d rejections and model %q, want 1 and v2", bad, s.Current().Metadata().Name)
	}
}

// TestWatchFileGone: a model file that disappears (a deployment deleting
// it before it copies the new one in) is neither an error nor a reload;
// the old model keeps serving, and the file that comes back is loaded.
func TestWatchFileGone(t *testing.T) {
	path, s, r, log := watched(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { s.Watch(ctx, nil, 20*time.Millisecond); close(done) }()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // ten ticks with no file
	r.mu.Lock()
	ok, bad := r.ok, r.bad
	r.mu.Unlock()
	if ok != 0 || bad != 0 || s.Current().Metadata().Name != "v1" {
		t.Fatalf("file gone: %d loads, %d rejections, model %q; want none and v1; log:\n%s", ok, bad, s.Current().Metadata().Name, log.String())
	}
	v2 := train(t, "v2", "negative", "positive").WithMetadata(classifier.Metadata{Name: "v2"})
	save(t, v2, path)
	// The swap is visible before its result is reported: wait for both.
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		ok, bad = r.ok, r.bad
		r.mu.Unlock()
		if s.Current().Metadata().Name == "v2" && ok+bad > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file that came back was not loaded; log:\n%s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // five more ticks: no further reload
	r.mu.Lock()
	ok, bad = r.ok, r.bad
	r.mu.Unlock()
	if ok != 1 || bad != 0 {
		t.Errorf("after the file came back: %d loads, %d rejections; want 1 and 0", ok, bad)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}

// TestConcurrentReaders swaps models while readers classify: each reader
// always has a whole model (the race detector checks the rest).
func TestConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.cpst")
	a := train(t, "a", "negative", "positive")
	b := train(t, "b", "negative", "positive").WithMetadata(classifier.Metadata{Name: "b"})
	save(t, a, path)
	var r results
	var log bytes.Buffer
	s := newStore(t, path, a, &r, &log)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var classified atomic.Int64
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				m := s.Current()
				if p := m.Classify("great value"); len(p.Probs) != 2 {
					t.Error("a reader got a broken model")
					return
				}
				classified.Add(1)
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if i%2 == 0 {
			save(t, b, path)
		} else {
			save(t, a, path)
		}
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if classified.Load() == 0 {
		t.Error("the readers classified nothing")
	}
}
