package classifier

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// redundantData is the textbook case naive Bayes gets wrong: the words of
// block (always together) each carry the same weak evidence for positive,
// and naive Bayes counts it once per word; "awful" is strong evidence for
// negative. In the data, documents holding both are mostly negative
// (12 positive, 32 negative), but counted evidence says positive.
//
// With unique > 0, every document also carries that many words of its own,
// as real documents do (names, typos): a model scored on the documents it
// counted finds each one certain by those words alone.
func redundantData(block, unique int) (train []labeled, both string) {
	var words []string
	for i := range block {
		words = append(words, fmt.Sprintf("w%d", i))
	}
	r := strings.Join(words, " ")
	add := func(n int, text, label string) {
		for range n {
			doc := "film " + text
			for j := range unique {
				doc += fmt.Sprintf(" u%dq%d", len(train), j)
			}
			train = append(train, labeled{doc, label})
		}
	}
	// positive: R in 60 of 100, "awful" in 20, independently.
	add(12, r+" awful", "positive")
	add(48, r, "positive")
	add(8, "awful", "positive")
	add(32, "", "positive")
	// negative: R in 40 of 100, "awful" in 80.
	add(32, r+" awful", "negative")
	add(8, r, "negative")
	add(48, "awful", "negative")
	add(12, "", "negative")
	return train, "film " + r + " awful"
}

func TestRefineUndoesDoubleCounting(t *testing.T) {
	cases := []struct {
		name   string
		unique int
		set    func(*Config)
	}{
		{"multinomial", 0, nil},
		{"multinomial-unique-words", 6, nil},
		{"multinomial-unbalanced", 0, func(c *Config) { c.Balance = false }},
		{"complement", 0, func(c *Config) { c.Kind = Complement }},
		{"complement-unique-words", 6, func(c *Config) { c.Kind = Complement }},
		{"min-df", 6, func(c *Config) { c.MinDF = 2 }},
		{"hashed", 6, func(c *Config) { c.HashBits = 12 }},
		{"counts", 0, func(c *Config) { c.Binary = false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			train, both := redundantData(12, tc.unique)
			cfg := testConfig(func(c *Config) {
				c.NGrams = 1
				c.Tokenizer.Lexicon = ""
				if tc.set != nil {
					tc.set(c)
				}
			})
			plain := trainOn(t, cfg, train)
			cfg.Epochs, cfg.LearningRate = 5, 0.3
			refined := trainOn(t, cfg, train)
			p, r := plain.Classify(both), refined.Classify(both)
			t.Logf("plain %v, refined %v", p.Probs, r.Probs)
			if p.Label != "positive" {
				t.Fatalf("plain naive Bayes says %q for %q: the data no longer shows double counting", p.Label, both)
			}
			if r.Label != "negative" {
				t.Errorf("refined model says %q (%v) for %q, want negative as in its training data", r.Label, r.Probs, both)
			}
			// Accuracy on the training patterns, without the unique words.
			patterns, _ := redundantData(12, 0)
			if pa, ra := heldOutAccuracy(plain, patterns), heldOutAccuracy(refined, patterns); ra <= pa {
				t.Errorf("training accuracy %.3f refined, %.3f plain: want higher", ra, pa)
			}
			// What single words say is kept: the refinement reweighs, it
			// does not turn the evidence around.
			if got := refined.Classify("film awful"); got.Label != "negative" {
				t.Errorf("refined: %q is %q", "film awful", got.Label)
			}
			if got := refined.Classify("film w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11"); got.Label != "positive" {
				t.Errorf("refined: the block alone is %q", got.Label)
			}
		})
	}
}

func TestRefineDeterministic(t *testing.T) {
	data := append(slices.Clone(sentimentTrain), neutralTrain...)
	cfg := testConfig(func(c *Config) { c.Epochs, c.LearningRate = 3, 0.5 })
	a, err := trainOn(t, cfg, data).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, err := trainOn(t, cfg, data).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the same data trained twice gave different model files")
	}
	m := trainOn(t, cfg, data)
	if got := m.Config(); got.Epochs != 3 || got.LearningRate != 0.5 {
		t.Errorf("Config() = epochs %d, learning rate %v: the settings are not kept", got.Epochs, got.LearningRate)
	}
	if plain := trainOn(t, testConfig(nil), data); slices.Equal(plain.weights, m.weights) {
		t.Error("epochs 3 left every weight as counted")
	}
}

func TestRemapDocs(t *testing.T) {
	tr := &Trainer{
		docRows: []uint32{0, 1, 2, 3, 1, 4, 4},
		docEnd:  []int{3, 3, 5, 7}, // {0 1 2} {} {3 1} {4 4}
	}
	// Rows 1 and 4 pruned; 0, 2, 3 become 0, 1, 2.
	tr.remapDocs([]int32{0, -1, 1, 2, -1})
	if want := []uint32{0, 1, 2}; !slices.Equal(tr.docRows, want) {
		t.Errorf("docRows = %v, want %v", tr.docRows, want)
	}
	if want := []int{2, 2, 3, 3}; !slices.Equal(tr.docEnd, want) {
		t.Errorf("docEnd = %v, want %v", tr.docEnd, want)
	}
}
