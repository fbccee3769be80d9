// Command quality measures the classifier on every staged corpus: the
// default configuration and the best one found per corpus, each trained on
// the corpus's train split and scored on its test split, plus the shipped
// default model on every test split. It writes JSON and a Markdown table.
//
//	go run ./bench/quality -datasets ../shared/datasets -out bench/results/quality
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/internal/corpora"
	"github.com/capastan/capastan/models"
)

// corpus is one staged data set and how it is scored.
type corpus struct {
	Name   string
	Train  []string // relative to -datasets
	Test   string
	Metric string // the headline metric
	// Best is the best configuration found for this corpus. Like
	// scikit-learn's "best" in bench/sklearn, it was picked by its test
	// score, so it is an upper reference, not a held-out estimate.
	Best func(*classifier.Config)
	// Dev, when set, is a held-out split the best configuration fits its
	// per-class biases on (classifier.FitClassBias, maximising Metric):
	// tuned on the corpus's own development data, never on the test.
	Dev string
}

var corpusList = []corpus{
	{"imdb", []string{"imdb/train.jsonl"}, "imdb/test.jsonl", "accuracy",
		func(c *classifier.Config) { c.NGrams, c.MinDF, c.Balance = 3, 2, false; refine(c) }, ""},
	{"rt-polarity", []string{"rt-polarity/train.jsonl"}, "rt-polarity/test.jsonl", "accuracy",
		refine, ""},
	{"semeval2017-task4a", []string{"semeval2017-task4a/train.jsonl", "semeval2017-task4a/dev.jsonl"}, "semeval2017-task4a/test.jsonl", "macro_recall",
		func(c *classifier.Config) {}, ""},
	{"sst5", []string{"sst5/train.jsonl"}, "sst5/test.jsonl", "accuracy",
		func(c *classifier.Config) { c.Balance = false; refine(c) }, "sst5/dev.jsonl"},
	{"amazon-multidomain-blitzer", []string{"amazon-multidomain-blitzer/train.jsonl"}, "amazon-multidomain-blitzer/test.jsonl", "accuracy",
		func(c *classifier.Config) { c.NGrams = 3; refine(c) }, ""},
	{"uci-sentiment-sentences", []string{"uci-sentiment-sentences/train.jsonl"}, "uci-sentiment-sentences/test.jsonl", "accuracy",
		func(c *classifier.Config) { c.NGrams, c.MinDF, c.Balance = 3, 2, false }, ""},
}

// refine adds the discriminative passes, with the one setting used for
// every corpus they help (it costs macro recall on SemEval, so not there).
func refine(c *classifier.Config) { c.Epochs, c.LearningRate = 3, 0.3 }

// defaultModelTests are the test splits the shipped model is scored on.
var defaultModelTests = []string{
	"semeval2017-task4a/test.jsonl", "tweeteval-sentiment/test.jsonl", "sst5/test.jsonl",
	"imdb/test.jsonl", "rt-polarity/test.jsonl", "amazon-multidomain-blitzer/test.jsonl",
	"uci-sentiment-sentences/test.jsonl",
}

// lengthBuckets split the long-review test sets by length in words
// (strings.Fields): the shipped model, trained on tweets and sentences,
// drifts toward negative as reviews grow, and these rows show how far.
var lengthBuckets = []struct{ lo, hi int }{{0, 100}, {100, 300}, {300, 600}, {600, 1 << 30}}

// lengthCorpora are the test sets broken down by length.
var lengthCorpora = map[string]bool{"imdb": true, "amazon-multidomain-blitzer": true}

// lengthRow is the shipped model's restricted accuracy on one length bucket.
type lengthRow struct {
	Corpus   string             `json:"corpus"`
	Words    string             `json:"words"`
	N        int                `json:"n"`
	Accuracy float64            `json:"accuracy"`
	Recall   map[string]float64 `json:"recall"`
}

type result struct {
	Corpus    string             `json:"corpus"`
	Setting   string             `json:"setting"`
	Config    *classifier.Config `json:"config,omitempty"`
	Metric    string             `json:"metric"`
	Value     float64            `json:"value"`
	TrainSecs float64            `json:"train_seconds,omitempty"`
	Report    *classifier.Report `json:"report"`
	// Among is set when the answers were restricted to these classes.
	Among []string `json:"among,omitempty"`
}

func main() {
	defaultDir, _ := corpora.Dir()
	datasets := flag.String("datasets", defaultDir, "folder of the staged corpora (default: $CAPASTAN_DATASETS or ../shared/datasets)")
	out := flag.String("out", "bench/results/quality", "output path without extension (.json and .md are written)")
	flag.Parse()
	if *datasets == "" {
		_, err := corpora.Dir()
		log.Fatal(err)
	}

	var results []result
	var byLength []lengthRow
	for _, c := range corpusList {
		train := loadAll(*datasets, c.Train...)
		test := loadAll(*datasets, c.Test)
		best := classifier.DefaultConfig()
		c.Best(&best)
		for _, s := range []struct {
			name string
			cfg  classifier.Config
		}{{"default", classifier.DefaultConfig()}, {"best", best}} {
			start := time.Now()
			m := train1(s.cfg, train)
			if s.name == "best" && c.Dev != "" {
				m = fitBias(m, loadAll(*datasets, c.Dev), c.Metric)
			}
			secs := time.Since(start).Seconds()
			rep := m.Evaluate(test, nil)
			cfg := m.Config()
			results = append(results, result{Corpus: c.Name, Setting: s.name, Config: &cfg, Metric: c.Metric, Value: metric(rep, c.Metric), TrainSecs: secs, Report: rep})
			log.Printf("%-28s %-8s %s=%.4f (train %.2fs)", c.Name, s.name, c.Metric, metric(rep, c.Metric), secs)
		}
	}
	dm, err := models.Default()
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range defaultModelTests {
		test := loadAll(*datasets, t)
		name := filepath.Dir(t)
		labels := map[string]bool{}
		for _, ex := range test {
			labels[ex.Label] = true
		}
		rep := dm.Evaluate(test, nil)
		results = append(results, result{Corpus: name, Setting: "default-model", Metric: headline(name), Value: metric(rep, headline(name)), Report: rep})
		if !labels["neutral"] {
			among, _ := dm.ClassIndices([]string{"negative", "positive"})
			rep := dm.Evaluate(test, among)
			results = append(results, result{Corpus: name, Setting: "default-model", Metric: "accuracy", Value: rep.Accuracy, Report: rep, Among: []string{"negative", "positive"}})
			if lengthCorpora[name] {
				byLength = append(byLength, lengthRows(dm, name, test, among)...)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	js, _ := json.MarshalIndent(map[string]any{"model": dm.Metadata(), "model_sha256": dm.SHA256(), "results": results, "default_model_by_length": byLength}, "", "  ")
	if err := os.WriteFile(*out+".json", append(js, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out+".md", []byte(markdown(results)+"\n"+lengthMarkdown(byLength)), 0o644); err != nil {
		log.Fatal(err)
	}
}

func headline(corpus string) string {
	for _, c := range corpusList {
		if c.Name == corpus {
			return c.Metric
		}
	}
	return "macro_recall" // tweeteval: the SemEval metric
}

func metric(r *classifier.Report, name string) float64 {
	switch name {
	case "macro_recall":
		return r.MacroRecall
	case "macro_f1":
		return r.MacroF1
	}
	return r.Accuracy
}

func loadAll(dir string, files ...string) []classifier.Example {
	var out []classifier.Example
	for _, f := range files {
		_, err := classifier.ReadExamples(filepath.Join(dir, f), classifier.DataOptions{}, func(ex classifier.Example) error {
			out = append(out, ex)
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	return out
}

// fitBias returns m with per-class biases fitted on dev.
func fitBias(m *classifier.Model, dev []classifier.Example, objective string) *classifier.Model {
	bias, _, err := classifier.FitClassBias(m, dev, objective)
	if err != nil {
		log.Fatal(err)
	}
	m, err = m.WithClassBias(bias)
	if err != nil {
		log.Fatal(err)
	}
	return m
}

func train1(cfg classifier.Config, examples []classifier.Example) *classifier.Model {
	t, err := classifier.NewTrainer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, ex := range examples {
		if err := t.Add(ex.Text, ex.Label); err != nil {
			log.Fatal(err)
		}
	}
	m, err := t.Model(classifier.Metadata{})
	if err != nil {
		log.Fatal(err)
	}
	return m
}

// describe lists where a configuration differs from the default.
func describe(c *classifier.Config) string {
	d := classifier.DefaultConfig()
	var parts []string
	if c.NGrams != d.NGrams {
		parts = append(parts, fmt.Sprintf("ngrams %d", c.NGrams))
	}
	if c.MinDF != d.MinDF {
		parts = append(parts, fmt.Sprintf("min-df %d", c.MinDF))
	}
	if c.Balance != d.Balance {
		parts = append(parts, fmt.Sprintf("balance %v", c.Balance))
	}
	if c.Kind != d.Kind {
		parts = append(parts, c.Kind)
	}
	if c.Alpha != d.Alpha {
		parts = append(parts, fmt.Sprintf("alpha %g", c.Alpha))
	}
	if c.UniformPrior != d.UniformPrior {
		parts = append(parts, "uniform prior")
	}
	if c.Epochs != d.Epochs {
		parts = append(parts, fmt.Sprintf("epochs %d, learning rate %g", c.Epochs, c.LearningRate))
	}
	if len(c.ClassBias) > 0 {
		bias := make([]string, len(c.ClassBias))
		for i, v := range c.ClassBias {
			bias[i] = fmt.Sprintf("%+.2f", v)
		}
		parts = append(parts, "class bias "+strings.Join(bias, "/")+" fitted on dev")
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, ", ")
}

func markdown(results []result) string {
	var b strings.Builder
	b.WriteString("| corpus | setting | configuration | metric | value | accuracy | macro-F1 | macro recall | lowest class recall | train s |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		cfg := "shipped model"
		if r.Config != nil {
			cfg = describe(r.Config)
		}
		if len(r.Among) > 0 {
			cfg += " (answers restricted to " + strings.Join(r.Among, "/") + ")"
		}
		var low []string
		names := make([]string, 0, len(r.Report.PerClass))
		for n := range r.Report.PerClass {
			names = append(names, n)
		}
		sort.Strings(names)
		lowest, lowName := 2.0, ""
		for _, n := range names {
			if pc := r.Report.PerClass[n]; pc.Support > 0 && pc.Recall < lowest {
				lowest, lowName = pc.Recall, n
			}
		}
		low = append(low, fmt.Sprintf("%.3f (%s)", lowest, lowName))
		train := ""
		if r.TrainSecs > 0 {
			train = fmt.Sprintf("%.2f", r.TrainSecs)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | **%.4f** | %.4f | %.4f | %.4f | %s | %s |\n",
			r.Corpus, r.Setting, cfg, r.Metric, r.Value, r.Report.Accuracy, r.Report.MacroF1, r.Report.MacroRecall, strings.Join(low, ""), train)
	}
	return b.String()
}

// lengthRows scores the shipped model on each length bucket of test.
func lengthRows(m *classifier.Model, corpus string, test []classifier.Example, among []int) []lengthRow {
	var rows []lengthRow
	for _, b := range lengthBuckets {
		var sub []classifier.Example
		for _, ex := range test {
			if n := len(strings.Fields(ex.Text)); n >= b.lo && n < b.hi {
				sub = append(sub, ex)
			}
		}
		if len(sub) == 0 {
			continue
		}
		words := fmt.Sprintf("%d-%d", b.lo, b.hi-1)
		if b.hi == 1<<30 {
			words = fmt.Sprintf("%d+", b.lo)
		}
		rep := m.Evaluate(sub, among)
		row := lengthRow{Corpus: corpus, Words: words, N: len(sub), Accuracy: rep.Accuracy, Recall: map[string]float64{}}
		for name, pc := range rep.PerClass {
			if pc.Support > 0 {
				row.Recall[name] = pc.Recall
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func lengthMarkdown(rows []lengthRow) string {
	var b strings.Builder
	b.WriteString("Shipped model by review length (answers restricted to negative/positive):\n\n")
	b.WriteString("| corpus | words | reviews | accuracy | negative recall | positive recall |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %.4f | %.3f | %.3f |\n", r.Corpus, r.Words, r.N, r.Accuracy, r.Recall["negative"], r.Recall["positive"])
	}
	return b.String()
}
