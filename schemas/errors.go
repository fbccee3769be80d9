package schemas

// Error is why an input record was rejected. Code is one of the Code*
// constants and goes into the dead-letter header HeaderErrorCode; Message
// names the field and the problem, for people.
//
// Functions of this package return a *Error that is nil on success. Do
// not store it in an error variable before checking it: a nil *Error in
// an error interface is not a nil error.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Error codes: the values of the dead-letter header HeaderErrorCode, and
// of "code" in the HTTP port's error bodies. New codes may be added within
// v1; a consumer must treat a code it does not know like CodeInternal.
const (
	// CodeInvalidJSON: the value is not well-formed JSON.
	CodeInvalidJSON = "invalid_json"
	// CodeSchemaViolation: well-formed JSON that breaks the schema: not an
	// object, a field of the wrong type, a value out of range or format.
	CodeSchemaViolation = "schema_violation"
	// CodeTextTooLong: text is longer than the configured limit.
	CodeTextTooLong = "text_too_long"
	// CodeInvalidUTF8: the value is not valid UTF-8.
	CodeInvalidUTF8 = "invalid_utf8"
	// CodeUnsupportedVersion: schema_version (or the CloudEvents
	// specversion) is one this service does not read.
	CodeUnsupportedVersion = "unsupported_version"
	// CodeEmptyText: text is empty or only white space.
	CodeEmptyText = "empty_text"
	// CodeMissingField: a required field is absent (or review_id is empty).
	CodeMissingField = "missing_field"
	// CodeInternal: the service failed on a valid record.
	CodeInternal = "internal"
)

// Codes lists every error code, in the order of deadletter.v1.json.
func Codes() []string {
	return []string{CodeInvalidJSON, CodeSchemaViolation, CodeTextTooLong, CodeInvalidUTF8,
		CodeUnsupportedVersion, CodeEmptyText, CodeMissingField, CodeInternal}
}

func errorf(code, field, msg string) *Error {
	if field == "" {
		return &Error{Code: code, Message: msg}
	}
	return &Error{Code: code, Message: field + ": " + msg}
}
