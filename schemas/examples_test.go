package schemas

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestReviewExamples(t *testing.T) {
	v := reference(t)
	for _, ex := range examples(t, "review.v1", "valid") {
		t.Run("valid/"+ex.name, func(t *testing.T) {
			if err := schemaVerdict(v.review, ex.data); err != nil {
				t.Errorf("schema rejects it: %v", err)
			}
			r, err := DecodeReview(ex.data, DecodeOptions{})
			if err != nil {
				t.Fatalf("DecodeReview rejects it: %v", err)
			}
			checkReviewMatchesJSON(t, r, ex.data)
		})
	}
	for _, ex := range examples(t, "review.v1", "invalid") {
		t.Run("invalid/"+ex.name, func(t *testing.T) {
			if ex.code == "" {
				t.Fatal("an invalid example's name must start with its error code and --")
			}
			_, err := DecodeReview(ex.data, DecodeOptions{})
			if err == nil {
				t.Fatal("DecodeReview accepts it")
			}
			if err.Code != ex.code {
				t.Errorf("DecodeReview says %v, the file name says %s", err, ex.code)
			}
			serr := schemaVerdict(v.review, ex.data)
			if ex.code == CodeInvalidUTF8 {
				// The documented difference: a JSON Schema validator reads
				// the document with a JSON parser, which replaces invalid
				// UTF-8 inside strings by U+FFFD, so it cannot see it.
				if utf8.Valid(ex.data) {
					t.Error("an invalid_utf8 example must hold invalid UTF-8")
				}
				return
			}
			if serr == nil {
				t.Error("the schema accepts it")
			}
		})
	}
}

// checkReviewMatchesJSON compares a decoded review with what encoding/json
// reads from the same document.
func checkReviewMatchesJSON(t testing.TB, r Review, doc []byte) {
	t.Helper()
	m, ok := genericJSON(t, doc).(map[string]any)
	if !ok {
		t.Fatal("not an object")
	}
	for _, f := range []struct {
		key  string
		got  string
		want bool // must be present
	}{{"review_id", r.ReviewID, true}, {"text", r.Text, true}, {"title", r.Title, false}, {"source", r.Source, false},
		{"product_id", r.ProductID, false}, {"lang", r.Lang, false}, {"created_at", r.CreatedAt, false}} {
		v, present := m[f.key]
		if !present {
			if f.want || f.got != "" {
				t.Errorf("%s: decoded %q, absent from the document", f.key, f.got)
			}
			continue
		}
		if v != f.got {
			t.Errorf("%s: decoded %q, encoding/json reads %q", f.key, f.got, v)
		}
	}
	if n, present := m["rating"]; present {
		if f, _ := n.(json.Number).Float64(); int(f) != r.Rating {
			t.Errorf("rating: decoded %d, encoding/json reads %v", r.Rating, n)
		}
	} else if r.HasRating() {
		t.Errorf("rating %d decoded, absent from the document", r.Rating)
	}
	if md, present := m["metadata"]; present {
		if !reflect.DeepEqual(genericJSON(t, r.Metadata), md) {
			t.Errorf("metadata: decoded %s, encoding/json reads %v", r.Metadata, md)
		}
	} else if r.Metadata != nil {
		t.Errorf("metadata %s decoded, absent from the document", r.Metadata)
	}
}

func TestLabeledExamples(t *testing.T) {
	v := reference(t)
	for _, ex := range examples(t, "labeled.v1", "valid") {
		t.Run("valid/"+ex.name, func(t *testing.T) {
			if err := schemaVerdict(v.labeled, ex.data); err != nil {
				t.Errorf("schema rejects it: %v", err)
			}
			l, err := DecodeLabeled(ex.data)
			if err != nil {
				t.Fatalf("DecodeLabeled rejects it: %v", err)
			}
			if err := l.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			// Written again, it says the same (unknown fields aside).
			out := l.AppendJSON(nil)
			if err := schemaVerdict(v.labeled, out); err != nil {
				t.Errorf("AppendJSON's copy %s breaks the schema: %v", out, err)
			}
			l2, err := DecodeLabeled(out)
			if err != nil {
				t.Fatalf("DecodeLabeled rejects AppendJSON's copy: %v", err)
			}
			if !reflect.DeepEqual(l, l2) {
				t.Errorf("round trip changed it:\n%+v\n%+v", l, l2)
			}
			want := genericJSON(t, ex.data).(map[string]any)
			got := genericJSON(t, out).(map[string]any)
			for k := range want {
				if _, known := got[k]; !known {
					delete(want, k) // an unknown field, not kept
				}
			}
			if !reflect.DeepEqual(normalizeTimes(want), normalizeTimes(got)) {
				t.Errorf("AppendJSON's copy differs:\n%s\n%s", ex.data, out)
			}
		})
	}
	for _, ex := range examples(t, "labeled.v1", "invalid") {
		t.Run("invalid/"+ex.name, func(t *testing.T) {
			if err := schemaVerdict(v.labeled, ex.data); err == nil {
				t.Error("the schema accepts it")
			}
			_, err := DecodeLabeled(ex.data)
			if err == nil {
				t.Fatal("DecodeLabeled accepts it")
			}
			if e := err.(*Error); ex.code != "" && e.Code != ex.code {
				t.Errorf("DecodeLabeled says %v, the file name says %s", err, ex.code)
			}
		})
	}
}

// normalizeTimes drops classified_at, which AppendJSON writes in UTC.
func normalizeTimes(m map[string]any) map[string]any {
	delete(m, "classified_at")
	return m
}

func TestDeadLetterExamples(t *testing.T) {
	v := reference(t)
	for _, ex := range examples(t, "deadletter.v1", "valid") {
		if err := schemaVerdict(v.deadLetter, ex.data); err != nil {
			t.Errorf("valid/%s: schema rejects it: %v", ex.name, err)
		}
	}
	for _, ex := range examples(t, "deadletter.v1", "invalid") {
		if err := schemaVerdict(v.deadLetter, ex.data); err == nil {
			t.Errorf("invalid/%s: the schema accepts it", ex.name)
		}
	}
}

// The "examples" keyword of each schema holds valid documents too.
func TestSchemaEmbeddedExamples(t *testing.T) {
	v := reference(t)
	for name, sch := range map[string]*validatorPair{
		ReviewSchemaFile:     {v.review.Validate, func(b []byte) error { _, err := DecodeReview(b, DecodeOptions{}); return errOrNil(err) }},
		LabeledSchemaFile:    {v.labeled.Validate, func(b []byte) error { _, err := DecodeLabeled(b); return err }},
		DeadLetterSchemaFile: {v.deadLetter.Validate, nil},
	} {
		var doc struct{ Examples []json.RawMessage }
		data, _ := FS.ReadFile(name)
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Examples) == 0 {
			t.Errorf("%s has no examples", name)
		}
		for i, ex := range doc.Examples {
			if err := sch.schema(genericJSON(t, ex)); err != nil {
				t.Errorf("%s example %d: %v", name, i, err)
			}
			if sch.decode != nil {
				if err := sch.decode(ex); err != nil {
					t.Errorf("%s example %d: decoder: %v", name, i, err)
				}
			}
		}
	}
}

type validatorPair struct {
	schema func(any) error
	decode func([]byte) error
}

func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

// The files and the Go code state the same limits, names and codes.
func TestSchemasAgreeWithCode(t *testing.T) {
	read := func(name string) map[string]any {
		data, err := FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return genericJSON(t, data).(map[string]any)
	}
	review, labeled, dead := read(ReviewSchemaFile), read(LabeledSchemaFile), read(DeadLetterSchemaFile)
	for name, doc := range map[string]map[string]any{ReviewSchemaID: review, LabeledSchemaID: labeled, DeadLetterSchemaID: dead} {
		if doc["$id"] != name {
			t.Errorf("$id is %v, want %s", doc["$id"], name)
		}
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema is %v", name, doc["$schema"])
		}
		if doc["additionalProperties"] != true {
			t.Errorf("%s: unknown fields must be allowed", name)
		}
	}
	rp := review["properties"].(map[string]any)
	text := rp["text"].(map[string]any)
	if text["maxLength"] != json.Number("65536") || DefaultMaxTextBytes != 65536 {
		t.Errorf("text maxLength %v, DefaultMaxTextBytes %d", text["maxLength"], DefaultMaxTextBytes)
	}
	if rp["review_id"].(map[string]any)["maxLength"] != json.Number("256") || MaxReviewIDChars != 256 {
		t.Error("review_id maxLength and MaxReviewIDChars disagree")
	}
	if rp["title"].(map[string]any)["maxLength"] != json.Number("1024") || MaxTitleChars != 1024 {
		t.Error("title maxLength and MaxTitleChars disagree")
	}

	// Passed-through fields are defined alike in both events.
	lp := labeled["properties"].(map[string]any)
	defs := labeled["$defs"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		if r, ok := out["$ref"].(string); ok {
			for k, v := range defs[strings.TrimPrefix(r, "#/$defs/")].(map[string]any) {
				if _, set := out[k]; !set {
					out[k] = v
				}
			}
			delete(out, "$ref")
		}
		delete(out, "description")
		return out
	}
	for _, f := range []string{"review_id", "source", "product_id", "rating", "lang", "created_at", "metadata"} {
		a, b := resolve(rp[f].(map[string]any)), resolve(lp[f].(map[string]any))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: review.v1 says %v, labeled.v1 says %v", f, a, b)
		}
	}

	var codes []string
	for _, c := range dead["properties"].(map[string]any)[HeaderErrorCode].(map[string]any)["enum"].([]any) {
		codes = append(codes, c.(string))
	}
	if !slices.Equal(codes, Codes()) {
		t.Errorf("deadletter.v1.json codes %v, Codes() %v", codes, Codes())
	}
	var req []string
	for _, h := range dead["required"].([]any) {
		req = append(req, h.(string))
	}
	want := []string{HeaderErrorCode, HeaderErrorMessage, HeaderSourceTopic, HeaderSourcePartition, HeaderSourceOffset, HeaderFailedAt}
	if !slices.Equal(req, want) {
		t.Errorf("deadletter.v1.json requires %v, want %v", req, want)
	}
	if ml := dead["properties"].(map[string]any)[HeaderErrorMessage].(map[string]any)["maxLength"]; ml != json.Number("1024") || MaxErrorMessageBytes != 1024 {
		t.Errorf("message maxLength %v, MaxErrorMessageBytes %d", ml, MaxErrorMessageBytes)
	}
}

// The pattern of "text" is the complement of unicode.IsSpace, which blank
// uses (as Go's regexp, the validator's engine, reads it).
func TestTextPatternIsUnicodeSpace(t *testing.T) {
	data, _ := FS.ReadFile(ReviewSchemaFile)
	var doc struct {
		Properties struct {
			Text struct{ Pattern string }
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(doc.Properties.Text.Pattern)
	// Every code point up to U+3100 (the last white space is U+3000),
	// then a sample of the rest.
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF || r > 0x3100 && r%61 != 0 {
			continue
		}
		s := string(r)
		m, space := re.MatchString(s), unicode.IsSpace(r)
		if m == space || blank(s) != space {
			t.Fatalf("U+%04X: pattern matches %v, unicode.IsSpace %v, blank %v", r, m, space, blank(s))
		}
	}
}

func TestCloudEventExamples(t *testing.T) {
	var reviews []Review
	for _, name := range []string{"plain", "binary", "structured"} {
		data, err := os.ReadFile("examples/cloudevents/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			Headers map[string]string
			Value   json.RawMessage
		}
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		var hs []Header
		for k, v := range rec.Headers {
			hs = append(hs, Header{k, []byte(v)})
		}
		r, ce, derr := DecodeReviewRecord(hs, rec.Value, DecodeOptions{})
		if derr != nil {
			t.Fatalf("%s: %v", name, derr)
		}
		if ce.Mode != name {
			t.Errorf("%s: mode %q", name, ce.Mode)
		}
		if name != "plain" && (ce.ID != "evt-2001" || ce.Source != "//shop.example/reviews" || ce.Type != "com.example.review.created" || ce.SpecVersion != "1.0") {
			t.Errorf("%s: context %+v", name, ce)
		}
		reviews = append(reviews, r)
	}
	for _, r := range reviews[1:] {
		if !reflect.DeepEqual(r, reviews[0]) {
			t.Errorf("modes disagree: %+v vs %+v", r, reviews[0])
		}
	}
}
