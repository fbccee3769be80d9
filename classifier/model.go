package classifier

import (
	"fmt"
	"math"
	"sort"
	"sync"
)

// Model is a trained naive-Bayes classifier. It is immutable and safe for
// concurrent use.
type Model struct {
	cfg      Config
	classes  []string
	logPrior []float64
	offset   []float64 // logPrior + ClassBias: where every score starts
	meta     Metadata

	// keys are the feature hashes in row order (sorted ascending) and
	// weights the per-class log weights, row-major: weights[row*k+c]. In
	// hashing mode keys is nil and the row is the bucket.
	keys    []uint64
	weights []float32
	vocab   []string // row -> readable feature, "" where unknown

	// lookup finds an exact-vocabulary model's rows (perfect.go); nil
	// words in hashing mode.
	lookup perfectTable

	invTemp float64
	neutral int    // index of the class named "neutral", -1 if none
	sha     string // SHA-256 of the file it was loaded from
	pool    sync.Pool
}

// NeutralClass is the class Config.NeutralMargin answers with.
const NeutralClass = "neutral"

// Prediction is the answer for one text.
type Prediction struct {
	// Index is the position of Label in Model.Classes. Label is the most
	// probable class, or neutral when Config.NeutralMargin finds the text
	// mixed.
	Index int
	Label string
	// Confidence is Probs[Index]; after a neutral-margin answer it is
	// below the most probable class's.
	Confidence float64
	// Probs holds one probability per class, in Model.Classes order. They
	// sum to 1 and are never NaN or Inf.
	Probs []float64
	// Tokens is the number of tokens the text produced; 0 means the model
	// had nothing to go on and answered with its priors.
	Tokens int
}

// newModel assembles a model from its parts and builds the lookup table.
func newModel(cfg Config, classes []string, logPrior []float64, keys []uint64, weights []float32, vocab []string, meta Metadata) (*Model, error) {
	k := len(classes)
	if k < 2 {
		return nil, fmt.Errorf("a model needs at least 2 classes, got %d", k)
	}
	rows := len(weights) / k
	if len(weights)%k != 0 {
		return nil, fmt.Errorf("weights length %d is not a multiple of %d classes", len(weights), k)
	}
	if cfg.HashBits > 0 {
		if rows != 1<<cfg.HashBits || keys != nil {
			return nil, fmt.Errorf("hashing model with %d bits needs %d rows and no keys, has %d rows", cfg.HashBits, 1<<cfg.HashBits, rows)
		}
	} else if len(keys) != rows {
		return nil, fmt.Errorf("%d feature keys for %d weight rows", len(keys), rows)
	}
	if vocab != nil && len(vocab) != rows {
		return nil, fmt.Errorf("%d vocabulary entries for %d rows", len(vocab), rows)
	}
	for i, w := range weights {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return nil, fmt.Errorf("weight %d of row %d is %v", i%k, i/k, w)
		}
	}
	for i, p := range logPrior {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("prior of class %q is %v", classes[i], p)
		}
	}
	m := &Model{cfg: cfg, classes: classes, logPrior: logPrior, keys: keys, weights: weights, vocab: vocab, meta: meta}
	if len(cfg.ClassBias) != 0 && len(cfg.ClassBias) != k {
		return nil, fmt.Errorf("%d class biases for %d classes", len(cfg.ClassBias), k)
	}
	m.offset = append([]float64(nil), logPrior...)
	for c, b := range cfg.ClassBias {
		m.offset[c] += b
	}
	m.neutral = -1
	for c, name := range classes {
		if name == NeutralClass {
			m.neutral = c
		}
	}
	if cfg.NeutralMargin > 0 && (m.neutral < 0 || k < 3) {
		return nil, fmt.Errorf("neutral_margin %v needs a class named %q and at least 3 classes, has %q", cfg.NeutralMargin, NeutralClass, classes)
	}
	m.invTemp = 1
	if cfg.Temperature > 0 {
		m.invTemp = 1 / cfg.Temperature
	}
	if cfg.HashBits == 0 {
		if err := m.buildTable(); err != nil {
			return nil, err
		}
	}
	m.pool.New = func() any { return new(Scratch) }
	return m, nil
}

func (m *Model) buildTable() error {
	for row, key := range m.keys {
		if key == 0 {
			return fmt.Errorf("feature key of row %d is zero", row)
		}
		if row > 0 && key <= m.keys[row-1] {
			return fmt.Errorf("feature keys not strictly ascending at row %d", row)
		}
	}
	t, err := buildPerfect(m.keys, m.weights, len(m.classes))
	if err != nil {
		return err
	}
	m.lookup = t
	return nil
}

// Classes returns the class names in the order of Prediction.Probs.
func (m *Model) Classes() []string { return append([]string(nil), m.classes...) }

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Metadata returns the model's metadata.
func (m *Model) Metadata() Metadata { return m.meta }

// Features is the number of feature rows (vocabulary size, or buckets).
func (m *Model) Features() int { return len(m.weights) / len(m.classes) }

// Classify returns the prediction for text. It allocates only the
// returned Probs; use ClassifyTo to reuse them.
func (m *Model) Classify(text string) Prediction {
	var p Prediction
	m.ClassifyTo(&p, text)
	return p
}

// ClassifyTo classifies text into p, reusing p.Probs. Once p.Probs has
// room for every class it allocates nothing.
func (m *Model) ClassifyTo(p *Prediction, text string) {
	s := m.pool.Get().(*Scratch)
	m.classifyWith(s, p, text)
	m.pool.Put(s)
}

// ClassifyWith is ClassifyTo with working memory the caller owns: a
// long-lived goroutine (a stream worker) keeps one Scratch and never
// touches the pool, so nothing is allocated even across garbage
// collections, which empty sync.Pools. s must not be shared between
// goroutines.
func (m *Model) ClassifyWith(s *Scratch, p *Prediction, text string) { m.classifyWith(s, p, text) }

func (m *Model) classifyWith(s *Scratch, p *Prediction, text string) {
	s.tokenize(&m.cfg.Tokenizer, text)
	s.features(m.cfg.NGrams)
	m.score(s)
	m.finish(s, p)
}

// score sums the weights of s.feats into s.scores. With a packed lookup
// table (two or three classes, exact vocabulary) each feature's weight
// for class 0 is left out of every class's sum: the scores differ from
// the plain sums by the same amount in every class, which no answer sees
// (perfect.go).
//
// Two and three classes, nearly every model, are unrolled: the sums live
// in the locals a0..a2 (registers) rather than in s.scores, and each
// feature's weights are read with one bounds check. The additions happen
// in the same order as the general loop's, so the scores are the same to
// the bit.
func (m *Model) score(s *Scratch) {
	k := len(m.classes)
	if cap(s.scores) < k {
		s.scores = make([]float64, k)
	}
	scores := s.scores[:k]
	copy(scores, m.offset)
	s.scores = scores
	binary := m.cfg.Binary
	if binary {
		s.resetSeen(len(s.feats), m.cfg.HashBits == 0)
	}
	// Lexicon pseudo-tokens (the tail of feats) count every time: three
	// strongly negative words say more than one.
	dedup := len(s.feats) - len(s.lexToks)
	a0, a1, a2 := scores[0], scores[1], 0.0
	if k == 3 {
		a2 = scores[2]
	}
	if m.cfg.HashBits > 0 {
		mask := uint64(1)<<m.cfg.HashBits - 1
		weights := m.weights
		for j, f := range s.feats {
			row := f & mask
			if binary && j < dedup && !s.firstSight(uint32(row)) {
				continue
			}
			base := int(row) * k
			switch k {
			case 2:
				w := weights[base : base+2 : base+2]
				a0 += float64(w[0])
				a1 += float64(w[1])
			case 3:
				w := weights[base : base+3 : base+3]
				a0 += float64(w[0])
				a1 += float64(w[1])
				a2 += float64(w[2])
			default:
				for c, w := range weights[base : base+k] {
					scores[c] += float64(w)
				}
			}
		}
		keepSums(scores, a0, a1, a2)
		return
	}
	a0, a1, a2 = m.lookup.sum(s, scores, binary, dedup, a0, a1, a2)
	keepSums(scores, a0, a1, a2)
}

// keepSums stores score's unrolled sums; with more than three classes
// score summed into scores directly.
func keepSums(scores []float64, a0, a1, a2 float64) {
	switch len(scores) {
	case 3:
		scores[2] = a2
		fallthrough
	case 2:
		scores[0], scores[1] = a0, a1
	}
}

// finish turns s.scores into probabilities with a numerically safe softmax.
func (m *Model) finish(s *Scratch, p *Prediction) {
	k := len(m.classes)
	if cap(p.Probs) < k {
		p.Probs = make([]float64, k)
	}
	p.Probs = p.Probs[:k]
	softmax(p.Probs, s.scores, m.invTemp)
	best := 0
	for c := 1; c < k; c++ {
		if s.scores[c] > s.scores[best] {
			best = c
		}
	}
	if m.cfg.NeutralMargin > 0 && best != m.neutral {
		// Compare the winner with the runner-up among the classes other
		// than neutral: if they are close, the text is mixed.
		second := -1
		for c := 0; c < k; c++ {
			if c != best && c != m.neutral && (second < 0 || p.Probs[c] > p.Probs[second]) {
				second = c
			}
		}
		if p.Probs[best]-p.Probs[second] < m.cfg.NeutralMargin {
			best = m.neutral
		}
	}
	p.Index = best
	p.Label = m.classes[best]
	p.Confidence = p.Probs[best]
	p.Tokens = len(s.toks)
}

// softmax writes exp(x*scale) normalised into dst, via log-sum-exp so that
// the huge negative log-likelihoods of long texts neither underflow to 0/0
// nor overflow.
func softmax(dst, x []float64, scale float64) {
	max := math.Inf(-1)
	for _, v := range x {
		if v > max {
			max = v
		}
	}
	if math.IsInf(max, 0) || math.IsNaN(max) { // cannot happen with validated weights; stay finite anyway
		for i := range dst {
			dst[i] = 1 / float64(len(dst))
		}
		return
	}
	sum := 0.0
	for i, v := range x {
		e := math.Exp((v - max) * scale)
		dst[i] = e
		sum += e
	}
	for i := range dst {
		dst[i] /= sum
	}
}

// Contribution is how much one feature of a text pushed towards a class:
// its weight for the class minus its mean weight over all classes, times
// how often it counted.
type Contribution struct {
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight"`
}

// Explanation lists, per class, the features of a text that pushed
// hardest towards that class.
type Explanation struct {
	Prediction Prediction
	// Top[c] is for class Classes[c], strongest first.
	Top [][]Contribution
}

// Explain classifies text and returns up to top contributing features per
// class. It allocates and is meant for humans, not the hot path.
func (m *Model) Explain(text string, top int) Explanation {
	s := new(Scratch)
	var p Prediction
	m.classifyWith(s, &p, text)
	k := len(m.classes)
	type agg struct {
		name string
		w    []float64
	}
	byFeat := map[uint64]*agg{}
	var order []uint64
	s.resetSeen(len(s.feats), false)
	// add counts feature f (named by name()) the way score does: n-grams
	// once per document in a Binary model, lexicon pseudo-tokens always.
	add := func(f uint64, dedup bool, name func() string) {
		w, slot, ok := m.rowWeights(f)
		if !ok || (dedup && !s.firstSight(slot)) {
			return
		}
		a := byFeat[f]
		if a == nil {
			a = &agg{name: name(), w: make([]float64, k)}
			byFeat[f] = a
			order = append(order, f)
		}
		mean := 0.0
		for _, v := range w {
			mean += v
		}
		mean /= float64(k)
		for c := range w {
			a.w[c] += (w[c] - mean) * m.invTemp
		}
	}
	fi := 0
	for i := range s.toks {
		for n := 1; n <= m.cfg.NGrams && n <= i+1; n++ {
			add(s.feats[fi], m.cfg.Binary, func() string { return s.featureString(i, n) })
			fi++
		}
	}
	for i := range s.lexToks {
		add(s.feats[fi], false, func() string { return s.featureString(i, 0) })
		fi++
	}
	ex := Explanation{Prediction: p, Top: make([][]Contribution, k)}
	for c := 0; c < k; c++ {
		var list []Contribution
		for _, f := range order {
			if a := byFeat[f]; a.w[c] > 0 {
				list = append(list, Contribution{Feature: a.name, Weight: a.w[c]})
			}
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].Weight > list[j].Weight })
		if len(list) > top {
			list = list[:top]
		}
		ex.Top[c] = list
	}
	return ex
}

// rowWeights returns the per-class weights of feature f, and a slot id
// unique to its row for per-document de-duplication.
func (m *Model) rowWeights(f uint64) ([]float64, uint32, bool) {
	k := len(m.classes)
	var row int
	if m.cfg.HashBits > 0 {
		row = int(f & (uint64(1)<<m.cfg.HashBits - 1))
	} else {
		i := sort.Search(len(m.keys), func(i int) bool { return m.keys[i] >= f })
		if i == len(m.keys) || m.keys[i] != f {
			return nil, 0, false
		}
		row = i
	}
	w := make([]float64, k)
	for c := range w {
		w[c] = float64(m.weights[row*k+c])
	}
	return w, uint32(row), true
}

// TopFeatures returns, per class, the n features of the vocabulary that
// favour the class most over the others: what the model has learned.
func (m *Model) TopFeatures(n int) [][]Contribution {
	k := len(m.classes)
	rows := m.Features()
	out := make([][]Contribution, k)
	for c := 0; c < k; c++ {
		var list []Contribution
		for r := 0; r < rows; r++ {
			if m.vocab == nil || m.vocab[r] == "" {
				continue
			}
			wc := float64(m.weights[r*k+c])
			other := math.Inf(-1)
			for j := 0; j < k; j++ {
				if j != c && float64(m.weights[r*k+j]) > other {
					other = float64(m.weights[r*k+j])
				}
			}
			if d := wc - other; d > 0 {
				list = append(list, Contribution{Feature: m.vocab[r], Weight: d})
			}
		}
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Weight != list[j].Weight {
				return list[i].Weight > list[j].Weight
			}
			return list[i].Feature < list[j].Feature
		})
		if len(list) > n {
			list = list[:n]
		}
		out[c] = list
	}
	return out
}
