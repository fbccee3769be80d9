package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capastan/capastan/classifier"
)

// capastan runs one command line in-process.
func capastan(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	// A command that should fail at start-up but runs instead (a server
	// that was meant to be refused) must fail the test, not hang it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = run(ctx, args, stdio{strings.NewReader(stdin), &out, &errb})
	if ctx.Err() != nil {
		t.Fatalf("capastan %q still running after a minute; stderr:\n%s", args, errb.String())
	}
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const trainJSONL = `{"text":"great wonderful film, loved it","label":"positive"}
{"text":"awful boring film, hated it","label":"negative"}
{"text":"a wonderful great story","label":"positive"}
{"text":"boring and awful acting","label":"negative"}
{"text":"the film opens on friday","label":"neutral"}
{"text":"tickets go on sale friday","label":"neutral"}
not json at all
{"text":"","label":"positive"}
{"label":"negative"}
`

func TestPredictContract(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		lines int
	}{
		{"args", "", []string{"predict", "I loved it", "I hated it"}, 2},
		{"stdin", "great product\nworst purchase ever\n\nfine\n", []string{"predict"}, 4},
		{"explain", "", []string{"predict", "--explain", "--top", "2", "not bad at all"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := capastan(t, tt.stdin, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != tt.lines {
				t.Fatalf("%d output lines, want %d:\n%s", len(lines), tt.lines, out)
			}
			for _, l := range lines {
				var p predictOut
				if err := json.Unmarshal([]byte(l), &p); err != nil {
					t.Fatalf("line %q is not JSON: %v", l, err)
				}
				if p.Error != "" {
					if p.Label != "" {
						t.Errorf("error line carries a label: %q", l)
					}
					continue
				}
				sum := 0.0
				for _, v := range p.Scores {
					sum += v
				}
				if len(p.Scores) != 3 || sum < 0.999 || sum > 1.001 || p.Scores[p.Label] != p.Confidence {
					t.Errorf("bad prediction %q", l)
				}
				if tt.name == "explain" && len(p.Explain) == 0 {
					t.Errorf("--explain gave no explanation: %q", l)
				}
			}
		})
	}
	// An empty line answers an error object, in place, and the run goes on.
	_, out, _ := capastan(t, "good\n   \nbad\n", "predict")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], `"error":"empty text"`) {
		t.Errorf("empty line: got %q", lines)
	}
}

func TestTrainEvalPredict(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, dir, "train.jsonl", trainJSONL)
	model := filepath.Join(dir, "m.cpst")

	code, _, errs := capastan(t, "", "train", "-data", data, "-out", model, "-created", "2026-01-02T03:04:05Z")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	for _, want := range []string{"3 bad rows skipped", "line 7: invalid JSON", "line 8: empty text", `line 9: missing "text"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("train stderr lacks %q:\n%s", want, errs)
		}
	}
	// Same data, same parameters, same creation time: the same bytes.
	model2 := filepath.Join(dir, "m2.cpst")
	if code, _, errs := capastan(t, "", "train", "-data", data, "-out", model2, "-created", "2026-01-02T03:04:05Z"); code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	a, _ := os.ReadFile(model)
	b, _ := os.ReadFile(model2)
	if !bytes.Equal(a, b) {
		t.Error("two trainings on the same data and parameters differ")
	}
	// The discriminative passes too.
	var refined [][]byte
	for i := range 2 {
		out := filepath.Join(dir, fmt.Sprintf("refined%d.cpst", i))
		if code, _, errs := capastan(t, "", "train", "-data", data, "-out", out, "-epochs", "2", "-learning-rate", "0.5", "-created", "2026-01-02T03:04:05Z"); code != 0 {
			t.Fatalf("train -epochs exit %d: %s", code, errs)
		}
		m, _ := os.ReadFile(out)
		refined = append(refined, m)
	}
	if !bytes.Equal(refined[0], refined[1]) || bytes.Equal(refined[0], a) {
		t.Error("train -epochs 2: two trainings differ, or they equal the plain model")
	}
	// A tokenizer option reaches the model file and its tokenizer.
	scoped := filepath.Join(dir, "scoped.cpst")
	if code, _, errs := capastan(t, "", "train", "-data", data, "-out", scoped, "-negation-scope", "2"); code != 0 {
		t.Fatalf("train -negation-scope exit %d: %s", code, errs)
	}
	if m, err := classifier.Load(scoped); err != nil {
		t.Error(err)
	} else if got := m.Config().Tokenizer.NegationScope; got != 2 {
		t.Errorf("train -negation-scope 2: the model's negation scope is %d", got)
	}

	code, out, errs := capastan(t, "", "eval", "-model", model, "-data", data, "-json")
	if code != 0 {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, out)
	}
	for _, k := range []string{"n", "accuracy", "macro_f1", "macro_recall", "per_class", "confusion"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("eval -json lacks %q", k)
		}
	}
	if rep["n"].(float64) != 6 || rep["accuracy"].(float64) != 1 {
		t.Errorf("eval on the training data: n=%v accuracy=%v, want 6 and 1", rep["n"], rep["accuracy"])
	}

	report := filepath.Join(dir, "r.html")
	if code, _, errs := capastan(t, "", "eval", "-model", model, "-data", data, "-report", report); code != 0 {
		t.Fatalf("eval -report exit %d: %s", code, errs)
	}
	if html, err := os.ReadFile(report); err != nil || !bytes.Contains(html, []byte("<html")) {
		t.Errorf("report not written: %v", err)
	}

	code, out, _ = capastan(t, "", "predict", "-model", model, "wonderful great film")
	if code != 0 || !strings.Contains(out, `"label":"positive"`) {
		t.Errorf("predict with the trained model: exit %d %s", code, out)
	}

	code, out, errs = capastan(t, "", "train", "-data", data, "-cv", "3")
	if code != 0 || !strings.Contains(out, `"macro_recall"`) {
		t.Errorf("train -cv: exit %d %s %s", code, out, errs)
	}
}

// TestTitleField: train and eval -title-field read each row's title
// before its text. Here the titles carry all the sentiment and every
// text is the same, so a model trained with titles and evaluated with them is right
// on every row, and the same model evaluated on the texts alone is not.
func TestTitleField(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, dir, "titled.jsonl", `{"title":"Wonderful, loved it","text":"the kettle arrived on monday","label":"positive"}
{"title":"Awful, hated it","text":"the kettle arrived on monday","label":"negative"}
{"title":"Loved it, wonderful","text":"the kettle arrived on monday","label":"positive"}
{"title":"Hated it, awful","text":"the kettle arrived on monday","label":"negative"}
`)
	model := filepath.Join(dir, "m.cpst")
	if code, _, errs := capastan(t, "", "train", "-data", data, "-title-field", "title", "-out", model); code != 0 {
		t.Fatalf("train -title-field exit %d: %s", code, errs)
	}
	accuracy := func(args ...string) float64 {
		t.Helper()
		code, out, errs := capastan(t, "", append([]string{"eval", "-model", model, "-data", data, "-json"}, args...)...)
		if code != 0 {
			t.Fatalf("eval %q exit %d: %s", args, code, errs)
		}
		var rep struct{ Accuracy float64 }
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("eval -json: %v\n%s", err, out)
		}
		return rep.Accuracy
	}
	if got := accuracy("-title-field", "title"); got != 1 {
		t.Errorf("eval -title-field title: accuracy %v, want 1", got)
	}
	if got := accuracy(); got == 1 {
		t.Error("eval without -title-field is right on every row: the titles were not what the model learned from")
	}
	code, _, errs := capastan(t, "", "eval", "-model", model, "-data", writeFile(t, dir, "t.csv", "text,label\nhi,positive\n"), "-title-field", "title")
	if code == 0 || !strings.Contains(errs, `no title column "title"`) {
		t.Errorf("eval -title-field on a CSV without that column: exit %d, stderr %q", code, errs)
	}
}

// TestNeutralMarginFlags: eval and predict -neutral-margin override the
// model's own rule. Mixed reviews, labeled neutral: the most probable
// class misses them all, a margin close to 1 answers neutral for all.
func TestNeutralMarginFlags(t *testing.T) {
	data := writeFile(t, t.TempDir(), "mixed.jsonl", `{"text":"good but bad","label":"neutral"}
{"text":"the acting was fine, the story was awful","label":"neutral"}
{"text":"I loved it, but it was too long and boring","label":"neutral"}
`)
	for _, tc := range []struct {
		margin   string
		accuracy float64
	}{{"0", 0}, {"0.99", 1}} {
		code, out, errs := capastan(t, "", "eval", "-data", data, "-neutral-margin", tc.margin, "-json")
		if code != 0 {
			t.Fatalf("eval -neutral-margin %s: exit %d: %s", tc.margin, code, errs)
		}
		var rep struct{ Accuracy float64 }
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Accuracy != tc.accuracy {
			t.Errorf("eval -neutral-margin %s: accuracy %v, want %v", tc.margin, rep.Accuracy, tc.accuracy)
		}
	}
	// predict takes the same flag; without it the model's own margin
	// (0.22 in the shipped model) answers neutral for the closest call.
	const mixed = "I loved it, but it was too long and boring"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", "-neutral-margin", "0", mixed}, `"label":"negative"`},
		{[]string{"predict", mixed}, `"label":"neutral"`},
		{[]string{"predict", "-neutral-margin", "2", mixed}, "neutral_margin must be in [0, 1)"},
	} {
		_, out, errs := capastan(t, "", tc.args...)
		if !strings.Contains(out+errs, tc.want) {
			t.Errorf("%q: %s%s, want %s", tc.args, out, errs, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.jsonl", "not json\n{\"text\":1}\n")
	garbage := writeFile(t, dir, "garbage.cpst", "this is not a model")
	oneClass := writeFile(t, dir, "one.jsonl", `{"text":"a","label":"x"}`+"\n")
	twoClass := writeFile(t, dir, "two.jsonl", `{"text":"great","label":"positive"}`+"\n"+`{"text":"awful","label":"negative"}`+"\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"train without data", []string{"train", "-out", "x"}, 2, "-data is required"},
		{"train without out", []string{"train", "-data", bad}, 2, "-out is required"},
		{"unknown flag", []string{"predict", "-nope"}, 2, "flag provided but not defined"},
		{"no usable rows", []string{"train", "-data", bad, "-out", filepath.Join(dir, "x.cpst")}, 1, "no usable rows"},
		{"one class", []string{"train", "-data", oneClass, "-out", filepath.Join(dir, "x.cpst")}, 1, "at least 2 are needed"},
		{"bad option", []string{"train", "-data", oneClass, "-out", "x", "-ngrams", "7"}, 1, "ngrams must be 1, 2 or 3"},
		{"bad epochs", []string{"train", "-data", oneClass, "-out", "x", "-epochs", "500"}, 1, "epochs must be in [0, 100]"},
		{"bad negation scope", []string{"train", "-data", oneClass, "-out", "x", "-negation-scope", "-1"}, 1, "negation_scope must be in [0, 1000]"},
		{"missing model", []string{"predict", "-model", filepath.Join(dir, "none.cpst"), "x"}, 1, "none.cpst"},
		{"not a model", []string{"predict", "-model", garbage, "x"}, 1, "garbage.cpst"},
		{"missing data", []string{"eval", "-data", filepath.Join(dir, "none.jsonl")}, 1, "none.jsonl"},
		{"unknown class", []string{"eval", "-data", bad, "-among", "happy"}, 1, `class "happy"`},
		{"bad neutral margin", []string{"eval", "-data", bad, "-neutral-margin", "1.5"}, 1, "neutral_margin must be in [0, 1)"},
		{"neutral margin without neutral", []string{"train", "-data", twoClass, "-out", filepath.Join(dir, "x.cpst"), "-neutral-margin", "0.2"}, 1, `class named "neutral"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := capastan(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, errs, tt.code, tt.want)
			}
		})
	}
}
