package schemas

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Labeled is one output event (labeled.v1.json): a review's label and
// scores, the model that gave them, and the input's optional fields passed
// through. Optional fields are left out of the JSON when empty (0 for
// Rating, "" for Origin.Topic).
type Labeled struct {
	ReviewID string
	// Label is the winning class, one of Classes.
	Label string
	// Confidence is the probability of Label, from 0 to 1.
	Confidence float64
	// Classes and Probs are the scores as parallel slices, written in this
	// order (a map would allocate); there must be at least 2.
	Classes []string
	Probs   []float64
	Model   ModelRef
	// ClassifiedAt is when the label was computed; written in UTC, RFC 3339
	// with as many fractional digits as needed. Its year must be 0 to 9999.
	ClassifiedAt time.Time
	// Origin is where the input record came from; left out when
	// Origin.Topic is empty (HTTP predictions).
	Origin Origin

	// Passed through from the input review.
	Source    string
	ProductID string
	Rating    int
	Lang      string
	CreatedAt string
	// Metadata is written byte for byte; it must be a JSON object (as
	// DecodeReview guarantees) or empty.
	Metadata json.RawMessage
	// Text is written only when not empty: the service copies the input
	// text only when configured to.
	Text string
}

// ModelRef identifies the model that labeled a review.
type ModelRef struct {
	Name    string
	Version string
	// SHA256 is the model file's SHA-256, 64 lower-case hex digits.
	SHA256 string
}

// Origin is the Kafka position of the input record.
type Origin struct {
	Topic     string
	Partition int32
	Offset    int64
}

// CopyReview sets l's passed-through fields (and review_id) from r, and
// the text too when withText is set. It shares r's strings and metadata.
func (l *Labeled) CopyReview(r *Review, withText bool) {
	l.ReviewID = r.ReviewID
	l.Source, l.ProductID, l.Rating = r.Source, r.ProductID, r.Rating
	l.Lang, l.CreatedAt, l.Metadata = r.Lang, r.CreatedAt, r.Metadata
	l.Text = ""
	if withText {
		l.Text = r.Text
	}
}

// LabeledEventType is the CloudEvents type of an output event.
const LabeledEventType = "capastan.review.labeled.v1"

// AppendJSON appends l as one JSON object valid against
// labeled.v1.json and returns the extended buffer. It allocates nothing
// once dst has room.
//
// It writes what it is given, within these rules: strings are escaped
// (control characters, quotes, backslash, U+2028 and U+2029) and any
// invalid UTF-8 in them becomes U+FFFD; a probability that is NaN or
// below 0 is written 0 and one above 1 is written 1. The caller keeps the
// rest of the contract, which Validate checks: a non-empty ReviewID and
// Label, at least 2 distinct classes with one probability each, a
// 64-hex-digit SHA256, and a valid Rating, Lang and CreatedAt when set.
func (l *Labeled) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"schema_version":1,"review_id":`...)
	dst = appendString(dst, l.ReviewID)
	dst = append(dst, `,"label":`...)
	dst = appendString(dst, l.Label)
	dst = append(dst, `,"confidence":`...)
	dst = appendProb(dst, l.Confidence)
	dst = append(dst, `,"scores":{`...)
	n := min(len(l.Classes), len(l.Probs))
	for c := 0; c < n; c++ {
		if c > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, l.Classes[c])
		dst = append(dst, ':')
		dst = appendProb(dst, l.Probs[c])
	}
	dst = append(dst, `},"model":{"name":`...)
	dst = appendString(dst, l.Model.Name)
	dst = append(dst, `,"version":`...)
	dst = appendString(dst, l.Model.Version)
	dst = append(dst, `,"sha256":`...)
	dst = appendString(dst, l.Model.SHA256)
	dst = append(dst, `},"classified_at":"`...)
	dst = l.ClassifiedAt.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if l.Origin.Topic != "" {
		dst = append(dst, `,"origin":{"topic":`...)
		dst = appendString(dst, l.Origin.Topic)
		dst = append(dst, `,"partition":`...)
		dst = strconv.AppendInt(dst, int64(max(l.Origin.Partition, 0)), 10)
		dst = append(dst, `,"offset":`...)
		dst = strconv.AppendInt(dst, max(l.Origin.Offset, 0), 10)
		dst = append(dst, '}')
	}
	if l.Source != "" {
		dst = append(dst, `,"source":`...)
		dst = appendString(dst, l.Source)
	}
	if l.ProductID != "" {
		dst = append(dst, `,"product_id":`...)
		dst = appendString(dst, l.ProductID)
	}
	if l.Rating != 0 {
		dst = append(dst, `,"rating":`...)
		dst = strconv.AppendInt(dst, int64(l.Rating), 10)
	}
	if l.Lang != "" {
		dst = append(dst, `,"lang":`...)
		dst = appendString(dst, l.Lang)
	}
	if l.CreatedAt != "" {
		dst = append(dst, `,"created_at":`...)
		dst = appendString(dst, l.CreatedAt)
	}
	if len(l.Metadata) > 0 {
		dst = append(dst, `,"metadata":`...)
		dst = append(dst, l.Metadata...)
	}
	if l.Text != "" {
		dst = append(dst, `,"text":`...)
		dst = appendString(dst, l.Text)
	}
	return append(dst, '}')
}

// appendProb writes a probability clamped to [0, 1] the way encoding/json
// writes a float64, so the two produce the same text.
func appendProb(dst []byte, f float64) []byte {
	if !(f > 0) { // also NaN and -0
		f = 0
	} else if f > 1 {
		f = 1
	}
	if f != 0 && f < 1e-6 {
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
		// 1e-07 becomes 1e-7, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
		return dst
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

// safeASCII[c] is true for the ASCII bytes a JSON string holds as they are.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			// Valid JSON, but line terminators in JavaScript.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Validate checks what AppendJSON leaves to its caller (see there): when
// it returns nil, AppendJSON's output is valid against labeled.v1.json.
func (l *Labeled) Validate() error {
	switch {
	case l.ReviewID == "" || utf8.RuneCountInString(l.ReviewID) > MaxReviewIDChars:
		return errors.New("labeled: review_id must be 1 to 256 characters")
	case l.Label == "":
		return errors.New("labeled: label is empty")
	case len(l.Classes) < 2 || len(l.Classes) != len(l.Probs):
		return errors.New("labeled: scores need at least 2 classes and one probability per class")
	case l.Model.Name == "":
		return errors.New("labeled: model name is empty")
	case !isSHA256(l.Model.SHA256):
		return errors.New("labeled: model sha256 must be 64 lower-case hex digits")
	case l.ClassifiedAt.UTC().Year() < 0 || l.ClassifiedAt.UTC().Year() > 9999:
		return errors.New("labeled: classified_at is outside years 0 to 9999")
	case l.Rating != 0 && (l.Rating < 1 || l.Rating > 5):
		return errors.New("labeled: rating must be 1 to 5 (or 0 for none)")
	case l.Lang != "" && !validLang(l.Lang):
		return errors.New("labeled: lang is not a language tag")
	case l.CreatedAt != "" && !validDateTime(l.CreatedAt):
		return errors.New("labeled: created_at is not an RFC 3339 date-time")
	case len(l.Metadata) > 0 && !validObject(l.Metadata):
		return errors.New("labeled: metadata is not a JSON object")
	case l.Origin.Topic != "" && (l.Origin.Partition < 0 || l.Origin.Offset < 0):
		return errors.New("labeled: origin partition and offset must not be negative")
	}
	for c, name := range l.Classes {
		if name == "" {
			return errors.New("labeled: a class name is empty")
		}
		for _, other := range l.Classes[:c] {
			if other == name {
				return errors.New("labeled: class " + strconv.Quote(name) + " appears twice")
			}
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !isDigit(c) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func validObject(b []byte) bool {
	i := skipWS(b, 0)
	return i < len(b) && b[i] == '{' && validDocument(b)
}

// The members of a labeled event that DecodeLabeled reads.
const (
	lSchemaVersion = iota
	lReviewID
	lLabel
	lConfidence
	lScores
	lModel
	lClassifiedAt
	lOrigin
	lSource
	lProductID
	lRating
	lLang
	lCreatedAt
	lMetadata
	lText
	lFields
)

func labeledField(key []byte) int {
	switch string(key) {
	case "schema_version":
		return lSchemaVersion
	case "review_id":
		return lReviewID
	case "label":
		return lLabel
	case "confidence":
		return lConfidence
	case "scores":
		return lScores
	case "model":
		return lModel
	case "classified_at":
		return lClassifiedAt
	case "origin":
		return lOrigin
	case "source":
		return lSource
	case "product_id":
		return lProductID
	case "rating":
		return lRating
	case "lang":
		return lLang
	case "created_at":
		return lCreatedAt
	case "metadata":
		return lMetadata
	case "text":
		return lText
	}
	return -1
}

func modelField(key []byte) int {
	switch string(key) {
	case "name":
		return 0
	case "version":
		return 1
	case "sha256":
		return 2
	}
	return -1
}

func originField(key []byte) int {
	switch string(key) {
	case "topic":
		return 0
	case "partition":
		return 1
	case "offset":
		return 2
	}
	return -1
}

// DecodeLabeled reads an output event and checks it against
// labeled.v1.json: it accepts exactly what the schema accepts (with
// format assertion on), ignoring unknown fields, and keeps the scores in
// the order written. A failure is an *Error. It is meant for tests and
// tools that read the output topic, not for a hot path.
func DecodeLabeled(value []byte) (Labeled, error) {
	l, err := decodeLabeled(value)
	if err != nil {
		return Labeled{}, err
	}
	return l, nil
}

func decodeLabeled(value []byte) (Labeled, *Error) {
	var l Labeled
	if !utf8.Valid(value) {
		return l, invalidUTF8(value)
	}
	var sp [lFields]span
	if err := scanDocument(value, "value", "a labeled event", labeledField, sp[:]); err != nil {
		return l, err
	}
	whole := string(value)
	// Required members first.
	for _, req := range [...]struct {
		k    int
		name string
	}{{lSchemaVersion, "schema_version"}, {lReviewID, "review_id"}, {lLabel, "label"}, {lConfidence, "confidence"},
		{lScores, "scores"}, {lModel, "model"}, {lClassifiedAt, "classified_at"}} {
		if !sp[req.k].present() {
			return l, errorf(CodeMissingField, req.name, "required field is missing")
		}
	}
	if err := checkVersion(value, sp[lSchemaVersion], "schema_version"); err != nil {
		return l, err
	}
	var err *Error
	getString := func(s span, name string, minLen int) (string, *Error) {
		if value[s.start] != '"' {
			return "", errorf(CodeSchemaViolation, name, "must be a string, not "+kind(value[s.start]))
		}
		v := str(value, whole, s)
		if utf8.RuneCountInString(v) < minLen {
			return "", errorf(CodeSchemaViolation, name, "must not be empty")
		}
		return v, nil
	}
	if l.ReviewID, err = getString(sp[lReviewID], "review_id", 1); err != nil {
		return l, err
	}
	if utf8.RuneCountInString(l.ReviewID) > MaxReviewIDChars {
		return l, errorf(CodeSchemaViolation, "review_id", "is longer than 256 characters")
	}
	if l.Label, err = getString(sp[lLabel], "label", 1); err != nil {
		return l, err
	}
	if l.Confidence, err = readProb(value, sp[lConfidence], "confidence"); err != nil {
		return l, err
	}

	// scores: an object of at least 2 probabilities, in written order.
	s := sp[lScores]
	if value[s.start] != '{' {
		return l, errorf(CodeSchemaViolation, "scores", "must be an object, not "+kind(value[s.start]))
	}
	if err := readScores(value, whole, s, &l); err != nil {
		return l, err
	}

	s = sp[lModel]
	if value[s.start] != '{' {
		return l, errorf(CodeSchemaViolation, "model", "must be an object, not "+kind(value[s.start]))
	}
	var ms [3]span
	scanObject(value, s.start, 2, modelField, ms[:])
	for k, name := range [...]string{"model.name", "model.version", "model.sha256"} {
		if !ms[k].present() {
			return l, errorf(CodeMissingField, name, "required field is missing")
		}
	}
	if l.Model.Name, err = getString(ms[0], "model.name", 1); err != nil {
		return l, err
	}
	if l.Model.Version, err = getString(ms[1], "model.version", 0); err != nil {
		return l, err
	}
	if l.Model.SHA256, err = getString(ms[2], "model.sha256", 0); err != nil {
		return l, err
	}
	if !isSHA256(l.Model.SHA256) {
		return l, errorf(CodeSchemaViolation, "model.sha256", "must be 64 lower-case hex digits")
	}

	var at string
	if at, err = getString(sp[lClassifiedAt], "classified_at", 0); err != nil {
		return l, err
	}
	if !validDateTime(at) {
		return l, errorf(CodeSchemaViolation, "classified_at", "must be an RFC 3339 date-time, not "+quote(at))
	}
	l.ClassifiedAt = parseDateTime(at)

	if s := sp[lOrigin]; s.present() {
		if value[s.start] != '{' {
			return l, errorf(CodeSchemaViolation, "origin", "must be an object, not "+kind(value[s.start]))
		}
		var os [3]span
		scanObject(value, s.start, 2, originField, os[:])
		for k, name := range [...]string{"origin.topic", "origin.partition", "origin.offset"} {
			if !os[k].present() {
				return l, errorf(CodeMissingField, name, "required field is missing")
			}
		}
		if l.Origin.Topic, err = getString(os[0], "origin.topic", 1); err != nil {
			return l, err
		}
		p, perr := readInt(value, os[1], "origin.partition", math.MaxInt32)
		if perr != nil {
			return l, perr
		}
		o, oerr := readInt(value, os[2], "origin.offset", math.MaxInt64)
		if oerr != nil {
			return l, oerr
		}
		l.Origin.Partition, l.Origin.Offset = int32(p), o
	}
	for _, f := range [...]struct {
		k    int
		name string
		dst  *string
	}{{lSource, "source", &l.Source}, {lProductID, "product_id", &l.ProductID}, {lLang, "lang", &l.Lang}, {lCreatedAt, "created_at", &l.CreatedAt}} {
		if sp[f.k].present() {
			if *f.dst, err = getString(sp[f.k], f.name, 0); err != nil {
				return l, err
			}
		}
	}
	if sp[lLang].present() && !validLang(l.Lang) {
		return l, errorf(CodeSchemaViolation, "lang", "must be a language tag, not "+quote(l.Lang))
	}
	if sp[lCreatedAt].present() && !validDateTime(l.CreatedAt) {
		return l, errorf(CodeSchemaViolation, "created_at", "must be an RFC 3339 date-time, not "+quote(l.CreatedAt))
	}
	if s := sp[lRating]; s.present() {
		if l.Rating, err = readRating(value, s); err != nil {
			return l, err
		}
	}
	if s := sp[lMetadata]; s.present() {
		if value[s.start] != '{' {
			return l, errorf(CodeSchemaViolation, "metadata", "must be an object, not "+kind(value[s.start]))
		}
		l.Metadata = json.RawMessage(whole[s.start:s.end])
	}
	if s := sp[lText]; s.present() {
		if l.Text, err = getString(s, "text", 1); err != nil {
			return l, err
		}
	}
	return l, nil
}

// readScores reads the scores object at s into l.Classes and l.Probs.
func readScores(value []byte, whole string, s span, l *Labeled) *Error {
	i := skipWS(value, s.start+1)
	for i < s.end && value[i] == '"' {
		kend, _, _ := scanString(value, i)
		name := str(value, whole, span{i, kend})
		i = skipWS(value, kend)
		i = skipWS(value, i+1) // ':'
		vend, _ := skipValue(value, i, 2)
		p, err := readProb(value, span{i, vend}, "scores."+name)
		if err != nil {
			return err
		}
		// A repeated class keeps its last value, as in a JSON Schema validator.
		dup := false
		for c, have := range l.Classes {
			if have == name {
				l.Probs[c], dup = p, true
			}
		}
		if !dup {
			l.Classes = append(l.Classes, name)
			l.Probs = append(l.Probs, p)
		}
		i = skipWS(value, vend)
		if value[i] == ',' {
			i = skipWS(value, i+1)
		}
	}
	if len(l.Classes) < 2 {
		return errorf(CodeSchemaViolation, "scores", "must hold at least 2 classes")
	}
	return nil
}

// readProb reads a number from 0 to 1.
func readProb(value []byte, s span, name string) (float64, *Error) {
	c := value[s.start]
	if c != '-' && !isDigit(c) {
		return 0, errorf(CodeSchemaViolation, name, "must be a number, not "+kind(c))
	}
	raw := value[s.start:s.end]
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errorf(CodeSchemaViolation, name, "must be a number, not "+snippet(raw))
	}
	// ParseFloat rounds (1.0000000000000000001 reads as 1 but is above 1,
	// -1e-400 reads as -0 but is below 0), so the range is checked on the
	// exact text, as a JSON Schema validator does.
	if !unitInterval(raw) {
		return 0, errorf(CodeSchemaViolation, name, "must be from 0 to 1, not "+snippet(raw))
	}
	return f, nil
}

// readInt reads an integer from 0 to limit.
func readInt(value []byte, s span, name string, limit int64) (int64, *Error) {
	c := value[s.start]
	if c != '-' && !isDigit(c) {
		return 0, errorf(CodeSchemaViolation, name, "must be an integer, not "+kind(c))
	}
	raw := value[s.start:s.end]
	v, k := integer(raw)
	switch {
	case k == notInteger:
		return 0, errorf(CodeSchemaViolation, name, "must be an integer, not "+snippet(raw))
	case k == hugeInteger && raw[0] != '-':
		return 0, errorf(CodeSchemaViolation, name, "is too large: "+snippet(raw))
	case k == hugeInteger || v < 0:
		return 0, errorf(CodeSchemaViolation, name, "must not be negative")
	case v > limit:
		return 0, errorf(CodeSchemaViolation, name, "is too large: "+snippet(raw))
	}
	return v, nil
}

// parseDateTime converts a string that validDateTime accepts. A leap
// second becomes the first instant of the next minute.
func parseDateTime(s string) time.Time {
	var buf [64]byte
	b := append(buf[:0], s...)
	b[10] = 'T'
	leap := b[17] == '6'
	if leap {
		b[17], b[18] = '5', '9'
	}
	if c := b[len(b)-1]; c == 'z' {
		b[len(b)-1] = 'Z'
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}
	}
	if leap {
		t = t.Add(time.Second).Truncate(time.Second)
	}
	return t
}
