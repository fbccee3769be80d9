package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeReview(t *testing.T) {
	long := strings.Repeat("a", 100)
	tests := []struct {
		name  string
		in    string
		opt   DecodeOptions
		code  string // "" for accepted
		field string // the message must name it
		want  Review
	}{
		{name: "minimal", in: `{"review_id":"r1","text":"good"}`, want: Review{ReviewID: "r1", Text: "good"}},
		{name: "all fields", in: `{"schema_version":1,"review_id":"r1","text":"good","title":"Nice","source":"s","product_id":"p","rating":5,"lang":"pt-BR","created_at":"2026-01-02T03:04:05.678+01:00","metadata":{"a":[1,2,{"b":null}]}}`,
			want: Review{ReviewID: "r1", Text: "good", Title: "Nice", Source: "s", ProductID: "p", Rating: 5, Lang: "pt-BR", CreatedAt: "2026-01-02T03:04:05.678+01:00", Metadata: json.RawMessage(`{"a":[1,2,{"b":null}]}`)}},
		{name: "white space everywhere", in: " \n\t{ \"review_id\" : \"r1\" ,\r\n \"text\" : \"ok\" } \n", want: Review{ReviewID: "r1", Text: "ok"}},
		{name: "metadata byte for byte", in: `{"review_id":"r1","text":"x","metadata":{ "k" : "v\u00e9" ,"n": 1.50 }}`,
			want: Review{ReviewID: "r1", Text: "x", Metadata: json.RawMessage(`{ "k" : "v\u00e9" ,"n": 1.50 }`)}},
		{name: "escapes decoded", in: `{"review_id":"r\"1","text":"a\\b\/c\n\t\u00e9\ud83d\ude00"}`, want: Review{ReviewID: `r"1`, Text: "a\\b/c\n\té😀"}},
		{name: "lone surrogate becomes U+FFFD like encoding/json", in: `{"review_id":"r1","text":"x\ud800y"}`, want: Review{ReviewID: "r1", Text: "x\uFFFDy"}},
		{name: "escaped key", in: `{"review_id":"r1","\u0074ext":"hi"}`, want: Review{ReviewID: "r1", Text: "hi"}},
		{name: "unknown fields ignored", in: `{"x":[{"y":{}}],"review_id":"r1","z":null,"text":"t","w":-1.5e3}`, want: Review{ReviewID: "r1", Text: "t"}},
		{name: "duplicate key: last wins", in: `{"review_id":"r1","text":5,"text":"second"}`, want: Review{ReviewID: "r1", Text: "second"}},
		{name: "duplicate key: last wins, even if bad", in: `{"review_id":"r1","text":"first","text":""}`, code: CodeEmptyText, field: "text"},
		{name: "rating 4.0 is an integer", in: `{"review_id":"r1","text":"t","rating":4.0}`, want: Review{ReviewID: "r1", Text: "t", Rating: 4}},
		{name: "rating 0.5e1 is an integer", in: `{"review_id":"r1","text":"t","rating":0.5e1}`, want: Review{ReviewID: "r1", Text: "t", Rating: 5}},
		{name: "schema_version 1.0", in: `{"schema_version":1.0,"review_id":"r1","text":"t"}`, want: Review{ReviewID: "r1", Text: "t"}},
		{name: "text at the configured limit", in: `{"review_id":"r1","text":"` + long + `"}`, opt: DecodeOptions{MaxTextBytes: 100}, want: Review{ReviewID: "r1", Text: long}},
		{name: "limit counts decoded bytes", in: `{"review_id":"r1","text":"\u00e9\u00e9"}`, opt: DecodeOptions{MaxTextBytes: 4}, want: Review{ReviewID: "r1", Text: "éé"}},
		{name: "leap second", in: `{"review_id":"r1","text":"t","created_at":"2016-12-31T23:59:60Z"}`, want: Review{ReviewID: "r1", Text: "t", CreatedAt: "2016-12-31T23:59:60Z"}},
		{name: "leap second in another zone", in: `{"review_id":"r1","text":"t","created_at":"2017-01-01T00:59:60+01:00"}`, want: Review{ReviewID: "r1", Text: "t", CreatedAt: "2017-01-01T00:59:60+01:00"}},
		{name: "lowercase t and z", in: `{"review_id":"r1","text":"t","created_at":"2024-02-29t00:00:00z"}`, want: Review{ReviewID: "r1", Text: "t", CreatedAt: "2024-02-29t00:00:00z"}},
		{name: "lang with subtags", in: `{"review_id":"r1","text":"t","lang":"zh-Hant-TW"}`, want: Review{ReviewID: "r1", Text: "t", Lang: "zh-Hant-TW"}},
		{name: "empty source kept empty", in: `{"review_id":"r1","text":"t","source":""}`, want: Review{ReviewID: "r1", Text: "t"}},
		{name: "title", in: `{"review_id":"r1","title":"Waste of money","text":"It arrived on Tuesday."}`, want: Review{ReviewID: "r1", Text: "It arrived on Tuesday.", Title: "Waste of money"}},
		{name: "title absent", in: `{"review_id":"r1","text":"t","headline":"not a title"}`, want: Review{ReviewID: "r1", Text: "t"}},
		{name: "title escapes decoded", in: `{"review_id":"r1","text":"t","title":"\"Meh\" \u00e9\n"}`, want: Review{ReviewID: "r1", Text: "t", Title: "\"Meh\" é\n"}},
		{name: "empty title", in: `{"review_id":"r1","text":"t","title":""}`, want: Review{ReviewID: "r1", Text: "t"}},
		// A blank title is as good as none, and the classifier ignores it:
		// no reason to dead-letter a review whose text is fine.
		{name: "blank title kept as is", in: `{"review_id":"r1","text":"t","title":" \t\u3000"}`, want: Review{ReviewID: "r1", Text: "t", Title: " \t\u3000"}},
		{name: "title of 1024 characters", in: `{"review_id":"r1","text":"t","title":"` + strings.Repeat("é", MaxTitleChars) + `"}`, want: Review{ReviewID: "r1", Text: "t", Title: strings.Repeat("é", MaxTitleChars)}},

		{name: "invalid UTF-8", in: "{\"review_id\":\"r1\",\"text\":\"\xff\"}", code: CodeInvalidUTF8},
		{name: "invalid UTF-8 outside strings", in: "\xef\xbb{}", code: CodeInvalidUTF8},
		{name: "byte order mark", in: "\ufeff{\"review_id\":\"r1\",\"text\":\"t\"}", code: CodeInvalidJSON},
		{name: "empty value", in: "", code: CodeInvalidJSON},
		{name: "only white space", in: " \n", code: CodeInvalidJSON},
		{name: "truncated", in: `{"review_id":"r1","text":"t"`, code: CodeInvalidJSON},
		{name: "trailing garbage", in: `{"review_id":"r1","text":"t"}x`, code: CodeInvalidJSON},
		{name: "raw control character", in: "{\"review_id\":\"r1\",\"text\":\"a\nb\"}", code: CodeInvalidJSON},
		{name: "bad escape", in: `{"review_id":"r1","text":"\x41"}`, code: CodeInvalidJSON},
		{name: "leading zero", in: `{"review_id":"r1","text":"t","rating":05}`, code: CodeInvalidJSON},
		{name: "NaN", in: `{"review_id":"r1","text":"t","rating":NaN}`, code: CodeInvalidJSON},
		{name: "bad syntax in an unknown field", in: `{"review_id":"r1","text":"t","x":[1,}`, code: CodeInvalidJSON},
		{name: "mismatched brackets", in: `{"review_id":"r1","text":"t","x":[1}`, code: CodeInvalidJSON},
		{name: "array", in: `["r1","t"]`, code: CodeSchemaViolation},
		{name: "string", in: `"hello"`, code: CodeSchemaViolation},
		{name: "null", in: `null`, code: CodeSchemaViolation},
		{name: "schema_version 2", in: `{"schema_version":2,"review_id":"r1","text":"t"}`, code: CodeUnsupportedVersion, field: "schema_version"},
		{name: "schema_version 0", in: `{"schema_version":0,"review_id":"r1","text":"t"}`, code: CodeUnsupportedVersion, field: "schema_version"},
		{name: "schema_version huge", in: `{"schema_version":1e30,"review_id":"r1","text":"t"}`, code: CodeUnsupportedVersion, field: "schema_version"},
		{name: "schema_version before other errors", in: `{"schema_version":2,"text":""}`, code: CodeUnsupportedVersion, field: "schema_version"},
		{name: "schema_version string", in: `{"schema_version":"1","review_id":"r1","text":"t"}`, code: CodeSchemaViolation, field: "schema_version"},
		{name: "schema_version 1.5", in: `{"schema_version":1.5,"review_id":"r1","text":"t"}`, code: CodeSchemaViolation, field: "schema_version"},
		{name: "no review_id", in: `{"text":"t"}`, code: CodeMissingField, field: "review_id"},
		{name: "empty review_id", in: `{"review_id":"","text":"t"}`, code: CodeMissingField, field: "review_id"},
		{name: "review_id null", in: `{"review_id":null,"text":"t"}`, code: CodeSchemaViolation, field: "review_id"},
		{name: "review_id number", in: `{"review_id":7,"text":"t"}`, code: CodeSchemaViolation, field: "review_id"},
		{name: "review_id 257 characters", in: `{"review_id":"` + strings.Repeat("é", 257) + `","text":"t"}`, code: CodeSchemaViolation, field: "review_id"},
		{name: "no text", in: `{"review_id":"r1"}`, code: CodeMissingField, field: "text"},
		{name: "text null", in: `{"review_id":"r1","text":null}`, code: CodeSchemaViolation, field: "text"},
		{name: "text object", in: `{"review_id":"r1","text":{"body":"x"}}`, code: CodeSchemaViolation, field: "text"},
		{name: "empty text", in: `{"review_id":"r1","text":""}`, code: CodeEmptyText, field: "text"},
		{name: "white-space text", in: `{"review_id":"r1","text":" \t\n\r\u000b\u000c\u0085\u00a0\u2003\u3000"}`, code: CodeEmptyText, field: "text"},
		{name: "text too long", in: `{"review_id":"r1","text":"` + long + `x"}`, opt: DecodeOptions{MaxTextBytes: 100}, code: CodeTextTooLong, field: "text"},
		{name: "text too long in bytes", in: `{"review_id":"r1","text":"ééé"}`, opt: DecodeOptions{MaxTextBytes: 5}, code: CodeTextTooLong, field: "text"},
		{name: "text at the default limit", in: `{"review_id":"r1","text":"` + strings.Repeat("a", DefaultMaxTextBytes) + `"}`, want: Review{ReviewID: "r1", Text: strings.Repeat("a", DefaultMaxTextBytes)}},
		{name: "default limit", in: `{"review_id":"r1","text":"` + strings.Repeat("a", DefaultMaxTextBytes+1) + `"}`, code: CodeTextTooLong, field: "text"},
		{name: "title null", in: `{"review_id":"r1","text":"t","title":null}`, code: CodeSchemaViolation, field: "title"},
		{name: "title number", in: `{"review_id":"r1","text":"t","title":5}`, code: CodeSchemaViolation, field: "title"},
		{name: "title object", in: `{"review_id":"r1","text":"t","title":{"en":"Meh"}}`, code: CodeSchemaViolation, field: "title"},
		{name: "title array", in: `{"review_id":"r1","text":"t","title":["Meh"]}`, code: CodeSchemaViolation, field: "title"},
		{name: "title of 1025 characters", in: `{"review_id":"r1","text":"t","title":"` + strings.Repeat("é", MaxTitleChars+1) + `"}`, code: CodeSchemaViolation, field: "title"},
		{name: "title of 1025 ASCII characters", in: `{"review_id":"r1","text":"t","title":"` + strings.Repeat("x", MaxTitleChars+1) + `"}`, code: CodeSchemaViolation, field: "title"},
		{name: "text before title", in: `{"review_id":"r1","title":5,"text":" "}`, code: CodeEmptyText, field: "text"},
		{name: "title before source", in: `{"review_id":"r1","text":"t","source":5,"title":5}`, code: CodeSchemaViolation, field: "title"},
		{name: "source number", in: `{"review_id":"r1","text":"t","source":1}`, code: CodeSchemaViolation, field: "source"},
		{name: "product_id null", in: `{"review_id":"r1","text":"t","product_id":null}`, code: CodeSchemaViolation, field: "product_id"},
		{name: "rating 0", in: `{"review_id":"r1","text":"t","rating":0}`, code: CodeSchemaViolation, field: "rating"},
		{name: "rating 6", in: `{"review_id":"r1","text":"t","rating":6}`, code: CodeSchemaViolation, field: "rating"},
		{name: "rating -1", in: `{"review_id":"r1","text":"t","rating":-1}`, code: CodeSchemaViolation, field: "rating"},
		{name: "rating 4.5", in: `{"review_id":"r1","text":"t","rating":4.5}`, code: CodeSchemaViolation, field: "rating"},
		{name: "rating 5.0000000000000000001", in: `{"review_id":"r1","text":"t","rating":5.0000000000000000001}`, code: CodeSchemaViolation, field: "rating"},
		{name: "rating 1e400", in: `{"review_id":"r1","text":"t","rating":1e400}`, code: CodeSchemaViolation, field: "rating"},
		{name: "rating string", in: `{"review_id":"r1","text":"t","rating":"5"}`, code: CodeSchemaViolation, field: "rating"},
		{name: "rating true", in: `{"review_id":"r1","text":"t","rating":true}`, code: CodeSchemaViolation, field: "rating"},
		{name: "lang one letter", in: `{"review_id":"r1","text":"t","lang":"e"}`, code: CodeSchemaViolation, field: "lang"},
		{name: "lang underscore", in: `{"review_id":"r1","text":"t","lang":"en_US"}`, code: CodeSchemaViolation, field: "lang"},
		{name: "lang long subtag", in: `{"review_id":"r1","text":"t","lang":"en-abcdefghi"}`, code: CodeSchemaViolation, field: "lang"},
		{name: "lang trailing dash", in: `{"review_id":"r1","text":"t","lang":"en-"}`, code: CodeSchemaViolation, field: "lang"},
		{name: "lang empty", in: `{"review_id":"r1","text":"t","lang":""}`, code: CodeSchemaViolation, field: "lang"},
		{name: "created_at no zone", in: `{"review_id":"r1","text":"t","created_at":"2026-01-02T03:04:05"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at space", in: `{"review_id":"r1","text":"t","created_at":"2026-01-02 03:04:05Z"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at month 13", in: `{"review_id":"r1","text":"t","created_at":"2026-13-02T03:04:05Z"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at 29 Feb not leap", in: `{"review_id":"r1","text":"t","created_at":"2100-02-29T03:04:05Z"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at hour 24", in: `{"review_id":"r1","text":"t","created_at":"2026-01-02T24:00:00Z"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at leap second at noon", in: `{"review_id":"r1","text":"t","created_at":"2026-01-02T12:59:60Z"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at empty fraction", in: `{"review_id":"r1","text":"t","created_at":"2026-01-02T03:04:05.Z"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at offset without colon", in: `{"review_id":"r1","text":"t","created_at":"2026-01-02T03:04:05+0100"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at signed hour", in: `{"review_id":"r1","text":"t","created_at":"2026-01-02T+3:04:05Z"}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "created_at number", in: `{"review_id":"r1","text":"t","created_at":1767312000}`, code: CodeSchemaViolation, field: "created_at"},
		{name: "metadata array", in: `{"review_id":"r1","text":"t","metadata":[1]}`, code: CodeSchemaViolation, field: "metadata"},
		{name: "metadata null", in: `{"review_id":"r1","text":"t","metadata":null}`, code: CodeSchemaViolation, field: "metadata"},
	}
	v := reference(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeReview([]byte(tt.in), tt.opt)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if got.ReviewID != tt.want.ReviewID || got.Text != tt.want.Text || got.Title != tt.want.Title || got.Source != tt.want.Source ||
					got.ProductID != tt.want.ProductID || got.Rating != tt.want.Rating || got.Lang != tt.want.Lang ||
					got.CreatedAt != tt.want.CreatedAt || string(got.Metadata) != string(tt.want.Metadata) {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
			} else {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				checkCodeAndField(t, err, tt.code, tt.field)
				if err.Error() != err.Code+": "+err.Message {
					t.Errorf("Error() = %q", err.Error())
				}
			}
			// The reference validator agrees, at the default limit and
			// apart from invalid UTF-8 (which it cannot see).
			if tt.opt.MaxTextBytes == 0 && tt.code != CodeInvalidUTF8 {
				serr := schemaVerdict(v.review, []byte(tt.in))
				if (serr == nil) != (tt.code == "") {
					t.Errorf("the schema disagrees: %v", serr)
				}
			}
		})
	}
}

// The decoder's text limit is in bytes and configurable; the schema's is
// the default, in characters. So at the default the decoder is stricter
// only for non-ASCII text near the limit.
func TestTextLimitBytesVersusCharacters(t *testing.T) {
	v := reference(t)
	doc := []byte(`{"review_id":"r1","text":"` + strings.Repeat("é", DefaultMaxTextBytes/2+1) + `"}`)
	if err := schemaVerdict(v.review, doc); err != nil {
		t.Fatalf("schema: %v", err)
	}
	if _, err := DecodeReview(doc, DecodeOptions{}); err == nil || err.Code != CodeTextTooLong {
		t.Fatalf("want text_too_long, got %v", err)
	}
	if _, err := DecodeReview(doc, DecodeOptions{MaxTextBytes: 1 << 20}); err != nil {
		t.Fatalf("a larger configured limit accepts it: %v", err)
	}
}

func TestDeepNesting(t *testing.T) {
	// encoding/json (and so the reference validator) refuses more than
	// 10000 levels; the decoder agrees to the level.
	for _, depth := range []int{maxDepth - 1, maxDepth, maxDepth + 1, 100000} {
		inner := strings.Repeat("[", depth-1) + strings.Repeat("]", depth-1)
		doc := []byte(`{"review_id":"r1","text":"t","x":` + inner + `}`)
		_, err := DecodeReview(doc, DecodeOptions{})
		valid := json.Valid(doc)
		if (err == nil) != valid {
			t.Errorf("depth %d: json.Valid %v, DecodeReview %v", depth, valid, err)
		}
		if !valid && err.Code != CodeInvalidJSON {
			t.Errorf("depth %d: %v", depth, err)
		}
	}
}

func TestInteger(t *testing.T) {
	for _, tt := range []struct {
		in   string
		v    int64
		kind numberKind
	}{
		{"0", 0, smallInteger}, {"-0", 0, smallInteger}, {"0.0e5", 0, smallInteger}, {"1", 1, smallInteger},
		{"-5", -5, smallInteger}, {"4.0", 4, smallInteger}, {"40e-1", 4, smallInteger}, {"0.04e2", 4, smallInteger},
		{"1E2", 100, smallInteger}, {"1e+2", 100, smallInteger}, {"123456789012345678", 123456789012345678, smallInteger},
		{"1234567890123456789", 1234567890123456789, smallInteger}, {"1e18", 1e18, smallInteger},
		{"9223372036854775807", 9223372036854775807, smallInteger}, {"-9223372036854775808", -9223372036854775808, smallInteger},
		{"9223372036854775808", 0, hugeInteger}, {"-9223372036854775809", 0, hugeInteger}, {"99999999999999999999", 0, hugeInteger},
		{"1e19", 0, hugeInteger}, {"1e999999999999", 0, hugeInteger},
		{"4.5", 0, notInteger}, {"1e-1", 0, notInteger}, {"1.0000000000000000000001", 0, notInteger},
		{"1e-999999999999", 0, notInteger}, {"100e-3", 0, notInteger}, {"-0.5", 0, notInteger},
	} {
		v, k := integer([]byte(tt.in))
		if v != tt.v || k != tt.kind {
			t.Errorf("integer(%s) = %d, %d; want %d, %d", tt.in, v, k, tt.v, tt.kind)
		}
	}
	for in, want := range map[string]bool{
		"0": true, "-0": true, "0.0": true, "1": true, "1.0": true, "10e-1": true, "0.5": true, "5e-1": true,
		"1e-400": true, "0.999999999999999999999": true, "-0.0e3": true,
		"1.0000000000000000001": false, "-1e-400": false, "2": false, "1e1": false, "-0.5": false, "1e400": false,
	} {
		if got := unitInterval([]byte(in)); got != want {
			t.Errorf("unitInterval(%s) = %v", in, got)
		}
	}
}

func TestDecodeReviewAllocations(t *testing.T) {
	// A title is one more string in the same copy: no more allocations.
	for name, doc := range map[string][]byte{"without title": []byte(benchReview), "with title": []byte(benchTitledReview)} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := DecodeReview(doc, DecodeOptions{}); err != nil {
				t.Fatal(err)
			}
		})
		// One copy of the value for the strings, one for metadata.
		if allocs > 2 {
			t.Errorf("%s: DecodeReview allocates %v times, want at most 2", name, allocs)
		}
	}
}
