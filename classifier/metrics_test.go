package classifier

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

const metricsEps = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= metricsEps }

// confPairs expands a confusion matrix (gold rows, predicted columns) into
// gold/predicted pairs.
func confPairs(labels []string, conf [][]int) [][2]string {
	var out [][2]string
	for g, row := range conf {
		for p, n := range row {
			for i := 0; i < n; i++ {
				out = append(out, [2]string{labels[g], labels[p]})
			}
		}
	}
	return out
}

func TestEvaluatorReport(t *testing.T) {
	type cm = ClassMetrics
	cases := []struct {
		name     string
		labels   []string // NewEvaluator's labels
		conf     [][]int  // over labels, gold x predicted
		n        int
		accuracy float64
		macroF1  float64
		macroRec float64
		per      map[string]ClassMetrics
	}{
		{
			// gold\pred  neg neu pos | support
			// neg         3   1   1  |   5
			// neu         1   2   0  |   3
			// pos         0   1   3  |   4
			// column sums 4   4   4     N = 12, correct = 8
			// neg: P 3/4, R 3/5, F1 2*(3/4)(3/5)/(3/4+3/5) = 0.9/1.35 = 2/3
			// neu: P 2/4, R 2/3, F1 2*(1/2)(2/3)/(1/2+2/3) = (2/3)/(7/6) = 4/7
			// pos: P 3/4, R 3/4, F1 3/4
			// macro F1 (2/3+4/7+3/4)/3 = (56+48+63)/84/3 = 167/252
			// macro recall (3/5+2/3+3/4)/3 = (36+40+45)/60/3 = 121/180
			name:   "three-classes",
			labels: []string{"neg", "neu", "pos"},
			conf:   [][]int{{3, 1, 1}, {1, 2, 0}, {0, 1, 3}},
			n:      12, accuracy: 8.0 / 12, macroF1: 167.0 / 252, macroRec: 121.0 / 180,
			per: map[string]ClassMetrics{
				"neg": cm{3.0 / 4, 3.0 / 5, 2.0 / 3, 5},
				"neu": cm{2.0 / 4, 2.0 / 3, 4.0 / 7, 3},
				"pos": cm{3.0 / 4, 3.0 / 4, 3.0 / 4, 4},
			},
		},
		{
			// neu never occurs in the gold labels (predicted once):
			// gold\pred  neg neu pos
			// neg         2   1   0   support 3
			// neu         0   0   0   support 0  -> left out of the macro averages
			// pos         1   0   2   support 3
			// column sums 3   1   2   N = 6, correct = 4
			// neg: P 2/3, R 2/3, F1 2/3; neu: P 0/1 = 0, R 0, F1 0
			// pos: P 2/2 = 1, R 2/3, F1 2*(2/3)/(5/3) = 4/5
			// macro F1 (2/3+4/5)/2 = 11/15; macro recall (2/3+2/3)/2 = 2/3
			// mixed: never gold nor predicted; no effect at all.
			name:   "absent-classes",
			labels: []string{"neg", "neu", "pos", "mixed"},
			conf:   [][]int{{2, 1, 0, 0}, {0, 0, 0, 0}, {1, 0, 2, 0}, {0, 0, 0, 0}},
			n:      6, accuracy: 4.0 / 6, macroF1: 11.0 / 15, macroRec: 2.0 / 3,
			per: map[string]ClassMetrics{
				"neg":   cm{2.0 / 3, 2.0 / 3, 2.0 / 3, 3},
				"neu":   cm{0, 0, 0, 0},
				"pos":   cm{1, 2.0 / 3, 4.0 / 5, 3},
				"mixed": cm{0, 0, 0, 0},
			},
		},
		{
			// Perfect binary: everything 1.
			name:   "perfect",
			labels: []string{"a", "b"},
			conf:   [][]int{{5, 0}, {0, 2}},
			n:      7, accuracy: 1, macroF1: 1, macroRec: 1,
			per: map[string]ClassMetrics{"a": cm{1, 1, 1, 5}, "b": cm{1, 1, 1, 2}},
		},
		{
			// Always "a": P(a) = 5/7, R(a) = 1, F1(a) = 2*(5/7)/(12/7) = 10/12;
			// b never predicted: P 0 (no division by zero), R 0, F1 0.
			// macro F1 (5/6 + 0)/2 = 5/12; macro recall (1+0)/2 = 1/2.
			name:   "majority-only",
			labels: []string{"a", "b"},
			conf:   [][]int{{5, 0}, {2, 0}},
			n:      7, accuracy: 5.0 / 7, macroF1: 5.0 / 12, macroRec: 0.5,
			per: map[string]ClassMetrics{"a": cm{5.0 / 7, 1, 10.0 / 12, 5}, "b": cm{0, 0, 0, 2}},
		},
		{
			name:   "empty",
			labels: []string{"a", "b"},
			conf:   [][]int{{0, 0}, {0, 0}},
			n:      0,
			per:    map[string]ClassMetrics{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEvaluator(tc.labels)
			ps := confPairs(tc.labels, tc.conf)
			rand.New(rand.NewPCG(7, 7)).Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
			for _, p := range ps {
				e.Add(p[0], p[1])
			}
			r := e.Report()
			if r.N != tc.n || !near(r.Accuracy, tc.accuracy) || !near(r.MacroF1, tc.macroF1) || !near(r.MacroRecall, tc.macroRec) {
				t.Errorf("N %d acc %v macroF1 %v macroRecall %v; want %d %v %v %v",
					r.N, r.Accuracy, r.MacroF1, r.MacroRecall, tc.n, tc.accuracy, tc.macroF1, tc.macroRec)
			}
			if !slices.Equal(r.Labels, tc.labels) {
				t.Errorf("Labels %q, want %q", r.Labels, tc.labels)
			}
			for g := range tc.conf {
				if !slices.Equal(r.Confusion[g], tc.conf[g]) {
					t.Errorf("Confusion = %v, want %v", r.Confusion, tc.conf)
					break
				}
			}
			if tc.n > 0 && len(r.PerClass) != len(tc.per) {
				t.Errorf("PerClass has %d classes, want %d", len(r.PerClass), len(tc.per))
			}
			for name, want := range tc.per {
				got := r.PerClass[name]
				if !near(got.Precision, want.Precision) || !near(got.Recall, want.Recall) || !near(got.F1, want.F1) || got.Support != want.Support {
					t.Errorf("%s: %+v, want %+v", name, got, want)
				}
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("report does not encode (NaN?): %v", err)
			}
		})
	}
}

func TestEvaluatorNewLabels(t *testing.T) {
	e := NewEvaluator([]string{"neg", "pos"})
	e.Add("neu", "pos") // gold label the model lacks
	e.Add("pos", "other")
	r := e.Report()
	if want := []string{"neg", "pos", "neu", "other"}; !slices.Equal(r.Labels, want) {
		t.Fatalf("Labels %q, want %q", r.Labels, want)
	}
	if len(r.Confusion) != 4 || len(r.Confusion[0]) != 4 || r.Confusion[2][1] != 1 || r.Confusion[1][3] != 1 {
		t.Errorf("Confusion %v", r.Confusion)
	}
	if r.N != 2 || r.Accuracy != 0 {
		t.Errorf("N %d accuracy %v, want 2 and 0", r.N, r.Accuracy)
	}
}

// TestEvaluatorMerge: merging the evaluators of parts equals evaluating the
// whole, whatever label order each part met.
func TestEvaluatorMerge(t *testing.T) {
	labels := []string{"neg", "neu", "pos"}
	all := confPairs(labels, [][]int{{3, 1, 1}, {1, 2, 0}, {0, 1, 3}})
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	whole := NewEvaluator(labels)
	for _, p := range all {
		whole.Add(p[0], p[1])
	}
	want := whole.Report()

	merged := NewEvaluator(nil)
	for _, part := range [][][2]string{all[:4], all[4:5], {}, all[5:]} {
		e := NewEvaluator([]string{"pos"}) // a different first label per part
		for _, p := range part {
			e.Add(p[0], p[1])
		}
		merged.Merge(e)
	}
	got := merged.Report()
	if got.N != want.N || !near(got.Accuracy, want.Accuracy) || !near(got.MacroF1, want.MacroF1) || !near(got.MacroRecall, want.MacroRecall) {
		t.Errorf("merged %+v, whole %+v", got, want)
	}
	for name, w := range want.PerClass {
		g := got.PerClass[name]
		if !near(g.F1, w.F1) || !near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) || g.Support != w.Support {
			t.Errorf("%s: merged %+v, whole %+v", name, g, w)
		}
	}
	// Confusion cells by name.
	idx := func(r *Report, l string) int { return slices.Index(r.Labels, l) }
	for _, gl := range labels {
		for _, pl := range labels {
			if g, w := got.Confusion[idx(got, gl)][idx(got, pl)], want.Confusion[idx(want, gl)][idx(want, pl)]; g != w {
				t.Errorf("cell %s/%s: merged %d, whole %d", gl, pl, g, w)
			}
		}
	}
	// Merging twice doubles every count but no rate.
	merged.Merge(whole)
	if r := merged.Report(); r.N != 2*want.N || !near(r.Accuracy, want.Accuracy) {
		t.Errorf("after merging the whole again: N %d accuracy %v", r.N, r.Accuracy)
	}
}

func TestAmongAndClassIndices(t *testing.T) {
	m := trainOn(t, testConfig(nil), sentimentTrain, neutralTrain) // negative, neutral, positive
	idx, err := m.ClassIndices([]string{"positive", "negative"})
	if err != nil || !slices.Equal(idx, []int{2, 0}) {
		t.Fatalf("ClassIndices = %v, %v; want [2 0]", idx, err)
	}
	if _, err := m.ClassIndices([]string{"positive", "mixed"}); err == nil {
		t.Error("ClassIndices accepted an unknown class")
	}
	texts := append([]string{"", "the film runs two hours", "the director was born in spain", typicalReview}, roundTripTexts...)
	for _, s := range texts {
		p := m.Classify(s)
		cases := []struct {
			name    string
			allowed []int
		}{
			{"none", nil},
			{"neg-pos", []int{0, 2}},
			{"pos-neg", []int{2, 0}},
			{"neutral", []int{1}},
			{"all", []int{0, 1, 2}},
		}
		for _, tc := range cases {
			got := m.Among(&p, tc.allowed)
			if len(tc.allowed) == 0 {
				if got != p.Label {
					t.Errorf("%q %s: Among = %s, want the prediction %s", s, tc.name, got, p.Label)
				}
				continue
			}
			gi := slices.Index(m.Classes(), got)
			if !slices.Contains(tc.allowed, gi) {
				t.Errorf("%q %s: Among = %s, not an allowed class", s, tc.name, got)
				continue
			}
			for _, c := range tc.allowed {
				if p.Probs[c] > p.Probs[gi] {
					t.Errorf("%q %s: Among = %s (p=%v) but %s has p=%v", s, tc.name, got, p.Probs[gi], m.Classes()[c], p.Probs[c])
				}
			}
		}
	}
	// A text the 3-class model calls neutral is still answered negative or
	// positive when restricted.
	p := m.Classify("the film runs two hours")
	if p.Label != "neutral" {
		t.Fatalf("expected a neutral prediction, got %s", p.Label)
	}
	if got := m.Among(&p, []int{0, 2}); got == "neutral" {
		t.Error("Among returned an excluded class")
	}
}

func TestEvaluate(t *testing.T) {
	m := trainOn(t, testConfig(nil), sentimentTrain, neutralTrain)
	examples := toExamples(sentimentHeldOut)
	examples = append(examples, Example{Text: "the film runs two hours", Label: "positive"})
	among, _ := m.ClassIndices([]string{"negative", "positive"})
	free, restricted := m.Evaluate(examples, nil), m.Evaluate(examples, among)
	for _, r := range []*Report{free, restricted} {
		if r.N != len(examples) {
			t.Errorf("N = %d, want %d", r.N, len(examples))
		}
	}
	neu := slices.Index(restricted.Labels, "neutral")
	for g := range restricted.Confusion {
		if restricted.Confusion[g][neu] != 0 {
			t.Errorf("restricted evaluation predicted neutral: %v", restricted.Confusion)
		}
	}
	if free.Confusion[slices.Index(free.Labels, "positive")][neu] != 1 {
		t.Errorf("unrestricted evaluation should call the factual text neutral: %v", free.Confusion)
	}
	if !(restricted.Accuracy >= free.Accuracy) {
		t.Errorf("accuracy restricted %v < free %v on 2-class data", restricted.Accuracy, free.Accuracy)
	}
	// Gold neutral is absent, so the macro averages run over negative and
	// positive only: negative 3/3 right, positive 3/4 (the factual text is
	// called neutral): macro recall (1 + 3/4)/2 = 7/8.
	if free.PerClass["neutral"].Support != 0 || !near(free.MacroRecall, 7.0/8) {
		t.Errorf("free report: neutral support %d, macro recall %v; want 0 and 7/8", free.PerClass["neutral"].Support, free.MacroRecall)
	}
}

func TestFold(t *testing.T) {
	for _, k := range []int{2, 3, 5, 10} {
		counts := make([]int, k)
		for line := 1; line <= 2000; line++ {
			f := Fold(line, k)
			if f < 0 || f >= k {
				t.Fatalf("Fold(%d, %d) = %d", line, k, f)
			}
			if Fold(line, k) != f {
				t.Fatalf("Fold(%d, %d) not deterministic", line, k)
			}
			counts[f]++
		}
		for f, n := range counts {
			if n < 2000/k/2 || n > 2000/k*2 {
				t.Errorf("k=%d: fold %d has %d of 2000 lines: unbalanced %v", k, f, n, counts)
			}
		}
	}
}
