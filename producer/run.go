package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// RunOptions drives Run: what to read, how fast and for how long.
type RunOptions struct {
	Source SourceOptions
	// Rate paces sending to this many records per second; 0 sends as fast
	// as the cluster acknowledges.
	Rate float64
	// Count stops after this many records; 0 means no limit.
	Count int64
	// Duration stops after this long; 0 means no limit.
	Duration time.Duration
	// Loop reads the input again from the start at its end, with a
	// "#<pass>" suffix on the review ids of later passes so they stay
	// unique. It needs Count or Duration (or an interrupt) to end.
	Loop bool
	// Strict stops at the first bad input line instead of skipping it.
	Strict bool
	// MaxBadSamples bounds how many bad lines the summary keeps (all are
	// counted). Default 20.
	MaxBadSamples int
	// Progress, when set, is called about twice a second.
	Progress func(Summary)
	// Batch hands records to the producer this many at a time, which is
	// much cheaper per record. Keep it 1 (the default) for input that
	// arrives slowly, such as a terminal, so no record waits for others;
	// Rate > 0 forces 1.
	Batch int
}

// Summary is what a run did.
type Summary struct {
	Stats
	BadLines  int64
	BadSample []*LineError
	Passes    int
	Elapsed   time.Duration
}

// ErrBadInput is returned (wrapped) by a Strict run that met a bad line.
var ErrBadInput = errors.New("bad input line")

var errDone = errors.New("done")

// Run reads events from open (called again for each pass when looping)
// and sends them with p, then closes p. The error is nil only when every
// record sent was acknowledged (and, with Strict, no line was bad).
func Run(ctx context.Context, p *Producer, open func() (io.ReadCloser, error), opt RunOptions) (Summary, error) {
	if opt.MaxBadSamples == 0 {
		opt.MaxBadSamples = 20
	}
	if opt.Loop && opt.Count == 0 && opt.Duration == 0 {
		return Summary{}, errors.New("producer: looping needs a count or a duration")
	}
	start := time.Now()
	var sum Summary
	if opt.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Duration)
		defer cancel()
	}
	lastProgress := start
	report := func() {
		if opt.Progress != nil && time.Since(lastProgress) > 500*time.Millisecond {
			lastProgress = time.Now()
			s := sum
			s.Stats, s.Elapsed = p.Stats(), time.Since(start)
			opt.Progress(s)
		}
	}
	var sent int64
	batch := opt.Batch
	if batch < 1 || opt.Rate > 0 {
		batch = 1
	}
	pending := make([]Message, 0, batch)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := p.SendBatch(ctx, pending)
		pending = make([]Message, 0, batch) // the producer keeps the old slice's records
		report()
		return err
	}
	send := func(r Record) error {
		if opt.Count > 0 && sent >= opt.Count {
			return errDone
		}
		if opt.Rate > 0 {
			// Pace against the start, not the previous record, so short
			// stalls are caught up and the mean rate holds.
			due := start.Add(time.Duration(float64(sent) / opt.Rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		pending = append(pending, Message{Key: r.Key, Value: r.Value})
		sent++
		if len(pending) >= batch {
			return flush()
		}
		return nil
	}
	bad := func(e *LineError) error {
		sum.BadLines++
		if len(sum.BadSample) < opt.MaxBadSamples {
			sum.BadSample = append(sum.BadSample, e)
		}
		if opt.Strict {
			return fmt.Errorf("%w: %v", ErrBadInput, e)
		}
		return nil
	}
	var runErr error
	for pass := 0; ; pass++ {
		rc, err := open()
		if err != nil {
			runErr = err
			break
		}
		suffix := ""
		if pass > 0 {
			suffix = fmt.Sprintf("#%d", pass)
		}
		sum.Passes++
		err = ReadRecords(rc, opt.Source, suffix, send, bad)
		rc.Close()
		if ferr := flush(); err == nil || errors.Is(err, errDone) {
			if ferr != nil {
				err = ferr
			}
		}
		if err != nil {
			if !errors.Is(err, errDone) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				runErr = err
			}
			break
		}
		if !opt.Loop || ctx.Err() != nil {
			break
		}
		if pass == 0 && sent == 0 {
			runErr = errors.New("producer: the input has no valid event to loop over")
			break
		}
	}
	closeErr := p.Close()
	sum.Stats, sum.Elapsed = p.Stats(), time.Since(start)
	if runErr == nil {
		runErr = closeErr
	}
	return sum, runErr
}
