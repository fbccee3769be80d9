package schemas

import (
	"strconv"
	"unicode/utf8"
)

// PredictRequest is one request of the HTTP port's /predict and
// /predict/batch (PredictRequest in openapi.yaml): a text, an optional
// title (as a review's) and an optional id of the caller's, echoed in the
// answer.
type PredictRequest struct {
	Text  string
	Title string
	ID    string
}

const (
	pText = iota
	pTitle
	pID
	pFields
)

func predictField(key []byte) int {
	switch string(key) {
	case "text":
		return pText
	case "title":
		return pTitle
	case "id":
		return pID
	}
	return -1
}

// DecodePredictRequest reads one PredictRequest with the same scanner, the
// same rules for text and the same error codes as DecodeReview (there is
// no review_id and no schema_version); title, when present, has the rules
// of a review's title, and id, when present, must be a string of 1 to 256
// characters. Unknown members are ignored. Only the first problem is
// reported: text missing or not a string, then title, then id, then the
// text's content.
func DecodePredictRequest(value []byte, opt DecodeOptions) (PredictRequest, *Error) {
	if !utf8.Valid(value) {
		return PredictRequest{}, invalidUTF8(value)
	}
	var sp [pFields]span
	if err := scanDocument(value, "body", "a request", predictField, sp[:]); err != nil {
		return PredictRequest{}, err
	}
	var r PredictRequest
	strs := stringReader{value: value}
	get := func(k int, name string) (string, *Error) { return strs.get(sp[k], name) }
	var err *Error
	if !sp[pText].present() {
		return r, errorf(CodeMissingField, "text", "required field is missing")
	}
	if r.Text, err = get(pText, "text"); err != nil {
		return r, err
	}
	if sp[pTitle].present() {
		if r.Title, err = get(pTitle, "title"); err != nil {
			return r, err
		}
		if err := checkTitle(r.Title); err != nil {
			return r, err
		}
	}
	if sp[pID].present() {
		if r.ID, err = get(pID, "id"); err != nil {
			return r, err
		}
		if err := CheckID(r.ID); err != nil {
			return r, err
		}
	}
	return r, checkText(r.Text, opt)
}

// CheckText applies the rules of a review's text (review.v1.json) to a
// text that did not come through a decoder of this package (a form field).
func CheckText(text string, opt DecodeOptions) *Error {
	if !utf8.ValidString(text) {
		return invalidUTF8([]byte(text))
	}
	return checkText(text, opt)
}

// checkText applies the rules of a review's text to valid UTF-8.
func checkText(text string, opt DecodeOptions) *Error {
	if text == "" {
		return errorf(CodeEmptyText, "text", "is empty")
	}
	if blank(text) {
		return errorf(CodeEmptyText, "text", "is only white space")
	}
	limit := opt.MaxTextBytes
	if limit <= 0 {
		limit = DefaultMaxTextBytes
	}
	if len(text) > limit {
		return errorf(CodeTextTooLong, "text", "is "+strconv.Itoa(len(text))+" bytes long, the limit is "+strconv.Itoa(limit))
	}
	return nil
}

// CheckTitle applies the rules of a review's title to a title that did not
// come through a decoder of this package (a form field).
func CheckTitle(title string) *Error {
	if !utf8.ValidString(title) {
		return invalidUTF8([]byte(title))
	}
	return checkTitle(title)
}

// checkTitle applies the rules of a review's title to valid UTF-8. A blank
// title is accepted: it is as good as none (classifier.Titled ignores it),
// and rejecting it would dead-letter reviews whose text is fine.
func checkTitle(title string) *Error {
	if n := utf8.RuneCountInString(title); n > MaxTitleChars {
		return errorf(CodeSchemaViolation, "title", "is "+strconv.Itoa(n)+" characters long, the limit is "+strconv.Itoa(MaxTitleChars))
	}
	return nil
}

// CheckID applies the rules of review_id to a request's optional id.
func CheckID(id string) *Error {
	if !utf8.ValidString(id) {
		return invalidUTF8([]byte(id))
	}
	if id == "" {
		return errorf(CodeSchemaViolation, "id", "must not be empty when present")
	}
	if n := utf8.RuneCountInString(id); n > MaxReviewIDChars {
		return errorf(CodeSchemaViolation, "id", "is "+strconv.Itoa(n)+" characters long, the limit is 256")
	}
	return nil
}

// EachArrayElement checks that value is one well-formed JSON array and
// calls fn with each element's bytes, in order. It reads the whole array
// before the first call, so a malformed array calls fn for nothing.
func EachArrayElement(value []byte, fn func(elem []byte)) *Error {
	if !utf8.Valid(value) {
		return invalidUTF8(value)
	}
	i := skipWS(value, 0)
	if i >= len(value) {
		return &Error{Code: CodeInvalidJSON, Message: "the body is empty"}
	}
	if value[i] != '[' {
		if !validDocument(value) {
			return &Error{Code: CodeInvalidJSON, Message: "the body is not well-formed JSON"}
		}
		return &Error{Code: CodeSchemaViolation, Message: "a batch must be a JSON array, not " + kind(value[i])}
	}
	if !validDocument(value) {
		return &Error{Code: CodeInvalidJSON, Message: "the body is not well-formed JSON"}
	}
	// Valid: walk the elements without further checks.
	i = skipWS(value, i+1)
	if value[i] == ']' {
		return nil
	}
	for {
		end, _ := skipValue(value, i, 1)
		fn(value[i:end])
		i = skipWS(value, end)
		if value[i] == ']' {
			return nil
		}
		i = skipWS(value, i+1) // past ','
	}
}

// AppendJSONString appends s as a JSON string, escaped as the labeled
// events are (invalid UTF-8 becomes U+FFFD).
func AppendJSONString(dst []byte, s string) []byte { return appendString(dst, s) }

// AppendProbability appends a probability clamped to [0, 1], written as
// encoding/json writes a float64.
func AppendProbability(dst []byte, f float64) []byte { return appendProb(dst, f) }
