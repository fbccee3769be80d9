package classifier

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"
)

// fuzzTexts seed the text fuzzers with the inputs the preprocessing and
// tokenizing code branches on: cut-off entities, escapes and tags, lone
// sigils, apostrophes, surrogates, invalid bytes and unusual letters.
var fuzzTexts = []string{
	"", " ", "&#", "&#;", "&#x;", "&#x", "&#39", "&#39;", "&#x27;", "&#0;", "&#1114112;", "&#x110000;",
	"&#xD800;", "&#99999999;", "&amp", "&amp;", "&amp;amp;", "&quot;x&quot;", "&nbsp;", "&unknown;", "&",
	"\\u", "\\u00", "\\u0000", "\\u002c", "\\u2019", "\\ud83d", "\\ud83d\\ude00", "\\ud83d\\u0041", "\\udc00",
	"\\ud83d\\ud83d", "\\\\u0041", "<", "<a", "<a>", "<br />", "<br /><br />", "</3", "</3 >", "<3", "<33", "<!-- x -->",
	"< a >", "<" + strings.Repeat("a", 70) + ">", "@", "@_", "@bob", "@\xff", "@é", "http://", "https://x", "www.", "WWW.x",
	"hTtP://x", "'", "''", "'a", "a'", "it's", "’", "a’b", "a’", "don’t", "n't", "not", "not good. great", "but",
	"x", "xD", "xDD", "boxD", "XD", ":", ":-", ":-)", ":D", ":Dave", ">:(", "^_^", "-_-", "=D",
	"!", "!!!", "?!", "!?!?", strings.Repeat("!", 100), "10/10", "0", "٣", "soooo", "SOOOO", "ééééé",
	"İstanbul", "ǅemal", "straße", "ΣΟΦΙΑ", "e\u0301", "\u0301", "0\u0301", "👍🏽", "👨‍👩‍👧", "❤️", "🇫🇷",
	"\xff", "\xc3", "a\xffb", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\ufffd", "\x00", "a\x00b", "\r\n\t\v\f",
	"…", "。", "！", "？", "日本語のテキスト", "مرحبا", typicalReview,
	// Words around the eight-byte steps of the ASCII word path, which
	// needs eight bytes to read past a word: hence the padding.
	"abcdefg ", "abcdefgh ", "abcdefghi ", "Abcdefghijklmnop.", "abcdefgh", "abcdefgh'", "abcdefgh's ",
	"abcdefghé ", "abcdefgh1 ", "abcdefgh2022 ", "abcdefghX:D ", "aaab aab abbb abbbbbbbbbbbbbbbbb ",
	"abcdefghhh ", "abcdefgHHH ", "GOOOOD movie ", "hi@bob.com ", "x y z ", "NOT Bad At All. ",
	"aaab aab abbb abbbbbbbbbbbbbbbbb abcdefgHHH GOOOOD sooooo        ",
	"aaabcdefghijk abcdefghijkkkl zzzabcdefghijklmnopqrstuvw        ",
	"abcdefgh abcdefghé abcdefgh1 it's don't abcdefgh's Abcdefghijklmnop. X        ",
}

func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s, uint16(0)) // default configuration
		f.Add(s, uint16(0xffff))
	}
	f.Add("not &amp; good\\u002c <br />great :) @bob http://x 10/10 😀!!!", uint16(0x5555))
	f.Add("not a café b c. never d e f n't g", uint16(0x8000|512|1))
	f.Fuzz(func(t *testing.T, text string, opts uint16) {
		cfg := DefaultTokenizerConfig()
		if opts != 0 {
			// One bit per option, two bits of MaxRepeat, two of lexicon,
			// the top bit a negation scope of 2.
			cfg = TokenizerConfig{
				Lowercase: opts&1 != 0, HTML: opts&2 != 0, Escapes: opts&4 != 0, URLs: opts&8 != 0,
				Mentions: opts&16 != 0, Numbers: opts&32 != 0, Emoticons: opts&64 != 0, Emoji: opts&128 != 0,
				Punct: opts&256 != 0, Negation: opts&512 != 0, MaxRepeat: int(opts>>10) & 3,
				Stem: opts&(1<<12) != 0, NegationScope: int(opts>>15) * 2,
			}
			switch opts >> 13 & 3 {
			case 1:
				cfg.Lexicon = "vader"
			case 2:
				cfg.Lexicon = "afinn165"
			}
		}
		toks := cfg.Tokens(text)
		// Every token consumes at least one input byte, and decoding only
		// shortens the text.
		if len(toks) > len(text) {
			t.Fatalf("%d tokens from %d bytes", len(toks), len(text))
		}
		for _, tok := range toks {
			if tok == "" || !utf8.ValidString(tok) {
				t.Fatalf("Tokens(%q) has bad token %q (all %q)", text, tok, toks)
			}
			if strings.ContainsAny(tok, " \t\n\r") {
				t.Fatalf("Tokens(%q): token %q contains whitespace", text, tok)
			}
			if r, n := longestLetterRun(strings.TrimPrefix(tok, "NOT_")); cfg.MaxRepeat > 0 && n > cfg.MaxRepeat {
				t.Fatalf("Tokens(%q): %q repeats %q %d times, MaxRepeat is %d", text, tok, r, n, cfg.MaxRepeat)
			}
			if cfg.Lowercase && !strings.HasPrefix(tok, "NOT_") && strings.ContainsAny(tok, "ABCEFGHIJKLMNQRSTUVWYZ") {
				// Upper-case ASCII survives only in emoticons (":D", ":P",
				// ":O", "xD") and the NOT_ marker.
				t.Fatalf("Tokens(%q): %q is not lowercased", text, tok)
			}
			if !cfg.Negation && strings.HasPrefix(tok, "NOT_") {
				t.Fatalf("Tokens(%q): %q negated with Negation off", text, tok)
			}
		}
		// Deterministic, also on a Scratch that tokenized something else.
		if again := cfg.Tokens(text); !slices.Equal(again, toks) {
			t.Fatalf("Tokens(%q) = %q, then %q", text, toks, again)
		}
		var s Scratch
		s.tokenize(&cfg, typicalReview)
		s.tokenize(&cfg, text)
		for _, tok := range s.lexToks {
			if name := s.tokenString(tok); !strings.HasPrefix(strings.TrimPrefix(name, "NOT_"), "<lex:") {
				t.Fatalf("Tokens(%q): lexicon pseudo-token %q", text, name)
			}
		}
		got := make([]string, len(s.toks))
		for i, tok := range s.toks {
			got[i] = s.tokenString(tok)
			if tok.hash != hashToken(s.buf[tok.off:tok.off+tok.n], tok.neg) {
				t.Fatalf("Tokens(%q): token %q has a stale hash", text, got[i])
			}
		}
		if !slices.Equal(got, toks) {
			t.Fatalf("Tokens(%q) on a reused Scratch = %q, fresh %q", text, got, toks)
		}
		// The eight-bytes-at-a-time word path and the general byte loop
		// agree on every token, its hash and the lexicon pseudo-tokens.
		slow := Scratch{bytewise: true}
		slow.tokenize(&cfg, text)
		if a, b := scratchTokens(&s), scratchTokens(&slow); !slices.Equal(a, b) {
			t.Fatalf("Tokens(%q): fast path %q, byte loop %q", text, a, b)
		}
	})
}

// scratchTokens lists s's tokens and lexicon pseudo-tokens with their hashes.
func scratchTokens(s *Scratch) []string {
	var out []string
	for _, list := range [][]token{s.toks, s.lexToks} {
		for _, tok := range list {
			out = append(out, fmt.Sprintf("%s/%x", s.tokenString(tok), tok.hash))
		}
		out = append(out, "|")
	}
	return out
}

// longestLetterRun returns the letter repeated most times in a row in s.
func longestLetterRun(s string) (rune, int) {
	var best, last rune = 0, -1
	bestN, n := 0, 0
	for _, r := range s {
		if r == last {
			n++
		} else {
			last, n = r, 1
		}
		if unicode.IsLetter(r) && n > bestN {
			best, bestN = r, n
		}
	}
	return best, bestN
}

var fuzzModels struct {
	once sync.Once
	list []*Model
}

func fuzzClassifiers(tb testing.TB) []*Model {
	fuzzModels.once.Do(func() {
		fuzzModels.list = []*Model{
			trainOn(tb, testConfig(nil), sentimentTrain, neutralTrain),
			trainOn(tb, testConfig(func(c *Config) { c.HashBits = 8; c.Binary = false; c.NGrams = 3 }), sentimentTrain),
			trainOn(tb, testConfig(func(c *Config) { c.Kind = Complement; c.Temperature = 0.05 }), topicTrain),
			trainOn(tb, testConfig(func(c *Config) { c.NeutralMargin = 0.3 }), sentimentTrain, neutralTrain),
		}
	})
	return fuzzModels.list
}

func FuzzClassify(f *testing.F) {
	for _, s := range fuzzTexts {
		f.Add(s)
	}
	f.Add(strings.Repeat("great ", 5000))
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range fuzzClassifiers(t) {
			p := m.Classify(text)
			checkPrediction(t, m, p, "Classify")
			var q Prediction
			m.ClassifyTo(&q, "warm up with another text")
			m.ClassifyTo(&q, text)
			if q.Label != p.Label || q.Tokens != p.Tokens || !slices.Equal(q.Probs, p.Probs) {
				t.Fatalf("ClassifyTo(%q) = %+v, Classify %+v", text, q, p)
			}
			if p.Tokens != len(m.Config().Tokenizer.Tokens(text)) {
				t.Fatalf("Tokens = %d, tokenizer gives %d", p.Tokens, len(m.Config().Tokenizer.Tokens(text)))
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	tiny := []labeled{{"good fun", "pos"}, {"great film", "pos"}, {"bad film", "neg"}, {"awful mess", "neg"}}
	for _, cfg := range []Config{
		testConfig(func(c *Config) { c.NGrams = 1 }),
		testConfig(func(c *Config) { c.HashBits = 8; c.NGrams = 1 }),
	} {
		data, err := trainOn(f, cfg, tiny).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, n := range []int{0, 4, 8, 15, 16, 17, 24, len(data) / 2, len(data) - 9, len(data) - 8, len(data) - 4, len(data) - 1} {
			f.Add(data[:n])
		}
		flipped := slices.Clone(data)
		flipped[len(flipped)/3] ^= 0x10
		f.Add(flipped)
		f.Add(reseal(slices.Clone(flipped)))
		f.Add(append(slices.Clone(data), 0))
	}
	f.Add([]byte("CAPASTAN"))
	f.Add([]byte("CAPASTAN\x01\x00\x00\x00\xff\xff\xff\xffCPSE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeChecked(t, data)
		// The checksum rejects nearly every mutation; resealing lets the
		// fuzzer reach the parsing and validation behind it.
		if len(data) >= 24 && string(data[:8]) == magic && string(data[len(data)-4:]) == endMagic {
			decodeChecked(t, reseal(slices.Clone(data)))
		}
	})
}

// decodeChecked decodes data, which must fail with a format error or give
// a working model.
func decodeChecked(t *testing.T, data []byte) {
	t.Helper()
	m, err := Decode(data)
	if err != nil {
		if m != nil {
			t.Fatal("Decode returned a model and an error")
		}
		if !isFormatError(err) {
			t.Fatalf("Decode error %v is none of the format errors", err)
		}
		return
	}
	for _, s := range []string{"", "good fun", typicalReview} {
		checkPrediction(t, m, m.Classify(s), "decoded model")
	}
	m.Explain(typicalReview, 5)
	m.TopFeatures(5)
	if _, err := m.MarshalBinary(); err != nil {
		t.Fatalf("decoded model does not encode: %v", err)
	}
}
