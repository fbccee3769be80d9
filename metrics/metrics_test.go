package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/capastan/capastan/models"
)

func TestDriftMovesWithTheLabelMix(t *testing.T) {
	model, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	train := model.Metadata().TrainDocs
	total := 0.0
	for _, n := range train {
		total += float64(n)
	}
	m := NewModel(prometheus.NewRegistry(), 1000)
	m.SetModel(model)
	if psi, share := m.Drift(); psi != 0 || len(share) != 0 {
		t.Fatalf("empty window: psi %v share %v, want 0 and none", psi, share)
	}
	// Traffic in the training mix: the index stays near 0.
	feed := func(want map[string]int) {
		counts := map[string]int{}
		for k, v := range want {
			counts[k] = v
		}
		for done := false; !done; {
			done = true
			for label, n := range counts {
				if n > 0 {
					m.Observe(SourceKafka, label, 0.9)
					counts[label] = n - 1
					done = false
				}
			}
		}
	}
	mix := map[string]int{}
	for c, n := range train {
		mix[c] = int(float64(n) / total * 1000)
	}
	feed(mix)
	calm, _ := m.Drift()
	if calm > 0.01 {
		t.Errorf("psi %.4f for traffic in the training mix, want < 0.01", calm)
	}
	// A flood of negative reviews fills the window: the index crosses the
	// "large shift" line of the alert.
	feed(map[string]int{"negative": 1000})
	flood, share := m.Drift()
	if flood < 0.25 || share["negative"] != 1 {
		t.Errorf("after a negative flood psi %.3f share %v, want psi > 0.25 and negative 1", flood, share)
	}
	// The window rolls: balanced traffic brings it back down.
	feed(mix)
	if back, _ := m.Drift(); back > 0.01 {
		t.Errorf("psi %.4f after the window rolled back to the training mix", back)
	}
}

func TestModelSeries(t *testing.T) {
	model, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := NewModel(reg, 10)
	m.SetModel(model)
	m.Observe(SourceHTTP, "positive", 0.8)
	m.Observe(SourceHTTP, "positive", 0.7)
	m.Observe(SourceKafka, "negative", 0.6)
	m.Observe(SourceKafka, "sarcastic", 0.5) // unknown to the model: counted, not in the window
	m.Reloaded(false)
	meta := model.Metadata()
	want := `
# HELP capastan_model_info The model in use (always 1).
# TYPE capastan_model_info gauge
capastan_model_info{name="` + meta.Name + `",sha256="` + model.SHA256() + `",version="` + meta.Version + `"} 1
# HELP capastan_model_reloads_total Hot model reloads, by result.
# TYPE capastan_model_reloads_total counter
capastan_model_reloads_total{result="failure"} 1
capastan_model_reloads_total{result="success"} 0
# HELP capastan_prediction_share Share of each label among the last predictions (the drift window).
# TYPE capastan_prediction_share gauge
capastan_prediction_share{label="negative"} 0.3333333333333333
capastan_prediction_share{label="neutral"} 0
capastan_prediction_share{label="positive"} 0.6666666666666666
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "capastan_model_info", "capastan_model_reloads_total", "capastan_prediction_share"); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		label, source string
		want          float64
	}{{"positive", "http", 2}, {"negative", "kafka", 1}, {"sarcastic", "kafka", 1}, {"neutral", "http", 0}} {
		if got := testutil.ToFloat64(m.predictions.WithLabelValues(c.label, c.source)); got != c.want {
			t.Errorf("predictions_total{label=%q,source=%q} = %v, want %v", c.label, c.source, got, c.want)
		}
	}
}

func TestSetLagForgetsLostPartitions(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewStream(reg)
	s.SetLag([]Lag{{"reviews", 0, 5}, {"reviews", 1, 7}})
	s.SetLag([]Lag{{"reviews", 1, 3}})
	want := `
# HELP capastan_consumer_lag_records Committed offset behind the log end, per partition, from the broker.
# TYPE capastan_consumer_lag_records gauge
capastan_consumer_lag_records{partition="1",topic="reviews"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "capastan_consumer_lag_records"); err != nil {
		t.Error(err)
	}
}

func TestNewSetGathers(t *testing.T) {
	s := New()
	ready := false
	s.SetReadiness(func() bool { return ready })
	get := func() float64 {
		mfs, err := s.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "capastan_ready" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no capastan_ready")
		return 0
	}
	if get() != 0 {
		t.Error("capastan_ready 1 while not ready")
	}
	ready = true
	if get() != 1 {
		t.Error("capastan_ready 0 while ready")
	}
}
