package metrics

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/capastan/capastan/classifier"
)

// Sources of predictions.
const (
	SourceKafka = "kafka"
	SourceHTTP  = "http"
)

// DefaultDriftWindow is how many recent predictions the drift watch
// compares with the training mix: enough that a PSI of noise stays well
// under 0.1 with three classes, few enough that a shift shows in minutes
// at a few records per second.
const DefaultDriftWindow = 10000

// Model is the model's metrics: identity, reloads, predictions and drift.
type Model struct {
	info        *prometheus.GaugeVec
	loaded      prometheus.Gauge
	reloads     *prometheus.CounterVec
	predictions *prometheus.CounterVec
	confidence  *prometheus.HistogramVec
	state       atomic.Pointer[modelState]
	drift       *drift
}

// modelState is what Observe needs of the model in use, swapped whole
// when the model changes.
type modelState struct {
	index map[string]int
	// pred[source][class] and conf[source] are pre-bound series.
	pred map[string][]prometheus.Counter
	conf map[string]prometheus.Observer
}

// NewModel registers the model metrics on reg; window is the drift
// window's size in predictions.
func NewModel(reg prometheus.Registerer, window int) *Model {
	f := factory{reg}
	m := &Model{
		info:        f.gaugeVec("model_info", "The model in use (always 1).", "name", "version", "sha256"),
		loaded:      f.gauge("model_loaded_timestamp_seconds", "When the model in use was loaded, in seconds since the epoch."),
		reloads:     f.counterVec("model_reloads_total", "Hot model reloads, by result.", "result"),
		predictions: f.counterVec("predictions_total", "Predictions, by label and source.", "label", "source"),
		confidence: f.histogramVec("prediction_confidence", "Probability of the predicted label.",
			[]float64{.35, .4, .45, .5, .55, .6, .65, .7, .75, .8, .85, .9, .95, .99}, "source"),
		drift: newDrift(window),
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	reg.MustRegister(m.drift)
	return m
}

// SetModel makes model the one the metrics describe: its info series, its
// classes for the prediction counters, and its training mix as the drift
// baseline (the drift window restarts).
func (m *Model) SetModel(model *classifier.Model) {
	meta := model.Metadata()
	m.info.Reset()
	m.info.WithLabelValues(meta.Name, meta.Version, model.SHA256()).Set(1)
	m.loaded.Set(float64(time.Now().UnixNano()) / 1e9)
	classes := model.Classes()
	st := &modelState{index: map[string]int{}, pred: map[string][]prometheus.Counter{}, conf: map[string]prometheus.Observer{}}
	for i, c := range classes {
		st.index[c] = i
	}
	for _, src := range []string{SourceKafka, SourceHTTP} {
		for _, c := range classes {
			st.pred[src] = append(st.pred[src], m.predictions.WithLabelValues(c, src))
		}
		st.conf[src] = m.confidence.WithLabelValues(src)
	}
	baseline := make([]float64, len(classes))
	for i, c := range classes {
		baseline[i] = float64(meta.TrainDocs[c])
	}
	m.drift.reset(classes, baseline)
	m.state.Store(st)
}

// Reloaded counts a hot reload's result.
func (m *Model) Reloaded(ok bool) {
	if ok {
		m.reloads.WithLabelValues("success").Inc()
	} else {
		m.reloads.WithLabelValues("failure").Inc()
	}
}

// Observe records one prediction of source. A label the model in use does
// not know (a record labeled by the previous model during a swap) is
// counted but kept out of the drift window.
func (m *Model) Observe(source, label string, confidence float64) {
	st := m.state.Load()
	if st == nil {
		return
	}
	i, ok := st.index[label]
	pred, okSrc := st.pred[source]
	if !ok || !okSrc {
		m.predictions.WithLabelValues(label, source).Inc()
		m.confidence.WithLabelValues(source).Observe(confidence)
		return
	}
	pred[i].Inc()
	st.conf[source].Observe(confidence)
	m.drift.add(label, i)
}

// Drift returns the drift window's population stability index and the
// share of each class in it (for tests and logs).
func (m *Model) Drift() (psi float64, share map[string]float64) { return m.drift.snapshot() }

// drift is a ring of the last predictions' classes with running counts.
// Scrapes compute the shares and PSI, so a prediction costs one short
// critical section.
type drift struct {
	shareDesc, psiDesc *prometheus.Desc

	mu       sync.Mutex
	classes  []string
	index    map[string]int
	baseline []float64 // training mix, sums to 1
	ring     []uint8
	next     int
	full     bool
	counts   []int
}

func newDrift(window int) *drift {
	if window < 1 {
		window = DefaultDriftWindow
	}
	return &drift{
		shareDesc: prometheus.NewDesc(Namespace+"_prediction_share", "Share of each label among the last predictions (the drift window).", []string{"label"}, nil),
		psiDesc: prometheus.NewDesc(Namespace+"_drift_psi",
			"Population stability index of the drift window's label mix against the training mix; 0 is no change, over 0.25 a large shift.", nil, nil),
		ring: make([]uint8, window),
	}
}

func (d *drift) reset(classes []string, trainDocs []float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.classes = classes
	d.index = map[string]int{}
	for i, c := range classes {
		d.index[c] = i
	}
	// A model without training counts (or one class with none) gets a
	// uniform baseline rather than an infinite PSI.
	total := 0.0
	for _, n := range trainDocs {
		total += n
	}
	d.baseline = make([]float64, len(classes))
	for i := range d.baseline {
		if total > 0 {
			d.baseline[i] = trainDocs[i] / total
		} else {
			d.baseline[i] = 1 / float64(len(classes))
		}
	}
	d.counts = make([]int, len(classes))
	d.next, d.full = 0, false
}

func (d *drift) add(label string, i int) {
	d.mu.Lock()
	// The index was taken from the state of the same model; a swap between
	// the two loads is caught by checking the class name.
	if i < len(d.classes) && d.classes[i] == label && i < 256 {
		if d.full {
			d.counts[d.ring[d.next]]--
		}
		d.ring[d.next] = uint8(i)
		d.counts[i]++
		d.next++
		if d.next == len(d.ring) {
			d.next, d.full = 0, true
		}
	}
	d.mu.Unlock()
}

// psiFloor keeps an empty class from making the index infinite: a class
// never seen counts as a share of 0.1%.
const psiFloor = 0.001

func (d *drift) snapshot() (float64, map[string]float64) {
	psi, share, _ := d.snapshotN()
	return psi, share
}

// MinDriftSample is how many predictions the drift window must hold before
// capastan_drift_psi is exported.
const MinDriftSample = 200

func (d *drift) snapshotN() (float64, map[string]float64, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.next
	if d.full {
		n = len(d.ring)
	}
	share := map[string]float64{}
	if n == 0 {
		return 0, share, 0
	}
	psi := 0.0
	for i, c := range d.classes {
		a := float64(d.counts[i]) / float64(n)
		share[c] = a
		a, e := math.Max(a, psiFloor), math.Max(d.baseline[i], psiFloor)
		psi += (a - e) * math.Log(a/e)
	}
	return psi, share, n
}

func (d *drift) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.shareDesc
	ch <- d.psiDesc
}

func (d *drift) Collect(ch chan<- prometheus.Metric) {
	psi, share, n := d.snapshotN()
	if n == 0 {
		// Nothing predicted yet: no share, and no PSI to alert on.
		return
	}
	for c, s := range share {
		ch <- prometheus.MustNewConstMetric(d.shareDesc, prometheus.GaugeValue, s, c)
	}
	// A handful of predictions says nothing about a shift; the index is
	// exported once the window holds enough of them.
	if n >= min(MinDriftSample, len(d.ring)) {
		ch <- prometheus.MustNewConstMetric(d.psiDesc, prometheus.GaugeValue, psi)
	}
}
