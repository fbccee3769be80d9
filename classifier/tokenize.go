package classifier

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// TokenizerConfig selects what the tokenizer does to raw review text. Every
// field is an independent option; DefaultTokenizerConfig holds the defaults.
type TokenizerConfig struct {
	// Lowercase folds case: ASCII inline, other scripts with unicode.ToLower.
	Lowercase bool `json:"lowercase"`
	// HTML turns markup such as "<br />" into a clause break and decodes
	// entities (&quot; &amp; &lt; &gt; &apos; &nbsp; &#39; &#x27;).
	HTML bool `json:"html"`
	// Escapes decodes literal "\uXXXX" escapes (surrogate pairs included)
	// that double-encoded JSON leaves in tweets.
	Escapes bool `json:"escapes"`
	// URLs replaces every http://, https:// or www. link with one "<url>" token.
	URLs bool `json:"urls"`
	// Mentions replaces every @name with one "<user>" token.
	Mentions bool `json:"mentions"`
	// Numbers replaces tokens made only of digits with "<num>". Off by
	// default: "10/10" and "1 star" carry sentiment.
	Numbers bool `json:"numbers"`
	// Emoticons keeps ASCII emoticons such as ":)", ":-(", "<3" and "xD" as
	// tokens, normalised (":-)" and ":)" are one token).
	Emoticons bool `json:"emoticons"`
	// Emoji keeps each emoji and other pictographic symbol as a token.
	Emoji bool `json:"emoji"`
	// MaxRepeat caps runs of one letter ("soooo" becomes "sooo" at 3);
	// 0 keeps runs as written.
	MaxRepeat int `json:"max_repeat"`
	// Punct keeps runs of '!' and '?' as tokens ("!", "!!", "?", "??", "?!").
	Punct bool `json:"punct"`
	// Negation marks the tokens after not, no, never, cannot, nothing,
	// nobody, none, nowhere, neither, nor or any word ending in n't, up to
	// the next clause punctuation or "but", as negated ("NOT_good").
	Negation bool `json:"negation"`
	// NegationScope, above 0, ends a negation after that many words even
	// where no punctuation comes ("not a good movie at all" marks "a",
	// "good" and "movie" at 3); 0 runs it to the punctuation. Long
	// unpunctuated sentences otherwise mark everything after a "not".
	NegationScope int `json:"negation_scope,omitempty"`
	// Lexicon names a built-in sentiment lexicon ("afinn165" or "vader")
	// whose words add polarity pseudo-tokens; empty means none.
	Lexicon string `json:"lexicon,omitempty"`
	// LexiconNegation is what negation does to a lexicon pseudo-token: ""
	// marks it like any token ("NOT_<lex:strongneg>", learned from the
	// data), "flip" turns it to the opposite polarity one step weaker, with
	// its weight scaled by 0.74, as VADER scores a negated word ("not bad"
	// counts as mildly positive).
	LexiconNegation string `json:"lexicon_negation,omitempty"`
	// Stem strips common English suffixes (-'s, -ing, -ed, -ly, -es, -s)
	// where at least four letters remain, so "disappointed",
	// "disappointing" and "disappoints" share evidence; small corpora gain
	// most.
	// Negation and lexicon look-ups see the whole word.
	Stem bool `json:"stem,omitempty"`
}

// stem is a light suffix stripper, not Porter: a handful of rules that
// cost nothing on the hot path. The rules, tried in this order where at
// least four letters remain: -'s, -ing, -ed, -ly, -es, -s (not -ss). Only
// words of five bytes or more ending in s, g, d or y can lose a suffix;
// stem is small enough to be inlined, so the other words (four in five
// of IMDB's) skip stemSuffix's call.
func stem(b []byte) []byte {
	if len(b) >= 5 {
		switch b[len(b)-1] {
		case 's', 'g', 'd', 'y':
			return stemSuffix(b)
		}
	}
	return b
}

// stemSuffix applies stem's rules, picked by the last byte.
func stemSuffix(b []byte) []byte {
	n := len(b)
	switch b[n-1] {
	case 's':
		switch {
		case b[n-2] == '\'':
			if n > 5 {
				return b[:n-2]
			}
			return b[:n-1] // as "-s": too short for "-'s"
		case b[n-2] == 'e':
			if n > 5 {
				return b[:n-2]
			}
			return b[:n-1] // "-es" needs six letters; "-s" only five
		case b[n-2] != 's':
			return b[:n-1]
		}
	case 'g':
		if n > 6 && b[n-3] == 'i' && b[n-2] == 'n' {
			return b[:n-3]
		}
	case 'd':
		if n > 5 && b[n-2] == 'e' {
			return b[:n-2]
		}
	case 'y':
		if n > 5 && b[n-2] == 'l' {
			return b[:n-2]
		}
	}
	return b
}

// DefaultTokenizerConfig is the configuration every model gets unless the
// trainer overrides it.
func DefaultTokenizerConfig() TokenizerConfig {
	return TokenizerConfig{
		Lowercase: true,
		HTML:      true,
		Escapes:   true,
		URLs:      true,
		Mentions:  true,
		Emoticons: true,
		Emoji:     true,
		MaxRepeat: 3,
		Punct:     true,
		Negation:  true,
		Lexicon:   "vader",
		// Measured: +0.3 points on SST and Amazon, +0.1 on SemEval and IMDB.
		LexiconNegation: LexiconNegationFlip,
		Stem:            true,
	}
}

// token is one normalised token: bytes buf[off:off+n] of the owning Scratch.
type token struct {
	off, n uint32
	neg    bool
	hash   uint64
}

// Tokens returns the normalised tokens of text, negated ones prefixed
// "NOT_". It allocates; the classification path uses the Scratch directly.
func (c TokenizerConfig) Tokens(text string) []string {
	var s Scratch
	s.tokenize(&c, text)
	out := make([]string, len(s.toks))
	for i, t := range s.toks {
		out[i] = s.tokenString(t)
	}
	return out
}

func (s *Scratch) tokenString(t token) string { return string(s.appendTokenName(nil, t)) }

// character classes of ASCII bytes.
const (
	clsOther = iota
	clsSpace
	clsLetter
	clsDigit
	clsClause // . , ; : end a negation scope
	clsBang   // ! ?
)

var asciiClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clsLetter
		t[c-32] = clsLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clsDigit
	}
	for _, c := range " \t\r\v\f" {
		t[c] = clsSpace
	}
	for _, c := range ".,;:\n" {
		t[c] = clsClause
	}
	t['!'], t['?'] = clsBang, clsBang
	return t
}()

// emoticons, longest first within each shared prefix, mapped to a canonical form.
var emoticons = []struct{ in, out string }{
	{">:-(", ">:("}, {">:(", ">:("}, {":'-(", ":'("}, {":'(", ":'("}, {":')", ":')"},
	{":-)", ":)"}, {":-(", ":("}, {":-D", ":D"}, {":-P", ":P"}, {":-p", ":P"}, {":-/", ":/"},
	{":-|", ":|"}, {":-o", ":O"}, {":-O", ":O"}, {":-*", ":*"}, {";-)", ";)"}, {";-(", ":("},
	{":)", ":)"}, {":(", ":("}, {":D", ":D"}, {":P", ":P"}, {":p", ":P"}, {":/", ":/"},
	{":|", ":|"}, {":o", ":O"}, {":O", ":O"}, {":*", ":*"}, {":]", ":)"}, {":[", ":("},
	{";)", ";)"}, {";(", ":("}, {";D", ";)"}, {"=)", ":)"}, {"=(", ":("}, {"=D", ":D"},
	{"</3", "</3"}, {"<3", "<3"}, {"^_^", "^_^"}, {"^^", "^_^"}, {"-_-", "-_-"},
	{"xD", "xD"}, {"XD", "xD"},
}

// emoticonsByFirst lists the emoticons by their first byte, in the order
// of emoticons.
var emoticonsByFirst = func() (t [256][]struct{ in, out string }) {
	for _, e := range emoticons {
		t[e.in[0]] = append(t[e.in[0]], e)
	}
	return t
}()

// emoticonAt reports the canonical emoticon starting at text[i] and its
// length. An emoticon ending in a letter must not run on into a word.
// tokenize calls it only for bytes that start an emoticon; for any other
// byte the loop below finds nothing.
func emoticonAt(text string, i int) (string, int) {
	c := text[i]
	if (c == 'x' || c == 'X') && i > 0 && isWordByte(text[i-1]) {
		return "", 0
	}
	rest := text[i:]
	for _, e := range emoticonsByFirst[c] {
		if !strings.HasPrefix(rest, e.in) {
			continue
		}
		end := i + len(e.in)
		last := e.in[len(e.in)-1]
		if end < len(text) && isWordByte(last) && isWordByte(text[end]) {
			continue
		}
		return e.out, len(e.in)
	}
	return "", 0
}

func isWordByte(c byte) bool {
	return c >= 0x80 || asciiClass[c] == clsLetter || asciiClass[c] == clsDigit
}

// isNegator reports whether a token opens a negation scope. A word of more
// than seven bytes can only end in "n't"; isNegator is small enough to be
// inlined, so those (one word in seven) are turned away without a call.
func isNegator(b []byte) bool {
	if len(b) > 7 && b[len(b)-1]|0x20 != 't' {
		return false
	}
	return negator(b)
}

// negator is isNegator's test: a switch on the length, not a map, as it
// runs on the hot path.
func negator(b []byte) bool {
	n := len(b)
	if n >= 3 && b[n-1]|0x20 == 't' && b[n-2] == '\'' && b[n-3]|0x20 == 'n' {
		return true
	}
	if n < 2 || n > 7 || (b[0]|0x20 != 'n' && b[0]|0x20 != 'c') {
		return false
	}
	// Fold case so a model trained without Lowercase still sees "Not".
	var f [7]byte
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		f[i] = c
	}
	switch string(f[:n]) { // no allocation: the compiler compares in place
	case "no", "not", "nor", "never", "none", "cannot", "nobody", "nothing", "neither", "nowhere":
		return true
	}
	return false
}

// tokenize fills s.toks (and s.buf) with the tokens of text.
func (s *Scratch) tokenize(cfg *TokenizerConfig, text string) {
	s.buf = s.buf[:0]
	s.toks = s.toks[:0]
	s.lexToks = s.lexToks[:0]
	s.lex, _ = lexiconFor(cfg.Lexicon) // validated with the config
	s.lexFlip = cfg.LexiconNegation == LexiconNegationFlip
	if cfg.HTML || cfg.Escapes {
		text = s.preprocess(cfg, text)
	}
	inNeg := false
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(text[i:])
			switch {
			case r == utf8.RuneError:
				i += w
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				i, inNeg = s.word(cfg, text, i, inNeg)
			case cfg.Emoji && isEmoji(r):
				s.emit(text[i:i+w], false)
				i += w
			default:
				if r == '…' || r == '。' || r == '！' || r == '？' {
					inNeg = false
				}
				i += w
			}
			continue
		}
		switch asciiClass[c] {
		case clsSpace:
			for i++; i < n && asciiClass[text[i]] == clsSpace; i++ {
			}
			continue
		case clsLetter, clsDigit:
			// Only "ht..." and "ww..." can start a URL.
			if cfg.URLs && i+1 < n && (c|0x20 == 'h' && text[i+1]|0x20 == 't' || c|0x20 == 'w' && text[i+1]|0x20 == 'w') {
				if end := urlEnd(text, i); end > i {
					s.emit("<url>", false)
					i = end
					continue
				}
			}
			if cfg.Emoticons && (c == 'x' || c == 'X') {
				if e, w := emoticonAt(text, i); w > 0 {
					s.emit(e, false)
					i += w
					continue
				}
			}
			// word, without a call for the common word.
			off := len(s.buf)
			if end, v := s.asciiWord(cfg, text, i); end > i {
				i, inNeg = end, s.endWord(cfg, off, inNeg, v)
				continue
			}
			i, inNeg = s.wordLoop(cfg, text, i, inNeg)
			continue
		}
		// Only bytes that start an emoticon are worth emoticonAt's call.
		if cfg.Emoticons && len(emoticonsByFirst[c]) > 0 {
			if e, w := emoticonAt(text, i); w > 0 {
				s.emit(e, false)
				i += w
				continue
			}
		}
		switch {
		case c == '@' && cfg.Mentions && mentionEnd(text, i+1) > i+1:
			s.emit("<user>", false)
			i = mentionEnd(text, i+1)
		case c == '\'' && (i == 0 || asciiClass[text[i-1]] == clsSpace) && clitic(text[i+1:]):
			// PTB-style clitics as their own token: 's 're 'll 'm 've 'd
			i, inNeg = s.word(cfg, text, i, inNeg)
		case asciiClass[c] == clsBang:
			j := i
			bang, ques := false, false
			for j < n && (text[j] == '!' || text[j] == '?') {
				bang = bang || text[j] == '!'
				ques = ques || text[j] == '?'
				j++
			}
			if cfg.Punct {
				var t string
				switch {
				case bang && ques:
					t = "?!"
				case j-i == 1:
					t = text[i : i+1]
				default:
					t = text[i : i+2]
				}
				s.emit(t, false)
			}
			inNeg = false
			i = j
		case asciiClass[c] == clsClause:
			inNeg = false
			i++
		default:
			i++
		}
	}
}

// emit appends a literal token.
func (s *Scratch) emit(t string, neg bool) {
	off := len(s.buf)
	s.buf = append(s.buf, t...)
	s.toks = append(s.toks, token{off: uint32(off), n: uint32(len(t)), neg: neg, hash: hashToken(s.buf[off:], neg)})
	if s.lex != nil {
		s.lexicon(hashToken(s.buf[off:], false), neg)
	}
}

// lexicon adds the lexicon pseudo-token of a token, if it has one.
func (s *Scratch) lexicon(plain uint64, neg bool) {
	i, reps := s.lex.lookup(plain)
	if i < 0 {
		return
	}
	if neg && s.lexFlip {
		i, reps, neg = flipLexToken(i), max(1, int(float64(reps)*0.74+0.5)), false
	}
	t := lexTokens[i]
	off := len(s.buf)
	s.buf = append(s.buf, t...)
	tok := token{off: uint32(off), n: uint32(len(t)), neg: neg, hash: lexHashes[i][b2i(neg)]}
	for ; reps > 0; reps-- {
		s.lexToks = append(s.lexToks, tok)
	}
}

// word scans a word starting at text[i]: letters, digits, marks and inner
// apostrophes, lowercased and with letter runs capped. It returns the next
// position and the negation state after the word. Most words take
// asciiWord's eight-bytes-at-a-time path; the rest, wordLoop's byte loop.
func (s *Scratch) word(cfg *TokenizerConfig, text string, i int, inNeg bool) (int, bool) {
	off := len(s.buf)
	if end, v := s.asciiWord(cfg, text, i); end > i {
		// The byte at end cannot continue the word (asciiWord checks),
		// so the general loop has nothing to add.
		return end, s.endWord(cfg, off, inNeg, v)
	}
	return s.wordLoop(cfg, text, i, inNeg)
}

// wordLoop is word's general loop, byte by byte, for the words asciiWord
// leaves.
func (s *Scratch) wordLoop(cfg *TokenizerConfig, text string, i int, inNeg bool) (int, bool) {
	off := len(s.buf)
	buf := s.buf
	n := len(text)
	fold := &identity
	if cfg.Lowercase {
		fold = &lower
	}
	max := cfg.MaxRepeat
	if max == 0 {
		max = n + 1
	}
	var last rune = -1
	run := 0
	for i < n {
		c := text[i]
		switch asciiClass[c] {
		case clsLetter:
			// A run of ASCII letters: one predictable loop, leaving it
			// is the only branch that usually misses.
			for {
				c = fold[c]
				if rune(c) == last {
					run++
				} else {
					last, run = rune(c), 1
				}
				buf = append(buf, c)
				if run > max {
					buf = buf[:len(buf)-1]
				}
				i++
				if i >= n {
					break
				}
				c = text[i]
				if asciiClass[c] != clsLetter {
					break
				}
			}
			continue
		case clsDigit:
			buf = append(buf, c)
			last, run = -1, 0
			i++
			continue
		}
		if c == '\'' && i+1 < n && asciiClass[text[i+1]] == clsLetter {
			buf = append(buf, c)
			last, run = -1, 0
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, w := utf8.DecodeRuneInString(text[i:])
		if r == '\u2019' && i+w < n && asciiClass[text[i+w]] == clsLetter {
			buf = append(buf, '\'')
			last, run = -1, 0
			i += w
			continue
		}
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) {
			break
		}
		if unicode.IsLetter(r) && cfg.Lowercase {
			r = unicode.ToLower(r)
		}
		if r == last {
			run++
		} else {
			last, run = r, 1
		}
		if run <= max || !unicode.IsLetter(r) {
			buf = utf8.AppendRune(buf, r)
		}
		i += w
	}
	s.buf = buf
	b := buf[off:]
	if len(b) == 0 {
		return i + 1, inNeg
	}
	if cfg.Numbers && allDigits(b) {
		s.buf = s.buf[:off]
		s.emit("<num>", inNeg)
		return i, inNeg
	}
	return i, s.endWord(cfg, off, inNeg, 0)
}

// endWord turns the word in s.buf[off:] into a token: negation scope,
// stemming, hash, and its lexicon pseudo-token. It returns the negation
// state after the word. v is the word's bytes as a little-endian uint64
// when asciiWord found it to be at most seven ASCII letters, so it is
// hashed from the register; 0 otherwise (a word's bytes are never all 0).
func (s *Scratch) endWord(cfg *TokenizerConfig, off int, inNeg bool, v uint64) bool {
	b := s.buf[off:]
	full := len(b)
	tok := token{off: uint32(off)}
	next := inNeg
	if cfg.Negation {
		// A short ASCII word can only be a negator if it starts with n or
		// c ("not", "cannot"; "n't" needs an apostrophe): one byte of v
		// rules out most words without a call.
		f := byte(v) | 0x20
		switch {
		case (v == 0 || f == 'n' || f == 'c') && isNegator(b):
			next = true
			s.negLeft = cfg.NegationScope
		case len(b) == 3 && b[0] == 'b' && b[1] == 'u' && b[2] == 't':
			next = false
		default:
			tok.neg = inNeg
			if inNeg && cfg.NegationScope > 0 {
				s.negLeft--
				next = s.negLeft > 0
			}
		}
	}
	// The lexicon knows whole words ("loved"), so look up before stemming.
	var plain uint64
	if s.lex != nil {
		if v != 0 {
			plain = hashShort(v, full)
		} else {
			plain = hashToken(b, false)
		}
	}
	if cfg.Stem {
		b = stem(b) // only ever cuts a suffix
		s.buf = s.buf[:off+len(b)]
	}
	tok.n = uint32(len(b))
	switch {
	case s.lex != nil && len(b) == full: // not stemmed: reuse the hash
		tok.hash = plain
		if tok.neg {
			tok.hash ^= saltNeg
		}
	case v != 0:
		tok.hash = hashShort(v&(1<<(8*uint(len(b)))-1), len(b))
		if tok.neg {
			tok.hash ^= saltNeg
		}
	default:
		tok.hash = hashToken(b, tok.neg)
	}
	s.toks = append(s.toks, tok)
	// Most words are not in the lexicon: the filter, checked here rather
	// than behind two calls, turns them away.
	if s.lex != nil {
		if w, bit := filterBit(plain); s.lex.filter[w]&bit != 0 {
			s.lexicon(plain, tok.neg)
		}
	}
	return next
}

// Bytes of a uint64 taken eight at a time (SWAR).
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// load64 reads text[j:j+8] little-endian; the compiler makes it one load.
func load64(text string, j int) uint64 {
	b := text[j : j+8] // one bounds check; the eight below are proven
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// asciiLetters has the high bit set in each byte of v that is an ASCII
// letter, exactly: no carry crosses a byte.
func asciiLetters(v uint64) uint64 {
	x := (v | 0x20*swarOnes) &^ swarHigh
	ge := x + (0x80-'a')*swarOnes   // high bit: x >= 'a'
	gt := x + (0x80-'z'-1)*swarOnes // high bit: x > 'z'
	return ge &^ gt &^ v & swarHigh
}

// continuesWord reports whether the byte after a run of ASCII letters may
// carry the word on (accents, "don't", "mp3"), which asciiWord leaves to
// the byte loop.
func continuesWord(c byte) bool { return isWordByte(c) || c == '\'' }

// triples has the high bit of byte j set when bytes j, j+1 and j+2 of v
// (j+2 < 8) are the same letter, case folded: "sooo".
func triples(v uint64) uint64 {
	l := v | 0x20*swarOnes
	d := l ^ l>>8                              // zero byte j: bytes j and j+1 equal
	z := (d&^swarHigh + ^uint64(swarHigh)) | d // high bit clear: zero byte
	eq := ^z & swarHigh
	return eq & (eq >> 8)
}

// asciiWord is word's fast path, for the common word: a run of ASCII
// letters that ends at a byte that cannot continue it, with no letter
// three times in a row. It finds the run eight bytes at a time, copies it
// folded into s.buf the same way, and returns its end and, for a word of
// up to seven letters, its folded bytes as a uint64 (else 0). It returns
// i, having written nothing, for any other word, which the general loop
// of word then scans byte by byte.
func (s *Scratch) asciiWord(cfg *TokenizerConfig, text string, i int) (int, uint64) {
	n := len(text)
	if s.bytewise || cfg.MaxRepeat > 0 && cfg.MaxRepeat < 3 || i+8 > n {
		return i, 0 // (too near the end of the text to read eight bytes)
	}
	fold := uint64(0)
	if cfg.Lowercase {
		fold = 0x20 * swarOnes
	}
	// Most words end within their first eight bytes: one load finds the
	// end, checks the repeats, folds, and is stored whole; the folded word
	// is returned for endWord to hash from the register.
	x := load64(text, i)
	if other := ^asciiLetters(x) & swarHigh; other != 0 {
		k := bits.TrailingZeros64(other) / 8
		if k == 0 {
			return i, 0 // not a letter: a digit, an apostrophe
		}
		if continuesWord(byte(x >> (8 * k))) {
			return i, 0
		}
		mask := uint64(1)<<(8*k) - 1
		w := (x | fold) & mask
		// Only the flags of triples inside the word (j+2 < k) count: the
		// bytes past it are all equal.
		if cfg.MaxRepeat > 0 && triples(w)&(mask>>16) != 0 {
			return i, 0
		}
		buf := slices.Grow(s.buf, 8)
		off := len(buf)
		binary.LittleEndian.PutUint64(buf[off:off+8], w)
		s.buf = buf[:off+k]
		return i + k, w
	}
	end := -1
	for j := i + 8; j+8 <= n; j += 8 {
		if not := ^asciiLetters(load64(text, j)) & swarHigh; not != 0 {
			end = j + bits.TrailingZeros64(not)/8
			break
		}
	}
	if end <= i {
		return i, 0 // too near the end of the text to read eight bytes
	}
	if continuesWord(text[end]) {
		return i, 0
	}
	if cfg.MaxRepeat > 0 {
		// Any letter three times in a row ("sooo") takes the general
		// loop, which caps runs. Windows of eight bytes six apart see
		// every three consecutive bytes of the word.
		for j := i; ; j += 6 {
			q := min(j, end-8)
			if triples(load64(text, q)) != 0 {
				return i, 0
			}
			if q+8 >= end {
				break
			}
		}
	}
	// Room for whole eight-byte stores past the word's end.
	buf := slices.Grow(s.buf, end-i+8)
	off := len(buf)
	w := buf[off : off+end-i+8]
	for k := 0; k < end-i; k += 8 {
		binary.LittleEndian.PutUint64(w[k:], load64(text, i+k)|fold)
	}
	s.buf = buf[:off+end-i]
	return end, 0
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// lower and identity map bytes for the ASCII fast path.
var lower, identity = func() (l, id [256]byte) {
	for i := range l {
		l[i], id[i] = byte(i), byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		l[c] = byte(c) + 'a' - 'A'
	}
	return l, id
}()

// mentionEnd returns the end of the @handle whose name starts at text[j]
// (letters, digits and '_' of any script), or j if there is none.
func mentionEnd(text string, j int) int {
	for j < len(text) {
		c := text[j]
		if c < utf8.RuneSelf {
			if asciiClass[c] != clsLetter && asciiClass[c] != clsDigit && c != '_' {
				break
			}
			j++
			continue
		}
		r, w := utf8.DecodeRuneInString(text[j:])
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			break
		}
		j += w
	}
	return j
}

// clitic reports whether rest (the text after an apostrophe) starts with
// one of the clitics s, re, ll, m, ve, d followed by a non-letter.
func clitic(rest string) bool {
	for _, c := range [...]string{"s", "re", "ll", "m", "ve", "d"} {
		if len(rest) >= len(c) && strings.EqualFold(rest[:len(c)], c) &&
			(len(rest) == len(c) || asciiClass[rest[len(c)]] != clsLetter && rest[len(c)] < utf8.RuneSelf) {
			return true
		}
	}
	return false
}

// urlEnd returns the end of a URL starting at text[i], or i if none starts there.
func urlEnd(text string, i int) int {
	rest := text[i:]
	if !(hasPrefixFold(rest, "http://") || hasPrefixFold(rest, "https://") || hasPrefixFold(rest, "www.")) {
		return i
	}
	if i > 0 && isWordByte(text[i-1]) {
		return i
	}
	j := i
	for j < len(text) && text[j] != ' ' && text[j] != '\n' && text[j] != '\t' && text[j] != '\r' {
		j++
	}
	return j
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for k := 0; k < len(prefix); k++ {
		if s[k]|0x20 != prefix[k] && s[k] != prefix[k] {
			return false
		}
	}
	return true
}

func isEmoji(r rune) bool {
	switch {
	case r >= 0x1F3FB && r <= 0x1F3FF: // skin-tone modifiers
		return false
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2600 && r <= 0x27BF, r >= 0x2B00 && r <= 0x2BFF:
		return true
	}
	return unicode.Is(unicode.So, r)
}

// preprocess decodes HTML markup and literal escapes into s.clean. It
// returns text itself, uncopied, when there is nothing to decode.
func (s *Scratch) preprocess(cfg *TokenizerConfig, text string) string {
	first := -1
	if cfg.HTML {
		if k := strings.IndexByte(text, '<'); k >= 0 {
			first = k
		}
		if k := strings.IndexByte(text, '&'); k >= 0 && (first < 0 || k < first) {
			first = k
		}
	}
	if cfg.Escapes {
		if k := strings.IndexByte(text, '\\'); k >= 0 && (first < 0 || k < first) {
			first = k
		}
	}
	if first < 0 {
		return text
	}
	out := append(s.clean[:0], text[:first]...)
	// The next position of each special byte, found with IndexByte (which
	// scans many bytes per instruction) and looked for again only once
	// passed; a byte the configuration ignores never comes (len(text)).
	var next [3]int
	specials := [3]byte{'<', '&', '\\'}
	on := [3]bool{cfg.HTML, cfg.HTML, cfg.Escapes}
	find := func(k, from int) {
		next[k] = len(text)
		if on[k] {
			if j := strings.IndexByte(text[from:], specials[k]); j >= 0 {
				next[k] = from + j
			}
		}
	}
	for k := range next {
		find(k, first)
	}
	for i := first; i < len(text); {
		for k := range next {
			if next[k] < i {
				find(k, i)
			}
		}
		j := min(next[0], next[1], next[2]) - i
		if j == len(text)-i {
			out = append(out, text[i:]...)
			break
		}
		out = append(out, text[i:i+j]...)
		i += j
		switch text[i] {
		case '<':
			if end := tagEnd(text, i); end > i {
				out = append(out, '\n')
				i = end
				continue
			}
		case '&':
			if r, end := entityAt(text, i); end > i {
				out = utf8.AppendRune(out, r)
				i = end
				continue
			}
		case '\\':
			if r, end := escapeAt(text, i); end > i {
				out = utf8.AppendRune(out, r)
				i = end
				continue
			}
		}
		out = append(out, text[i])
		i++
	}
	s.clean = out
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// tagEnd returns the end of an HTML tag such as <br />, <p> or </i> at text[i].
func tagEnd(text string, i int) int {
	if i+1 >= len(text) {
		return i
	}
	// A tag opens with a letter, "/letter" or "!": so "<3" and "</3" stay
	// emoticons.
	c := text[i+1] | 0x20
	if text[i+1] == '/' && i+2 < len(text) {
		c = text[i+2] | 0x20
	}
	if !(c >= 'a' && c <= 'z' || text[i+1] == '!') {
		return i
	}
	for j := i + 1; j < len(text) && j < i+64; j++ {
		switch text[j] {
		case '>':
			return j + 1
		case '<', '\n':
			return i
		}
	}
	return i
}

var entities = map[string]rune{
	"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\'', "nbsp": ' ',
	"hellip": '…', "mdash": '—', "ndash": '–', "rsquo": '\u2019', "lsquo": '\u2018',
	"rdquo": '”', "ldquo": '“',
}

// entityAt decodes an HTML entity at text[i] ("&amp;", "&#39;", "&#x27;").
func entityAt(text string, i int) (rune, int) {
	j := i + 1
	for j < len(text) && j < i+10 && text[j] != ';' {
		j++
	}
	if j >= len(text) || text[j] != ';' || j == i+1 {
		return 0, i
	}
	name := text[i+1 : j]
	if name[0] == '#' {
		var v rune
		digits := name[1:]
		base := rune(10)
		if len(digits) > 0 && digits[0]|0x20 == 'x' {
			base, digits = 16, digits[1:]
		}
		if len(digits) == 0 {
			return 0, i
		}
		for k := 0; k < len(digits); k++ {
			d := hexVal(digits[k])
			if d < 0 || d >= base {
				return 0, i
			}
			v = v*base + d
		}
		if !utf8.ValidRune(v) || v == 0 {
			return 0, i
		}
		return v, j + 1
	}
	if r, ok := entities[name]; ok {
		return r, j + 1
	}
	return 0, i
}

// escapeAt decodes a literal \uXXXX escape (joining a surrogate pair) at text[i].
func escapeAt(text string, i int) (rune, int) {
	r, ok := hex4(text, i)
	if !ok {
		return 0, i
	}
	if r >= 0xD800 && r < 0xDC00 {
		if lo, ok := hex4(text, i+6); ok && lo >= 0xDC00 && lo < 0xE000 {
			return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), i + 12
		}
		return 0, i
	}
	if r >= 0xDC00 && r < 0xE000 || r == 0 {
		return 0, i
	}
	return r, i + 6
}

func hex4(text string, i int) (rune, bool) {
	if i+6 > len(text) || text[i] != '\\' || text[i+1] != 'u' {
		return 0, false
	}
	var v rune
	for k := i + 2; k < i+6; k++ {
		d := hexVal(text[k])
		if d < 0 {
			return 0, false
		}
		v = v<<4 | d
	}
	return v, true
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return rune(c|0x20-'a') + 10
	}
	return -1
}
