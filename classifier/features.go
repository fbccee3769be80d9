package classifier

// Scratch is the reusable working memory of one classification or training
// step. It is not safe for concurrent use; a Model keeps a pool of them.
type Scratch struct {
	clean []byte  // text after HTML and escape decoding
	buf   []byte  // normalised token bytes
	toks  []token // tokens, pointing into buf
	// lexToks are lexicon pseudo-tokens: unigram features only, outside
	// the n-gram sequence.
	lexToks []token
	lex     *lexicon
	lexFlip bool
	// bytewise turns off the tokenizer's eight-bytes-at-a-time word path
	// (tests compare the two).
	bytewise bool
	// negLeft counts down the words a negation still marks when
	// TokenizerConfig.NegationScope is set.
	negLeft int
	feats   []uint64

	// seen is a per-document set of table slots for Binary models; entries
	// are valid only when stamp matches gen, so it is never cleared.
	seenSlot  []uint32
	seenStamp []uint32
	gen       uint32

	scores []float64
	sink   uint64 // keeps the prefetch loop of Model.score from being removed
}

// features fills s.feats with the n-gram feature hashes of s.toks.
func (s *Scratch) features(n int) {
	s.feats = s.feats[:0]
	toks := s.toks
	for i := range toks {
		h := toks[i].hash
		s.feats = append(s.feats, featUni(h))
		if n >= 2 && i >= 1 {
			s.feats = append(s.feats, featBi(toks[i-1].hash, h))
			if n >= 3 && i >= 2 {
				s.feats = append(s.feats, featTri(toks[i-2].hash, toks[i-1].hash, h))
			}
		}
	}
	for _, t := range s.lexToks {
		s.feats = append(s.feats, featUni(t.hash))
	}
}

// featureString is the readable name of the feature ending at token i
// with the given order (1 word, 2 bigram, 3 trigram); order 0 names
// lexicon pseudo-token i.
func (s *Scratch) featureString(i, order int) string {
	return string(s.appendFeatureName(nil, i, order))
}

// appendFeatureName appends the name featureString returns to dst.
func (s *Scratch) appendFeatureName(dst []byte, i, order int) []byte {
	if order == 0 {
		return s.appendTokenName(dst, s.lexToks[i])
	}
	for j := i - order + 1; j <= i; j++ {
		if j > i-order+1 {
			dst = append(dst, ' ')
		}
		dst = s.appendTokenName(dst, s.toks[j])
	}
	return dst
}

func (s *Scratch) appendTokenName(dst []byte, t token) []byte {
	if t.neg {
		dst = append(dst, "NOT_"...)
	}
	return append(dst, s.buf[t.off:t.off+t.n]...)
}

// resetSeen prepares the per-document set for a document of up to n features.
func (s *Scratch) resetSeen(n int) {
	size := 1024
	for size < 2*n {
		size <<= 1
	}
	if len(s.seenSlot) < size {
		s.seenSlot = make([]uint32, size)
		s.seenStamp = make([]uint32, size)
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 { // wrapped: stale stamps could collide, clear once
		clear(s.seenStamp)
		s.gen = 1
	}
}

// firstSight adds slot to the set and reports whether it was new.
func (s *Scratch) firstSight(slot uint32) bool {
	mask := uint32(len(s.seenSlot) - 1)
	i := (slot * 0x9e3779b1) & mask
	for {
		if s.seenStamp[i] != s.gen {
			s.seenStamp[i] = s.gen
			s.seenSlot[i] = slot
			return true
		}
		if s.seenSlot[i] == slot {
			return false
		}
		i = (i + 1) & mask
	}
}
