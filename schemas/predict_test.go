package schemas

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// predictRequestSchema compiles openapi.yaml's PredictRequest with the
// reference validator.
func predictRequestSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c, err := newCompiler()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(openAPIDoc(t))
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(BaseURI+OpenAPIFile, inst); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(BaseURI + OpenAPIFile + "#/components/schemas/PredictRequest")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestDecodePredictRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		code    string // "" for accepted
		field   string // the message must name it
		message string // when set, the whole message
		want    PredictRequest
	}{
		{name: "text", in: `{"text":"fine"}`, want: PredictRequest{Text: "fine"}},
		{name: "text, title and id", in: `{"text":"It arrived on Tuesday.","title":"Waste of money","id":"q-1"}`,
			want: PredictRequest{Text: "It arrived on Tuesday.", Title: "Waste of money", ID: "q-1"}},
		{name: "title absent", in: `{"text":"t","summary":"not a title"}`, want: PredictRequest{Text: "t"}},
		{name: "title escapes decoded", in: `{"text":"t","title":"\"Meh\" \u00e9"}`, want: PredictRequest{Text: "t", Title: `"Meh" é`}},
		{name: "empty title", in: `{"text":"t","title":""}`, want: PredictRequest{Text: "t"}},
		{name: "blank title kept as is", in: `{"text":"t","title":" \t\u3000"}`, want: PredictRequest{Text: "t", Title: " \t\u3000"}},
		{name: "title of 1024 characters", in: `{"text":"t","title":"` + strings.Repeat("é", MaxTitleChars) + `"}`, want: PredictRequest{Text: "t", Title: strings.Repeat("é", MaxTitleChars)}},

		{name: "title null", in: `{"text":"t","title":null}`, code: CodeSchemaViolation, field: "title", message: "title: must be a string, not null"},
		{name: "title number", in: `{"text":"t","title":5}`, code: CodeSchemaViolation, field: "title"},
		{name: "title object", in: `{"text":"t","title":{"en":"Meh"}}`, code: CodeSchemaViolation, field: "title"},
		{name: "title of 1025 characters", in: `{"text":"t","title":"` + strings.Repeat("é", MaxTitleChars+1) + `"}`, code: CodeSchemaViolation, field: "title",
			message: "title: is 1025 characters long, the limit is 1024"},
		{name: "title of 1025 ASCII characters", in: `{"text":"t","title":"` + strings.Repeat("x", MaxTitleChars+1) + `"}`, code: CodeSchemaViolation, field: "title"},
		{name: "missing text before title", in: `{"title":5}`, code: CodeMissingField, field: "text"},
		{name: "title before id", in: `{"text":"t","title":5,"id":""}`, code: CodeSchemaViolation, field: "title"},
		{name: "title before the text's content", in: `{"text":" ","title":5}`, code: CodeSchemaViolation, field: "title"},
		{name: "empty text with a title", in: `{"text":"","title":"Waste of money"}`, code: CodeEmptyText, field: "text"},
		{name: "invalid UTF-8 in the title", in: "{\"text\":\"t\",\"title\":\"\xff\"}", code: CodeInvalidUTF8},
	}
	sch := predictRequestSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePredictRequest([]byte(tt.in), DecodeOptions{})
			if tt.code == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if got != tt.want {
					t.Errorf("got  %+v\nwant %+v", got, tt.want)
				}
			} else {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				checkCodeAndField(t, err, tt.code, tt.field)
				if tt.message != "" && err.Message != tt.message {
					t.Errorf("message %q, want %q", err.Message, tt.message)
				}
			}
			// openapi.yaml's PredictRequest agrees, but on invalid UTF-8,
			// which a JSON Schema validator cannot see.
			if tt.code != CodeInvalidUTF8 {
				if serr := schemaVerdict(sch, []byte(tt.in)); (serr == nil) != (tt.code == "") {
					t.Errorf("the schema disagrees: %v", serr)
				}
			}
		})
	}
}

// The messages of a review's title errors are those of a request's.
func TestTitleMessages(t *testing.T) {
	long := strings.Repeat("é", MaxTitleChars+1)
	_, rerr := DecodeReview([]byte(`{"review_id":"r1","text":"t","title":"`+long+`"}`), DecodeOptions{})
	if rerr == nil || rerr.Message != "title: is 1025 characters long, the limit is 1024" {
		t.Errorf("DecodeReview: %v", rerr)
	}
	_, rerr = DecodeReview([]byte(`{"review_id":"r1","text":"t","title":7}`), DecodeOptions{})
	if rerr == nil || rerr.Message != "title: must be a string, not a number" {
		t.Errorf("DecodeReview: %v", rerr)
	}
}

func TestCheckTitle(t *testing.T) {
	for _, tt := range []struct {
		title, code string
	}{
		{"", ""},
		{" \t", ""},
		{"Waste of money", ""},
		{strings.Repeat("é", MaxTitleChars), ""},
		{strings.Repeat("é", MaxTitleChars+1), CodeSchemaViolation},
		{"bad \xff", CodeInvalidUTF8},
	} {
		err := CheckTitle(tt.title)
		if got := errOrNil(err); (got == nil) != (tt.code == "") || err != nil && err.Code != tt.code {
			t.Errorf("CheckTitle(%.20q) = %v, want code %q", tt.title, err, tt.code)
		}
	}
}
