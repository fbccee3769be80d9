package schemas

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkAgainstReference decodes doc and compares the verdict with the
// reference validator's, and the syntax verdict with json.Valid. It
// returns the decoder's error for statistics.
func checkAgainstReference(t *testing.T, v *validators, doc []byte) *Error {
	t.Helper()
	r, err := DecodeReview(doc, DecodeOptions{})
	if !utf8.Valid(doc) {
		// The documented difference: a JSON Schema validator never sees
		// invalid UTF-8 (JSON parsers replace it with U+FFFD), so only the
		// decoder's side is checked.
		if err == nil || err.Code != CodeInvalidUTF8 {
			t.Fatalf("%q: invalid UTF-8, got %v", doc, err)
		}
		return err
	}
	if (err != nil && err.Code == CodeInvalidJSON) == json.Valid(doc) {
		t.Fatalf("%q: json.Valid %v, DecodeReview %v", doc, json.Valid(doc), err)
	}
	serr := schemaVerdict(v.review, doc)
	if (err == nil) != (serr == nil) {
		t.Fatalf("%q:\nDecodeReview: %v\nschema: %v", doc, err, serr)
	}
	if err == nil {
		checkReviewMatchesJSON(t, r, doc)
		checkReviewInvariants(t, r, DefaultMaxTextBytes)
	} else if !strings.Contains(err.Message, " ") || err.Message == "" {
		t.Fatalf("%q: unhelpful message %q", doc, err.Message)
	}
	return err
}

// checkReviewInvariants holds for every accepted review.
func checkReviewInvariants(t testing.TB, r Review, limit int) {
	t.Helper()
	switch {
	case r.ReviewID == "" || utf8.RuneCountInString(r.ReviewID) > MaxReviewIDChars:
		t.Fatalf("review_id %q", r.ReviewID)
	case r.Text == "" || blank(r.Text) || len(r.Text) > limit:
		t.Fatalf("text %q", r.Text)
	case utf8.RuneCountInString(r.Title) > MaxTitleChars:
		t.Fatalf("title of %d characters", utf8.RuneCountInString(r.Title))
	case r.Rating < 0 || r.Rating > 5:
		t.Fatalf("rating %d", r.Rating)
	case r.Lang != "" && !validLang(r.Lang):
		t.Fatalf("lang %q", r.Lang)
	case r.CreatedAt != "" && !validDateTime(r.CreatedAt):
		t.Fatalf("created_at %q", r.CreatedAt)
	case r.Metadata != nil && !validObject(r.Metadata):
		t.Fatalf("metadata %q", r.Metadata)
	}
	for _, s := range []string{r.ReviewID, r.Text, r.Title, r.Source, r.ProductID, r.Lang, r.CreatedAt} {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 in %q", s)
		}
	}
}

var seedReviews = []string{
	benchReview,
	`{"review_id":"r1","text":"ok"}`,
	`{"schema_version":1,"review_id":"r\u00e9","text":"tr\u00e8s \"bien\"","rating":4,"lang":"fr-CA","created_at":"2016-12-31T23:59:60Z","metadata":{}}`,
	`{"review_id":"x","text":"y","unknown":[1,{"a":"b"},null,true,false,-0.5e-3],"rating":5.0}`,
	`{"review_id":"t-1","title":"Waste of money","text":"It arrived on Tuesday.","lang":"en"}`,
}

// Property: random byte mutations of valid reviews never panic the
// decoder, and its verdict agrees with the reference validator (and its
// syntax verdict with json.Valid).
func TestMutatedReviewsAgreeWithSchema(t *testing.T) {
	v := reference(t)
	rng := rand.New(rand.NewPCG(7, 11))
	n := 6000
	if testing.Short() {
		n = 600
	}
	special := []byte(`{}[]",:\ 0123456789.eE+-tfnul` + "\t\n\x00\x7f\xff\xc3")
	codes := map[string]int{}
	for i := 0; i < n; i++ {
		doc := []byte(seedReviews[rng.IntN(len(seedReviews))])
		for m := 1 + rng.IntN(3); m > 0; m-- {
			doc = mutate(rng, doc, special)
		}
		err := checkAgainstReference(t, v, doc)
		if err == nil {
			codes["accepted"]++
		} else {
			codes[err.Code]++
		}
	}
	t.Logf("verdicts: %v", codes)
	if codes["accepted"] == 0 || codes[CodeInvalidJSON] == 0 || codes[CodeSchemaViolation] == 0 {
		t.Errorf("the mutations exercise too little: %v", codes)
	}
}

func mutate(rng *rand.Rand, doc, special []byte) []byte {
	if len(doc) == 0 {
		return append(doc, special[rng.IntN(len(special))])
	}
	i := rng.IntN(len(doc))
	out := append([]byte(nil), doc...)
	switch rng.IntN(5) {
	case 0: // replace a byte
		out[i] = special[rng.IntN(len(special))]
	case 1: // delete a byte
		out = append(out[:i], out[i+1:]...)
	case 2: // insert a byte
		out = append(out[:i], append([]byte{special[rng.IntN(len(special))]}, out[i:]...)...)
	case 3: // duplicate a range
		j := i + rng.IntN(min(len(doc)-i, 20)+1)
		out = append(out[:j], append(append([]byte(nil), doc[i:j]...), doc[j:]...)...)
	case 4: // a random byte
		out[i] = byte(rng.IntN(256))
	}
	return out
}

// Property: generated reviews, built field by field from valid and
// invalid values (wrong types, edge numbers, bad dates and tags, blank
// texts, escapes, duplicate and unknown keys), get the same verdict from
// the decoder and the reference validator.
func TestGeneratedReviewsAgreeWithSchema(t *testing.T) {
	v := reference(t)
	rng := rand.New(rand.NewPCG(3, 5))
	n := 6000
	if testing.Short() {
		n = 600
	}
	codes := map[string]int{}
	for i := 0; i < n; i++ {
		doc := generateReview(rng)
		err := checkAgainstReference(t, v, doc)
		if err == nil {
			codes["accepted"]++
		} else {
			codes[err.Code]++
		}
	}
	t.Logf("verdicts: %v", codes)
	for _, c := range []string{"accepted", CodeSchemaViolation, CodeMissingField, CodeEmptyText, CodeUnsupportedVersion} {
		if codes[c] < n/100 {
			t.Errorf("too few %s: %v", c, codes)
		}
	}
}

var (
	genStrings = []string{`""`, `"a"`, `"r-1"`, `" "`, `"\t\n"`, `"\u00a0\u3000"`, `"\u0085"`, `"\u200b"`, `"x\u0000y"`,
		`"\ud800"`, `"\ud83d\ude00"`, `"é"`, `"\\"`, `"\""`, `"` + strings.Repeat("é", 256) + `"`, `"` + strings.Repeat("x", 257) + `"`}
	genNumbers = []string{"0", "1", "-1", "2", "5", "6", "1.0", "4.0", "4.5", "1e0", "5e0", "0.5e1", "50e-1", "1e1", "1E-0",
		"-0", "0.0", "1.00000000000000000001", "1e400", "-5", "3", "100000000000000000000000001"}
	genOther = []string{"null", "true", "false", "[]", "{}", `[1,"a"]`, `{"a":{"b":[]}}`}
	genLangs = []string{`"en"`, `"EN"`, `"pt-BR"`, `"zh-Hant-TW"`, `"e"`, `"engl"`, `"en-"`, `"en_US"`, `"en-a"`, `"en-abcdefgh"`,
		`"en-abcdefghi"`, `"123"`, `"en-12"`, `"en--US"`, `"gsw"`, `"en\n"`, `""`}
	genDates = []string{`"2026-05-01T09:30:00Z"`, `"2026-05-01t09:30:00z"`, `"2026-05-01T09:30:00.1+02:00"`, `"2026-05-01T09:30:00-23:59"`,
		`"2016-12-31T23:59:60Z"`, `"2016-12-31T22:59:60-01:00"`, `"2017-01-01T00:59:60+01:00"`, `"2016-12-31T12:59:60Z"`,
		`"2024-02-29T00:00:00Z"`, `"2023-02-29T00:00:00Z"`, `"2000-02-29T00:00:00Z"`, `"1900-02-29T00:00:00Z"`,
		`"2026-04-31T00:00:00Z"`, `"2026-13-01T00:00:00Z"`, `"2026-00-01T00:00:00Z"`, `"2026-05-00T00:00:00Z"`,
		`"2026-05-01T24:00:00Z"`, `"2026-05-01T23:60:00Z"`, `"2026-05-01T23:59:61Z"`, `"2026-05-01T09:30:00+24:00"`,
		`"2026-05-01T09:30:00+01:60"`, `"2026-05-01T09:30:00+0100"`, `"2026-05-01T09:30:00"`, `"2026-05-01 09:30:00Z"`,
		`"2026-05-01T9:30:00Z"`, `"2026-05-01T+9:30:00Z"`, `"2026-05-01T09:30:00.Z"`, `"2026-5-01T09:30:00Z"`,
		`"0000-01-01T00:00:00Z"`, `"9999-12-31T23:59:59.999999999999Z"`, `"2026-05-01T09:30:00ZZ"`, `"2026-05-01"`, `""`}
	genTexts = []string{`"good"`, `""`, `" "`, `" \t\n\r "`, `"\u000b\u000c"`, `"\u00a0"`, `"\u2028\u2029"`, `"\u180e"`, `"\ufeff"`,
		`"\u200b"`, `" x "`, `"\ud800"`, `"😀"`, `"a\\nb"`} // the length limit has its own tests
	// Titles: blank ones are valid; the limit is 1024 characters, so
	// 1024 two-byte characters are valid and 1025 ASCII ones are not.
	genTitles = []string{`"Waste of money"`, `""`, `" "`, `"\t\u3000"`, `"\ud800"`, `"Not worth it.\n"`,
		`"` + strings.Repeat("é", 1024) + `"`, `"` + strings.Repeat("é", 1025) + `"`, `"` + strings.Repeat("x", 1025) + `"`}
)

func generateReview(rng *rand.Rand) []byte {
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	anyValue := func() string {
		switch rng.IntN(3) {
		case 0:
			return pick(genStrings)
		case 1:
			return pick(genNumbers)
		}
		return pick(genOther)
	}
	// value draws mostly from the field's own pool, sometimes anything.
	value := func(pool []string) string {
		if rng.IntN(6) == 0 {
			return anyValue()
		}
		return pick(pool)
	}
	type member struct{ key, value string }
	var ms []member
	add := func(p int, key string, v func() string) {
		if rng.IntN(p) == 0 {
			ms = append(ms, member{key, v()})
		}
	}
	ids := []string{`"r-1"`, `"é"`, `""`, `"` + strings.Repeat("é", 256) + `"`, `"` + strings.Repeat("é", 257) + `"`, `"\u0000"`}
	add(4, "schema_version", func() string { return value([]string{"1", "1.0", "2", "0", "-1", "1e0", "10e-1", "1.5", `"1"`}) })
	add(1, "review_id", func() string { return value(ids) })
	add(1, "text", func() string { return value(genTexts) })
	add(3, "title", func() string { return value(genTitles) })
	add(3, "source", func() string { return value(genStrings) })
	add(3, "product_id", func() string { return value(genStrings) })
	add(3, "rating", func() string { return value(genNumbers) })
	add(3, "lang", func() string { return value(genLangs) })
	add(3, "created_at", func() string { return value(genDates) })
	add(3, "metadata", func() string { return value([]string{"{}", `{"a":1}`, `{"x":[{"y":null}]}`}) })
	add(3, "extra", anyValue)
	add(8, "text", func() string { return value(genTexts) }) // a duplicate key
	rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		key := strconv.Quote(m.key)
		if rng.IntN(10) == 0 && m.key != "" {
			key = `"\u00` + strconv.FormatInt(int64(m.key[0]), 16) + m.key[1:] + `"` // an escaped key
		}
		b.WriteString(key)
		b.WriteByte(':')
		b.WriteString(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}
