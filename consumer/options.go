package consumer

import (
	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/metrics"
)

// Option changes how New builds a worker; each says what it overrides.
type Option func(*Worker)

// WithModelSource makes the worker ask source for the model at the start
// of every batch, instead of using New's model for its whole life: a hot
// reload (modelstore) takes effect at the next batch, and the records of
// a batch in flight all finish on the model it started with. Each labeled
// record names the model that labeled it.
func WithModelSource(source func() *classifier.Model) Option {
	return func(w *Worker) { w.models = source }
}

// WithMetrics records the worker's metrics on set's Stream and Model
// series instead of a private, unexported registry.
func WithMetrics(set *metrics.Set) Option {
	return func(w *Worker) { w.metrics, w.predictions = set.Stream, set.Model }
}
