package classifier

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readAll reads a data file, collecting its examples. A panic inside
// ReadExamples is reported as an error so that one bad case does not hide
// the others.
func readAll(t *testing.T, path string, opt DataOptions) (ex []Example, st DataStats, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ReadExamples panicked: %v", r)
			t.Errorf("ReadExamples(%s) panicked: %v", path, r)
		}
	}()
	st, err = ReadExamples(path, opt, func(e Example) error {
		ex = append(ex, e)
		return nil
	})
	return ex, st, err
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dataCase is one data file and what reading it must give: the good
// examples and, for each bad line, a fragment of its reason.
type dataCase struct {
	name string
	path string
	opt  DataOptions
	want []Example
	bad  map[int]string
}

func checkData(t *testing.T, tc dataCase) {
	t.Helper()
	got, st, err := readAll(t, tc.path, tc.opt)
	if err != nil {
		t.Fatalf("ReadExamples: %v", err)
	}
	if !slices.Equal(got, tc.want) {
		t.Errorf("examples:\n got  %+v\n want %+v", got, tc.want)
	}
	if st.File.Rows != len(tc.want) {
		t.Errorf("Rows = %d, want %d", st.File.Rows, len(tc.want))
	}
	if st.File.Bad != len(tc.bad) {
		t.Errorf("Bad = %d, want %d (bad rows %+v)", st.File.Bad, len(tc.bad), st.BadRows)
	}
	seen := map[int]bool{}
	for _, br := range st.BadRows {
		frag, ok := tc.bad[br.Line]
		if !ok {
			t.Errorf("line %d reported bad (%s), want good or skipped", br.Line, br.Reason)
			continue
		}
		seen[br.Line] = true
		if !strings.Contains(br.Reason, frag) {
			t.Errorf("line %d: reason %q, want it to mention %q", br.Line, br.Reason, frag)
		}
	}
	for _, line := range slices.Sorted(maps.Keys(tc.bad)) {
		if !seen[line] {
			t.Errorf("line %d not reported bad (want %q)", line, tc.bad[line])
		}
	}
	if want := fileSHA(t, tc.path); st.File.SHA256 != want {
		t.Errorf("SHA256 = %s, want sha256 of the file %s", st.File.SHA256, want)
	}
	if st.File.Name != filepath.Base(tc.path) {
		t.Errorf("Name = %q, want %q", st.File.Name, filepath.Base(tc.path))
	}
}

func TestReadExamples(t *testing.T) {
	cases := []dataCase{
		{
			name: "jsonl-bad-rows",
			path: "testdata/reviews.jsonl",
			want: []Example{
				{1, "great film", "positive"},
				{2, "awful film", "negative"},
				{10, "the ending \u2019 ok", "3"}, // a numeric label is its text
				{15, "windows line", "neutral"},   // CRLF line ending
				{16, "fine", "neutral"},           // last line without newline
			},
			bad: map[int]string{
				3:  "invalid JSON",
				4:  `missing "text"`,
				5:  `"text" is not a string`,
				6:  "empty text",
				7:  `missing "label"`,
				8:  "UTF-8",           // "bad \xff bytes"; line 9 is blank: skipped, not bad
				11: `missing "label"`, // null
				12: "empty text",      // null text
				13: `missing "label"`, // a list is no label
				14: "invalid JSON",    // a JSON array, not an object
			},
		},
		{
			name: "csv-quoted-bom",
			path: "testdata/reviews.csv",
			want: []Example{
				{2, "great film, loved it", "positive"},
				{3, `he said "awful", and left`, "negative"},
				{4, "multi\nline review", "neutral"}, // record spans lines 4-5
				{8, "good again", "positive"},
			},
			bad: map[int]string{6: "empty text", 7: `missing "label"`},
		},
		{
			name: "tsv-no-rating-field",
			path: "testdata/ratings.tsv",
			want: []Example{
				{2, `great "quoted" film`, "positive"}, // TSV quotes are text
				{9, "labelled anyway", "negative"},
			},
			bad: map[int]string{3: "missing", 4: "missing", 5: "missing", 6: "missing", 7: "missing", 8: "missing"},
		},
		{
			name: "tsv-rating-field",
			path: "testdata/ratings.tsv",
			opt:  DataOptions{RatingField: "stars"},
			want: []Example{
				{2, `great "quoted" film`, "positive"},
				{3, "awful film", "negative"}, // 1 star
				{4, "so-so", "neutral"},       // 3 stars
				{7, "fine", "positive"},       // "4.0" is a whole 4
				{9, "labelled anyway", "negative"},
			},
			bad: map[int]string{5: "five", 6: "0", 8: "2.5"},
		},
		{
			name: "tsv-custom-rating-map",
			path: "testdata/ratings.tsv",
			opt:  DataOptions{RatingField: "stars", RatingMap: map[int]string{0: "zero", 1: "one", 3: "three", 4: "four"}},
			want: []Example{
				{2, `great "quoted" film`, "positive"},
				{3, "awful film", "one"},
				{4, "so-so", "three"},
				{6, "ok then", "zero"},
				{7, "fine", "four"},
				{9, "labelled anyway", "negative"},
			},
			bad: map[int]string{5: "five", 8: "2.5"},
		},
		{
			name: "csv-label-map",
			path: "testdata/sentiment140.csv",
			opt:  DataOptions{LabelField: "polarity", LabelMap: map[string]string{"0": "negative", "4": "positive"}},
			want: []Example{
				{2, "is upset, can't sleep", "negative"},
				{3, "loving the sunshine", "positive"},
				{4, "just a tweet", "2"}, // not in the map: unchanged
			},
		},
		{
			name: "csv-column-by-index",
			path: "testdata/sentiment140.csv",
			opt:  DataOptions{TextField: "2", LabelField: "0"},
			want: []Example{
				{2, "is upset, can't sleep", "0"},
				{3, "loving the sunshine", "4"},
				{4, "just a tweet", "2"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkData(t, tc) })
	}
}

// TestReadExamplesGenerated covers formats and fields on files written by
// the test.
func TestReadExamplesGenerated(t *testing.T) {
	cases := []dataCase{
		{
			name: "jsonl-custom-fields-and-rating",
			path: writeTemp(t, "data.json", `{"review":"great","sentiment":"pos"}
{"review":"awful","stars":1}
{"review":"meh","stars":3,"sentiment":""}
{"review":"bad stars","stars":"many"}
{"review":"no stars"}
{"review":"float stars","stars":4.5}
`),
			opt: DataOptions{TextField: "review", LabelField: "sentiment", RatingField: "stars"},
			want: []Example{
				{1, "great", "pos"},
				{2, "awful", "negative"},
				{3, "meh", "neutral"},
			},
			bad: map[int]string{4: "many", 5: `missing "sentiment"`, 6: "4.5"},
		},
		{
			// Titles go before the text as Titled joins them; an absent,
			// null or blank title leaves the text alone, and a title
			// that is not a string is a bad row.
			name: "jsonl-title-field",
			path: writeTemp(t, "titled.jsonl", `{"text":"It broke on day two.","title":"Not worth it","label":"negative"}
{"text":"no title","label":"positive"}
{"text":"null title","title":null,"label":"positive"}
{"text":"blank title","title":"  ","label":"positive"}
{"text":"numeric title","title":5,"label":"positive"}
{"text":"","title":"title without text","label":"positive"}
`),
			opt: DataOptions{TitleField: "title"},
			want: []Example{
				{1, "Not worth it.\nIt broke on day two.", "negative"},
				{2, "no title", "positive"},
				{3, "null title", "positive"},
				{4, "blank title", "positive"},
			},
			bad: map[int]string{5: `"title" is not a string`, 6: "empty text"},
		},
		{
			name: "csv-title-field",
			path: writeTemp(t, "titled.csv", "summary,text,label\nGreat kettle,Boils fast,positive\n,untitled,negative\n"),
			opt:  DataOptions{TitleField: "summary"},
			want: []Example{{2, "Great kettle.\nBoils fast", "positive"}, {3, "untitled", "negative"}},
		},
		{
			// Without TitleField a title field is ignored.
			name: "jsonl-title-ignored",
			path: writeTemp(t, "untitled.jsonl", `{"text":"body","title":"Heading","label":"positive"}`+"\n"),
			want: []Example{{1, "body", "positive"}},
		},
		{
			name: "format-overrides-extension",
			path: writeTemp(t, "data.txt", "text\tlabel\nhello there\tpos\nbye now\tneg\n"),
			opt:  DataOptions{Format: "tsv"},
			want: []Example{{2, "hello there", "pos"}, {3, "bye now", "neg"}},
		},
		{
			name: "uppercase-extension",
			path: writeTemp(t, "DATA.CSV", "text,label\nhello,pos\n"),
			want: []Example{{2, "hello", "pos"}},
		},
		{
			name: "csv-invalid-utf8-and-whitespace-label",
			path: writeTemp(t, "bytes.csv", "text,label\nok \xff,pos\nfine,  neg \nfine, \n"),
			want: []Example{{3, "fine", "neg"}}, // labels are trimmed
			bad:  map[int]string{2: "UTF-8", 4: `missing "label"`},
		},
		{
			// A malformed quote in the second column and then in the first:
			// each bad row is counted at its line, the others are read.
			name: "csv-malformed-rows",
			path: writeTemp(t, "malformed.csv", "label,text\npos,good text\nneg,\"bad \"quote\"\nneg,last\n"),
			want: []Example{{2, "good text", "pos"}, {4, "last", "neg"}},
			bad:  map[int]string{3: "malformed"},
		},
		{
			name: "csv-malformed-first-column",
			path: writeTemp(t, "malformed1.csv", "text,label\ngood text,pos\n\"bad \"quote\",neg\nlast,neg\n"),
			want: []Example{{2, "good text", "pos"}, {4, "last", "neg"}},
			bad:  map[int]string{3: "malformed"},
		},
		{
			name: "csv-bare-quote-first-row",
			path: writeTemp(t, "bare.csv", "text,label\nsay \"hi\",pos\nlast,neg\n"),
			want: []Example{{3, "last", "neg"}},
			bad:  map[int]string{2: "malformed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkData(t, tc) })
	}
}

func TestReadExamplesMaxBadLines(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 30; i++ {
		b.WriteString("not json\n")
	}
	b.WriteString(`{"text":"ok","label":"pos"}` + "\n")
	path := writeTemp(t, "many-bad.jsonl", b.String())
	for _, tc := range []struct{ max, kept int }{{0, 20}, {3, 3}, {100, 30}} {
		_, st, err := readAll(t, path, DataOptions{MaxBadLines: tc.max})
		if err != nil {
			t.Fatal(err)
		}
		if st.File.Bad != 30 || len(st.BadRows) != tc.kept {
			t.Errorf("MaxBadLines %d: Bad = %d, %d kept; want 30, %d", tc.max, st.File.Bad, len(st.BadRows), tc.kept)
		}
		for i, br := range st.BadRows {
			if br.Line != i+1 {
				t.Errorf("MaxBadLines %d: bad row %d at line %d, want the first lines in order", tc.max, i, br.Line)
			}
		}
	}
}

func TestReadExamplesErrors(t *testing.T) {
	cases := []struct {
		name string
		path string
		opt  DataOptions
		want error // nil: any error
		bad  int
	}{
		{"all-bad", "testdata/all_bad.jsonl", DataOptions{}, ErrNoUsableRows, 3},
		{"empty-jsonl", writeTemp(t, "empty.jsonl", ""), DataOptions{}, ErrNoUsableRows, 0},
		{"blank-lines", writeTemp(t, "blank.jsonl", "\n\n  \n"), DataOptions{}, ErrNoUsableRows, 0},
		{"header-only-csv", writeTemp(t, "header.csv", "text,label\n"), DataOptions{}, ErrNoUsableRows, 0},
		{"missing-file", filepath.Join(t.TempDir(), "nope.jsonl"), DataOptions{}, os.ErrNotExist, 0},
		{"empty-csv", writeTemp(t, "empty.csv", ""), DataOptions{}, nil, 0},
		{"csv-no-text-column", writeTemp(t, "cols.csv", "body,label\nhi,pos\n"), DataOptions{}, nil, 0},
		{"csv-no-label-column", writeTemp(t, "cols2.csv", "text,stars\nhi,5\n"), DataOptions{}, nil, 0},
		{"csv-no-title-column", writeTemp(t, "cols3.csv", "text,label\nhi,pos\n"), DataOptions{TitleField: "title"}, nil, 0},
		{"unknown-format", writeTemp(t, "x.jsonl", `{"text":"a","label":"b"}`), DataOptions{Format: "xml"}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, st, err := readAll(t, tc.path, tc.opt)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q, want %v", err, tc.want)
			}
			if st.File.Bad != tc.bad {
				t.Errorf("Bad = %d, want %d", st.File.Bad, tc.bad)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// TestReadExamplesCallbackError: an error from fn stops reading and is
// returned.
func TestReadExamplesCallbackError(t *testing.T) {
	stop := errors.New("stop here")
	for _, path := range []string{"testdata/reviews.jsonl", "testdata/reviews.csv"} {
		calls := 0
		_, err := ReadExamples(path, DataOptions{}, func(Example) error {
			calls++
			if calls == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Errorf("%s: error %v, want the callback's", path, err)
		}
		if calls != 2 {
			t.Errorf("%s: %d calls after the callback failed, want 2", path, calls)
		}
	}
}

func TestDefaultRatingMap(t *testing.T) {
	want := map[int]string{1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
	got := DefaultRatingMap()
	if !maps.Equal(got, want) {
		t.Errorf("DefaultRatingMap() = %v, want %v", got, want)
	}
	got[1] = "changed"
	if DefaultRatingMap()[1] != "negative" {
		t.Error("DefaultRatingMap returns a shared map")
	}
}

// TestReadExamplesTrain: a model trained on a fixture file's rows works.
func TestReadExamplesTrain(t *testing.T) {
	tr, err := NewTrainer(testConfig(nil))
	if err != nil {
		t.Fatal(err)
	}
	st, err := ReadExamples("testdata/sentiment140.csv", DataOptions{LabelField: "polarity"}, func(e Example) error {
		return tr.Add(e.Text, e.Label)
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := tr.Model(Metadata{Data: []DataFile{st.File}, DataSHA256: st.File.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Classes(); !slices.Equal(got, []string{"0", "2", "4"}) {
		t.Errorf("classes %q", got)
	}
	if got := m.Classify("loving sunshine").Label; got != "4" {
		t.Errorf("Classify = %s, want 4", got)
	}
	if m.Metadata().Data[0].Rows != 3 {
		t.Errorf("metadata %+v", m.Metadata().Data)
	}
}

func TestTitled(t *testing.T) {
	cases := []struct{ title, text, want string }{
		{"Waste of money", "It broke.", "Waste of money.\nIt broke."},
		{"  Great!  ", "Loved it", "Great!.\nLoved it"},
		{"", "text alone", "text alone"},
		{" \t\n", "blank title", "blank title"},
		{"Título", "ñandú", "Título.\nñandú"},
	}
	for _, tc := range cases {
		if got := Titled(tc.title, tc.text); got != tc.want {
			t.Errorf("Titled(%q, %q) = %q, want %q", tc.title, tc.text, got, tc.want)
		}
	}
}
