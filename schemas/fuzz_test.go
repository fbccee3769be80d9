package schemas

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeReview: DecodeReview never panics, an accepted review
// satisfies the contract's invariants and matches what encoding/json
// reads, and the syntax verdict is json.Valid's.
func FuzzDecodeReview(f *testing.F) {
	for _, s := range seedReviews {
		f.Add([]byte(s), 0)
	}
	for _, s := range []string{``, `{}`, `[]`, `null`, `{"review_id":"r","text":" "}`, `{"review_id":"r","text":"t","rating":4.0}`,
		`{"review_id":"r","text":"t","created_at":"2016-12-31T23:59:60Z"}`, `{"review_id":"r","text":"\ud800"}`,
		`{"review_id":"r","\u0074ext":"t","text":5}`, "{\"review_id\":\"r\",\"text\":\"\xff\"}", `{"review_id":"r","text":"abcdef"}`} {
		f.Add([]byte(s), 4)
		f.Add([]byte(s), 0)
	}
	v := reference(f)
	f.Fuzz(func(t *testing.T, doc []byte, limit int) {
		limit %= 1 << 17
		r, err := DecodeReview(doc, DecodeOptions{MaxTextBytes: limit})
		if limit <= 0 {
			limit = DefaultMaxTextBytes
			// At the default limit the reference validator agrees, but on
			// invalid UTF-8 (which it cannot see) and on non-ASCII text
			// over the limit in bytes but not in characters.
			if utf8.Valid(doc) && !(err != nil && err.Code == CodeTextTooLong) {
				if serr := schemaVerdict(v.review, doc); (serr == nil) != (err == nil) {
					t.Fatalf("DecodeReview %v, schema %v", err, serr)
				}
			}
		}
		if err != nil {
			if err.Code == "" || err.Message == "" {
				t.Fatalf("empty error %+v", err)
			}
			if utf8.Valid(doc) && (err.Code == CodeInvalidJSON) == json.Valid(doc) {
				t.Fatalf("json.Valid %v, DecodeReview %v", json.Valid(doc), err)
			}
			return
		}
		if !utf8.Valid(doc) || !json.Valid(doc) {
			t.Fatal("accepted a value that is not valid UTF-8 JSON")
		}
		checkReviewInvariants(t, r, limit)
		checkReviewMatchesJSON(t, r, doc)
	})
}

// FuzzValidDocument: the scanner's syntax verdict is json.Valid's.
func FuzzValidDocument(f *testing.F) {
	for _, s := range append(seedReviews, `[1,{"a":[]}]`, `"\u12"`, `-01`, `1.`, `{"a" 1}`, `[1,]`, `tru`, " \t\n1 ") {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if got, want := validDocument(doc), json.Valid(doc); got != want {
			t.Fatalf("validDocument %v, json.Valid %v", got, want)
		}
	})
}

// FuzzDecodeReviewRecord: no panic on any headers and value, and every
// accepted review satisfies the invariants.
func FuzzDecodeReviewRecord(f *testing.F) {
	f.Add("", "", []byte(ceReview))
	f.Add("content-type", "application/cloudevents+json", []byte(envelope(`,"data":`+ceReview)))
	f.Add("ce_specversion", "1.0", []byte(ceReview))
	f.Fuzz(func(t *testing.T, key, val string, value []byte) {
		hs := append(binaryHeaders(), Header{key, []byte(val)})
		if key == "" {
			hs = nil
		}
		r, _, err := DecodeReviewRecord(hs, value, DecodeOptions{})
		if err == nil {
			checkReviewInvariants(t, r, DefaultMaxTextBytes)
		}
	})
}

// FuzzAppendString: any string is written as a JSON string that reads
// back as the string with invalid UTF-8 replaced.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\n\u2028", "\xff\xed\xa0\x80", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil || back != sanitize(s) {
			t.Fatalf("%q -> %s -> %q (%v)", s, out, back, err)
		}
	})
}
