package schemas

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Header is one Kafka record header. The package has its own type so that
// it depends on no Kafka client; converting to a client's header type is a
// field-by-field copy.
type Header struct {
	Key   string
	Value []byte
}

// CloudEvent is the CloudEvents 1.0 context of an input record, empty but
// for Mode when the record is plain JSON.
type CloudEvent struct {
	ID          string
	Source      string
	Type        string
	SpecVersion string
	// Mode is ModePlain, ModeBinary or ModeStructured.
	Mode string
}

// How a record carries its review (CloudEvent.Mode).
const (
	// ModePlain: the value is the review; no ce_ headers.
	ModePlain = "plain"
	// ModeBinary: CloudEvents binary content mode: ce_ headers carry the
	// event's attributes and the value is the review.
	ModeBinary = "binary"
	// ModeStructured: CloudEvents structured content mode: content-type
	// application/cloudevents+json and the value is an event envelope
	// whose "data" is the review.
	ModeStructured = "structured"
)

// CloudEvents Kafka protocol binding header names and values.
const (
	HeaderContentType    = "content-type"
	HeaderCESpecVersion  = "ce_specversion"
	HeaderCEID           = "ce_id"
	HeaderCESource       = "ce_source"
	HeaderCEType         = "ce_type"
	CESpecVersion        = "1.0"
	ContentTypeJSON      = "application/json"
	ContentTypeCloudJSON = "application/cloudevents+json"
	// DefaultEventSource is the ce_source Capastan gives its output events.
	DefaultEventSource = "capastan"
)

// Dead-letter record headers (deadletter.v1.json). A dead-letter record
// keeps the input record's key, value (byte for byte) and headers, and
// adds these.
const (
	HeaderErrorCode       = "capastan-error-code"
	HeaderErrorMessage    = "capastan-error-message"
	HeaderSourceTopic     = "capastan-source-topic"
	HeaderSourcePartition = "capastan-source-partition"
	HeaderSourceOffset    = "capastan-source-offset"
	HeaderFailedAt        = "capastan-failed-at"
	// DeadLetterHeaderPrefix starts every header that DeadLetterHeaders
	// writes (and replaces).
	DeadLetterHeaderPrefix = "capastan-"
)

// MaxErrorMessageBytes bounds the capastan-error-message header.
const MaxErrorMessageBytes = 1024

// DecodeReviewRecord reads a review from a Kafka record in any of the
// three forms (see ModePlain, ModeBinary, ModeStructured):
//
//   - a content-type header of application/cloudevents+json (parameters
//     allowed) means structured mode;
//   - otherwise any header whose key starts with "ce_" means binary mode,
//     which needs ce_specversion, ce_id, ce_source and ce_type;
//   - otherwise the record is plain.
//
// In plain and binary mode a content-type header, if present, must be a
// JSON media type (application/json or any type ending in +json). A
// specversion other than "1.0" is CodeUnsupportedVersion; a missing or
// empty required attribute is CodeMissingField; other envelope problems
// are CodeSchemaViolation, and the review itself is checked as
// DecodeReview does. Header keys are matched exactly, except
// content-type, which is matched regardless of case. When a key repeats,
// the last one counts.
func DecodeReviewRecord(headers []Header, value []byte, opt DecodeOptions) (Review, CloudEvent, *Error) {
	var ctype []byte
	haveCType, binary := false, false
	for i := range headers {
		k := headers[i].Key
		if strings.HasPrefix(k, "ce_") {
			binary = true
		} else if strings.EqualFold(k, HeaderContentType) {
			ctype, haveCType = headers[i].Value, true
		}
	}
	mt := mediaType(ctype)
	if haveCType && bytes.EqualFold(mt, []byte(ContentTypeCloudJSON)) {
		return decodeStructured(value, opt)
	}
	if haveCType && bytes.EqualFold(mt, []byte("application/cloudevents-batch+json")) {
		return Review{}, CloudEvent{}, errorf(CodeSchemaViolation, HeaderContentType, "batched CloudEvents are not supported; send one event per record")
	}
	if haveCType && !isJSONMediaType(mt) {
		return Review{}, CloudEvent{}, errorf(CodeSchemaViolation, HeaderContentType, quote(string(ctype))+" is not JSON; want application/json or application/cloudevents+json")
	}
	ce := CloudEvent{Mode: ModePlain}
	if binary {
		ce.Mode = ModeBinary
		var attrs [4]*[]byte
		for i := range headers {
			switch headers[i].Key {
			case HeaderCESpecVersion:
				attrs[0] = &headers[i].Value
			case HeaderCEID:
				attrs[1] = &headers[i].Value
			case HeaderCESource:
				attrs[2] = &headers[i].Value
			case HeaderCEType:
				attrs[3] = &headers[i].Value
			}
		}
		for k, name := range [...]string{HeaderCESpecVersion, HeaderCEID, HeaderCESource, HeaderCEType} {
			if attrs[k] == nil {
				return Review{}, CloudEvent{}, errorf(CodeMissingField, name, "binary-mode CloudEvent header is missing")
			}
			v := *attrs[k]
			if len(v) == 0 {
				return Review{}, CloudEvent{}, errorf(CodeMissingField, name, "binary-mode CloudEvent header is empty")
			}
			if !utf8.Valid(v) {
				return Review{}, CloudEvent{}, errorf(CodeInvalidUTF8, name, "header value is not valid UTF-8")
			}
		}
		if string(*attrs[0]) != CESpecVersion {
			return Review{}, CloudEvent{}, errorf(CodeUnsupportedVersion, HeaderCESpecVersion, quote(string(*attrs[0]))+" is not supported; this service reads CloudEvents 1.0")
		}
		ce.SpecVersion = CESpecVersion
		ce.ID, ce.Source, ce.Type = string(*attrs[1]), string(*attrs[2]), string(*attrs[3])
	}
	r, err := DecodeReview(value, opt)
	if err != nil {
		return Review{}, CloudEvent{}, err
	}
	return r, ce, nil
}

// mediaType returns a content-type value without parameters or spaces.
func mediaType(v []byte) []byte {
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return bytes.TrimSpace(v)
}

// isJSONMediaType: application/json, or any type/subtype+json.
func isJSONMediaType(mt []byte) bool {
	if bytes.EqualFold(mt, []byte(ContentTypeJSON)) {
		return true
	}
	slash := bytes.IndexByte(mt, '/')
	return slash > 0 && len(mt) > slash+len("+json") && bytes.EqualFold(mt[len(mt)-len("+json"):], []byte("+json"))
}

// The envelope members DecodeReviewRecord reads in structured mode.
const (
	eSpecVersion = iota
	eID
	eSource
	eType
	eDataContentType
	eData
	eDataBase64
	eFields
)

func envelopeField(key []byte) int {
	switch string(key) {
	case "specversion":
		return eSpecVersion
	case "id":
		return eID
	case "source":
		return eSource
	case "type":
		return eType
	case "datacontenttype":
		return eDataContentType
	case "data":
		return eData
	case "data_base64":
		return eDataBase64
	}
	return -1
}

func decodeStructured(value []byte, opt DecodeOptions) (Review, CloudEvent, *Error) {
	fail := func(err *Error) (Review, CloudEvent, *Error) { return Review{}, CloudEvent{}, err }
	if !utf8.Valid(value) {
		return fail(invalidUTF8(value))
	}
	var sp [eFields]span
	if err := scanDocument(value, "CloudEvent envelope", "a structured CloudEvent", envelopeField, sp[:]); err != nil {
		return fail(err)
	}
	whole := string(value)
	ce := CloudEvent{Mode: ModeStructured}
	attr := func(k int, name string) (string, *Error) {
		s := sp[k]
		if !s.present() {
			return "", errorf(CodeMissingField, name, "required CloudEvent attribute is missing")
		}
		if value[s.start] != '"' {
			return "", errorf(CodeSchemaViolation, name, "CloudEvent attribute must be a string, not "+kind(value[s.start]))
		}
		v := str(value, whole, s)
		if v == "" {
			return "", errorf(CodeMissingField, name, "required CloudEvent attribute is empty")
		}
		return v, nil
	}
	var err *Error
	if ce.SpecVersion, err = attr(eSpecVersion, "specversion"); err != nil {
		return fail(err)
	}
	if ce.SpecVersion != CESpecVersion {
		return fail(errorf(CodeUnsupportedVersion, "specversion", quote(ce.SpecVersion)+" is not supported; this service reads CloudEvents 1.0"))
	}
	if ce.ID, err = attr(eID, "id"); err != nil {
		return fail(err)
	}
	if ce.Source, err = attr(eSource, "source"); err != nil {
		return fail(err)
	}
	if ce.Type, err = attr(eType, "type"); err != nil {
		return fail(err)
	}
	if sp[eDataContentType].present() {
		dct, err := attr(eDataContentType, "datacontenttype")
		if err != nil {
			return fail(err)
		}
		if !isJSONMediaType(mediaType([]byte(dct))) || bytes.EqualFold(mediaType([]byte(dct)), []byte(ContentTypeCloudJSON)) {
			return fail(errorf(CodeSchemaViolation, "datacontenttype", quote(dct)+" is not JSON; want application/json"))
		}
	}
	s := sp[eData]
	if !s.present() {
		if sp[eDataBase64].present() {
			return fail(errorf(CodeSchemaViolation, "data_base64", "is not supported; put the review in \"data\" as a JSON object"))
		}
		return fail(errorf(CodeMissingField, "data", "the CloudEvent carries no review"))
	}
	r, derr := decodeReview(value[s.start:s.end], opt)
	if derr != nil {
		derr.Message = "data: " + derr.Message
		return fail(derr)
	}
	return r, ce, nil
}

// Fixed header values, shared by every record: do not modify them.
var (
	specVersionValue = []byte(CESpecVersion)
	labeledTypeValue = []byte(LabeledEventType)
	jsonValue        = []byte(ContentTypeJSON)
)

// LabeledHeaders appends the CloudEvents binary-mode headers of an output
// record to dst: ce_specversion "1.0", ce_id id, ce_source source
// (DefaultEventSource when empty), ce_type LabeledEventType and
// content-type application/json. The values of the fixed headers are
// shared between calls and must not be modified.
func LabeledHeaders(dst []Header, id, source string) []Header {
	if source == "" {
		source = DefaultEventSource
	}
	return append(dst,
		Header{HeaderCESpecVersion, specVersionValue},
		Header{HeaderCEID, []byte(id)},
		Header{HeaderCESource, []byte(source)},
		Header{HeaderCEType, labeledTypeValue},
		Header{HeaderContentType, jsonValue},
	)
}

// DeadLetterHeaders appends the dead-letter headers (deadletter.v1.json)
// for an input record rejected with e to dst, which normally holds the
// input record's own headers. Headers in dst whose key starts with
// DeadLetterHeaderPrefix are dropped first, so a record that fails again
// carries only its latest failure. A nil e counts as CodeInternal; the
// message is cut to MaxErrorMessageBytes; at is written in UTC.
func DeadLetterHeaders(dst []Header, e *Error, topic string, partition int32, offset int64, at time.Time) []Header {
	kept := dst[:0]
	for _, h := range dst {
		if !strings.HasPrefix(h.Key, DeadLetterHeaderPrefix) {
			kept = append(kept, h)
		}
	}
	clear(dst[len(kept):])
	dst = kept
	code, msg := CodeInternal, "unknown error"
	if e != nil {
		code, msg = e.Code, e.Message
	}
	if len(msg) > MaxErrorMessageBytes {
		n := MaxErrorMessageBytes - len("...")
		for n > 0 && !utf8.RuneStart(msg[n]) {
			n--
		}
		msg = msg[:n] + "..."
	}
	return append(dst,
		Header{HeaderErrorCode, []byte(code)},
		Header{HeaderErrorMessage, []byte(msg)},
		Header{HeaderSourceTopic, []byte(topic)},
		Header{HeaderSourcePartition, strconv.AppendInt(nil, int64(partition), 10)},
		Header{HeaderSourceOffset, strconv.AppendInt(nil, offset, 10)},
		Header{HeaderFailedAt, at.UTC().AppendFormat(nil, time.RFC3339Nano)},
	)
}
