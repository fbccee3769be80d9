package classifier

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Sentiment lexicons the tokenizer can consult (TokenizerConfig.Lexicon).
// A word found in the lexicon adds a pseudo-token for its polarity and
// strength ("<lex:pos>", "<lex:strongneg>", negated like any token), so the
// model can generalise from words it saw rarely or never in training. The
// files are part of the model's meaning: changing one needs a new name.
//
//go:embed lexicons/afinn165.tsv lexicons/vader.tsv
var lexiconFiles embed.FS

var lexicons = map[string]struct {
	file   string
	strong float64 // |valence| at or above this is "strong"
}{
	"afinn165": {"lexicons/afinn165.tsv", 3},
	"vader":    {"lexicons/vader.tsv", 2},
}

// lexicon is an open-addressing table from token hash to pseudo-token. A
// slot packs the hash's upper 56 bits with an 8-bit value (pseudo-token
// index+1 in the low nibble, repetitions in the high one), so a look-up
// touches one word; 0 is an empty slot.
type lexicon struct {
	mask  uint64
	slots []uint64
	// filter has one bit per 2^16 values of a middle slice of the hash,
	// set for every lexicon word: most words are not in the lexicon, and
	// an 8 KiB bitmap that stays in the L1 cache turns nearly all of them
	// away before the table (too big for L1) is touched.
	filter [1 << 10]uint64
}

// filterBit is the bit of the lexicon's filter a token hash maps to.
func filterBit(h uint64) (word, bit uint64) {
	x := (h >> 20) & (1<<16 - 1)
	return x >> 6, 1 << (x & 63)
}

var lexTokens = [...]string{"<lex:pos>", "<lex:strongpos>", "<lex:neg>", "<lex:strongneg>"}

// lexHashes[i][neg] is hashToken(lexTokens[i], neg), computed once: every
// lexicon hit would otherwise hash the same few strings again.
var lexHashes = func() (h [len(lexTokens)][2]uint64) {
	for i, t := range lexTokens {
		h[i][0] = hashToken([]byte(t), false)
		h[i][1] = hashToken([]byte(t), true)
	}
	return h
}()

// LexiconNegationFlip is the TokenizerConfig.LexiconNegation that flips
// negated lexicon pseudo-tokens.
const LexiconNegationFlip = "flip"

// flipLexToken is a negated pseudo-token's opposite, one step weaker: a
// negated strong word ("not terrible") is a weak one of the other side.
func flipLexToken(i int) int {
	if i <= 1 { // <lex:pos>, <lex:strongpos>
		return 2 // <lex:neg>
	}
	return 0 // <lex:pos>
}

// lexiconLoaders builds each lexicon once, on first use; the tables are
// immutable afterwards, like the unicode package's.
var lexiconLoaders = func() map[string]func() (*lexicon, error) {
	m := map[string]func() (*lexicon, error){}
	for name := range lexicons {
		m[name] = sync.OnceValues(func() (*lexicon, error) { return buildLexicon(name) })
	}
	return m
}()

// lexiconFor returns the named lexicon, nil for "".
func lexiconFor(name string) (*lexicon, error) {
	if name == "" {
		return nil, nil
	}
	load, ok := lexiconLoaders[name]
	if !ok {
		return nil, fmt.Errorf("unknown lexicon %q (known: afinn165, vader)", name)
	}
	return load()
}

func buildLexicon(name string) (*lexicon, error) {
	spec := lexicons[name]
	data, err := lexiconFiles.ReadFile(spec.file)
	if err != nil {
		return nil, fmt.Errorf("lexicon %s: %w", name, err)
	}
	type entry struct {
		h uint64
		v uint8
	}
	var entries []entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		word, val, ok := strings.Cut(line, "\t")
		if !ok || strings.Contains(word, " ") { // multi-word entries cannot match one token
			continue
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil || v == 0 {
			continue
		}
		tok := 0
		if v < 0 {
			tok = 2
		}
		if math.Abs(v) >= spec.strong {
			tok++
		}
		reps := int(math.Round(math.Abs(v)))
		if reps < 1 {
			reps = 1
		}
		if reps > 5 {
			reps = 5
		}
		entries = append(entries, entry{hashToken([]byte(strings.ToLower(word)), false), uint8(tok+1) | uint8(reps)<<4})
	}
	size := uint64(16)
	for size < uint64(len(entries))*2 {
		size <<= 1
	}
	l := &lexicon{mask: size - 1, slots: make([]uint64, size)}
	for _, e := range entries {
		i := l.slot(e.h)
		l.slots[i] = e.h&^0xff | uint64(e.v)
		w, b := filterBit(e.h)
		l.filter[w] |= b
	}
	return l, nil
}

// slot finds h's slot. Token hashes are well mixed in their upper bits
// (see hashToken), so those index the table directly.
func (l *lexicon) slot(h uint64) uint64 {
	i := (h >> 40) & l.mask
	for {
		v := l.slots[i]
		if v == 0 || (v^h)&^0xff == 0 {
			return i
		}
		i = (i + 1) & l.mask
	}
}

// lookup returns the index in lexTokens of a token hash's pseudo-token,
// or -1, and how many times it counts.
func (l *lexicon) lookup(h uint64) (int, int) {
	if w, b := filterBit(h); l.filter[w]&b == 0 {
		return -1, 0
	}
	if v := uint8(l.slots[l.slot(h)]); v != 0 {
		return int(v&15 - 1), int(v >> 4)
	}
	return -1, 0
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
