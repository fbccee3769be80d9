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
	slots   []uint64 // lookup slot of each feature, for perfectTable.sumPrefetched's first pass

	// seen is a per-document set of rows for Binary models (hashed ones,
	// training, Explain). Each entry is gen<<32 | slot, valid only while
	// its gen is the current document's, so the set is never cleared; one
	// load answers both "is this entry live" and "is it this slot".
	seen []uint64
	// seenKeys is the same set keyed by the feature hash, for models with
	// an exact vocabulary (see Model.score); it shares gen.
	seenKeys []seenKey
	gen      uint32

	scores []float64
	sink   uint32 // keeps prefetchSlots' loads, where it makes loads (prefetch_other.go)
}

// features fills s.feats with the n-gram feature hashes of s.toks: for
// each token its unigram, then the bigram and trigram ending there. The
// slice is sized once and filled by index, without append's capacity
// check per feature (5% of the pass's instructions).
func (s *Scratch) features(n int) {
	toks := s.toks
	need := len(toks)*n + len(s.lexToks)
	if cap(s.feats) < need {
		s.feats = make([]uint64, need, 2*need)
	}
	f := s.feats[:need]
	o := 0
	var p1, p2 uint64 // hashes of the previous two tokens
	for i := range toks {
		h := toks[i].hash
		f[o] = featUni(h)
		o++
		if n >= 2 && i >= 1 {
			f[o] = featBi(p1, h)
			o++
			if n >= 3 && i >= 2 {
				f[o] = featTri(p2, p1, h)
				o++
			}
		}
		p2, p1 = p1, h
	}
	for _, t := range s.lexToks {
		f[o] = featUni(t.hash)
		o++
	}
	s.feats = f[:o]
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

// resetSeen prepares the per-document set for a document of up to n
// features: seen, and seenKeys too when keyed.
func (s *Scratch) resetSeen(n int, keyed bool) {
	size := 1024
	for size < 2*n {
		size <<= 1
	}
	if len(s.seen) < size {
		s.seen = make([]uint64, size)
		s.seenKeys = nil // sized with seen; made when first keyed
		s.gen = 0
	}
	s.gen++
	if s.gen == 0 { // wrapped: stale entries could look live, clear once
		clear(s.seen)
		clear(s.seenKeys)
		s.gen = 1
	}
	if keyed && len(s.seenKeys) != len(s.seen) {
		s.seenKeys = make([]seenKey, len(s.seen))
	}
}

// firstSight adds slot to the set and reports whether it was new.
func (s *Scratch) firstSight(slot uint32) bool {
	seen := s.seen
	mask := uint32(len(seen) - 1)
	want := uint64(s.gen)<<32 | uint64(slot)
	i := (slot * 0x9e3779b1) & mask
	for {
		e := seen[i]
		if e == want {
			return false
		}
		if uint32(e>>32) != s.gen {
			seen[i] = want
			return true
		}
		i = (i + 1) & mask
	}
}

// seenKey is an entry of Scratch.seenKeys, live while gen is the
// current document's.
type seenKey struct {
	key uint64
	gen uint32
}

// firstSightKey adds feature hash f to the set and reports whether it was
// new. It is firstSight for features rather than rows: a model with an
// exact vocabulary de-duplicates before it looks a feature up.
func (s *Scratch) firstSightKey(f uint64) bool {
	seen := s.seenKeys
	mask := uint64(len(seen) - 1)
	for i := f & mask; ; i = (i + 1) & mask {
		e := &seen[i]
		if e.gen != s.gen {
			e.key, e.gen = f, s.gen
			return true
		}
		if e.key == f {
			return false
		}
	}
}
