package classifier

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---- fixtures shared by the test files of this package ----

type labeled struct{ text, label string }

// sentimentTrain is a tiny corpus whose classes are separated by obvious
// words: great/wonderful/excellent/brilliant/superb/loved against
// terrible/awful/boring/dreadful/worst/hated.
var sentimentTrain = []labeled{
	{"a great film with wonderful acting", "positive"},
	{"wonderful story and great music", "positive"},
	{"i loved this movie, it was excellent", "positive"},
	{"excellent direction and a brilliant cast", "positive"},
	{"brilliant and great, loved every minute", "positive"},
	{"a wonderful, excellent experience", "positive"},
	{"great fun, superb performances", "positive"},
	{"superb film, i loved it", "positive"},
	{"a terrible film with awful acting", "negative"},
	{"awful story and boring music", "negative"},
	{"i hated this movie, it was dreadful", "negative"},
	{"dreadful direction and a terrible cast", "negative"},
	{"boring and awful, hated every minute", "negative"},
	{"a terrible, dreadful experience", "negative"},
	{"awful mess, worst performances", "negative"},
	{"worst film, i hated it", "negative"},
}

// neutralTrain adds a third class of factual sentences.
var neutralTrain = []labeled{
	{"the film runs two hours", "neutral"},
	{"it opens on friday in cinemas", "neutral"},
	{"the movie is shot in black and white", "neutral"},
	{"the cast includes three actors from spain", "neutral"},
	{"the studio released the trailer on monday", "neutral"},
	{"the director was born in spain", "neutral"},
}

// sentimentHeldOut are texts the model has not seen, each obvious.
var sentimentHeldOut = []labeled{
	{"great wonderful film", "positive"},
	{"excellent and brilliant, superb", "positive"},
	{"I LOVED it!!! Great.", "positive"},
	{"awful terrible boring", "negative"},
	{"the worst, dreadful", "negative"},
	{"hated it, boring", "negative"},
}

var neutralHeldOut = []labeled{
	{"the trailer opens on monday", "neutral"},
	{"born in spain, the director", "neutral"},
}

// topicTrain has five classes named only by the data.
var topicTrain = []labeled{
	{"the team scored a late goal in the match", "sports"},
	{"football match ends with a penalty goal", "sports"},
	{"the team won the league match", "sports"},
	{"pizza with cheese and a tomato recipe", "food"},
	{"pasta recipe with garlic and cheese", "food"},
	{"delicious pizza and fresh pasta", "food"},
	{"the band played a new song at the concert", "music"},
	{"guitar solo on the album's best song", "music"},
	{"the band's album tops the charts", "music"},
	{"the laptop battery and phone software update", "tech"},
	{"new phone with a faster chip and software", "tech"},
	{"laptop code compiles faster on the new chip", "tech"},
	{"rain and storm in the forecast", "weather"},
	{"sunny forecast after the storm", "weather"},
	{"cloudy with rain later", "weather"},
}

var topicHeldOut = []labeled{
	{"late goal wins the match", "sports"},
	{"cheese pizza recipe", "food"},
	{"concert song by the band", "music"},
	{"phone software and battery", "tech"},
	{"storm and rain forecast", "weather"},
}

// typicalReview is a review of the kind the service classifies.
const typicalReview = `I went in expecting nothing &amp; came out loving it!!! The acting was ` +
	`great, the story wonderful and the music excellent.<br /><br />It's not perfect: ` +
	`the middle drags and I didn't like the ending, but 9/10 :) would watch again 😀 http://x.co @friend`

// testConfig is DefaultConfig changed by set.
func testConfig(set func(*Config)) Config {
	c := DefaultConfig()
	if set != nil {
		set(&c)
	}
	return c
}

var fixedMeta = Metadata{
	Name:      "test",
	Version:   "0.0.1",
	CreatedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
}

// trainOn trains a model on data, failing the test on error.
func trainOn(tb testing.TB, cfg Config, data ...[]labeled) *Model {
	tb.Helper()
	tr, err := NewTrainer(cfg)
	if err != nil {
		tb.Fatalf("NewTrainer: %v", err)
	}
	for _, d := range data {
		for _, ex := range d {
			if err := tr.Add(ex.text, ex.label); err != nil {
				tb.Fatalf("Add(%q, %q): %v", ex.text, ex.label, err)
			}
		}
	}
	m, err := tr.Model(fixedMeta)
	if err != nil {
		tb.Fatalf("Model: %v", err)
	}
	return m
}

// heldOutAccuracy is the share of data m labels right.
func heldOutAccuracy(m *Model, data []labeled) float64 {
	right := 0
	for _, ex := range data {
		if m.Classify(ex.text).Label == ex.label {
			right++
		}
	}
	return float64(right) / float64(len(data))
}

func toExamples(data ...[]labeled) []Example {
	var out []Example
	for _, d := range data {
		for _, ex := range d {
			out = append(out, Example{Line: len(out) + 1, Text: ex.text, Label: ex.label})
		}
	}
	return out
}

// raceEnabled reports whether the test binary was built with -race (the
// race detector makes sync.Pool drop items on purpose, so allocation
// counts mean nothing then).
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// checkPrediction asserts the invariants every Prediction must satisfy.
func checkPrediction(tb testing.TB, m *Model, p Prediction, what string) {
	tb.Helper()
	classes := m.Classes()
	if len(p.Probs) != len(classes) {
		tb.Fatalf("%s: %d probabilities for %d classes", what, len(p.Probs), len(classes))
	}
	sum := 0.0
	best := 0
	for i, v := range p.Probs {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1 {
			tb.Errorf("%s: Probs[%d] = %v, want a probability", what, i, v)
		}
		if v > p.Probs[best] {
			best = i
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		tb.Errorf("%s: probabilities sum to %.17g, want 1", what, sum)
	}
	if p.Index < 0 || p.Index >= len(classes) {
		tb.Fatalf("%s: Index %d out of range", what, p.Index)
	}
	if p.Label != classes[p.Index] {
		tb.Errorf("%s: Label %q != Classes[%d] %q", what, p.Label, p.Index, classes[p.Index])
	}
	if p.Confidence != p.Probs[p.Index] {
		tb.Errorf("%s: Confidence %v != Probs[Index] %v", what, p.Confidence, p.Probs[p.Index])
	}
	if p.Probs[p.Index] >= p.Probs[best] {
		return
	}
	// Only the neutral margin may overrule the most probable class, and
	// only when that class leads the others but neutral by less than it.
	if margin := m.Config().NeutralMargin; margin > 0 && classes[p.Index] == NeutralClass {
		second := 0.0
		for c, v := range p.Probs {
			if c != best && classes[c] != NeutralClass {
				second = max(second, v)
			}
		}
		if p.Probs[best]-second < margin {
			return
		}
		tb.Errorf("%s: neutral answered, but %s leads by %v, over the margin %v", what, classes[best], p.Probs[best]-second, margin)
		return
	}
	tb.Errorf("%s: Index %d (p=%v) is not the most probable class %d (p=%v)", what, p.Index, p.Probs[p.Index], best, p.Probs[best])
}

// modelVariants are the model shapes every invariant must hold for.
func modelVariants(tb testing.TB) []struct {
	name string
	m    *Model
} {
	type v = struct {
		name string
		m    *Model
	}
	return []v{
		{"exact-binary", trainOn(tb, testConfig(nil), sentimentTrain)},
		{"exact-counts", trainOn(tb, testConfig(func(c *Config) { c.Binary = false }), sentimentTrain)},
		{"exact-trigram", trainOn(tb, testConfig(func(c *Config) { c.NGrams = 3 }), sentimentTrain)},
		{"hashed-binary", trainOn(tb, testConfig(func(c *Config) { c.HashBits = 10 }), sentimentTrain)},
		{"hashed-counts", trainOn(tb, testConfig(func(c *Config) { c.HashBits = 10; c.Binary = false }), sentimentTrain)},
		{"complement", trainOn(tb, testConfig(func(c *Config) { c.Kind = Complement }), sentimentTrain)},
		{"complement-counts-3class", trainOn(tb, testConfig(func(c *Config) { c.Kind = Complement; c.Binary = false }), sentimentTrain, neutralTrain)},
		{"3class", trainOn(tb, testConfig(nil), sentimentTrain, neutralTrain)},
		{"3class-neutral-margin", trainOn(tb, testConfig(func(c *Config) { c.NeutralMargin = 0.5 }), sentimentTrain, neutralTrain)},
		{"5class", trainOn(tb, testConfig(nil), topicTrain)},
		{"cold", trainOn(tb, testConfig(func(c *Config) { c.Temperature = 0.01 }), sentimentTrain)},
		{"hot", trainOn(tb, testConfig(func(c *Config) { c.Temperature = 1e6 }), sentimentTrain)},
		{"biased", trainOn(tb, testConfig(func(c *Config) { c.ClassBias = []float64{1e6, -1e6} }), sentimentTrain)},
		{"tiny-alpha", trainOn(tb, testConfig(func(c *Config) { c.Alpha = 1e-9; c.Binary = false }), sentimentTrain)},
		{"balance-3class", trainOn(tb, testConfig(func(c *Config) { c.Balance = true }), sentimentTrain[:10], neutralTrain)},
		{"no-lexicon-no-stem", trainOn(tb, testConfig(func(c *Config) { c.Tokenizer.Lexicon = ""; c.Tokenizer.Stem = false }), sentimentTrain)},
	}
}

// ---- classification ----

func TestClassifyProbabilitiesValid(t *testing.T) {
	long := strings.Repeat(typicalReview+" great wonderful ", (1<<20)/(len(typicalReview)+17)+1)
	texts := []struct{ name, text string }{
		{"empty", ""},
		{"whitespace", "   \n\t "},
		{"unknown-words", "zyzzyva quux xylophone"},
		{"typical", typicalReview},
		{"positive", "great wonderful film"},
		{"invalid-utf8", "great \xff\xfe awful \xc3"},
		{"1MB", long},
		{"1MB-one-word", strings.Repeat("great", 1<<18)},
	}
	for _, mv := range modelVariants(t) {
		for _, tx := range texts {
			p := mv.m.Classify(tx.text)
			checkPrediction(t, mv.m, p, mv.name+"/"+tx.name)
		}
	}
}

// TestClassifyPriors: with nothing to go on (no token, or only unknown
// words) a multinomial model answers its class priors.
func TestClassifyPriors(t *testing.T) {
	// 3 positive : 1 negative, so the prior is not uniform.
	data := append(slices.Clone(sentimentTrain[:8]), sentimentTrain[8:]...)
	data = append(data, sentimentTrain[:8]...)
	data = append(data, sentimentTrain[:8]...)
	models := []struct {
		name    string
		cfg     Config
		uniform bool
	}{
		{"priors", testConfig(nil), false},
		{"uniform-prior", testConfig(func(c *Config) { c.UniformPrior = true }), true},
		{"complement", testConfig(func(c *Config) { c.Kind = Complement }), true},
	}
	texts := []struct {
		name, text string
		tokens     int
	}{
		{"empty", "", 0},
		{"punctuation", " ... ,,, ", 0},
		{"unknown", "zyzzyva quux", 2},
	}
	for _, tm := range models {
		m := trainOn(t, tm.cfg, data)
		docs := m.Metadata().TrainDocs
		if docs["positive"] != 24 || docs["negative"] != 8 {
			t.Fatalf("%s: TrainDocs = %v, want positive 24, negative 8", tm.name, docs)
		}
		for _, tx := range texts {
			p := m.Classify(tx.text)
			checkPrediction(t, m, p, tm.name+"/"+tx.name)
			if p.Tokens != tx.tokens {
				t.Errorf("%s/%s: Tokens = %d, want %d", tm.name, tx.name, p.Tokens, tx.tokens)
			}
			for i, c := range m.Classes() {
				want := float64(docs[c]) / 32 // the class frequency: 0.75 / 0.25
				if tm.uniform {
					want = 0.5
				}
				if math.Abs(p.Probs[i]-want) > 1e-9 {
					t.Errorf("%s/%s: P(%s) = %v, want prior %v", tm.name, tx.name, c, p.Probs[i], want)
				}
			}
		}
	}
}

func TestClassifyHeldOut(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		train   [][]labeled
		heldOut []labeled
		classes []string
	}{
		{"multinomial", testConfig(nil), [][]labeled{sentimentTrain}, sentimentHeldOut, []string{"negative", "positive"}},
		{"multinomial-unigram-counts", testConfig(func(c *Config) { c.NGrams = 1; c.Binary = false }), [][]labeled{sentimentTrain}, sentimentHeldOut, []string{"negative", "positive"}},
		{"complement", testConfig(func(c *Config) { c.Kind = Complement }), [][]labeled{sentimentTrain}, sentimentHeldOut, []string{"negative", "positive"}},
		{"hashed", testConfig(func(c *Config) { c.HashBits = 16 }), [][]labeled{sentimentTrain}, sentimentHeldOut, []string{"negative", "positive"}},
		{"3-classes", testConfig(nil), [][]labeled{sentimentTrain, neutralTrain}, append(slices.Clone(sentimentHeldOut), neutralHeldOut...), []string{"negative", "neutral", "positive"}},
		{"3-classes-complement", testConfig(func(c *Config) { c.Kind = Complement }), [][]labeled{sentimentTrain, neutralTrain}, append(slices.Clone(sentimentHeldOut), neutralHeldOut...), []string{"negative", "neutral", "positive"}},
		{"5-classes", testConfig(nil), [][]labeled{topicTrain}, topicHeldOut, []string{"food", "music", "sports", "tech", "weather"}},
		{"5-classes-complement", testConfig(func(c *Config) { c.Kind = Complement }), [][]labeled{topicTrain}, topicHeldOut, []string{"food", "music", "sports", "tech", "weather"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := trainOn(t, tc.cfg, tc.train...)
			if got := m.Classes(); !slices.Equal(got, tc.classes) {
				t.Fatalf("Classes() = %q, want the sorted labels %q", got, tc.classes)
			}
			for _, ex := range tc.heldOut {
				p := m.Classify(ex.text)
				checkPrediction(t, m, p, ex.text)
				if p.Label != ex.label {
					t.Errorf("Classify(%q) = %s %v, want %s", ex.text, p.Label, p.Probs, ex.label)
				}
			}
		})
	}
}

// TestClassifyNegation: negation marking lets the model tell "not good"
// from "good" when the training data does.
func TestClassifyNegation(t *testing.T) {
	data := []labeled{
		{"good", "positive"}, {"good film", "positive"}, {"really good", "positive"},
		{"not good", "negative"}, {"not good at all", "negative"}, {"never good", "negative"},
	}
	m := trainOn(t, testConfig(func(c *Config) { c.NGrams = 1 }), data)
	for _, ex := range []labeled{{"it was good", "positive"}, {"it was not good", "negative"}, {"wasn't good", "negative"}} {
		if got := m.Classify(ex.text).Label; got != ex.label {
			t.Errorf("Classify(%q) = %s, want %s", ex.text, got, ex.label)
		}
	}
}

func TestClassifyToReusesProbs(t *testing.T) {
	m := trainOn(t, testConfig(nil), sentimentTrain)
	var p Prediction
	m.ClassifyTo(&p, "great")
	first := &p.Probs[0]
	m.ClassifyTo(&p, "awful")
	if &p.Probs[0] != first {
		t.Error("ClassifyTo reallocated Probs that had room")
	}
	want := m.Classify("awful")
	if !slices.Equal(p.Probs, want.Probs) || p.Label != want.Label || p.Tokens != want.Tokens {
		t.Errorf("ClassifyTo = %+v, Classify = %+v", p, want)
	}
	// Probs longer than needed are cut to the class count.
	p.Probs = make([]float64, 7)
	m.ClassifyTo(&p, "great")
	checkPrediction(t, m, p, "oversized Probs")
}

// TestClassifyZeroAllocs: classifying into a warm Prediction allocates nothing.
func TestClassifyZeroAllocs(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop items: allocation counts are meaningless")
	}
	if testing.CoverMode() != "" {
		t.Skip("coverage counters distort allocation counts")
	}
	cases := []struct {
		name string
		cfg  Config
		data [][]labeled
	}{
		{"exact-binary", testConfig(nil), [][]labeled{sentimentTrain}},
		{"exact-counts", testConfig(func(c *Config) { c.Binary = false }), [][]labeled{sentimentTrain}},
		{"exact-binary-3class", testConfig(func(c *Config) { c.NGrams = 3 }), [][]labeled{sentimentTrain, neutralTrain}},
		{"exact-counts-5class", testConfig(func(c *Config) { c.Binary = false }), [][]labeled{topicTrain}},
		{"exact-plain-tokenizer", testConfig(func(c *Config) { c.Tokenizer = classicTok() }), [][]labeled{sentimentTrain}},
		{"hashed-binary", testConfig(func(c *Config) { c.HashBits = 12 }), [][]labeled{sentimentTrain}},
		{"hashed-counts", testConfig(func(c *Config) { c.HashBits = 12; c.Binary = false }), [][]labeled{sentimentTrain}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := trainOn(t, tc.cfg, tc.data...)
			var p Prediction
			m.ClassifyTo(&p, typicalReview) // warm the pool's Scratch and p.Probs
			if allocs := testing.AllocsPerRun(200, func() { m.ClassifyTo(&p, typicalReview) }); allocs != 0 {
				t.Errorf("ClassifyTo allocates %v times per call, want 0", allocs)
			}
			if p.Tokens == 0 {
				t.Error("the review produced no tokens")
			}
			// With caller-owned working memory nothing is allocated even
			// when a garbage collection empties the pool between calls.
			var s Scratch
			var q Prediction
			m.ClassifyWith(&s, &q, typicalReview)
			if allocs := testing.AllocsPerRun(50, func() {
				runtime.GC()
				m.ClassifyWith(&s, &q, typicalReview)
			}); allocs != 0 {
				t.Errorf("ClassifyWith allocates %v times per call across GCs, want 0", allocs)
			}
			if q.Label != p.Label || q.Confidence != p.Confidence {
				t.Errorf("ClassifyWith = %s %v, ClassifyTo = %s %v", q.Label, q.Confidence, p.Label, p.Confidence)
			}
		})
	}
}

// TestClassifyConcurrent: one model used by 8 goroutines answers exactly
// what it answers sequentially.
func TestClassifyConcurrent(t *testing.T) {
	texts := []string{"", typicalReview, "great wonderful film", "awful", "not good at all",
		strings.Repeat("soooo great ", 500), "zyzzyva", "I <3 it :) 😀"}
	for _, mv := range modelVariants(t)[:6] {
		want := make([]Prediction, len(texts))
		for i, s := range texts {
			want[i] = mv.m.Classify(s)
		}
		var wg sync.WaitGroup
		errs := make(chan string, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var p Prediction
				for round := 0; round < 50; round++ {
					for i := range texts {
						k := (i + g + round) % len(texts) // different goroutines, different orders
						mv.m.ClassifyTo(&p, texts[k])
						w := want[k]
						if p.Label != w.Label || p.Index != w.Index || p.Tokens != w.Tokens || !slices.Equal(p.Probs, w.Probs) {
							errs <- fmt.Sprintf("%s: goroutine %d text %d: %+v, sequential %+v", mv.name, g, k, p, w)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}

// ---- explanations ----

func TestExplain(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"exact", testConfig(nil)},
		{"exact-counts", testConfig(func(c *Config) { c.Binary = false })},
		{"hashed", testConfig(func(c *Config) { c.HashBits = 16 })},
		{"complement", testConfig(func(c *Config) { c.Kind = Complement })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := trainOn(t, tc.cfg, sentimentTrain)
			pos := slices.Index(m.Classes(), "positive")
			neg := slices.Index(m.Classes(), "negative")
			const text = "great wonderful film"
			ex := m.Explain(text, 3)
			want := m.Classify(text)
			if ex.Prediction.Label != want.Label || !slices.Equal(ex.Prediction.Probs, want.Probs) {
				t.Errorf("Explain's prediction %+v != Classify's %+v", ex.Prediction, want)
			}
			if len(ex.Top) != 2 {
				t.Fatalf("Explain has %d classes, want 2", len(ex.Top))
			}
			for c, list := range ex.Top {
				if len(list) > 3 {
					t.Errorf("class %d: %d contributions, asked for 3", c, len(list))
				}
				for i, cb := range list {
					if !(cb.Weight > 0) || math.IsInf(cb.Weight, 0) {
						t.Errorf("class %d: contribution %+v is not a finite positive push", c, cb)
					}
					if i > 0 && cb.Weight > list[i-1].Weight {
						t.Errorf("class %d: not strongest first: %+v", c, list)
					}
				}
			}
			names := func(l []Contribution) []string {
				var out []string
				for _, cb := range l {
					out = append(out, cb.Feature)
				}
				return out
			}
			if !slices.Contains(names(ex.Top[pos]), "great") {
				t.Errorf("top positive features of %q = %+v, want \"great\" among them", text, ex.Top[pos])
			}
			if slices.Contains(names(ex.Top[neg]), "great") {
				t.Errorf("\"great\" pushes towards negative: %+v", ex.Top[neg])
			}
		})
	}
}

// TestExplainAddsUp: Explain's contributions account exactly for the
// prediction. For two classes each feature's contribution to one class is
// minus its contribution to the other, so with every contribution listed
//
//	log(P1/P0)(text) - log(P1/P0)("") = 2 * (sum Top[1] - sum Top[0])
//
// (the empty text leaves only the priors and biases).
func TestExplainAddsUp(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"plain-binary", testConfig(func(c *Config) { c.Tokenizer.Lexicon = "" })},
		{"plain-counts", testConfig(func(c *Config) { c.Tokenizer.Lexicon = ""; c.Binary = false })},
		{"trigram-hot", testConfig(func(c *Config) { c.Tokenizer.Lexicon = ""; c.NGrams = 3; c.Temperature = 2.5 })},
		{"hashed", testConfig(func(c *Config) { c.Tokenizer.Lexicon = ""; c.HashBits = 12 })},
		{"complement", testConfig(func(c *Config) { c.Tokenizer.Lexicon = ""; c.Kind = Complement })},
		{"lexicon-counts", testConfig(func(c *Config) { c.Tokenizer.Lexicon = "vader"; c.Binary = false })},
		{"lexicon-binary", testConfig(func(c *Config) { c.Tokenizer.Lexicon = "vader"; c.Binary = true })},
		{"lexicon-binary-hashed", testConfig(func(c *Config) { c.Tokenizer.Lexicon = "vader"; c.HashBits = 12 })},
	}
	texts := []string{"great wonderful film", "great great great", "not good, awful and boring but great", typicalReview}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := trainOn(t, tc.cfg, sentimentTrain)
			logit := func(p Prediction) float64 { return math.Log(p.Probs[1]) - math.Log(p.Probs[0]) }
			base := logit(m.Classify(""))
			for _, text := range texts {
				ex := m.Explain(text, 1<<20)
				sum := 0.0
				for _, cb := range ex.Top[1] {
					sum += cb.Weight
				}
				for _, cb := range ex.Top[0] {
					sum -= cb.Weight
				}
				got, want := 2*sum, logit(ex.Prediction)-base
				if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Errorf("%q: contributions add up to %.9g, the prediction moved the log-odds by %.9g", text, got, want)
				}
			}
		})
	}
}

// referenceScores is score read plainly off the model's rows, for the
// features s holds, and how far score may be from it: 0 but for packed
// slots, which round each weight to half a quantum and sum in another
// order (integers, then one multiply).
func referenceScores(m *Model, s *Scratch) (want []float64, tol float64) {
	want = append([]float64(nil), m.offset...)
	seen := map[uint32]bool{}
	dedup := len(s.feats) - len(s.lexToks)
	counted := 0
	for j, f := range s.feats {
		w, slot, ok := m.rowWeights(f)
		if !ok || m.cfg.Binary && j < dedup && seen[slot] {
			continue
		}
		seen[slot] = true
		counted++
		base := 0.0
		if m.lookup.quantum != 0 {
			base = w[0]
		}
		for c := range want {
			want[c] += w[c] - base
		}
	}
	if m.lookup.quantum != 0 {
		tol = float64(counted)*m.lookup.quantum/2 + 1e-9
	}
	return want, tol
}

// TestScoreMatchesReference: score's unrolled two- and three-class loops
// and its general loop, hashed or exact (with and without the prefetch
// pass), give the sum a plain reading of the model gives: the offset
// plus each known feature's weights, in feature order, n-grams once per
// document in a Binary model. Hashed and five-class models match it to
// the bit. An exact-vocabulary model of two or three classes keeps each
// feature's weights as fixed-point differences from class 0's (packed
// slots, perfect.go): its scores are the reference's less class 0's
// weights, each feature off by at most half a quantum per class.
func TestScoreMatchesReference(t *testing.T) {
	data := map[string][][]labeled{
		"2 classes": {sentimentTrain},
		"3 classes": {sentimentTrain, neutralTrain},
		"5 classes": {topicTrain},
	}
	configs := map[string]func(*Config){
		"binary":        nil,
		"counts":        func(c *Config) { c.Binary = false },
		"hashed":        func(c *Config) { c.HashBits = 10 },
		"hashed-counts": func(c *Config) { c.HashBits = 10; c.Binary = false },
		"trigrams":      func(c *Config) { c.NGrams = 3 },
	}
	texts := []string{"", "great great great", "the team won; not a great match, awful rain", typicalReview}
	for dn, d := range data {
		for cn, set := range configs {
			t.Run(dn+"/"+cn, func(t *testing.T) {
				m := trainOn(t, testConfig(set), d...)
				var s Scratch
				for _, text := range texts {
					s.tokenize(&m.cfg.Tokenizer, text)
					s.features(m.cfg.NGrams)
					want, tol := referenceScores(m, &s)
					check := func(how string) {
						for c := range want {
							if d := math.Abs(s.scores[c] - want[c]); d > tol || math.IsNaN(d) {
								t.Errorf("%q: %sscore %v, reference %v (tolerance %g)", text, how, s.scores, want, tol)
								return
							}
						}
					}
					m.score(&s)
					check("")
					if m.cfg.HashBits == 0 {
						// The two-pass sum of tables larger than the caches.
						m.lookup.prefetch = true
						m.score(&s)
						m.lookup.prefetch = false
						check("prefetched ")
					}
				}
			})
		}
	}
}

// TestExplainCounts: a repeated word counts once in a binary model and
// once per occurrence in a counts model.
func TestExplainCounts(t *testing.T) {
	weightOf := func(m *Model, text string) float64 {
		ex := m.Explain(text, 100)
		pos := slices.Index(m.Classes(), "positive")
		for _, cb := range ex.Top[pos] {
			if cb.Feature == "great" {
				return cb.Weight
			}
		}
		t.Fatalf("no \"great\" in %+v", ex.Top[pos])
		return 0
	}
	for _, tc := range []struct {
		name   string
		binary bool
		factor float64
	}{{"binary", true, 1}, {"counts", false, 3}} {
		m := trainOn(t, testConfig(func(c *Config) { c.Binary = tc.binary; c.NGrams = 1 }), sentimentTrain)
		one, three := weightOf(m, "great"), weightOf(m, "great great great")
		if math.Abs(three-tc.factor*one) > 1e-9*math.Abs(one) {
			t.Errorf("%s: weight of great x3 = %v, of great x1 = %v, want factor %v", tc.name, three, one, tc.factor)
		}
	}
}

func TestTopFeatures(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{{"exact", testConfig(nil)}, {"counts", testConfig(func(c *Config) { c.Binary = false })}} {
		m := trainOn(t, tc.cfg, sentimentTrain)
		top := m.TopFeatures(10)
		if len(top) != 2 {
			t.Fatalf("%s: TopFeatures has %d classes", tc.name, len(top))
		}
		for c, list := range top {
			if len(list) == 0 || len(list) > 10 {
				t.Errorf("%s: class %s has %d top features, want 1..10", tc.name, m.Classes()[c], len(list))
			}
			for i, cb := range list {
				if !(cb.Weight > 0) || cb.Feature == "" {
					t.Errorf("%s: bad top feature %+v", tc.name, cb)
				}
				if i > 0 && cb.Weight > list[i-1].Weight {
					t.Errorf("%s: top features not sorted: %+v", tc.name, list)
				}
			}
		}
		wantIn := map[string][]string{"positive": {"great", "wonderful", "excellent", "loved"}, "negative": {"awful", "terrible", "dreadful", "hated"}}
		for c, name := range m.Classes() {
			all := m.TopFeatures(1000)[c]
			var feats []string
			for _, cb := range all {
				feats = append(feats, cb.Feature)
			}
			for _, w := range wantIn[name] {
				if !slices.Contains(feats, w) {
					t.Errorf("%s: %q is not a feature favouring %s", tc.name, w, name)
				}
			}
			for other, words := range wantIn {
				if other == name {
					continue
				}
				for _, w := range words {
					if slices.Contains(feats, w) {
						t.Errorf("%s: %q favours %s", tc.name, w, name)
					}
				}
			}
		}
	}
}

// ---- training ----

func TestTrainOrderIndependent(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		data []labeled
	}{
		{"exact", testConfig(nil), sentimentTrain},
		{"exact-trigram-counts", testConfig(func(c *Config) { c.NGrams = 3; c.Binary = false }), sentimentTrain},
		{"3-classes", testConfig(nil), append(slices.Clone(sentimentTrain), neutralTrain...)},
		{"5-classes-complement", testConfig(func(c *Config) { c.Kind = Complement }), topicTrain},
		{"min-df", testConfig(func(c *Config) { c.MinDF = 2 }), sentimentTrain},
		// 2^8 buckets for ~150 features: collisions are certain.
		{"hashed-8-bits", testConfig(func(c *Config) { c.HashBits = 8 }), append(slices.Clone(sentimentTrain), neutralTrain...)},
		{"hashed-16-bits", testConfig(func(c *Config) { c.HashBits = 16 }), sentimentTrain},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := trainOn(t, tc.cfg, tc.data).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for round := 0; round < 5; round++ {
				shuffled := slices.Clone(tc.data)
				rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				if round == 0 {
					slices.Reverse(shuffled)
				}
				got, err := trainOn(t, tc.cfg, shuffled).MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					i := 0
					for i < len(got) && i < len(want) && got[i] == want[i] {
						i++
					}
					t.Fatalf("round %d: model bytes differ from offset %d (lengths %d, %d)", round, i, len(got), len(want))
				}
			}
		})
	}
}

func TestTrainMinDF(t *testing.T) {
	// "zyzzyva" is in one positive document only.
	data := append(slices.Clone(sentimentTrain), labeled{"zyzzyva great", "positive"})
	m1 := trainOn(t, testConfig(func(c *Config) { c.MinDF = 1 }), data)
	m2 := trainOn(t, testConfig(func(c *Config) { c.MinDF = 2 }), data)
	if !(m2.Features() < m1.Features()) {
		t.Errorf("MinDF 2 kept %d features, MinDF 1 %d: want fewer", m2.Features(), m1.Features())
	}
	if got := m2.Metadata().Features; got != m2.Features() {
		t.Errorf("Metadata().Features = %d, Features() = %d", got, m2.Features())
	}
	prior := m2.Classify("")
	if got := m2.Classify("zyzzyva"); !slices.Equal(got.Probs, prior.Probs) {
		t.Errorf("MinDF 2: a word of one document still counts: %v vs priors %v", got.Probs, prior.Probs)
	}
	if got := m1.Classify("zyzzyva"); slices.Equal(got.Probs, m1.Classify("").Probs) {
		t.Errorf("MinDF 1: the word of one document is ignored")
	}
	// Every feature named in the vocabulary of m2 occurs in 2+ documents:
	// "great" does, so it must survive.
	if got := m2.Classify("great"); got.Label != "positive" {
		t.Errorf("MinDF 2 lost \"great\": %+v", got)
	}
	for _, list := range m2.TopFeatures(1 << 20) {
		for _, cb := range list {
			if strings.Contains(cb.Feature, "zyzzyva") {
				t.Errorf("MinDF 2 kept feature %q", cb.Feature)
			}
		}
	}
}

func TestTrainMaxVocab(t *testing.T) {
	for _, tc := range []struct{ ngrams, epochs int }{{1, 0}, {2, 0}, {2, 2}} {
		ngrams := tc.ngrams
		// With epochs, the documents kept for the discriminative passes
		// are renumbered at every prune.
		cfg := testConfig(func(c *Config) { c.MaxVocab = 1000; c.NGrams = ngrams; c.Epochs = tc.epochs })
		tr, err := NewTrainer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// 5000 documents, each with two words never seen before, plus the
		// frequent sentiment words that must survive pruning.
		word := func(n int) string { return fmt.Sprintf("z%dq", n) }
		for i := 0; i < 5000; i++ {
			ex := sentimentTrain[i%len(sentimentTrain)]
			if err := tr.Add(ex.text+" "+word(2*i)+" "+word(2*i+1), ex.label); err != nil {
				t.Fatal(err)
			}
		}
		m, err := tr.Model(fixedMeta)
		if err != nil {
			t.Fatal(err)
		}
		pruned, maxDF := tr.Pruned()
		if m.Features() > 1000 {
			t.Errorf("ngrams %d: %d features, MaxVocab is 1000", ngrams, m.Features())
		}
		if pruned <= 0 || maxDF < 1 {
			t.Errorf("ngrams %d: Pruned() = %d, %d: want features dropped", ngrams, pruned, maxDF)
		}
		if m.Metadata().PrunedFeatures != pruned {
			t.Errorf("Metadata().PrunedFeatures = %d, Pruned() = %d", m.Metadata().PrunedFeatures, pruned)
		}
		if tr.Docs() != 5000 {
			t.Errorf("Docs() = %d, want 5000", tr.Docs())
		}
		if acc := heldOutAccuracy(m, sentimentHeldOut); acc != 1 {
			t.Errorf("ngrams %d: held-out accuracy %v after pruning, want 1", ngrams, acc)
		}
	}
}

func TestTrainHashBitsRows(t *testing.T) {
	for _, bits := range []int{8, 10, 14} {
		m := trainOn(t, testConfig(func(c *Config) { c.HashBits = bits }), sentimentTrain)
		if got := m.Features(); got != 1<<bits {
			t.Errorf("HashBits %d: Features() = %d, want %d", bits, got, 1<<bits)
		}
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(data)
		if err != nil {
			t.Fatalf("HashBits %d: Decode: %v", bits, err)
		}
		if back.Features() != 1<<bits {
			t.Errorf("HashBits %d: decoded Features() = %d", bits, back.Features())
		}
	}
}

func TestTrainErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		data []labeled
		// addErr is the index of the example whose Add must fail, or -1;
		// modelErr says Model must fail.
		addErr   int
		modelErr bool
	}{
		{"single-class", testConfig(nil), []labeled{{"great", "positive"}, {"good", "positive"}}, -1, true},
		{"no-data", testConfig(nil), nil, -1, true},
		{"fixed-classes-unknown-label", testConfig(func(c *Config) { c.Classes = []string{"negative", "positive"} }),
			[]labeled{{"great", "positive"}, {"awful", "negative"}, {"meh", "neutral"}}, 2, false},
		{"fixed-class-without-documents", testConfig(func(c *Config) { c.Classes = []string{"negative", "neutral", "positive"} }),
			[]labeled{{"great", "positive"}, {"awful", "negative"}}, -1, true},
		{"empty-label", testConfig(nil), []labeled{{"great", "positive"}, {"awful", " "}, {"awful", "negative"}}, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := NewTrainer(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			added := 0
			for i, ex := range tc.data {
				err := tr.Add(ex.text, ex.label)
				if (err != nil) != (i == tc.addErr) {
					t.Errorf("Add(%q, %q) error = %v, want error: %v", ex.text, ex.label, err, i == tc.addErr)
				}
				if err == nil {
					added++
				}
			}
			if tr.Docs() != uint64(added) {
				t.Errorf("Docs() = %d after %d successful Adds: a rejected document was counted", tr.Docs(), added)
			}
			_, err = tr.Model(Metadata{})
			if (err != nil) != tc.modelErr {
				t.Errorf("Model() error = %v, want error: %v", err, tc.modelErr)
			}
		})
	}
}

// TestTrainFixedClassOrder: Config.Classes fixes the order of Probs.
func TestTrainFixedClassOrder(t *testing.T) {
	order := []string{"positive", "negative"} // not sorted
	m := trainOn(t, testConfig(func(c *Config) { c.Classes = order }), sentimentTrain)
	if got := m.Classes(); !slices.Equal(got, order) {
		t.Errorf("Classes() = %q, want %q", got, order)
	}
	if p := m.Classify("great wonderful"); p.Index != 0 || p.Label != "positive" {
		t.Errorf("Classify = %+v, want index 0 positive", p)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		set  func(*Config)
		ok   bool
	}{
		{"default", nil, true},
		{"ngrams-0", func(c *Config) { c.NGrams = 0 }, false},
		{"ngrams-4", func(c *Config) { c.NGrams = 4 }, false},
		{"min-df-0", func(c *Config) { c.MinDF = 0 }, false},
		{"hash-bits-7", func(c *Config) { c.HashBits = 7 }, false},
		{"hash-bits-29", func(c *Config) { c.HashBits = 29 }, false},
		{"hash-bits-8", func(c *Config) { c.HashBits = 8 }, true},
		{"max-vocab-999", func(c *Config) { c.MaxVocab = 999 }, false},
		{"kind", func(c *Config) { c.Kind = "bernoulli" }, false},
		{"alpha-0", func(c *Config) { c.Alpha = 0 }, false},
		{"alpha-nan", func(c *Config) { c.Alpha = math.NaN() }, false},
		{"temperature-negative", func(c *Config) { c.Temperature = -1 }, false},
		{"temperature-nan", func(c *Config) { c.Temperature = math.NaN() }, false},
		{"temperature-0", func(c *Config) { c.Temperature = 0 }, true},
		{"epochs-negative", func(c *Config) { c.Epochs = -1 }, false},
		{"epochs-101", func(c *Config) { c.Epochs = 101 }, false},
		{"epochs-3", func(c *Config) { c.Epochs = 3 }, true},
		{"learning-rate-negative", func(c *Config) { c.LearningRate = -0.1 }, false},
		{"learning-rate-nan", func(c *Config) { c.LearningRate = math.NaN() }, false},
		{"learning-rate-11", func(c *Config) { c.LearningRate = 11 }, false},
		{"max-repeat-negative", func(c *Config) { c.Tokenizer.MaxRepeat = -1 }, false},
		{"negation-scope-negative", func(c *Config) { c.Tokenizer.NegationScope = -1 }, false},
		{"negation-scope-1001", func(c *Config) { c.Tokenizer.NegationScope = 1001 }, false},
		{"negation-scope-3", func(c *Config) { c.Tokenizer.NegationScope = 3 }, true},
		{"class-bias-nan", func(c *Config) { c.ClassBias = []float64{0, math.NaN()} }, false},
		{"class-bias-inf", func(c *Config) { c.ClassBias = []float64{0, math.Inf(1)} }, false},
		{"neutral-margin-negative", func(c *Config) { c.NeutralMargin = -0.1 }, false},
		{"neutral-margin-1", func(c *Config) { c.NeutralMargin = 1 }, false},
		{"neutral-margin-nan", func(c *Config) { c.NeutralMargin = math.NaN() }, false},
		{"neutral-margin-0.2", func(c *Config) { c.NeutralMargin = 0.2 }, true},
		{"classes-duplicate", func(c *Config) { c.Classes = []string{"a", "a"} }, false},
		{"classes-blank", func(c *Config) { c.Classes = []string{"a", " "} }, false},
	}
	for _, tc := range cases {
		cfg := testConfig(tc.set)
		err := cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
		if _, terr := NewTrainer(cfg); (terr == nil) != tc.ok {
			t.Errorf("%s: NewTrainer error = %v, want ok %v", tc.name, terr, tc.ok)
		}
	}
}

// TestNeutralMargin: a polar answer whose lead over the other polar class
// is under the margin becomes neutral; the probabilities stay as they
// are, a neutral answer stays neutral, and margin 0 changes nothing.
func TestNeutralMargin(t *testing.T) {
	base := trainOn(t, testConfig(nil), sentimentTrain, neutralTrain)
	texts := []string{
		"great film",                            // clearly positive
		"a great film with awful acting",        // mixed
		"terrible but wonderful",                // mixed
		"the film opens on monday",              // neutral
		"great, the director was born in spain", // positive, neutral second
		"",                                      // priors only
	}
	neutral := slices.Index(base.Classes(), NeutralClass)
	flipped := 0
	for _, text := range texts {
		want := base.Classify(text)
		lead := 0.0 // the winner's lead over the runner-up among the other classes
		if want.Index != neutral {
			second := 0.0
			for c, p := range want.Probs {
				if c != want.Index && c != neutral {
					second = max(second, p)
				}
			}
			lead = want.Confidence - second
		}
		for _, tc := range []struct {
			name   string
			margin float64
			label  string
		}{
			{"off", 0, want.Label},
			{"under the lead", lead * 0.99, want.Label},
			{"over the lead", lead*1.01 + 1e-9, NeutralClass},
		} {
			if tc.margin >= 1 {
				continue // a lead of about 1: no margin can overrule it
			}
			if want.Index == neutral && tc.margin > 0 {
				tc.label = NeutralClass // already neutral: any margin keeps it
			}
			if tc.label == NeutralClass && want.Index != neutral {
				flipped++
			}
			m, err := base.WithNeutralMargin(tc.margin)
			if err != nil {
				t.Fatal(err)
			}
			got := m.Classify(text)
			if got.Label != tc.label || m.Classes()[got.Index] != got.Label || got.Confidence != got.Probs[got.Index] {
				t.Errorf("%q, margin %s (%.4g): %s (index %d, confidence %.4f), want %s", text, tc.name, tc.margin, got.Label, got.Index, got.Confidence, tc.label)
			}
			if !slices.Equal(got.Probs, want.Probs) {
				t.Errorf("%q, margin %s: probabilities %v, want %v unchanged", text, tc.name, got.Probs, want.Probs)
			}
		}
	}
	// The mixed texts are what the rule is for: each must have been
	// turned neutral by some margin.
	if flipped < 2 {
		t.Errorf("only %d texts were turned neutral; the test data should give at least the two mixed ones", flipped)
	}
}

// TestNeutralMarginNeedsNeutral: the margin is refused for models that
// have no neutral class to answer with.
func TestNeutralMarginNeedsNeutral(t *testing.T) {
	for name, data := range map[string][][]labeled{
		"2 classes": {sentimentTrain},
		"5 topics":  {topicTrain},
	} {
		m := trainOn(t, testConfig(nil), data...)
		if _, err := m.WithNeutralMargin(0.2); err == nil || !strings.Contains(err.Error(), `class named "neutral"`) {
			t.Errorf("%s: WithNeutralMargin(0.2) error = %v, want one naming the missing neutral class", name, err)
		}
		if _, err := m.WithNeutralMargin(0); err != nil {
			t.Errorf("%s: WithNeutralMargin(0) = %v, want no error", name, err)
		}
		cfg := testConfig(func(c *Config) { c.NeutralMargin = 0.2 })
		tr, err := NewTrainer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range data {
			for _, l := range d {
				if err := tr.Add(l.text, l.label); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := tr.Model(Metadata{}); err == nil {
			t.Errorf("%s: training with neutral_margin 0.2 gave a model, want an error", name)
		}
	}
}

// ---- calibration ----

// imbalanced is a 3-class corpus dominated by positive reviews, where
// neutral shares words with both other classes: the kind of data a class
// bias helps with.
func imbalanced() (train, held []labeled) {
	train = append(train, sentimentTrain[:8]...)
	train = append(train, sentimentTrain[:8]...)
	train = append(train, sentimentTrain[:8]...)
	train = append(train, sentimentTrain[8:12]...)
	train = append(train, neutralTrain[:3]...)
	held = append(held, sentimentHeldOut...)
	held = append(held, neutralHeldOut...)
	held = append(held,
		labeled{"the film is in black and white", "neutral"},
		labeled{"the cast is from spain", "neutral"},
		labeled{"dreadful and boring film", "negative"},
		labeled{"a film with acting", "neutral"},
		labeled{"it was a film", "negative"},
	)
	return train, held
}

func TestFitClassBias(t *testing.T) {
	train, held := imbalanced()
	m := trainOn(t, testConfig(nil), train)
	examples := toExamples(held)
	examples = append(examples, Example{Line: 99, Text: "great", Label: "not-a-class"}) // skipped
	for _, obj := range []string{ObjectiveAccuracy, ObjectiveMacroRecall, ObjectiveMacroF1} {
		bias, score, err := FitClassBias(m, examples, obj)
		if err != nil {
			t.Fatalf("%s: %v", obj, err)
		}
		if len(bias) != len(m.Classes()) {
			t.Fatalf("%s: %d biases for %d classes", obj, len(bias), len(m.Classes()))
		}
		if bias[0] != 0 {
			t.Errorf("%s: bias of the first class = %v, want 0 (only differences matter)", obj, bias[0])
		}
		for _, b := range bias {
			if math.IsNaN(b) || math.IsInf(b, 0) {
				t.Errorf("%s: bias %v not finite", obj, bias)
			}
		}
		if math.IsNaN(score) || score < 0 || score > 1 {
			t.Errorf("%s: objective %v, want in [0,1]", obj, score)
		}
		fitted, err := m.WithClassBias(bias)
		if err != nil {
			t.Fatalf("%s: WithClassBias(%v): %v", obj, bias, err)
		}
		before := m.Evaluate(examples[:len(examples)-1], nil)
		after := fitted.Evaluate(examples[:len(examples)-1], nil)
		var b, a float64
		switch obj {
		case ObjectiveAccuracy:
			b, a = before.Accuracy, after.Accuracy
		case ObjectiveMacroRecall:
			b, a = before.MacroRecall, after.MacroRecall
		case ObjectiveMacroF1:
			b, a = before.MacroF1, after.MacroF1
		}
		if a < b-1e-9 {
			t.Errorf("%s: fitted bias %v lowers the objective on its own data: %v -> %v", obj, bias, b, a)
		}
		if math.Abs(a-score) > 1e-9 {
			t.Errorf("%s: FitClassBias reports %v, the biased model scores %v", obj, score, a)
		}
		// Fitting again on the biased model starts from its bias: it can
		// only keep or improve the objective.
		_, score2, err := FitClassBias(fitted, examples, obj)
		if err != nil {
			t.Fatal(err)
		}
		if score2 < a-1e-9 {
			t.Errorf("%s: refit on the biased model scores %v < %v", obj, score2, a)
		}
	}
	if _, _, err := FitClassBias(m, examples, "auc"); err == nil {
		t.Error("unknown objective accepted")
	}
	if _, _, err := FitClassBias(m, []Example{{Text: "x", Label: "nope"}}, ObjectiveAccuracy); err == nil {
		t.Error("no usable held-out example accepted")
	}
}

func TestFitTemperature(t *testing.T) {
	train, held := imbalanced()
	for _, cfg := range []Config{testConfig(nil), testConfig(func(c *Config) { c.Binary = false }), testConfig(func(c *Config) { c.Kind = Complement })} {
		m := trainOn(t, cfg, train)
		examples := toExamples(held)
		temp, loss := FitTemperature(m, examples)
		if math.IsNaN(temp) || math.IsInf(temp, 0) || temp < 0.05-1e-3 || temp > 1000+1e-3 {
			t.Errorf("%s: temperature %v, want finite in [0.05, 1000]", cfg.Kind, temp)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) || loss < 0 {
			t.Errorf("%s: log loss %v", cfg.Kind, loss)
		}
		logLoss := func(m *Model) float64 {
			sum := 0.0
			for _, ex := range examples {
				p := m.Classify(ex.Text)
				sum -= math.Log(math.Max(p.Probs[slices.Index(m.Classes(), ex.Label)], 1e-300))
			}
			return sum / float64(len(examples))
		}
		fitted, err := m.WithTemperature(temp)
		if err != nil {
			t.Fatal(err)
		}
		if got := logLoss(fitted); math.Abs(got-loss) > 1e-9 {
			t.Errorf("%s: FitTemperature reports loss %v, the model at T=%v has %v", cfg.Kind, loss, temp, got)
		}
		if l1 := logLoss(m); loss > l1+1e-6 {
			t.Errorf("%s: fitted T=%v has log loss %v, worse than T=1's %v", cfg.Kind, temp, loss, l1)
		}
		// Temperature rescales confidence, never changes decisions.
		if a, b := m.Evaluate(examples, nil).Accuracy, fitted.Evaluate(examples, nil).Accuracy; a != b {
			t.Errorf("%s: accuracy %v at T=1, %v at T=%v", cfg.Kind, a, b, temp)
		}
	}
	m := trainOn(t, testConfig(nil), sentimentTrain)
	if temp, loss := FitTemperature(m, nil); temp != 1 || !math.IsNaN(loss) {
		t.Errorf("FitTemperature with no examples = %v, %v; want 1, NaN", temp, loss)
	}
	if _, err := m.WithTemperature(-1); err == nil {
		t.Error("WithTemperature(-1) accepted")
	}
	if _, err := m.WithClassBias([]float64{0, 1, 2}); err == nil {
		t.Error("WithClassBias with 3 biases for 2 classes accepted")
	}
}

func TestCrossValidate(t *testing.T) {
	data := toExamples(sentimentTrain, sentimentTrain, neutralTrain, neutralTrain) // each text twice: every fold learns it
	for _, k := range []int{2, 3, 5} {
		r, err := CrossValidate(testConfig(nil), data, k)
		if err != nil {
			t.Fatalf("k=%d: %v", k, err)
		}
		if r.N != len(data) {
			t.Errorf("k=%d: pooled N = %d, want %d (every example scored once)", k, r.N, len(data))
		}
		sum := 0
		for _, row := range r.Confusion {
			for _, n := range row {
				sum += n
			}
		}
		if sum != len(data) {
			t.Errorf("k=%d: confusion matrix totals %d", k, sum)
		}
		if r.Accuracy < 0.6 {
			t.Errorf("k=%d: cross-validated accuracy %v on an easy corpus", k, r.Accuracy)
		}
	}
	if _, err := CrossValidate(testConfig(nil), data, 1); err == nil {
		t.Error("1 fold accepted")
	}
	if _, err := CrossValidate(testConfig(nil), data[:2], 3); err == nil {
		t.Error("3 folds of 2 examples accepted")
	}
	if _, err := CrossValidate(testConfig(func(c *Config) { c.NGrams = 9 }), data, 2); err == nil {
		t.Error("invalid config accepted")
	}
}
