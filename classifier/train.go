package classifier

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Trainer accumulates labeled documents and builds a Model. Counts are
// integers, so the model does not depend on the order documents arrive in
// (with Config.Epochs, the discriminative passes sum in document order:
// the same input in the same order gives the same model).
// Memory is bounded: an exact vocabulary is pruned past Config.MaxVocab,
// and a hashing model has a fixed number of buckets. Config.Epochs is the
// exception: its passes keep every document's features (4 bytes each), so
// memory grows with the input.
type Trainer struct {
	cfg      Config
	classIdx map[string]int
	classes  []string
	docs     []uint64 // documents per class

	// rows: features in first-seen order; in hashing mode, buckets.
	index  *rowMap
	keys   []uint64
	counts [][]uint32 // counts[class][row]
	df     []uint32
	strs   []byte   // readable feature names, concatenated
	strEnd []uint32 // exact mode: strs[strEnd[r-1]:strEnd[r]] names row r
	// Hashing mode: a bucket is named after the smallest feature hash seen
	// in it (so the name does not depend on document order), stored at
	// strs[nameStart[r]:strEnd[r]]; bucketKey 0 means unnamed.
	bucketKey []uint64
	nameStart []uint32

	// With Config.Epochs, every document's counted rows (docRows, ended
	// at docEnd) and class, for the discriminative passes.
	docRows  []uint32
	docEnd   []int
	docClass []int32

	pruned   int // features dropped to bound memory
	prunedAt uint32
	s        Scratch
}

type featRef struct {
	h     uint64
	tok   uint32 // index of the feature's last token
	order uint8
}

// NewTrainer returns a trainer for cfg.
func NewTrainer(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, classIdx: map[string]int{}}
	for _, c := range cfg.Classes {
		t.addClass(c)
	}
	if cfg.HashBits > 0 {
		n := 1 << cfg.HashBits
		t.df = make([]uint32, n)
		t.bucketKey = make([]uint64, n)
		t.nameStart = make([]uint32, n)
		t.strEnd = make([]uint32, n)
		for c := range t.counts {
			t.counts[c] = make([]uint32, n)
		}
	} else {
		t.index = newRowMap(1 << 16)
	}
	return t, nil
}

func (t *Trainer) addClass(name string) int {
	c := len(t.classes)
	t.classIdx[name] = c
	t.classes = append(t.classes, name)
	t.docs = append(t.docs, 0)
	t.counts = append(t.counts, make([]uint32, len(t.df)))
	return c
}

// Docs returns how many documents have been added.
func (t *Trainer) Docs() uint64 {
	var n uint64
	for _, d := range t.docs {
		n += d
	}
	return n
}

// Add counts one labeled document. A label outside Config.Classes, when
// those are fixed, is an error.
func (t *Trainer) Add(text, label string) error {
	c, ok := t.classIdx[label]
	if !ok {
		if len(t.cfg.Classes) > 0 {
			return fmt.Errorf("label %q is not one of the configured classes %q", label, t.cfg.Classes)
		}
		if strings.TrimSpace(label) == "" {
			return fmt.Errorf("empty label")
		}
		c = t.addClass(label)
	}
	t.docs[c]++
	s := &t.s
	s.tokenize(&t.cfg.Tokenizer, text)
	s.features(t.cfg.NGrams)
	// Each feature counts once per document towards its document frequency,
	// and (in a Binary model) towards its class count; the per-document
	// set of rows says which occurrence is the first.
	s.resetSeen(len(s.feats), false)
	fi := 0
	for i := range s.toks {
		for n := 1; n <= t.cfg.NGrams && n <= i+1; n++ {
			t.count(c, featRef{h: s.feats[fi], tok: uint32(i), order: uint8(n)})
			fi++
		}
	}
	for i := range s.lexToks {
		t.count(c, featRef{h: s.feats[fi], tok: uint32(i), order: 0})
		fi++
	}
	if t.cfg.Epochs > 0 {
		t.docEnd = append(t.docEnd, len(t.docRows))
		t.docClass = append(t.docClass, int32(c))
	}
	if t.cfg.HashBits == 0 && len(t.keys) > t.cfg.MaxVocab {
		t.prune()
	}
	return nil
}

// count records one occurrence of a feature in a document of class c.
func (t *Trainer) count(c int, r featRef) {
	row := t.row(r)
	first := t.s.firstSight(row)
	if first {
		t.df[row]++
	}
	// Lexicon pseudo-tokens always count (see Model.score).
	if first || !t.cfg.Binary || r.order == 0 {
		t.counts[c][row]++
		if t.cfg.Epochs > 0 {
			t.docRows = append(t.docRows, row)
		}
	}
}

// row returns the row of a feature, creating it on first sight.
func (t *Trainer) row(r featRef) uint32 {
	if t.cfg.HashBits > 0 {
		row := uint32(r.h & (1<<t.cfg.HashBits - 1))
		if k := t.bucketKey[row]; k == 0 || r.h < k {
			t.bucketKey[row] = r.h
			t.nameRow(row, r)
		}
		return row
	}
	if row, ok := t.index.get(r.h); ok {
		return row
	}
	row := uint32(len(t.keys))
	t.index.put(r.h, row)
	t.keys = append(t.keys, r.h)
	t.df = append(t.df, 0)
	for c := range t.counts {
		t.counts[c] = append(t.counts[c], 0)
	}
	t.nameRow(row, r)
	return row
}

// nameRow records the readable name of a row. Exact rows are named once,
// in order, so strEnd is appended; a hashing bucket is renamed whenever a
// smaller feature hash lands in it.
func (t *Trainer) nameRow(row uint32, r featRef) {
	start := len(t.strs)
	t.strs = t.s.appendFeatureName(t.strs, int(r.tok), int(r.order))
	if t.cfg.HashBits > 0 {
		t.nameStart[row], t.strEnd[row] = uint32(start), uint32(len(t.strs))
		return
	}
	t.strEnd = append(t.strEnd, uint32(len(t.strs)))
}

// prune drops the rarest features until the vocabulary is at most half of
// MaxVocab, raising the document-frequency bar one step at a time.
func (t *Trainer) prune() {
	target := t.cfg.MaxVocab / 2
	for len(t.keys) > target {
		t.prunedAt++
		keep := 0
		start := uint32(0)
		var strs []byte
		var remap []int32
		if t.cfg.Epochs > 0 {
			remap = make([]int32, len(t.keys))
		}
		for r := range t.keys {
			end := t.strEnd[r]
			if remap != nil {
				remap[r] = -1
			}
			if t.df[r] > t.prunedAt {
				if remap != nil {
					remap[r] = int32(keep)
				}
				t.keys[keep] = t.keys[r]
				t.df[keep] = t.df[r]
				for c := range t.counts {
					t.counts[c][keep] = t.counts[c][r]
				}
				strs = append(strs, t.strs[start:end]...)
				t.strEnd[keep] = uint32(len(strs))
				keep++
			}
			start = end
		}
		t.pruned += len(t.keys) - keep
		if remap != nil {
			t.remapDocs(remap)
		}
		t.keys = t.keys[:keep]
		t.df = t.df[:keep]
		t.strEnd = t.strEnd[:keep]
		for c := range t.counts {
			t.counts[c] = t.counts[c][:keep]
		}
		t.strs = strs
	}
	t.index = newRowMap(len(t.keys))
	for r, k := range t.keys {
		t.index.put(k, uint32(r))
	}
}

// Pruned reports how many features were dropped to bound memory, and the
// document frequency at or under which they were dropped.
func (t *Trainer) Pruned() (features int, maxDF int) { return t.pruned, int(t.prunedAt) }

// Model estimates the weights and returns the model. The trainer may keep
// adding documents afterwards.
func (t *Trainer) Model(meta Metadata) (*Model, error) {
	k := len(t.classes)
	if k < 2 {
		return nil, fmt.Errorf("training data has %d class(es) %q; at least 2 are needed", k, t.classes)
	}
	var total uint64
	for c, d := range t.docs {
		if d == 0 {
			return nil, fmt.Errorf("class %q has no training documents", t.classes[c])
		}
		total += d
	}
	// Order classes: configured order, else sorted by name, so the file does
	// not depend on which label came first.
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	if len(t.cfg.Classes) == 0 {
		sort.Slice(order, func(a, b int) bool { return t.classes[order[a]] < t.classes[order[b]] })
	}
	classes := make([]string, k)
	for i, c := range order {
		classes[i] = t.classes[c]
	}

	// Rows kept: df >= MinDF, in ascending key order.
	var rows []uint32
	if t.cfg.HashBits > 0 {
		rows = make([]uint32, len(t.df))
		for r := range rows {
			rows[r] = uint32(r)
		}
	} else {
		for r := range t.keys {
			if t.df[r] >= uint32(t.cfg.MinDF) {
				rows = append(rows, uint32(r))
			}
		}
		slices.SortFunc(rows, func(a, b uint32) int { return cmp.Compare(t.keys[a], t.keys[b]) })
	}
	n := len(rows)
	hashed := t.cfg.HashBits > 0
	minDF := uint32(t.cfg.MinDF)
	stored := rowCounts{t: t, rows: rows, order: order, minDF: minDF, hashed: hashed}
	docs := make([]float64, k)
	for c := range docs {
		docs[c] = float64(t.docs[order[c]])
	}
	logPrior := t.logPrior(docs)
	var weights []float32
	if t.cfg.Epochs > 0 {
		counts := make(floatCounts, k)
		for c := range counts {
			counts[c] = make([]float64, n)
			for i := range counts[c] {
				counts[c][i] = stored.at(c, i)
			}
		}
		weights = t.refine(counts, rows, order, logPrior)
	} else {
		weights = t.estimate(stored, k, n)
	}

	var keys []uint64
	vocab := make([]string, n)
	if !hashed {
		keys = make([]uint64, n)
		for i, r := range rows {
			keys[i] = t.keys[r]
			start := uint32(0)
			if r > 0 {
				start = t.strEnd[r-1]
			}
			vocab[i] = string(t.strs[start:t.strEnd[r]])
		}
	} else {
		for r, key := range t.bucketKey {
			if key != 0 {
				vocab[r] = string(t.strs[t.nameStart[r]:t.strEnd[r]])
			}
		}
	}
	cfg := t.cfg
	cfg.Classes = classes
	meta.Classes = classes
	meta.TrainDocs = make(map[string]uint64, k)
	for c, name := range classes {
		meta.TrainDocs[name] = t.docs[order[c]]
	}
	meta.Features = n
	meta.PrunedFeatures = t.pruned
	return newModel(cfg, classes, logPrior, keys, weights, vocab, meta)
}

// logPrior returns each class's log prior from its document count.
func (t *Trainer) logPrior(docs []float64) []float64 {
	k := len(docs)
	total := 0.0
	for _, d := range docs {
		total += d
	}
	lp := make([]float64, k)
	for c := range lp {
		switch {
		case t.cfg.Kind == Complement:
			lp[c] = 0 // complement NB decides on the complement weights alone
		case t.cfg.UniformPrior:
			lp[c] = -math.Log(float64(k))
		default:
			lp[c] = math.Log(docs[c] / total)
		}
	}
	return lp
}

// classCounts is a table of per-class feature counts, in the model's
// class order and row positions.
type classCounts interface {
	at(c, i int) float64
}

// floatCounts holds counts the discriminative passes change:
// floatCounts[class][row position].
type floatCounts [][]float64

func (f floatCounts) at(c, i int) float64 { return f[c][i] }

// rowCounts reads the trainer's integer counts in place: a float64 copy
// would add 8 bytes per feature and class to training's peak memory.
type rowCounts struct {
	t      *Trainer
	rows   []uint32 // row position -> trainer row
	order  []int    // model class -> trainer class
	minDF  uint32
	hashed bool // hashing mode keeps every bucket; those under MinDF count 0
}

func (r rowCounts) at(c, i int) float64 {
	row := r.rows[i]
	if r.hashed && r.t.df[row] < r.minDF {
		return 0
	}
	return float64(r.t.counts[r.order[c]][row])
}

// totals returns each class's count scale (1, or with Config.Balance the
// factor that gives every class the same total) and its scaled total.
func (t *Trainer) totals(counts classCounts, k, n int) (scale, classTotal []float64) {
	scale = make([]float64, k)
	classTotal = make([]float64, k)
	for c := range k {
		scale[c] = 1
		for i := range n {
			classTotal[c] += counts.at(c, i)
		}
	}
	if t.cfg.Balance {
		// Give every class the same total count, so smoothing weighs the
		// same against each and a small class is not drowned by alpha*V.
		mean := 0.0
		for _, v := range classTotal {
			mean += v / float64(k)
		}
		for c := range scale {
			if classTotal[c] > 0 {
				scale[c] = mean / classTotal[c]
				classTotal[c] = mean
			}
		}
	}
	return scale, classTotal
}

// estimate turns per-class feature counts (k classes, n features) into
// log weights, laid out feature-major (weights[feature*k+class]).
func (t *Trainer) estimate(counts classCounts, k, n int) []float32 {
	scale, classTotal := t.totals(counts, k, n)
	alpha := t.cfg.Alpha
	V := float64(n)
	weights := make([]float32, n*k)
	switch t.cfg.Kind {
	case Multinomial:
		for c := 0; c < k; c++ {
			den := math.Log(classTotal[c] + alpha*V)
			for i := range n {
				weights[i*k+c] = float32(math.Log(counts.at(c, i)*scale[c]+alpha) - den)
			}
		}
	case Complement:
		all := 0.0
		for _, v := range classTotal {
			all += v
		}
		for c := 0; c < k; c++ {
			den := math.Log(all - classTotal[c] + alpha*V)
			for i := range n {
				comp := -counts.at(c, i) * scale[c]
				for j := 0; j < k; j++ {
					comp += counts.at(j, i) * scale[j]
				}
				weights[i*k+c] = float32(-(math.Log(comp+alpha) - den))
			}
		}
	}
	return weights
}

// remapDocs renumbers the kept documents' rows after a prune and drops
// the pruned ones.
func (t *Trainer) remapDocs(remap []int32) {
	out, from := 0, 0
	for d, end := range t.docEnd {
		for _, r := range t.docRows[from:end] {
			if nr := remap[r]; nr >= 0 {
				t.docRows[out] = uint32(nr)
				out++
			}
		}
		from = end
		t.docEnd[d] = out
	}
	t.docRows = t.docRows[:out]
}

// refine runs Config.Epochs discriminative passes over the kept training
// documents, starting from the counted estimate (counts, in the model's
// class order and row positions, is updated in place), and returns the
// final weights. Each pass is a batch step: every document is scored with
// the counts from the start of the pass, so a pass does not chase its own
// updates, and the same input gives the same model.
func (t *Trainer) refine(counts floatCounts, rows []uint32, order []int, logPrior []float64) []float32 {
	k := len(counts)
	r := &refiner{
		t:          t,
		counts:     counts,
		pos:        make([]int32, len(t.df)),
		class:      make([]int, k),
		bias:       slices.Clone(logPrior),
		score:      make([]float64, k),
		complement: t.cfg.Kind == Complement,
	}
	for i := range r.pos {
		r.pos[i] = -1
	}
	for i, row := range rows {
		r.pos[row] = int32(i)
	}
	for c, tc := range order {
		r.class[tc] = c
	}
	for c, b := range t.cfg.ClassBias {
		r.bias[c] += b
	}
	eta := t.cfg.LearningRate
	if eta == 0 {
		eta = 1
	}
	delta := make([][]float64, k)
	for c := range delta {
		delta[c] = make([]float64, len(counts[c]))
	}
	for range t.cfg.Epochs {
		r.scale, r.total = t.totals(counts, k, len(counts[0]))
		r.all = 0
		for _, v := range r.total {
			r.all += v
		}
		from := 0
		for d, end := range t.docEnd {
			doc := t.docRows[from:end]
			from = end
			y := r.class[t.docClass[d]]
			// The gradient of the log-likelihood of the true class, applied
			// to the counts: the true class gains 1-p of each feature, the
			// others lose p.
			for c, p := range r.posterior(doc, y) {
				g := -p
				if c == y {
					g = 1 - p
				}
				if math.Abs(g) < 1e-3 {
					continue
				}
				g *= eta
				for _, row := range doc {
					if i := r.pos[row]; i >= 0 {
						delta[c][i] += g
					}
				}
			}
		}
		for c := range counts {
			for i, v := range delta[c] {
				counts[c][i] = max(counts[c][i]+v, 0)
				delta[c][i] = 0
			}
		}
	}
	return t.estimate(counts, k, len(counts[0]))
}

// refiner holds the state of Trainer.refine's passes.
type refiner struct {
	t          *Trainer
	counts     floatCounts // [model class][row position]
	pos        []int32     // trainer row -> row position; -1: dropped by MinDF
	class      []int       // trainer class -> model class
	bias       []float64   // log prior plus Config.ClassBias
	score      []float64
	complement bool
	// Per pass: each class's count scale and scaled total (Trainer.totals),
	// and the sum of the totals.
	scale, total []float64
	all          float64
}

// posterior returns the class probabilities of one training document of
// class y (its counted rows), scored leaving the document itself out: its
// own counts are taken from its class, as in a model that never saw it.
// A row the document counted more than once (a lexicon pseudo-token, a
// word in a counts model) loses one count per occurrence, not all of
// them: exact for presence features, close enough for the rest.
// Naive Bayes all but memorises its training data, so scored with itself
// in, almost every document looks certain and nothing would be learnt.
// The result is valid until the next call.
func (r *refiner) posterior(doc []uint32, y int) []float64 {
	alpha := r.t.cfg.Alpha
	V := float64(len(r.counts[0]))
	score := r.score
	copy(score, r.bias)
	n := 0.0 // features of the document that the model keeps
	for _, row := range doc {
		i := r.pos[row]
		if i < 0 {
			continue
		}
		n++
		for c := range score {
			if r.complement {
				comp := 0.0
				for j := range r.counts {
					if j != c {
						comp += r.counts[j][i] * r.scale[j]
					}
				}
				if c != y {
					comp -= r.scale[y]
				}
				score[c] -= math.Log(max(comp, 0) + alpha)
			} else {
				v := r.counts[c][i]
				if c == y {
					v--
				}
				score[c] += math.Log(max(v, 0)*r.scale[c] + alpha)
			}
		}
	}
	// The denominators, once per feature, as in estimate.
	for c := range score {
		if r.complement {
			rest := r.all - r.total[c]
			if c != y {
				rest -= n * r.scale[y]
			}
			score[c] += n * math.Log(max(rest, 0)+alpha*V)
		} else {
			tot := r.total[c]
			if c == y {
				tot -= n * r.scale[c]
			}
			score[c] -= n * math.Log(max(tot, 0)+alpha*V)
		}
	}
	softmax(score, score, 1)
	return score
}

// rowMap maps feature hashes to rows: open addressing with linear probing,
// indexed by the hash's low bits (feature hashes are fully mixed), about
// twice as fast as a Go map for the training loop's millions of look-ups.
type rowMap struct {
	slots []rowSlot
	mask  uint64
	n     int
}

type rowSlot struct {
	key uint64 // 0: empty (feature hashes are never 0)
	row uint32
}

func newRowMap(capacity int) *rowMap {
	size := 16
	for size < 2*capacity {
		size <<= 1
	}
	return &rowMap{slots: make([]rowSlot, size), mask: uint64(size - 1)}
}

func (m *rowMap) get(key uint64) (uint32, bool) {
	for i := key & m.mask; ; i = (i + 1) & m.mask {
		switch m.slots[i].key {
		case key:
			return m.slots[i].row, true
		case 0:
			return 0, false
		}
	}
}

func (m *rowMap) put(key uint64, row uint32) {
	if 2*(m.n+1) > len(m.slots) {
		old := m.slots
		m.slots = make([]rowSlot, 2*len(old))
		m.mask = uint64(len(m.slots) - 1)
		m.n = 0
		for _, s := range old {
			if s.key != 0 {
				m.put(s.key, s.row)
			}
		}
	}
	i := key & m.mask
	for m.slots[i].key != 0 && m.slots[i].key != key {
		i = (i + 1) & m.mask
	}
	if m.slots[i].key == 0 {
		m.n++
	}
	m.slots[i] = rowSlot{key, row}
}
