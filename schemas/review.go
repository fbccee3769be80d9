package schemas

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Review is one input event (review.v1.json). Optional fields are empty
// (or 0 for Rating) when absent.
type Review struct {
	// ReviewID identifies the review: 1 to 256 characters.
	ReviewID string
	// Text is the text to classify: not empty, not only white space, at
	// most DecodeOptions.MaxTextBytes bytes of UTF-8.
	Text string
	// Title is the review's title or summary ("Waste of money"), at most
	// MaxTitleChars characters. It may be blank: the service then
	// classifies the text alone (classifier.Titled).
	Title string
	// Source says where the review comes from (a shop, a site).
	Source string
	// ProductID is the reviewed product.
	ProductID string
	// Rating is the star rating, 1 to 5, or 0 when absent. Valid ratings
	// are never 0, so 0 is the absence flag (see HasRating).
	Rating int
	// Lang is a BCP 47-style language tag such as "en" or "pt-BR".
	Lang string
	// CreatedAt is an RFC 3339 date-time, kept as written (validated, not
	// reformatted).
	CreatedAt string
	// Metadata is the "metadata" object exactly as it was in the input,
	// byte for byte, or nil when absent. It is the producer's: Capastan
	// passes it through to the output untouched.
	Metadata json.RawMessage
}

// HasRating reports whether the review had a rating.
func (r *Review) HasRating() bool { return r.Rating != 0 }

// DefaultMaxTextBytes is the default limit on a review's text, in bytes
// of UTF-8, and the maxLength that review.v1.json states.
const DefaultMaxTextBytes = 65536

// MaxReviewIDChars is the longest review_id, in characters.
const MaxReviewIDChars = 256

// MaxTitleChars is the longest title, in characters (as review.v1.json's
// maxLength counts). A title is a few words; the limit is far above any
// real one and bounds what a title adds to the text the model reads.
const MaxTitleChars = 1024

// DecodeOptions tunes DecodeReview.
type DecodeOptions struct {
	// MaxTextBytes is the longest text accepted, in bytes of UTF-8 after
	// JSON unescaping; 0 or less means DefaultMaxTextBytes. The service
	// makes it configurable; the schema states the default.
	MaxTextBytes int
}

// The members of a review that the decoder reads.
const (
	rSchemaVersion = iota
	rReviewID
	rText
	rTitle
	rSource
	rProductID
	rRating
	rLang
	rCreatedAt
	rMetadata
	rFields
)

func reviewField(key []byte) int {
	switch string(key) {
	case "schema_version":
		return rSchemaVersion
	case "review_id":
		return rReviewID
	case "text":
		return rText
	case "title":
		return rTitle
	case "source":
		return rSource
	case "product_id":
		return rProductID
	case "rating":
		return rRating
	case "lang":
		return rLang
	case "created_at":
		return rCreatedAt
	case "metadata":
		return rMetadata
	}
	return -1
}

// DecodeReview reads one review event (review.v1.json) from a record
// value. It rejects, with the *Error's Code:
//
//   - CodeInvalidUTF8: value is not valid UTF-8 (checked on the raw bytes
//     first, since JSON decoders silently replace bad bytes);
//   - CodeInvalidJSON: value is not one well-formed JSON value;
//   - CodeSchemaViolation: not an object, a field of the wrong type
//     (null included), rating not an integer from 1 to 5, created_at not
//     an RFC 3339 date-time, lang not a language tag, review_id longer
//     than 256 characters, title longer than 1024 characters;
//   - CodeUnsupportedVersion: schema_version present and not 1;
//   - CodeMissingField: review_id or text absent, or review_id empty;
//   - CodeEmptyText: text empty or only white space (unicode.IsSpace);
//   - CodeTextTooLong: text longer than opt.MaxTextBytes bytes.
//
// Unknown fields are ignored. A field given twice counts with its last
// value. Only the first problem is reported: UTF-8 first, then JSON
// syntax, then the fields in the order schema_version, review_id, text,
// title, source, product_id, rating, lang, created_at, metadata.
func DecodeReview(value []byte, opt DecodeOptions) (Review, *Error) {
	if !utf8.Valid(value) {
		return Review{}, invalidUTF8(value)
	}
	return decodeReview(value, opt)
}

func invalidUTF8(value []byte) *Error {
	off := 0
	for off < len(value) {
		r, size := utf8.DecodeRune(value[off:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		off += size
	}
	return &Error{Code: CodeInvalidUTF8, Message: "the value is not valid UTF-8 (first bad byte at offset " + strconv.Itoa(off) + ")"}
}

// decodeReview is DecodeReview on a value known to be valid UTF-8.
func decodeReview(value []byte, opt DecodeOptions) (Review, *Error) {
	var sp [rFields]span
	if err := scanDocument(value, "value", "a review", reviewField, sp[:]); err != nil {
		return Review{}, err
	}
	return readReview(value, &sp, opt)
}

// stringReader reads string members of one JSON value; the first string
// read copies the value once, and every string points into that copy.
type stringReader struct {
	value []byte
	whole string
}

func (sr *stringReader) get(s span, name string) (string, *Error) {
	if sr.value[s.start] != '"' {
		return "", errorf(CodeSchemaViolation, name, "must be a string, not "+kind(sr.value[s.start]))
	}
	if sr.whole == "" {
		sr.whole = string(sr.value)
	}
	return str(sr.value, sr.whole, s), nil
}

// scanDocument checks that value is exactly one JSON object, recording
// its known members in spans, and otherwise says what it is instead: the
// value (what, "value" or "body") empty or not well-formed, or the object
// (noun, "a review") something else.
func scanDocument(value []byte, what, noun string, lookup func([]byte) int, spans []span) *Error {
	i := skipWS(value, 0)
	if i >= len(value) {
		return &Error{Code: CodeInvalidJSON, Message: "the " + what + " is empty"}
	}
	if value[i] != '{' {
		if !validDocument(value) {
			return &Error{Code: CodeInvalidJSON, Message: "the " + what + " is not well-formed JSON"}
		}
		return &Error{Code: CodeSchemaViolation, Message: noun + " must be a JSON object, not " + kind(value[i])}
	}
	end, ok := scanObject(value, i, 1, lookup, spans)
	if !ok || skipWS(value, end) != len(value) {
		return &Error{Code: CodeInvalidJSON, Message: "the " + what + " is not well-formed JSON" + where(value, end, ok)}
	}
	return nil
}

// where locates a syntax error for the message.
func where(value []byte, off int, ok bool) string {
	if ok {
		return " (more data after the object at offset " + strconv.Itoa(off) + ")"
	}
	if off >= len(value) {
		return " (it ends too early)"
	}
	return " (at offset " + strconv.Itoa(off) + ")"
}

// readReview checks and copies the fields found by scanObject.
func readReview(value []byte, sp *[rFields]span, opt DecodeOptions) (Review, *Error) {
	var r Review
	if s := sp[rSchemaVersion]; s.present() {
		if err := checkVersion(value, s, "schema_version"); err != nil {
			return r, err
		}
	}
	strs := stringReader{value: value}
	getString := func(k int, name string) (string, *Error) { return strs.get(sp[k], name) }
	var err *Error
	if !sp[rReviewID].present() {
		return r, errorf(CodeMissingField, "review_id", "required field is missing")
	}
	if r.ReviewID, err = getString(rReviewID, "review_id"); err != nil {
		return r, err
	}
	if r.ReviewID == "" {
		return r, errorf(CodeMissingField, "review_id", "must not be empty")
	}
	if n := utf8.RuneCountInString(r.ReviewID); n > MaxReviewIDChars {
		return r, errorf(CodeSchemaViolation, "review_id", "is "+strconv.Itoa(n)+" characters long, the limit is 256")
	}

	if !sp[rText].present() {
		return r, errorf(CodeMissingField, "text", "required field is missing")
	}
	if r.Text, err = getString(rText, "text"); err != nil {
		return r, err
	}
	if err := checkText(r.Text, opt); err != nil {
		return r, err
	}
	if sp[rTitle].present() {
		if r.Title, err = getString(rTitle, "title"); err != nil {
			return r, err
		}
		if err := checkTitle(r.Title); err != nil {
			return r, err
		}
	}

	if sp[rSource].present() {
		if r.Source, err = getString(rSource, "source"); err != nil {
			return r, err
		}
	}
	if sp[rProductID].present() {
		if r.ProductID, err = getString(rProductID, "product_id"); err != nil {
			return r, err
		}
	}
	if s := sp[rRating]; s.present() {
		if r.Rating, err = readRating(value, s); err != nil {
			return r, err
		}
	}
	if sp[rLang].present() {
		if r.Lang, err = getString(rLang, "lang"); err != nil {
			return r, err
		}
		if !validLang(r.Lang) {
			return r, errorf(CodeSchemaViolation, "lang", "must be a language tag such as \"en\" or \"pt-BR\", not "+quote(r.Lang))
		}
	}
	if sp[rCreatedAt].present() {
		if r.CreatedAt, err = getString(rCreatedAt, "created_at"); err != nil {
			return r, err
		}
		if !validDateTime(r.CreatedAt) {
			return r, errorf(CodeSchemaViolation, "created_at", "must be an RFC 3339 date-time such as \"2026-05-01T12:00:00Z\", not "+quote(r.CreatedAt))
		}
	}
	if s := sp[rMetadata]; s.present() {
		if value[s.start] != '{' {
			return r, errorf(CodeSchemaViolation, "metadata", "must be an object, not "+kind(value[s.start]))
		}
		r.Metadata = bytes.Clone(value[s.start:s.end])
	}
	return r, nil
}

// checkVersion checks a schema_version member.
func checkVersion(value []byte, s span, name string) *Error {
	c := value[s.start]
	if c != '-' && !isDigit(c) {
		return errorf(CodeSchemaViolation, name, "must be an integer, not "+kind(c))
	}
	v, k := integer(value[s.start:s.end])
	switch {
	case k == notInteger:
		return errorf(CodeSchemaViolation, name, "must be an integer, not "+snippet(value[s.start:s.end]))
	case k == hugeInteger || v != SchemaVersion:
		return errorf(CodeUnsupportedVersion, name, snippet(value[s.start:s.end])+" is not supported; this service reads version 1")
	}
	return nil
}

func readRating(value []byte, s span) (int, *Error) {
	c := value[s.start]
	if c != '-' && !isDigit(c) {
		return 0, errorf(CodeSchemaViolation, "rating", "must be an integer from 1 to 5, not "+kind(c))
	}
	v, k := integer(value[s.start:s.end])
	if k != smallInteger || v < 1 || v > 5 {
		return 0, errorf(CodeSchemaViolation, "rating", "must be an integer from 1 to 5, not "+snippet(value[s.start:s.end]))
	}
	return int(v), nil
}

// snippet quotes at most 40 bytes of raw input for a message.
func snippet(b []byte) string {
	if len(b) > 40 {
		n := 40
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		return string(b[:n]) + "..."
	}
	return string(b)
}

func quote(s string) string { return strconv.Quote(snippet([]byte(s))) }

// blank reports whether s is only white space in the sense of
// unicode.IsSpace. review.v1.json says the same with the pattern of
// "text", which lists those characters.
func blank(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != ' ' && (c < '\t' || c > '\r') {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			return false
		}
		i += size
	}
	return true
}

// validLang reports whether s matches ^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$,
// the pattern of "lang" in review.v1.json.
func validLang(s string) bool {
	i := 0
	for i < len(s) && isAlpha(s[i]) {
		i++
	}
	if i < 2 || i > 3 {
		return false
	}
	for i < len(s) {
		if s[i] != '-' {
			return false
		}
		i++
		j := i
		for j < len(s) && (isAlpha(s[j]) || isDigit(s[j])) {
			j++
		}
		if n := j - i; n < 2 || n > 8 {
			return false
		}
		i = j
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// validDateTime reports whether s is an RFC 3339 date-time (section 5.6):
// YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), "T" and "Z" in either
// case, a real calendar date, and a leap second (:60) only at 23:59 UTC.
// This is the pattern and format "date-time" of review.v1.json together.
func validDateTime(s string) bool {
	// 0123456789012345678
	// YYYY-MM-DDTHH:MM:SS
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' && s[10] != 't' || s[13] != ':' || s[16] != ':' {
		return false
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	hour, ok4 := digits(s, 11, 2)
	minute, ok5 := digits(s, 14, 2)
	sec, ok6 := digits(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return false
	}
	i := 19
	if s[i] == '.' {
		i++
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return false
		}
		i = j
	}
	rest := s[i:]
	if rest == "Z" || rest == "z" {
		return sec < 60 || hour == 23 && minute == 59
	}
	if len(rest) != 6 || rest[0] != '+' && rest[0] != '-' || rest[3] != ':' {
		return false
	}
	oh, ok1 := digits(rest, 1, 2)
	om, ok2 := digits(rest, 4, 2)
	if !ok1 || !ok2 || oh > 23 || om > 59 {
		return false
	}
	if sec == 60 {
		// The leap second must fall at 23:59 in UTC.
		m := hour*60 + minute
		if rest[0] == '+' {
			m -= oh*60 + om
		} else {
			m += oh*60 + om
		}
		m = (m%1440 + 1440) % 1440
		return m == 23*60+59
	}
	return true
}

func digits(s string, at, n int) (int, bool) {
	v := 0
	for _, c := range []byte(s[at : at+n]) {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
