package classifier

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// tokCase is one tokenizer expectation: text tokenized with cfg gives want.
type tokCase struct {
	name string
	cfg  TokenizerConfig
	text string
	want []string
}

// classicTok is the fixed configuration the per-option tests start from:
// every option on except Numbers, Stem and Lexicon, runs capped at 3. It
// is spelled out rather than taken from DefaultTokenizerConfig so that a
// change of defaults does not silently change what these tests check.
func classicTok() TokenizerConfig {
	return TokenizerConfig{
		Lowercase: true, HTML: true, Escapes: true, URLs: true, Mentions: true,
		Emoticons: true, Emoji: true, MaxRepeat: 3, Punct: true, Negation: true,
	}
}

// withTok returns classicTok changed by set.
func withTok(set func(*TokenizerConfig)) TokenizerConfig {
	c := classicTok()
	if set != nil {
		set(&c)
	}
	return c
}

func runTokCases(t *testing.T, cases []tokCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cfg.Tokens(tc.text)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Tokens(%q)\n got  %q\n want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestDefaultTokenizerConfig(t *testing.T) {
	def := DefaultTokenizerConfig()
	// Documented: Numbers is off by default ("10/10" carries sentiment).
	if def.Numbers {
		t.Error("Numbers is on by default")
	}
	if c := DefaultConfig(); c.Tokenizer != def {
		t.Errorf("DefaultConfig().Tokenizer = %+v, want DefaultTokenizerConfig() %+v", c.Tokenizer, def)
	}
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	// What the defaults do to a typical sentence: negation to the "!!!",
	// which is kept as "!!", lower case, the emoticon normalised.
	got := def.Tokens("Not bad at all!!! It's GREAT :-)")
	want := []string{"not", "NOT_bad", "NOT_at", "NOT_all", "!!", "it's", "great", ":)"}
	if !slices.Equal(got, want) {
		t.Errorf("default Tokens = %q, want %q", got, want)
	}
}

// TestTokenizeOptions has, for every option, the option on and then off
// (everything else as in classicTok), so each row shows what the option does.
func TestTokenizeOptions(t *testing.T) {
	base := classicTok()
	scope := func(n int) TokenizerConfig { return withTok(func(c *TokenizerConfig) { c.NegationScope = n }) }
	cases := []tokCase{
		// Lowercase: ASCII inline, other scripts through unicode.ToLower.
		{"lowercase/on/ascii", base, "GREAT Movie", []string{"great", "movie"}},
		{"lowercase/off/ascii", withTok(func(c *TokenizerConfig) { c.Lowercase = false }), "GREAT Movie", []string{"GREAT", "Movie"}},
		{"lowercase/on/unicode", base, "ÉCOLE ΣΟΦΙΑ Ça", []string{"école", "σοφια", "ça"}},
		{"lowercase/off/unicode", withTok(func(c *TokenizerConfig) { c.Lowercase = false }), "ÉCOLE Ça", []string{"ÉCOLE", "Ça"}},

		// HTML: a tag is a clause break (ends the negation scope) and
		// vanishes; entities decode. Off, the tag's letters and the entity
		// names become words, and the scope runs on.
		{"html/on/br", base, "not good<br /><br />great", []string{"not", "NOT_good", "great"}},
		{"html/off/br", withTok(func(c *TokenizerConfig) { c.HTML = false }), "not good<br /><br />great", []string{"not", "NOT_good", "NOT_br", "NOT_br", "NOT_great"}},
		{"html/on/tags", base, "I <i>loved</i> it", []string{"i", "loved", "it"}},
		{"html/on/quot", base, "&quot;fun&quot;", []string{"fun"}},
		{"html/off/quot", withTok(func(c *TokenizerConfig) { c.HTML = false }), "&quot;fun&quot;", []string{"quot", "fun", "quot"}},
		{"html/on/amp", base, "rock &amp; roll", []string{"rock", "roll"}},
		{"html/off/amp", withTok(func(c *TokenizerConfig) { c.HTML = false }), "rock &amp; roll", []string{"rock", "amp", "roll"}},
		// &#39; and &#x27; are an apostrophe, which then joins the word.
		{"html/on/numeric", base, "it&#39;s it&#x27;s", []string{"it's", "it's"}},
		{"html/off/numeric", withTok(func(c *TokenizerConfig) { c.HTML = false }), "it&#39;s", []string{"it", "39", "s"}},
		{"html/on/entity-builds-emoticon", base, "&lt;3", []string{"<3"}},
		// A lone '&' or a "<" that starts no tag is left as text.
		{"html/on/lone-amp", base, "rock & roll", []string{"rock", "roll"}},
		{"html/on/amp-no-semicolon", base, "AT&T rocks", []string{"at", "t", "rocks"}},
		{"html/on/heart", base, "I <3 it", []string{"i", "<3", "it"}},
		{"html/on/less-than", base, "x < y", []string{"x", "y"}},
		{"html/on/bad-numeric", base, "&#; &#x; ok", []string{"x", "ok"}},

		// Escapes: literal \uXXXX, surrogate pairs joined.
		{"escapes/on/quote", base, `it\u2019s`, []string{"it's"}},
		{"escapes/off/quote", withTok(func(c *TokenizerConfig) { c.Escapes = false }), `it\u2019s`, []string{"it", "u2019s"}},
		// \u002c is a comma: it splits the words and ends the negation scope.
		{"escapes/on/comma", base, `not bad\u002cgood`, []string{"not", "NOT_bad", "good"}},
		{"escapes/off/comma", withTok(func(c *TokenizerConfig) { c.Escapes = false }), `a\u002cb`, []string{"a", "u002cb"}},
		{"escapes/on/surrogate-pair", base, `\ud83d\ude00`, []string{"😀"}},
		{"escapes/off/surrogate-pair", withTok(func(c *TokenizerConfig) { c.Escapes = false }), `\ud83d\ude00`, []string{"ud83d", "ude00"}},
		// A lone high surrogate is not a character: left as text.
		{"escapes/on/lone-surrogate", base, `\ud83d x`, []string{"ud83d", "x"}},

		// URLs: one "<url>" token per link. Off, the link's parts are words
		// (and "://" starts with the ":/" emoticon).
		{"urls/on", base, "see http://x.com/a https://y.org www.z.com ok", []string{"see", "<url>", "<url>", "<url>", "ok"}},
		{"urls/on/uppercase", base, "HTTPS://X.COM", []string{"<url>"}},
		{"urls/off", withTok(func(c *TokenizerConfig) { c.URLs = false }), "see https://y.org www.z.com", []string{"see", "https", ":/", "y", "org", "www", "z", "com"}},
		// "www." inside a word is not a link.
		{"urls/on/inside-word", base, "awww.", []string{"awww"}},

		// Mentions.
		{"mentions/on", base, "@bob_99 hi", []string{"<user>", "hi"}},
		{"mentions/off", withTok(func(c *TokenizerConfig) { c.Mentions = false }), "@bob hi", []string{"bob", "hi"}},
		{"mentions/on/lone-at", base, "@ home", []string{"home"}},

		// Numbers: off by default ("10/10" carries sentiment).
		{"numbers/off", base, "10/10", []string{"10", "10"}},
		{"numbers/on", withTok(func(c *TokenizerConfig) { c.Numbers = true }), "10/10 1st", []string{"<num>", "<num>", "1st"}},
		{"numbers/on/negated", withTok(func(c *TokenizerConfig) { c.Numbers = true }), "not 10", []string{"not", "NOT_<num>"}},

		// Emoticons, normalised; one ending in a letter does not run into a word.
		{"emoticons/on", base, ":) :-) :D :Dave <3 xD boxD", []string{":)", ":)", ":D", "dave", "<3", "xD", "boxd"}},
		{"emoticons/on/more", base, ":-( :( =) ;-) XD", []string{":(", ":(", ":)", ";)", "xD"}},
		{"emoticons/off", withTok(func(c *TokenizerConfig) { c.Emoticons = false }), ":) :-) :D :Dave <3 xD boxD", []string{"d", "dave", "3", "xd", "boxd"}},

		// Emoji: each one a token; skin-tone modifier and VS16 dropped.
		{"emoji/on", base, "😀👍🏽❤️", []string{"😀", "👍", "❤"}},
		{"emoji/on/after-word", base, "good😀", []string{"good", "😀"}},
		{"emoji/off", withTok(func(c *TokenizerConfig) { c.Emoji = false }), "😀 ok 👍🏽", []string{"ok"}},

		// MaxRepeat caps letter runs; digits are never capped.
		{"maxrepeat/3", base, "soooo good 1000000", []string{"sooo", "good", "1000000"}},
		{"maxrepeat/3/mixed-case", base, "SoOoOo", []string{"sooo"}},
		{"maxrepeat/3/unicode", base, "ééééé", []string{"ééé"}},
		{"maxrepeat/0", withTok(func(c *TokenizerConfig) { c.MaxRepeat = 0 }), "soooo good", []string{"soooo", "good"}},
		{"maxrepeat/1", withTok(func(c *TokenizerConfig) { c.MaxRepeat = 1 }), "soooo good", []string{"so", "god"}},

		// Punct: runs of ! and ? kept, capped at two, mixed runs "?!".
		{"punct/on", base, "wow!!! what? really?! no!? huh??", []string{"wow", "!!", "what", "?", "really", "?!", "no", "?!", "huh", "??"}},
		{"punct/off", withTok(func(c *TokenizerConfig) { c.Punct = false }), "wow!!! what?", []string{"wow", "what"}},

		// Negation: scope to the next clause punctuation or "but".
		{"negation/on", base, "not good at all. great", []string{"not", "NOT_good", "NOT_at", "NOT_all", "great"}},
		{"negation/off", withTok(func(c *TokenizerConfig) { c.Negation = false }), "not good at all. great", []string{"not", "good", "at", "all", "great"}},
		{"negation/on/nt", base, "don't like", []string{"don't", "NOT_like"}},
		{"negation/on/curly-nt", base, "don’t like", []string{"don't", "NOT_like"}},
		{"negation/on/uppercase", base, "DON'T LIKE", []string{"don't", "NOT_like"}},
		{"negation/on/but", base, "not good but great", []string{"not", "NOT_good", "but", "great"}},
		{"negation/on/ptb", base, "does n't work", []string{"does", "n't", "NOT_work"}},
		{"negation/on/bang", base, "never again! superb", []string{"never", "NOT_again", "!", "superb"}},
		{"negation/on/semicolon", base, "I never liked it; fine", []string{"i", "never", "NOT_liked", "NOT_it", "fine"}},
		{"negation/on/newline", base, "no plot\nlovely", []string{"no", "NOT_plot", "lovely"}},
		// With Lowercase off, "Not" at the start of a sentence is still the
		// negator "not": case folding is a feature choice, negation is grammar.
		{"negation/on/lowercase-off", withTok(func(c *TokenizerConfig) { c.Lowercase = false }), "Not good", []string{"Not", "NOT_good"}},
		// NegationScope ends a negation after that many words, before any
		// punctuation; a new negator starts a new scope.
		{"negation/scope/3", scope(3), "not a good movie at all", []string{"not", "NOT_a", "NOT_good", "NOT_movie", "at", "all"}},
		{"negation/scope/renewed", scope(2), "not bad and never boring or dull really", []string{"not", "NOT_bad", "NOT_and", "never", "NOT_boring", "NOT_or", "dull", "really"}},
		{"negation/scope/non-ascii", scope(1), "not café good", []string{"not", "NOT_café", "good"}},
		{"negation/scope/long-words", scope(2), "don't particularly appreciate extraordinarily", []string{"don't", "NOT_particularly", "NOT_appreciate", "extraordinarily"}},
		{"negation/scope/punct-first", scope(5), "not good. great", []string{"not", "NOT_good", "great"}},
		{"negation/scope/0", scope(0), "not a good movie at all", []string{"not", "NOT_a", "NOT_good", "NOT_movie", "NOT_at", "NOT_all"}},

		// Stem strips -'s -ing -ed -ly -es -s when a stem of 4+ letters is left.
		{"stem/on", withTok(func(c *TokenizerConfig) { c.Stem = true }), "watching watched watches quickly movie's films class",
			[]string{"watch", "watch", "watch", "quick", "movie", "film", "class"}},
		{"stem/on/short-words", withTok(func(c *TokenizerConfig) { c.Stem = true }), "was does is bed sing", []string{"was", "does", "is", "bed", "sing"}},
		// Negation sees the whole word "nothing" before it is stemmed.
		{"stem/on/negator", withTok(func(c *TokenizerConfig) { c.Stem = true }), "nothing works", []string{"noth", "NOT_work"}},
		{"stem/off", base, "watching movies", []string{"watching", "movies"}},
	}
	runTokCases(t, cases)
}

// TestTokenizeEdgeCases covers inputs with nothing to tokenize and
// apostrophes.
func TestTokenizeEdgeCases(t *testing.T) {
	base := classicTok()
	cases := []tokCase{
		{"empty", base, "", nil},
		{"whitespace", base, " \t\r\n\v\f  ", nil},
		{"only-punctuation", base, ". , ; : ( ) [ ] { } # % * + / ~ | \" -", nil},
		{"apostrophe/ascii", base, "it's o'clock rock'n'roll", []string{"it's", "o'clock", "rock'n'roll"}},
		{"apostrophe/curly", base, "it’s", []string{"it's"}},
		{"apostrophe/lone", base, "' ’ ''", nil},
		{"apostrophe/trailing", base, "dogs' toys", []string{"dogs", "toys"}},
		// PTB-style clitics split off by a treebank tokenizer keep their apostrophe.
		{"apostrophe/clitic", base, "it 's", []string{"it", "'s"}},
		// A single-quoted word is the word: quotes are not clitics.
		{"apostrophe/quoted-word", base, "the 'twist' was great", []string{"the", "twist", "was", "great"}},
		// "</3" (broken heart) is an emoticon, not a closing HTML tag, even
		// when a '>' follows later on the line.
		{"broken-heart-then-gt", base, "</3 worst day >:(", []string{"</3", "worst", "day", ">:("}},
		{"broken-heart", base, "</3 worst day", []string{"</3", "worst", "day"}},
	}
	for i := range cases {
		if cases[i].want == nil {
			cases[i].want = []string{}
		}
	}
	runTokCases(t, cases)
}

// TestTokenizeMentionNonASCII: a handle is either replaced by "<user>" or
// kept as a word, never both.
func TestTokenizeMentionNonASCII(t *testing.T) {
	for _, text := range []string{"@élodie", "@ñandú"} {
		got := classicTok().Tokens(text)
		name := strings.TrimPrefix(text, "@")
		if slices.Contains(got, "<user>") && slices.Contains(got, name) {
			t.Errorf("Tokens(%q) = %q: both <user> and the handle", text, got)
		}
		if len(got) == 0 {
			t.Errorf("Tokens(%q) = %q: the mention vanished", text, got)
		}
	}
}

// TestTokenizeInvalidUTF8: bad bytes are dropped, never copied into a token.
func TestTokenizeInvalidUTF8(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"a\xffb", []string{"a", "b"}},
		{"\xc3", []string{}},                // truncated 2-byte sequence
		{"good\xe2\x80", []string{"good"}},  // truncated 3-byte sequence
		{"\xed\xa0\x80 ok", []string{"ok"}}, // UTF-8-encoded surrogate
		{"caf\xc3\xa9\xff!", []string{"café", "!"}},
		{"@\xff", []string{}}, // no handle: the '@' is dropped like in "@ home"
		{"&#\xff;", []string{}},
		{"\\u\xff\xff", []string{"u"}},
	}
	for _, cfg := range allOptionConfigs() {
		for _, tc := range cases {
			got := cfg.Tokens(tc.text)
			for _, tok := range got {
				if tok == "" || !utf8.ValidString(tok) {
					t.Errorf("cfg %+v: Tokens(%q) has bad token %q", cfg, tc.text, tok)
				}
			}
			if cfg == classicTok() && !slices.Equal(got, tc.want) {
				t.Errorf("Tokens(%q) = %q, want %q", tc.text, got, tc.want)
			}
		}
	}
}

// allOptionConfigs is the default and classic configurations, everything
// off, everything on, and the default with each option flipped.
func allOptionConfigs() []TokenizerConfig {
	def := DefaultTokenizerConfig()
	all := TokenizerConfig{
		Lowercase: true, HTML: true, Escapes: true, URLs: true, Mentions: true, Numbers: true,
		Emoticons: true, Emoji: true, MaxRepeat: 2, Punct: true, Negation: true,
		NegationScope: 3,
	}
	all.Stem, all.Lexicon = true, "afinn165"
	out := []TokenizerConfig{def, classicTok(), {}, all}
	flips := []func(*TokenizerConfig){
		func(c *TokenizerConfig) { c.Lowercase = !c.Lowercase },
		func(c *TokenizerConfig) { c.HTML = !c.HTML },
		func(c *TokenizerConfig) { c.Escapes = !c.Escapes },
		func(c *TokenizerConfig) { c.URLs = !c.URLs },
		func(c *TokenizerConfig) { c.Mentions = !c.Mentions },
		func(c *TokenizerConfig) { c.Numbers = !c.Numbers },
		func(c *TokenizerConfig) { c.Emoticons = !c.Emoticons },
		func(c *TokenizerConfig) { c.Emoji = !c.Emoji },
		func(c *TokenizerConfig) { c.MaxRepeat = 0 },
		func(c *TokenizerConfig) { c.Punct = !c.Punct },
		func(c *TokenizerConfig) { c.Negation = !c.Negation },
		func(c *TokenizerConfig) { c.NegationScope = 2 },
		func(c *TokenizerConfig) { c.Stem = !c.Stem },
		func(c *TokenizerConfig) {
			if c.Lexicon == "" {
				c.Lexicon = "vader"
			} else {
				c.Lexicon = ""
			}
		},
	}
	for _, f := range flips {
		c := def
		f(&c)
		out = append(out, c)
	}
	return out
}

// TestTokenizeLongInput: 1 MB of text (one giant word, and ordinary
// review text) tokenizes in linear time.
func TestTokenizeLongInput(t *testing.T) {
	const size = 1 << 20
	review := "Not bad at all!!! I <3 it :) http://x.co @bob &quot;great&quot; soooo good\\u2019 😀👍🏽 <br /> "
	cases := []struct {
		name      string
		text      string
		minTokens int
		maxTokens int
	}{
		{"one-word", strings.Repeat("a", size), 1, 1},
		{"reviews", strings.Repeat(review, size/len(review)+1), size / len(review), size},
		{"open-tags", strings.Repeat("<a", size/2), 1, size},
		{"ampersands", strings.Repeat("&#", size/2), 0, size},
		{"backslashes", strings.Repeat(`\u`, size/2), 1, size},
		{"invalid", strings.Repeat("\xff", size), 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			got := DefaultTokenizerConfig().Tokens(tc.text)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v for %d bytes", d, len(tc.text))
			}
			if len(got) < tc.minTokens || len(got) > tc.maxTokens {
				t.Errorf("%d tokens, want %d..%d", len(got), tc.minTokens, tc.maxTokens)
			}
			if tc.name == "one-word" && got[0] != "aaa" {
				t.Errorf("one 1 MB word of 'a' capped at 3 = %q", got[0][:min(10, len(got[0]))])
			}
		})
	}
}

// TestTokenizeDeterministic: the same text gives the same tokens whatever
// the scratch memory held before (tokens of a long text must not leak into
// a short one's).
func TestTokenizeDeterministic(t *testing.T) {
	texts := []string{
		"&quot;Not&quot; good<br />at all!!! \\u2019 :) 😀",
		"short",
		"",
		strings.Repeat("word ", 1000),
		"it&#39;s fine",
	}
	cfg := DefaultTokenizerConfig()
	want := make([][]string, len(texts))
	for i, s := range texts {
		want[i] = cfg.Tokens(s)
	}
	var s Scratch
	for round := 0; round < 3; round++ {
		for i, text := range texts {
			s.tokenize(&cfg, text)
			got := make([]string, len(s.toks))
			for j, tok := range s.toks {
				got[j] = s.tokenString(tok)
			}
			if !slices.Equal(got, want[i]) {
				t.Errorf("round %d, reused Scratch: tokens of %q = %q, want %q", round, text, got, want[i])
			}
		}
	}
}

// TestTokenizeStemDocExample: the Stem documentation promises that
// "loved", "loving" and "loves" share evidence, i.e. one token.
func TestTokenizeStemDocExample(t *testing.T) {
	const text = "disappointed disappointing disappoints"
	got := withTok(func(c *TokenizerConfig) { c.Stem = true }).Tokens(text)
	if len(got) != 3 || got[0] != got[1] || got[1] != got[2] {
		t.Errorf("Stem: Tokens(%q) = %q, want one shared stem", text, got)
	}
	// Short words keep their suffix: at least four letters must remain.
	if got := withTok(func(c *TokenizerConfig) { c.Stem = true }).Tokens("loved"); len(got) != 1 || got[0] != "loved" {
		t.Errorf("Stem: Tokens(\"loved\") = %q, want [loved]", got)
	}
}

// lexNames tokenizes text and returns the lexicon pseudo-tokens.
func lexNames(cfg TokenizerConfig, text string) []string {
	var s Scratch
	s.tokenize(&cfg, text)
	out := []string{}
	for _, tok := range s.lexToks {
		out = append(out, s.tokenString(tok))
	}
	return out
}

// TestTokenizeLexicon: a lexicon word adds round(|valence|) (1..5)
// pseudo-tokens of its polarity, "strong" at |valence| >= 2 (VADER) or
// >= 3 (AFINN), negated like the word; Tokens itself is unchanged.
func TestTokenizeLexicon(t *testing.T) {
	rep := func(s string, n int) []string { return slices.Repeat([]string{s}, n) }
	vader := withTok(func(c *TokenizerConfig) { c.Lexicon = "vader" })
	flip := withTok(func(c *TokenizerConfig) { c.Lexicon = "vader"; c.LexiconNegation = LexiconNegationFlip })
	afinn := withTok(func(c *TokenizerConfig) { c.Lexicon = "afinn165" })
	cases := []struct {
		name string
		cfg  TokenizerConfig
		text string
		want []string
	}{
		{"off", classicTok(), "great", []string{}},
		{"vader/great", vader, "great", rep("<lex:strongpos>", 3)},       // 3.1
		{"vader/upper", vader, "GREAT", rep("<lex:strongpos>", 3)},       // lowercased first
		{"vader/good", vader, "good", rep("<lex:pos>", 2)},               // 1.9: weak, round 2
		{"vader/awful", vader, "awful", rep("<lex:strongneg>", 2)},       // -2.0
		{"vader/horrible", vader, "horrible", rep("<lex:strongneg>", 3)}, // -2.5 rounds away from 0
		{"vader/negated", vader, "not good", rep("NOT_<lex:pos>", 2)},
		// flip: the opposite polarity, one step weaker, round(reps * 0.74).
		{"flip/not good", flip, "not good", rep("<lex:neg>", 1)},                                               // 2 -> 1
		{"flip/not horrible", flip, "not horrible", rep("<lex:pos>", 2)},                                       // 3 -> 2
		{"flip/never great", flip, "never great", rep("<lex:neg>", 2)},                                         // 3 -> 2
		{"flip/unnegated", flip, "horrible", rep("<lex:strongneg>", 3)},                                        // no negation: as vader
		{"flip/scope ends", flip, "not bad, great", append(rep("<lex:pos>", 2), rep("<lex:strongpos>", 3)...)}, // "great" is past the comma
		{"flip/negator itself", flip, "no", rep("<lex:neg>", 1)},                                               // "no" (-1.2) opens the scope, is not in it
		{"vader/emoticon", vader, ":-)", rep("<lex:strongpos>", 2)},                                            // ":)" 2.0
		{"vader/unknown", vader, "table chair", []string{}},
		{"vader/stem-sees-whole-word", withTok(func(c *TokenizerConfig) { c.Lexicon = "vader"; c.Stem = true }), "loves", rep("<lex:strongpos>", 3)}, // 2.7
		{"afinn/great", afinn, "great", rep("<lex:strongpos>", 3)},                                                                                   // 3
		{"afinn/loving", afinn, "loving", rep("<lex:pos>", 2)},                                                                                       // 2: weak for AFINN
		{"afinn/worst", afinn, "worst", rep("<lex:strongneg>", 3)},                                                                                   // -3
	}
	for _, tc := range cases {
		if got := lexNames(tc.cfg, tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("%s: lexicon tokens of %q = %q, want %q", tc.name, tc.text, got, tc.want)
		}
		plain := tc.cfg
		plain.Lexicon = ""
		if a, b := tc.cfg.Tokens(tc.text), plain.Tokens(tc.text); !slices.Equal(a, b) {
			t.Errorf("%s: the lexicon changes Tokens: %q vs %q", tc.name, a, b)
		}
	}
	cfg := DefaultConfig()
	cfg.Tokenizer.Lexicon = "no-such-lexicon"
	if err := cfg.Validate(); err == nil {
		t.Error("an unknown lexicon passes Validate")
	}
	cfg = DefaultConfig()
	cfg.Tokenizer.LexiconNegation = "invert"
	if err := cfg.Validate(); err == nil {
		t.Error("an unknown lexicon negation passes Validate")
	}
}

// stemRules is stem written as its rules, tried in order: the reference
// the fast version must match.
func stemRules(b []byte) []byte {
	n := len(b)
	has := func(suf string) bool { return n > len(suf)+3 && string(b[n-len(suf):]) == suf }
	switch {
	case has("'s"):
		return b[:n-2]
	case has("ing"):
		return b[:n-3]
	case has("ed"):
		return b[:n-2]
	case has("ly"):
		return b[:n-2]
	case has("es"):
		return b[:n-2]
	case has("s") && b[n-2] != 's':
		return b[:n-1]
	}
	return b
}

// TestIsNegator covers the negators, words that only look like them, and
// the long words isNegator turns away before its switch (only an "n't"
// word is longer than seven bytes).
func TestIsNegator(t *testing.T) {
	cases := []struct {
		word string
		want bool
	}{
		{"no", true}, {"not", true}, {"nor", true}, {"never", true}, {"none", true},
		{"cannot", true}, {"nobody", true}, {"nothing", true}, {"neither", true}, {"nowhere", true},
		{"Not", true}, {"NEVER", true}, {"n't", true}, {"don't", true}, {"DON'T", true},
		{"couldn't", true}, {"shouldn't", true}, {"SHOULDN'T", true}, {"wouldn't've", false},
		{"n", false}, {"now", false}, {"note", false}, {"notable", false}, {"nothings", false},
		{"nevertheless", false}, {"important", false}, {"excellent", false}, {"brilliant", false},
		{"cant", false}, {"can", false}, {"", false},
	}
	for _, tc := range cases {
		if got := isNegator([]byte(tc.word)); got != tc.want {
			t.Errorf("isNegator(%q) = %v, want %v", tc.word, got, tc.want)
		}
	}
}

func TestStemMatchesRules(t *testing.T) {
	// Every word of up to 7 letters over an alphabet holding each suffix's
	// letters, plus the words of a review.
	alphabet := []byte("abdegilnsy'")
	var words [][]byte
	var gen func(prefix []byte)
	gen = func(prefix []byte) {
		words = append(words, append([]byte(nil), prefix...))
		if len(prefix) == 7 {
			return
		}
		for _, c := range alphabet {
			if len(prefix) < 3 && c != 'a' && c != 's' && c != 'e' {
				continue // keep the set small: the rules look at the last three letters
			}
			gen(append(prefix, c))
		}
	}
	gen(nil)
	for _, w := range strings.Fields(strings.ToLower(typicalReview)) {
		words = append(words, []byte(w))
	}
	for _, w := range words {
		if got, want := string(stem(append([]byte(nil), w...))), string(stemRules(w)); got != want {
			t.Fatalf("stem(%q) = %q, want %q", w, got, want)
		}
	}
	t.Logf("%d words", len(words))
}

// TestASCIIWordFastPath pins which words take the eight-bytes-at-a-time
// path and what it hands on: the end of the word, and for words of up to
// seven letters their folded bytes, from which endWord hashes. The byte
// loop must agree on the tokens either way (FuzzTokenize).
func TestASCIIWordFastPath(t *testing.T) {
	pad := "        " // eight bytes of room after the word
	cases := []struct {
		text  string
		end   int    // 0: the general loop takes the word
		bytes string // the word as stored; "" when v is not set
	}{
		{"Great" + pad, 5, "great"},
		{"a" + pad, 1, "a"},
		{"wonderful" + pad, 9, ""}, // nine letters: stored, not in a register
		{"abcdefg" + pad, 7, "abcdefg"},
		{"abcdefgh" + pad, 8, ""}, // the end must fall in the first eight bytes
		{"don't" + pad, 0, ""},    // an apostrophe goes on
		{"mp3" + pad, 0, ""},      // so does a digit
		{"café" + pad, 0, ""},     // and a non-ASCII letter
		{"soooo" + pad, 0, ""},    // a letter three times: runs are capped by the loop
		{"3d" + pad, 0, ""},       // not a letter
		{"good", 0, ""},           // too near the end to load eight bytes
		{"x!!!" + pad, 1, "x"},    // a repeat after the word does not count
		{"aab" + pad, 3, "aab"},   // twice in a row is fine
	}
	cfg := DefaultTokenizerConfig()
	for _, tc := range cases {
		var s Scratch
		end, v := s.asciiWord(&cfg, tc.text, 0)
		if tc.end == 0 {
			if end != 0 || len(s.buf) != 0 {
				t.Errorf("%q: fast path took it (end %d, wrote %q)", tc.text, end, s.buf)
			}
			continue
		}
		if end != tc.end || strings.ToLower(tc.text[:tc.end]) != string(s.buf) {
			t.Errorf("%q: end %d, stored %q; want %d, %q", tc.text, end, s.buf, tc.end, strings.ToLower(tc.text[:tc.end]))
		}
		var want uint64
		for i := len(tc.bytes) - 1; i >= 0; i-- {
			want = want<<8 | uint64(tc.bytes[i])
		}
		if v != want {
			t.Errorf("%q: v = %#x, want %#x", tc.text, v, want)
		}
		if v != 0 && hashShort(v, end) != hashToken(s.buf, false) {
			t.Errorf("%q: hashShort disagrees with hashToken", tc.text)
		}
	}
}
