package consumer

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/metrics"
)

// own adds or removes partitions from the set this worker reports lag for.
func (w *Worker) own(ps map[string][]int32, owned bool) {
	for t, parts := range ps {
		for _, p := range parts {
			k := t + "\x00" + strconv.Itoa(int(p))
			if owned {
				w.owned.Store(k, struct{}{})
			} else {
				w.owned.Delete(k)
			}
		}
	}
}

// reportLag sets capastan_consumer_lag_records for the partitions this
// worker owns, every LagInterval until ctx ends. Each worker reports only
// its own partitions, so summing over workers counts each partition once.
//
// It is also the stall watchdog: when every check for StallTimeout finds
// lag on the owned partitions and the client fetched nothing in between,
// it calls stalled (once) so the worker replaces its client.
func (w *Worker) reportLag(ctx context.Context, cl *kgo.Client, stalled func()) {
	if w.cfg.LagInterval <= 0 {
		return
	}
	adm := kadm.NewClient(cl)
	t := time.NewTicker(w.cfg.LagInterval)
	defer t.Stop()
	defer w.metrics.SetLag(nil)
	var since time.Time // first check of the current stall
	lastFetched := w.fetched.Load()
	for {
		lag, ok := w.updateLag(ctx, adm)
		fetched := w.fetched.Load()
		switch {
		case !ok || lag == 0 || fetched != lastFetched:
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		case w.cfg.StallTimeout > 0 && time.Since(since) >= w.cfg.StallTimeout:
			w.log.Error("no record fetched while the partitions have lag; replacing the Kafka client",
				"lag", lag, "stalled_for", time.Since(since).Round(time.Second))
			stalled()
			return
		}
		lastFetched = fetched
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// updateLag sets the lag gauge and returns the owned partitions' total
// lag, and false when the broker could not be asked.
func (w *Worker) updateLag(ctx context.Context, adm *kadm.Client) (int64, bool) {
	qctx, cancel := context.WithTimeout(ctx, max(w.cfg.LagInterval, 5*time.Second))
	defer cancel()
	lags, err := adm.Lag(qctx, w.cfg.Group)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Debug("consumer lag query failed", "err", err)
		}
		return 0, false
	}
	var out []metrics.Lag
	var total int64
	for _, gl := range lags {
		for _, l := range gl.Lag.Sorted() {
			if l.Err != nil || l.Lag < 0 {
				continue
			}
			if _, ok := w.owned.Load(l.Topic + "\x00" + strconv.Itoa(int(l.Partition))); ok {
				out = append(out, metrics.Lag{Topic: l.Topic, Partition: l.Partition, Records: l.Lag})
				total += l.Lag
			}
		}
	}
	w.metrics.SetLag(out)
	return total, true
}
