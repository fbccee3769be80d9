package schemas

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

const ceReview = `{"review_id":"r-2001","text":"Lovely colour, terrible zipper.","rating":2}`

func hdrs(kv ...string) []Header {
	var hs []Header
	for i := 0; i < len(kv); i += 2 {
		hs = append(hs, Header{kv[i], []byte(kv[i+1])})
	}
	return hs
}

func binaryHeaders(extra ...string) []Header {
	return hdrs(append([]string{"ce_specversion", "1.0", "ce_id", "evt-1", "ce_source", "/shop", "ce_type", "com.example.review"}, extra...)...)
}

func envelope(fields string) string {
	return `{"specversion":"1.0","id":"evt-1","source":"/shop","type":"com.example.review"` + fields + `}`
}

func TestDecodeReviewRecordModes(t *testing.T) {
	want, derr := DecodeReview([]byte(ceReview), DecodeOptions{})
	if derr != nil {
		t.Fatal(derr)
	}
	ctx := CloudEvent{ID: "evt-1", Source: "/shop", Type: "com.example.review", SpecVersion: "1.0"}
	for _, tt := range []struct {
		name    string
		headers []Header
		value   string
		mode    string
	}{
		{"plain, no headers", nil, ceReview, ModePlain},
		{"plain, content-type", hdrs("content-type", "application/json; charset=utf-8"), ceReview, ModePlain},
		{"plain, other headers", hdrs("trace", "abc", "Content-Type", "application/vnd.example+json"), ceReview, ModePlain},
		{"binary", binaryHeaders("content-type", "application/json"), ceReview, ModeBinary},
		{"binary without content-type", binaryHeaders(), ceReview, ModeBinary},
		{"binary with extensions", binaryHeaders("ce_time", "2026-05-01T00:00:00Z", "ce_subject", "r-2001"), ceReview, ModeBinary},
		{"structured", hdrs("content-type", "application/cloudevents+json"), envelope(`,"data":` + ceReview), ModeStructured},
		{"structured, charset, upper case", hdrs("Content-Type", "Application/CloudEvents+JSON; charset=UTF-8"), envelope(`,"datacontenttype":"application/json","data":` + ceReview), ModeStructured},
		{"structured beats ce_ headers", append(binaryHeaders(), hdrs("content-type", "application/cloudevents+json")...), envelope(`,"data":` + ceReview + `,"time":"x","ext":[1]`), ModeStructured},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, ce, err := DecodeReviewRecord(tt.headers, []byte(tt.value), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, want) {
				t.Errorf("review %+v, want %+v", r, want)
			}
			wantCE := CloudEvent{Mode: tt.mode}
			if tt.mode != ModePlain {
				wantCE = ctx
				wantCE.Mode = tt.mode
			}
			if ce != wantCE {
				t.Errorf("context %+v, want %+v", ce, wantCE)
			}
		})
	}
}

func TestDecodeReviewRecordRejects(t *testing.T) {
	ct := hdrs("content-type", "application/cloudevents+json")
	for _, tt := range []struct {
		name    string
		headers []Header
		value   string
		code    string
		field   string
	}{
		{"plain: bad review", nil, `{"review_id":"r"}`, CodeMissingField, "text"},
		{"plain: content-type not JSON", hdrs("content-type", "text/plain"), ceReview, CodeSchemaViolation, "content-type"},
		{"batch mode", hdrs("content-type", "application/cloudevents-batch+json"), "[" + envelope(`,"data":`+ceReview) + "]", CodeSchemaViolation, "content-type"},
		{"binary: no specversion", hdrs("ce_id", "1", "ce_source", "/s", "ce_type", "t"), ceReview, CodeMissingField, "ce_specversion"},
		{"binary: specversion 0.3", hdrs("ce_specversion", "0.3", "ce_id", "1", "ce_source", "/s", "ce_type", "t"), ceReview, CodeUnsupportedVersion, "ce_specversion"},
		{"binary: no id", hdrs("ce_specversion", "1.0", "ce_source", "/s", "ce_type", "t"), ceReview, CodeMissingField, "ce_id"},
		{"binary: empty source", hdrs("ce_specversion", "1.0", "ce_id", "1", "ce_source", "", "ce_type", "t"), ceReview, CodeMissingField, "ce_source"},
		{"binary: no type", hdrs("ce_specversion", "1.0", "ce_id", "1", "ce_source", "/s"), ceReview, CodeMissingField, "ce_type"},
		{"binary: id not UTF-8", hdrs("ce_specversion", "1.0", "ce_id", "\xff", "ce_source", "/s", "ce_type", "t"), ceReview, CodeInvalidUTF8, "ce_id"},
		{"binary: content-type xml", binaryHeaders("content-type", "application/xml"), ceReview, CodeSchemaViolation, "content-type"},
		{"binary: bad review", binaryHeaders(), `{"review_id":"r","text":" "}`, CodeEmptyText, "text"},
		{"structured: not JSON", ct, envelope(`,"data":`)[:20], CodeInvalidJSON, ""},
		{"structured: invalid UTF-8", ct, envelope(`,"data":{"review_id":"r","text":"` + "\xff" + `"}`), CodeInvalidUTF8, ""},
		{"structured: array", ct, `[` + ceReview + `]`, CodeSchemaViolation, ""},
		{"structured: no specversion", ct, `{"id":"1","source":"/s","type":"t","data":` + ceReview + `}`, CodeMissingField, "specversion"},
		{"structured: specversion 0.3", ct, `{"specversion":"0.3","id":"1","source":"/s","type":"t","data":` + ceReview + `}`, CodeUnsupportedVersion, "specversion"},
		{"structured: specversion number", ct, `{"specversion":1.0,"id":"1","source":"/s","type":"t","data":` + ceReview + `}`, CodeSchemaViolation, "specversion"},
		{"structured: no id", ct, `{"specversion":"1.0","source":"/s","type":"t","data":` + ceReview + `}`, CodeMissingField, "id"},
		{"structured: empty source", ct, `{"specversion":"1.0","id":"1","source":"","type":"t","data":` + ceReview + `}`, CodeMissingField, "source"},
		{"structured: type null", ct, `{"specversion":"1.0","id":"1","source":"/s","type":null,"data":` + ceReview + `}`, CodeSchemaViolation, "type"},
		{"structured: no data", ct, envelope(``), CodeMissingField, "data"},
		{"structured: data_base64", ct, envelope(`,"data_base64":"e30="`), CodeSchemaViolation, "data_base64"},
		{"structured: data is a string", ct, envelope(`,"data":"{\"review_id\":\"r\",\"text\":\"t\"}"`), CodeSchemaViolation, "data"},
		{"structured: data not a review", ct, envelope(`,"data":{"review_id":"r"}`), CodeMissingField, "data"},
		{"structured: datacontenttype xml", ct, envelope(`,"datacontenttype":"application/xml","data":` + ceReview), CodeSchemaViolation, "datacontenttype"},
		{"structured: trailing data", ct, envelope(`,"data":`+ceReview) + "{}", CodeInvalidJSON, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeReviewRecord(tt.headers, []byte(tt.value), DecodeOptions{})
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Code != tt.code {
				t.Errorf("%v, want code %s", err, tt.code)
			}
			if tt.field != "" && !strings.HasPrefix(err.Message, tt.field+":") {
				t.Errorf("message %q does not name %s first", err.Message, tt.field)
			}
		})
	}
}

func TestLabeledHeaders(t *testing.T) {
	hs := LabeledHeaders(hdrs("keep", "me"), "r-1@reviews/3/18842", "")
	want := hdrs("keep", "me", "ce_specversion", "1.0", "ce_id", "r-1@reviews/3/18842", "ce_source", "capastan",
		"ce_type", "capastan.review.labeled.v1", "content-type", "application/json")
	if !reflect.DeepEqual(hs, want) {
		t.Errorf("got %q\nwant %q", hs, want)
	}
	// The output record, read back as a binary-mode CloudEvent.
	l := sampleLabeled()
	value := l.AppendJSON(nil)
	hs = LabeledHeaders(nil, "evt-9", "capastan-eu")
	var ce CloudEvent
	for _, h := range hs {
		switch h.Key {
		case HeaderCEID:
			ce.ID = string(h.Value)
		case HeaderCESource:
			ce.Source = string(h.Value)
		case HeaderCEType:
			ce.Type = string(h.Value)
		case HeaderCESpecVersion:
			ce.SpecVersion = string(h.Value)
		}
	}
	if ce != (CloudEvent{ID: "evt-9", Source: "capastan-eu", Type: LabeledEventType, SpecVersion: "1.0"}) {
		t.Errorf("context %+v", ce)
	}
	if _, err := DecodeLabeled(value); err != nil {
		t.Error(err)
	}
}

func TestDeadLetterHeaders(t *testing.T) {
	v := reference(t)
	at := time.Date(2026, 5, 1, 11, 30, 1, 312e6, time.FixedZone("CEST", 2*3600))
	orig := hdrs("ce_id", "evt-1", "capastan-error-code", "internal", "trace", "t1", "capastan-failed-at", "old")
	_, derr := DecodeReview([]byte(`{"review_id":"r","text":"  "}`), DecodeOptions{})
	hs := DeadLetterHeaders(orig, derr, "reviews", 3, 18843, at)
	want := hdrs("ce_id", "evt-1", "trace", "t1",
		HeaderErrorCode, "empty_text", HeaderErrorMessage, "text: is only white space",
		HeaderSourceTopic, "reviews", HeaderSourcePartition, "3", HeaderSourceOffset, "18843",
		HeaderFailedAt, "2026-05-01T09:30:01.312Z")
	if !reflect.DeepEqual(hs, want) {
		t.Errorf("got %q\nwant %q", hs, want)
	}
	// As a JSON object, the headers are valid against deadletter.v1.json.
	asJSON := func(hs []Header) []byte {
		m := map[string]string{}
		for _, h := range hs {
			m[h.Key] = string(h.Value)
		}
		b, _ := json.Marshal(m)
		return b
	}
	if err := schemaVerdict(v.deadLetter, asJSON(hs)); err != nil {
		t.Errorf("%s: %v", asJSON(hs), err)
	}
	// Every code, a nil error, a long message, the extreme positions.
	for _, code := range Codes() {
		hs := DeadLetterHeaders(nil, &Error{code, strings.Repeat("é", 2000)}, "t", 2147483647, 9223372036854775807, time.Unix(0, 0))
		if err := schemaVerdict(v.deadLetter, asJSON(hs)); err != nil {
			t.Errorf("%s: %v", code, err)
		}
		if msg := hs[1].Value; len(msg) > MaxErrorMessageBytes || !bytes.HasSuffix(msg, []byte("...")) || !json.Valid(asJSON(hs)) {
			t.Errorf("message not cut cleanly: %d bytes", len(msg))
		}
	}
	hs = DeadLetterHeaders(nil, nil, "t", 0, 0, at)
	if string(hs[0].Value) != CodeInternal {
		t.Errorf("nil error gives code %s", hs[0].Value)
	}
}
