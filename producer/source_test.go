package producer

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestReadRecordsTitle: a review's title reaches the event from JSON
// Lines (as it is, or through a mapping) and from CSV, and a title field
// mapped to "none" is left out.
func TestReadRecordsTitle(t *testing.T) {
	summary := DefaultMapping()
	summary.Title = "summary"
	none := DefaultMapping()
	none.Title = "none"
	cases := []struct {
		name  string
		opt   SourceOptions
		input string
		want  []string // each event's title, "" for none
	}{
		{
			name: "jsonl-default-mapping",
			input: `{"review_id":"a","text":"It broke.","title":"Waste of money"}
{"id":"b","text":"untitled","stars":5}
`,
			want: []string{"Waste of money", ""},
		},
		{
			name:  "jsonl-mapped-field",
			opt:   SourceOptions{Mapping: summary},
			input: `{"review_id":"a","text":"Boils fast.","summary":"Great kettle","title":"ignored"}` + "\n",
			want:  []string{"Great kettle"},
		},
		{
			name:  "jsonl-title-none",
			opt:   SourceOptions{Mapping: none},
			input: `{"id":"a","text":"body","title":"dropped","extra":1}` + "\n",
			want:  []string{""},
		},
		{
			name:  "csv",
			opt:   SourceOptions{Format: "csv"},
			input: "review_id,title,text\na,Not worth it,\"Broke, twice\"\nb,,no title\n",
			want:  []string{"Not worth it", ""},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := ReadRecords(strings.NewReader(tc.input), tc.opt, "", func(r Record) error {
				var ev struct {
					Title *string `json:"title"`
				}
				if err := json.Unmarshal(r.Value, &ev); err != nil {
					t.Fatalf("event %s: %v", r.Value, err)
				}
				title := ""
				if ev.Title != nil {
					if *ev.Title == "" {
						t.Errorf("event %s carries an empty title", r.Value)
					}
					title = *ev.Title
				}
				got = append(got, title)
				return nil
			}, func(le *LineError) error {
				t.Errorf("bad line: %v", le)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("titles %q, want %q", got, tc.want)
			}
		})
	}
}
