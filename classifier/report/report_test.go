package report

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capastan/capastan/classifier"
)

var trainSet = []classifier.Example{
	{Text: "a wonderful , moving film", Label: "positive"},
	{Text: "great acting and a wonderful script", Label: "positive"},
	{Text: "i loved it , simply great <3", Label: "positive"},
	{Text: "a joyous , wonderful ride", Label: "positive"},
	{Text: "terrible , boring and far too long", Label: "negative"},
	{Text: "the worst film of the year", Label: "negative"},
	{Text: "boring plot and terrible acting", Label: "negative"},
	{Text: "awful : see http://example.com instead", Label: "negative"},
	{Text: "it is a film about a town", Label: "neutral"},
	{Text: "the film runs two hours", Label: "neutral"},
	{Text: "a story about a family in a town", Label: "neutral"},
	{Text: "the script was wonderful but the acting terrible", Label: "neutral"},
}

// newModel trains a model on examples.
func newModel(t *testing.T, examples []classifier.Example) *classifier.Model {
	t.Helper()
	tr, err := classifier.NewTrainer(classifier.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		if err := tr.Add(ex.Text, ex.Label); err != nil {
			t.Fatal(err)
		}
	}
	m, err := tr.Model(classifier.Metadata{Name: "t", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func render(t *testing.T, in Input) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.String()
}

// esc mirrors html/template's escaping of text and quoted attribute
// values, which uses numeric entities for quotes and '+'.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// assertClean checks that a page is self-contained and has no non-finite
// figures.
func assertClean(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"NaN", "Inf", "<script", "http://", "https://", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("page contains %q: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	if !strings.HasPrefix(page, "<!doctype html>") || !strings.HasSuffix(strings.TrimSpace(page), "</html>") {
		t.Error("page is not one complete HTML document")
	}
}

func TestWriteShowsEvaluation(t *testing.T) {
	m := newModel(t, trainSet)
	rep := m.Evaluate(trainSet, nil)
	if rep.N != len(trainSet) {
		t.Fatalf("N = %d", rep.N)
	}
	page := render(t, Input{Title: "sst5 test", Model: m, Report: rep})
	assertClean(t, page)

	cfg := m.Config()
	must := []struct{ what, s string }{
		{"title", "<title>sst5 test"},
		{"heading", "<h1>sst5 test</h1>"},
		{"model name", "<dd>t</dd>"},
		{"model version", "<dd>v1</dd>"},
		{"sha256", m.SHA256()},
		{"kind", "<dt>kind</dt><dd>" + cfg.Kind + "</dd>"},
		{"ngrams", fmt.Sprintf("<dt>ngrams</dt><dd>%d</dd>", cfg.NGrams)},
		{"binary", fmt.Sprintf("<dt>binary</dt><dd>%t</dd>", cfg.Binary)},
		{"alpha", "<dt>alpha</dt><dd>1</dd>"},
		{"min_df", fmt.Sprintf("<dt>min_df</dt><dd>%d</dd>", cfg.MinDF)},
		{"hash_bits", "<dt>hash_bits</dt><dd>off"},
		{"examples", fmt.Sprintf(`<div class="v">%d</div>`, rep.N)},
		{"accuracy", fmt.Sprintf("%.4f", rep.Accuracy)},
		{"accuracy %", fmt.Sprintf("%.1f%%", 100*rep.Accuracy)},
		{"macro-F1", fmt.Sprintf("%.4f", rep.MacroF1)},
		{"macro recall", fmt.Sprintf("%.4f", rep.MacroRecall)},
	}
	for _, c := range must {
		if !strings.Contains(page, c.s) {
			t.Errorf("%s: page lacks %q", c.what, c.s)
		}
	}

	// Every label labels a confusion row and column and a per-class row.
	for _, l := range rep.Labels {
		for _, s := range []string{
			`<th class="g" scope="row">` + l + `</th>`,
			`<th class="p" scope="col">` + l + `</th>`,
			`<td class="name">` + l,
			`<h3>` + l + `</h3>`,
		} {
			if !strings.Contains(page, s) {
				t.Errorf("label %q: page lacks %q", l, s)
			}
		}
	}

	// One cell per confusion entry, with its count and row percentage.
	if got, want := strings.Count(page, `<td class="c`), len(rep.Labels)*len(rep.Labels); got != want {
		t.Errorf("%d confusion cells, want %d", got, want)
	}
	for g, row := range rep.Confusion {
		support := 0
		for _, n := range row {
			support += n
		}
		for p, n := range row {
			cell := fmt.Sprintf(`title="gold: %s, predicted: %s"><span class="n">%d</span><span class="q">%.1f%%</span>`,
				rep.Labels[g], rep.Labels[p], n, 100*float64(n)/float64(support))
			if !strings.Contains(page, cell) {
				t.Errorf("confusion[%d][%d]: page lacks %q", g, p, cell)
			}
		}
	}

	// Per-class figures and support.
	for l, c := range rep.PerClass {
		for _, s := range []string{
			fmt.Sprintf(`<td class="num">%d</td>`, c.Support),
			fmt.Sprintf(`<span class="val">%.4f</span>`, c.Precision),
			fmt.Sprintf(`<span class="val">%.4f</span>`, c.Recall),
			fmt.Sprintf(`<span class="val">%.4f</span>`, c.F1),
		} {
			if !strings.Contains(page, s) {
				t.Errorf("class %q: page lacks %q", l, s)
			}
		}
	}

	// Top features, in each class's card, with their weights.
	top := m.TopFeatures(topFeatures)
	classes := m.Classes()
	n := 0
	for c, list := range top {
		start := strings.Index(page, `<div class="fl"><h3>`+classes[c]+"</h3>")
		if start < 0 {
			t.Fatalf("no feature card for class %q", classes[c])
		}
		card := page[start+1:]
		if end := strings.Index(card, `<div class="fl">`); end >= 0 {
			card = card[:end]
		} else {
			card = card[:strings.Index(card, "</section>")]
		}
		for _, f := range list {
			s := fmt.Sprintf(`title="%s">%s</span>`, esc(f.Feature), esc(f.Feature))
			if !strings.Contains(card, s) {
				t.Errorf("class %q: page lacks feature %q", classes[c], s)
			}
			if w := fmt.Sprintf(`<span class="w">%.3f</span>`, f.Weight); !strings.Contains(card, w) {
				t.Errorf("class %q feature %q: page lacks weight %q", classes[c], f.Feature, w)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("the test model has no top features")
	}
	if got := strings.Count(page, `<div class="fr">`); got != n {
		t.Errorf("%d feature rows, want %d", got, n)
	}
}

// The tokenizer turns markup-like input into features such as "<url>" and
// "<3", and labels are free text: both must come out escaped.
func TestWriteEscapes(t *testing.T) {
	const evil = `<script>alert("x")</script>`
	const amp = `a&b 'q'`
	examples := []classifier.Example{
		{Text: "see http://example.com now", Label: evil},
		{Text: "more at https://example.org", Label: evil},
		{Text: "love it <3 <3", Label: amp},
		{Text: "so good <3", Label: amp},
	}
	m := newModel(t, examples)
	rep := m.Evaluate(examples, nil)
	in := Input{Title: "<b>title</b> & co", Model: m, Report: rep}
	page := render(t, in)
	assertClean(t, page)

	tests := []struct{ name, raw string }{
		{"label", evil},
		{"label with ampersand and quote", amp},
		{"title", in.Title},
		{"feature <url>", "<url>"},
		{"feature <3", "<3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(page, esc(tc.raw)) {
				t.Errorf("page lacks escaped %q", esc(tc.raw))
			}
			if strings.Contains(page, tc.raw) {
				t.Errorf("page contains %q unescaped", tc.raw)
			}
		})
	}

	// Feature names injected directly must be escaped too.
	v := build(in)
	v.Features[0].Items = append(v.Features[0].Items, featureItem{Feature: `<img src=x onerror=alert(1)>`, Weight: "1.000", Width: width(1)})
	var buf bytes.Buffer
	if err := execute(&buf, v); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); strings.Contains(s, "<img") || !strings.Contains(s, "&lt;img src=x") {
		t.Error("an injected feature name is not escaped")
	}
	// The page still reads back as the same text.
	if !strings.Contains(html.UnescapeString(page), evil) {
		t.Error("escaped label does not unescape to the original")
	}
}

func execute(w *bytes.Buffer, v view) error { return page.Execute(w, v) }

func TestWriteDegenerate(t *testing.T) {
	m := newModel(t, trainSet)
	// Gold data with only one of the model's classes: the other two have
	// zero support, and one column has predictions nobody got right.
	onlyPos := []classifier.Example{
		{Text: "a wonderful film", Label: "positive"},
		{Text: "terrible", Label: "positive"},
	}
	tests := []struct {
		name   string
		in     Input
		checks []string
	}{
		{
			name:   "empty evaluation",
			in:     Input{Title: "empty", Model: m, Report: m.Evaluate(nil, nil)},
			checks: []string{`<div class="v">0</div>`, `<span class="q">—</span>`, `not in data`, `<span class="val">0.0000</span>`, "0.0%"},
		},
		{
			name:   "classes without support",
			in:     Input{Title: "one class", Model: m, Report: m.Evaluate(onlyPos, nil)},
			checks: []string{`<div class="v">2</div>`, `<span class="q">—</span>`, `not in data`},
		},
		{
			name:   "nil report",
			in:     Input{Title: "nil", Model: m},
			checks: []string{`No labels: nothing was evaluated.`, `<div class="v">0</div>`},
		},
		{
			name:   "nil model",
			in:     Input{Title: "", Report: m.Evaluate(trainSet, nil)},
			checks: []string{`<h1>Evaluation</h1>`, `<h2>Confusion matrix</h2>`},
		},
		{
			name: "hand-made report with NaN, Inf and a ragged matrix",
			in: Input{Title: "odd", Report: &classifier.Report{
				N: 3, Accuracy: math.NaN(), MacroF1: math.Inf(1), MacroRecall: math.Inf(-1),
				Labels:    []string{"x", "y"},
				Confusion: [][]int{{3}},
				PerClass:  map[string]classifier.ClassMetrics{"x": {Precision: math.NaN(), Support: 3}, "z": {F1: 0.5}},
			}},
			checks: []string{`<div class="v">—</div>`, `<td class="name">z`, `<span class="val">0.5000</span>`, `<span class="n">3</span><span class="q">100.0%</span>`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := render(t, tc.in)
			assertClean(t, page)
			for _, s := range tc.checks {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if tc.in.Model == nil && strings.Contains(page, `id="model"`) {
				t.Error("model section shown without a model")
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	m := newModel(t, trainSet)
	in := Input{Title: "file", Model: m, Report: m.Evaluate(trainSet, nil)}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.html")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := render(t, in); string(got) != want {
		t.Error("file differs from Write's output")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestWriteFileErrors(t *testing.T) {
	m := newModel(t, trainSet)
	in := Input{Title: "file", Model: m, Report: m.Evaluate(trainSet, nil)}
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		is   error // wrapped error, when predictable
	}{
		{"missing directory", filepath.Join(dir, "nope", "r.html"), fs.ErrNotExist},
		{"parent is a file", filepath.Join(file, "r.html"), nil},
		{"path is a directory", filepath.Join(dir, "sub"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteFile(tc.path, in)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name the path", err)
			}
			if errors.Unwrap(err) == nil {
				t.Errorf("error %q wraps nothing", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
	// Nothing but the two fixtures is left in dir.
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("directory holds %d entries, want 2", len(ents))
	}
}
