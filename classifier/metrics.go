package classifier

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
)

// ClassMetrics are the one-vs-rest figures of one class.
type ClassMetrics struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Report is an evaluation: accuracy, macro-F1, macro-averaged recall (the
// SemEval-2017 Task 4 metric), per-class figures and the confusion matrix.
// Macro averages run over the classes that occur in the gold labels, so a
// 3-class model scored on 2-class data is not charged for the absent class.
type Report struct {
	N           int                     `json:"n"`
	Accuracy    float64                 `json:"accuracy"`
	MacroF1     float64                 `json:"macro_f1"`
	MacroRecall float64                 `json:"macro_recall"`
	PerClass    map[string]ClassMetrics `json:"per_class"`
	// Labels orders the confusion matrix: Confusion[gold][predicted].
	Labels    []string `json:"labels"`
	Confusion [][]int  `json:"confusion"`
}

// Evaluator accumulates gold/predicted pairs.
type Evaluator struct {
	labels []string
	idx    map[string]int
	conf   [][]int
}

// NewEvaluator starts with labels (the model's classes); labels met later
// are appended.
func NewEvaluator(labels []string) *Evaluator {
	e := &Evaluator{idx: map[string]int{}}
	for _, l := range labels {
		e.index(l)
	}
	return e
}

func (e *Evaluator) index(l string) int {
	if i, ok := e.idx[l]; ok {
		return i
	}
	i := len(e.labels)
	e.idx[l] = i
	e.labels = append(e.labels, l)
	for r := range e.conf {
		e.conf[r] = append(e.conf[r], 0)
	}
	e.conf = append(e.conf, make([]int, len(e.labels)))
	return i
}

// Add records one decision.
func (e *Evaluator) Add(gold, predicted string) {
	g := e.index(gold)
	p := e.index(predicted)
	e.conf[g][p]++
}

// Merge adds another evaluator's counts (cross-validation folds).
func (e *Evaluator) Merge(o *Evaluator) {
	for g, row := range o.conf {
		for p, n := range row {
			if n > 0 {
				gi, pi := e.index(o.labels[g]), e.index(o.labels[p])
				e.conf[gi][pi] += n
			}
		}
	}
}

// Report computes the figures.
func (e *Evaluator) Report() *Report {
	k := len(e.labels)
	r := &Report{PerClass: map[string]ClassMetrics{}, Labels: append([]string(nil), e.labels...)}
	r.Confusion = make([][]int, k)
	correct := 0
	colSum := make([]int, k)
	for g := 0; g < k; g++ {
		r.Confusion[g] = append([]int(nil), e.conf[g]...)
		for p := 0; p < k; p++ {
			r.N += e.conf[g][p]
			colSum[p] += e.conf[g][p]
		}
		correct += e.conf[g][g]
	}
	if r.N == 0 {
		return r
	}
	r.Accuracy = float64(correct) / float64(r.N)
	present := 0
	for c := 0; c < k; c++ {
		support := 0
		for p := 0; p < k; p++ {
			support += e.conf[c][p]
		}
		tp := e.conf[c][c]
		m := ClassMetrics{Support: support}
		if colSum[c] > 0 {
			m.Precision = float64(tp) / float64(colSum[c])
		}
		if support > 0 {
			m.Recall = float64(tp) / float64(support)
		}
		if m.Precision+m.Recall > 0 {
			m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
		}
		r.PerClass[e.labels[c]] = m
		if support > 0 {
			present++
			r.MacroF1 += m.F1
			r.MacroRecall += m.Recall
		}
	}
	r.MacroF1 /= float64(present)
	r.MacroRecall /= float64(present)
	return r
}

// Among restricts a prediction to the given class indices: the most
// probable of them wins. It answers "negative or positive?" with a 3-class
// model on 2-class data. An empty set leaves the prediction as it is.
func (m *Model) Among(p *Prediction, allowed []int) string {
	if len(allowed) == 0 {
		return p.Label
	}
	best := allowed[0]
	for _, c := range allowed[1:] {
		if p.Probs[c] > p.Probs[best] {
			best = c
		}
	}
	return m.classes[best]
}

// ClassIndices maps class names to indices, failing on unknown names.
func (m *Model) ClassIndices(names []string) ([]int, error) {
	var out []int
	for _, n := range names {
		found := false
		for i, c := range m.classes {
			if c == n {
				out = append(out, i)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("class %q is not one of the model's classes %q", n, m.classes)
		}
	}
	return out, nil
}

// Evaluate scores the model on labeled examples.
func (m *Model) Evaluate(examples []Example, among []int) *Report {
	e := NewEvaluator(m.classes)
	var p Prediction
	for _, ex := range examples {
		m.ClassifyTo(&p, ex.Text)
		e.Add(ex.Label, m.Among(&p, among))
	}
	return e.Report()
}

// Fold assigns an example to one of k folds, deterministically from its
// line number, so cross-validation is reproducible.
func Fold(line, k int) int {
	h := fnv.New32a()
	h.Write([]byte(strconv.Itoa(line)))
	return int(h.Sum32() % uint32(k))
}

// CrossValidate trains k models, each without one fold, scores each on its
// fold and pools the decisions into one report.
func CrossValidate(cfg Config, examples []Example, k int) (*Report, error) {
	if k < 2 {
		return nil, fmt.Errorf("cross-validation needs at least 2 folds, got %d", k)
	}
	if len(examples) < k {
		return nil, fmt.Errorf("cross-validation with %d folds needs at least %d examples, got %d", k, k, len(examples))
	}
	pooled := NewEvaluator(nil)
	for f := 0; f < k; f++ {
		t, err := NewTrainer(cfg)
		if err != nil {
			return nil, err
		}
		var held []Example
		for _, ex := range examples {
			if Fold(ex.Line, k) == f {
				held = append(held, ex)
			} else if err := t.Add(ex.Text, ex.Label); err != nil {
				return nil, fmt.Errorf("fold %d: line %d: %w", f, ex.Line, err)
			}
		}
		m, err := t.Model(Metadata{})
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f, err)
		}
		e := NewEvaluator(m.classes)
		var p Prediction
		for _, ex := range held {
			m.ClassifyTo(&p, ex.Text)
			e.Add(ex.Label, p.Label)
		}
		pooled.Merge(e)
	}
	return pooled.Report(), nil
}

// FitTemperature finds the softmax temperature that minimises the log
// loss of m on held-out examples (golden-section search over log T), so
// that confidences are calibrated rather than naive Bayes' near-certain 1.0.
func FitTemperature(m *Model, examples []Example) (float64, float64) {
	scores, gold := heldOutScores(m, examples)
	if len(scores) == 0 {
		return 1, math.NaN()
	}
	probs := make([]float64, len(m.classes))
	loss := func(logT float64) float64 {
		scale := math.Exp(-logT)
		sum := 0.0
		for i, sc := range scores {
			softmax(probs, sc, scale)
			sum -= math.Log(math.Max(probs[gold[i]], 1e-300))
		}
		return sum / float64(len(scores))
	}
	a, b := math.Log(0.05), math.Log(1000.0)
	phi := (math.Sqrt(5) - 1) / 2
	c, d := b-phi*(b-a), a+phi*(b-a)
	fc, fd := loss(c), loss(d)
	for i := 0; i < 60; i++ {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - phi*(b-a)
			fc = loss(c)
		} else {
			a, c, fc = c, d, fd
			d = a + phi*(b-a)
			fd = loss(d)
		}
	}
	logT := (a + b) / 2
	// Round so the stored model does not depend on float noise.
	t := math.Round(math.Exp(logT)*1000) / 1000
	return t, loss(math.Log(t))
}

// heldOutScores computes the class scores (log prior, bias and weights,
// before the temperature; known up to an amount common to all classes,
// see Model.score) of the examples whose label is a class of m.
func heldOutScores(m *Model, examples []Example) (scores [][]float64, gold []int) {
	s := new(Scratch)
	for _, ex := range examples {
		g := -1
		for i, c := range m.classes {
			if c == ex.Label {
				g = i
			}
		}
		if g < 0 {
			continue
		}
		s.tokenize(&m.cfg.Tokenizer, ex.Text)
		s.features(m.cfg.NGrams)
		m.score(s)
		scores = append(scores, append([]float64(nil), s.scores...))
		gold = append(gold, g)
	}
	return scores, gold
}

// Objectives FitClassBias can maximise.
const (
	ObjectiveAccuracy    = "accuracy"
	ObjectiveMacroRecall = "macro_recall"
	ObjectiveMacroF1     = "macro_f1"
)

// FitClassBias finds per-class offsets to the log priors that maximise the
// objective on held-out examples, by coordinate ascent over a grid (the
// first class stays at 0: only differences matter). Naive Bayes trained on
// unbalanced classes under-predicts the small ones; this moves the decision
// boundaries back without touching the word weights. It returns the
// model's biases with the fitted change added, and the objective reached.
func FitClassBias(m *Model, examples []Example, objective string) ([]float64, float64, error) {
	switch objective {
	case ObjectiveAccuracy, ObjectiveMacroRecall, ObjectiveMacroF1:
	default:
		return nil, 0, fmt.Errorf("unknown objective %q (want accuracy, macro_recall or macro_f1)", objective)
	}
	scores, gold := heldOutScores(m, examples)
	if len(scores) == 0 {
		return nil, 0, fmt.Errorf("no held-out example has a label among the model's classes %q", m.classes)
	}
	k := len(m.classes)
	bias := make([]float64, k)
	conf := make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	eval := func() float64 {
		for i := range conf {
			clear(conf[i])
		}
		for i, sc := range scores {
			best := 0
			for c := 1; c < k; c++ {
				if sc[c]+bias[c] > sc[best]+bias[best] {
					best = c
				}
			}
			conf[gold[i]][best]++
		}
		return objectiveOf(conf, objective)
	}
	best := eval()
	for round := 0; round < 4; round++ {
		improved := false
		for c := 1; c < k; c++ {
			orig := bias[c]
			bestB := orig
			for step := -60; step <= 60; step++ {
				bias[c] = orig + float64(step)*0.1/float64(round+1)
				if v := eval(); v > best+1e-12 {
					best, bestB, improved = v, bias[c], true
				}
			}
			bias[c] = bestB
		}
		if !improved {
			break
		}
	}
	for c := range bias {
		if c < len(m.cfg.ClassBias) {
			bias[c] += m.cfg.ClassBias[c]
		}
		bias[c] = math.Round(bias[c]*1000) / 1000
	}
	return bias, best, nil
}

func objectiveOf(conf [][]int, objective string) float64 {
	e := &Evaluator{conf: conf, labels: make([]string, len(conf))}
	for i := range e.labels {
		e.labels[i] = strconv.Itoa(i)
	}
	r := e.Report()
	switch objective {
	case ObjectiveMacroRecall:
		return r.MacroRecall
	case ObjectiveMacroF1:
		return r.MacroF1
	}
	return r.Accuracy
}
