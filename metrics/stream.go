package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Stream is the worker's metrics.
type Stream struct {
	Consumed       prometheus.Counter
	Classified     prometheus.Counter
	Produced       prometheus.Counter
	deadLettered   *prometheus.CounterVec
	BatchesRetried prometheus.Counter
	// Stalls and Failures count Kafka clients replaced by the stall
	// watchdog and after a failure.
	Stalls, Failures prometheus.Counter
	BatchRecords     prometheus.Histogram
	// Process, Produce and Commit time one batch's stages.
	Process, Produce, Commit prometheus.Observer
	EndToEnd                 prometheus.Histogram
	lag                      *prometheus.GaugeVec
	Committed, Aborted       prometheus.Counter
	Assigned, Revoked, Lost  prometheus.Counter
	Buffered                 prometheus.Gauge
}

// NewStream registers the worker's metrics on reg.
func NewStream(reg prometheus.Registerer) *Stream {
	f := factory{reg}
	stage := f.histogramVec("stage_duration_seconds", "Time per batch and stage: process (decode and classify), produce (write and acknowledge), commit (offsets or transaction).",
		prometheus.ExponentialBuckets(0.0005, 2.5, 12), "stage")
	tx := f.counterVec("transactions_total", "Exactly-once transactions, by outcome.", "outcome")
	reb := f.counterVec("rebalances_total", "Partition assignment changes, by event.", "event")
	restarts := f.counterVec("client_restarts_total", "Kafka clients replaced, by reason: stall (the watchdog) or failure.", "reason")
	return &Stream{
		Consumed:       f.counter("records_consumed_total", "Records read from the input topic."),
		Classified:     f.counter("records_classified_total", "Records decoded and classified."),
		Produced:       f.counter("records_produced_total", "Labeled records acknowledged by the broker (exactly-once: committed)."),
		deadLettered:   f.counterVec("records_dead_lettered_total", "Records written to the dead-letter topic, by reason.", "reason"),
		BatchesRetried: f.counter("batches_retried_total", "Batches given up and processed again."),
		Stalls:         restarts.WithLabelValues("stall"),
		Failures:       restarts.WithLabelValues("failure"),
		BatchRecords:   f.histogram("batch_records", "Records per batch.", prometheus.ExponentialBuckets(1, 4, 8)),
		Process:        stage.WithLabelValues("process"),
		Produce:        stage.WithLabelValues("produce"),
		Commit:         stage.WithLabelValues("commit"),
		EndToEnd: f.histogram("end_to_end_latency_seconds", "From an input record's timestamp to its labeled record's acknowledgement.",
			prometheus.ExponentialBuckets(0.001, 2.5, 14)),
		lag:       f.gaugeVec("consumer_lag_records", "Committed offset behind the log end, per partition, from the broker.", "topic", "partition"),
		Committed: tx.WithLabelValues("committed"),
		Aborted:   tx.WithLabelValues("aborted"),
		Assigned:  reb.WithLabelValues("assigned"),
		Revoked:   reb.WithLabelValues("revoked"),
		Lost:      reb.WithLabelValues("lost"),
		Buffered:  f.gauge("buffered_records", "Records fetched and not yet committed."),
	}
}

// DeadLettered counts one dead-lettered record with its reason code.
func (s *Stream) DeadLettered(reason string) { s.deadLettered.WithLabelValues(reason).Inc() }

// Lag is one partition's lag.
type Lag struct {
	Topic     string
	Partition int32
	Records   int64
}

// SetLag replaces every partition's lag with lags: partitions this worker
// no longer owns disappear instead of freezing at their last value.
func (s *Stream) SetLag(lags []Lag) {
	s.lag.Reset()
	for _, l := range lags {
		s.lag.WithLabelValues(l.Topic, strconv.Itoa(int(l.Partition))).Set(float64(l.Records))
	}
}

// factory makes the package's metrics, named under Namespace, and
// registers them on reg (promauto, which panics on a clash as
// MustRegister does).
type factory struct{ reg prometheus.Registerer }

func (f factory) counter(name, help string) prometheus.Counter {
	return promauto.With(f.reg).NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return promauto.With(f.reg).NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	return promauto.With(f.reg).NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return promauto.With(f.reg).NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	return promauto.With(f.reg).NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets})
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return promauto.With(f.reg).NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
}
