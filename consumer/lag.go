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
func (w *Worker) reportLag(ctx context.Context, cl *kgo.Client) {
	if w.cfg.LagInterval <= 0 {
		return
	}
	adm := kadm.NewClient(cl)
	t := time.NewTicker(w.cfg.LagInterval)
	defer t.Stop()
	defer w.metrics.SetLag(nil)
	for {
		w.updateLag(ctx, adm)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Worker) updateLag(ctx context.Context, adm *kadm.Client) {
	qctx, cancel := context.WithTimeout(ctx, max(w.cfg.LagInterval, 5*time.Second))
	defer cancel()
	lags, err := adm.Lag(qctx, w.cfg.Group)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Debug("consumer lag query failed", "err", err)
		}
		return
	}
	var out []metrics.Lag
	for _, gl := range lags {
		for _, l := range gl.Lag.Sorted() {
			if l.Err != nil || l.Lag < 0 {
				continue
			}
			if _, ok := w.owned.Load(l.Topic + "\x00" + strconv.Itoa(int(l.Partition))); ok {
				out = append(out, metrics.Lag{Topic: l.Topic, Partition: l.Partition, Records: l.Lag})
			}
		}
	}
	w.metrics.SetLag(out)
}
