package classifier

import (
	"math"
	"path/filepath"
	"testing"
)

// TestPackedShippedModel: the shipped model, whose slots are packed,
// answers real reviews and tweets as its float32 weights read plainly
// do. Every score is within the rounding bound of the reference, the
// probabilities within 1e-3, and the label the same wherever the
// reference's two best classes are further apart than that bound.
func TestPackedShippedModel(t *testing.T) {
	m, err := Load(filepath.Join("..", "models", "default.cpst"))
	if err != nil {
		t.Fatal(err)
	}
	if m.lookup.quantum == 0 {
		t.Fatalf("the shipped model's table is not packed (stride %d)", m.lookup.stride)
	}
	var examples []Example
	for _, rel := range []string{"imdb/test.jsonl", "semeval2017-task4a/test.jsonl", "sst5/test.jsonl"} {
		examples = append(examples, loadExamples(t, rel, 3000)...)
	}
	var s Scratch
	var p Prediction
	worstProb, worstScore, near := 0.0, 0.0, 0
	for _, ex := range examples {
		s.tokenize(&m.cfg.Tokenizer, ex.Text)
		s.features(m.cfg.NGrams)
		want, tol := referenceScores(m, &s)
		m.score(&s)
		for c := range want {
			d := math.Abs(s.scores[c] - want[c])
			worstScore = max(worstScore, d/tol)
			if d > tol {
				t.Fatalf("%.60q: score %v, reference %v (tolerance %g)", ex.Text, s.scores, want, tol)
			}
		}
		m.finish(&s, &p)
		var rp Prediction
		m.finish(&Scratch{scores: want, toks: s.toks}, &rp)
		for c := range want {
			worstProb = max(worstProb, math.Abs(p.Probs[c]-rp.Probs[c]))
		}
		if p.Index != rp.Index {
			// Only a near tie may go the other way: two scores within
			// the bound, or, with a neutral margin, a gap of
			// probabilities within 1e-3 of it.
			if !nearTie(m, want, rp.Probs, 2*tol, 2e-3) {
				t.Errorf("%.60q: label %s, reference %s (scores %v, reference %v)", ex.Text, p.Label, rp.Label, s.scores, want)
			}
			near++
		}
	}
	if worstProb > 1e-3 {
		t.Errorf("probabilities differ from the reference's by up to %g", worstProb)
	}
	t.Logf("%d texts: worst score error %.3f of its bound, worst probability error %.2g, %d labels differ at a near tie", len(examples), worstScore, worstProb, near)
}

// nearTie reports whether the two best scores are within gap of each
// other, or, with a neutral margin, the two best non-neutral
// probabilities' gap is within probGap of the margin.
func nearTie(m *Model, scores, probs []float64, gap, probGap float64) bool {
	best, second := top2(scores, -1)
	if scores[best]-scores[second] <= gap {
		return true
	}
	if m.cfg.NeutralMargin == 0 {
		return false
	}
	best, second = top2(probs, m.neutral)
	return math.Abs(probs[best]-probs[second]-m.cfg.NeutralMargin) <= probGap
}

// top2 returns the indexes of the two largest of x, skipping index skip.
func top2(x []float64, skip int) (int, int) {
	best, second := -1, -1
	for c, v := range x {
		switch {
		case c == skip:
		case best < 0 || v > x[best]:
			best, second = c, best
		case second < 0 || v > x[second]:
			second = c
		}
	}
	return best, second
}
