package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress prints a one-line status to a terminal every half second, and
// nothing when the output is a file or pipe (CI logs stay clean).
type progress struct {
	w     io.Writer
	on    bool
	start time.Time
	last  time.Time
	docs  int
	bytes int64
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) add(n int) {
	p.docs++
	p.bytes += int64(n)
	if !p.on || p.docs%1024 != 0 {
		return
	}
	if now := time.Now(); now.Sub(p.last) > 500*time.Millisecond {
		p.last = now
		p.print()
	}
}

func (p *progress) print() {
	sec := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%d documents, %.1f MB, %.1f MB/s   ", p.docs, float64(p.bytes)/1e6, float64(p.bytes)/1e6/sec)
}

func (p *progress) done() {
	if p.on {
		p.print()
		fmt.Fprintln(p.w)
	}
}
