package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/capastan/capastan/classifier"
)

func runTrain(ctx context.Context, args []string, sio stdio) error {
	stdout, stderr := sio.out, sio.err
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := classifier.DefaultConfig()
	var (
		data, out, evalFiles, calibrate string
		fitBias                         string
		name, modelVersion, created     string
		classes                         string
		cv                              int
		quiet                           bool
		df                              dataFlags
	)
	df.register(fs)
	fs.StringVar(&data, "data", "", "training files, comma-separated (required)")
	fs.StringVar(&out, "out", "", "model file to write (required unless -cv)")
	fs.StringVar(&evalFiles, "eval", "", "held-out files to evaluate on; figures are stored in the model's metadata")
	fs.StringVar(&calibrate, "calibrate", "", "held-out files, comma-separated, to fit the probability temperature on")
	fs.StringVar(&fitBias, "fit-bias", "", "with -calibrate: fit per-class biases maximising accuracy, macro_recall or macro_f1 on that file")
	fs.IntVar(&cv, "cv", 0, "run k-fold cross-validation on -data instead of writing a model (k >= 2)")
	fs.StringVar(&name, "name", "capastan-nb", "model name stored in the metadata")
	fs.StringVar(&modelVersion, "model-version", "", "model version stored in the metadata (default: the creation date)")
	fs.StringVar(&created, "created", "", "creation time, RFC 3339 (default: $SOURCE_DATE_EPOCH, else now); fix it for byte-identical rebuilds")
	fs.StringVar(&classes, "classes", "", "fix the class order, comma-separated (default: sorted labels of the data)")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	// Model options: each overrides a field of classifier.DefaultConfig.
	fs.IntVar(&cfg.NGrams, "ngrams", cfg.NGrams, "longest n-gram feature (1-3)")
	fs.BoolVar(&cfg.Binary, "binary", cfg.Binary, "count features once per document (presence)")
	fs.IntVar(&cfg.MinDF, "min-df", cfg.MinDF, "drop features seen in fewer documents")
	fs.IntVar(&cfg.HashBits, "hash-bits", cfg.HashBits, "hash features into 2^N buckets (8-28; 0 = exact vocabulary)")
	fs.IntVar(&cfg.MaxVocab, "max-vocab", cfg.MaxVocab, "prune the rarest features past this vocabulary size while training")
	fs.StringVar(&cfg.Kind, "kind", cfg.Kind, "model: multinomial or complement")
	fs.Float64Var(&cfg.Alpha, "alpha", cfg.Alpha, "additive smoothing")
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "discriminative passes over the training data after counting (0: plain naive Bayes)")
	fs.Float64Var(&cfg.LearningRate, "learning-rate", cfg.LearningRate, "scale of each discriminative update (0: 1)")
	fs.BoolVar(&cfg.Balance, "balance", cfg.Balance, "give every class the same total count before smoothing")
	fs.BoolVar(&cfg.UniformPrior, "uniform-prior", cfg.UniformPrior, "ignore class frequencies")
	fs.Float64Var(&cfg.NeutralMargin, "neutral-margin", cfg.NeutralMargin, "answer neutral when the most probable class leads the next class other than neutral by less than this probability (0: off; needs a class named neutral)")
	tk := &cfg.Tokenizer
	fs.BoolVar(&tk.Lowercase, "lowercase", tk.Lowercase, "tokenizer: fold case")
	fs.BoolVar(&tk.HTML, "html", tk.HTML, "tokenizer: decode HTML tags and entities")
	fs.BoolVar(&tk.Escapes, "escapes", tk.Escapes, `tokenizer: decode literal \uXXXX escapes`)
	fs.BoolVar(&tk.URLs, "urls", tk.URLs, "tokenizer: URLs become one <url> token")
	fs.BoolVar(&tk.Mentions, "mentions", tk.Mentions, "tokenizer: @mentions become one <user> token")
	fs.BoolVar(&tk.Numbers, "numbers", tk.Numbers, "tokenizer: numbers become one <num> token")
	fs.BoolVar(&tk.Emoticons, "emoticons", tk.Emoticons, "tokenizer: keep emoticons as tokens")
	fs.BoolVar(&tk.Emoji, "emoji", tk.Emoji, "tokenizer: keep emoji as tokens")
	fs.IntVar(&tk.MaxRepeat, "max-repeat", tk.MaxRepeat, "tokenizer: cap runs of one letter (0 = off)")
	fs.BoolVar(&tk.Punct, "punct", tk.Punct, "tokenizer: keep ! and ? runs as tokens")
	fs.StringVar(&tk.Lexicon, "lexicon", tk.Lexicon, "tokenizer: add polarity pseudo-tokens from a built-in lexicon: afinn165, vader or none")
	fs.StringVar(&tk.LexiconNegation, "lexicon-negation", tk.LexiconNegation, `tokenizer: what negation does to a lexicon pseudo-token: flip (opposite polarity, weaker, as VADER) or mark (NOT_ like any token)`)
	fs.BoolVar(&tk.Stem, "stem", tk.Stem, "tokenizer: strip common English suffixes (-s, -'s, -es, -ed, -ing, -ly)")
	fs.BoolVar(&tk.Negation, "negation", tk.Negation, "tokenizer: mark words after a negation")
	fs.IntVar(&tk.NegationScope, "negation-scope", tk.NegationScope, "tokenizer: words a negation marks at most (0 = up to the next punctuation)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if tk.Lexicon == "none" {
		tk.Lexicon = ""
	}
	if tk.LexiconNegation == "mark" {
		tk.LexiconNegation = ""
	}
	cfg.Classes = splitList(classes)
	files := splitList(data)
	if len(files) == 0 {
		fmt.Fprintln(stderr, "train: -data is required")
		return errUsage
	}
	if out == "" && cv == 0 {
		fmt.Fprintln(stderr, "train: -out is required (or -cv K)")
		return errUsage
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid model options: %w", err)
	}
	opt, err := df.options()
	if err != nil {
		return err
	}
	prog := newProgress(stderr, quiet)

	if cv > 0 {
		var examples []classifier.Example
		for _, f := range files {
			if _, err := readAll(f, opt, &examples, stderr); err != nil {
				return err
			}
		}
		rep, err := classifier.CrossValidate(cfg, examples, cv)
		if err != nil {
			return err
		}
		return writeJSON(stdout, rep)
	}

	createdAt, err := creationTime(created)
	if err != nil {
		return err
	}
	t, err := classifier.NewTrainer(cfg)
	if err != nil {
		return err
	}
	meta := classifier.Metadata{Name: name, Version: modelVersion, CreatedAt: createdAt}
	if meta.Version == "" {
		meta.Version = createdAt.Format("2006.01.02")
	}
	all := sha256.New()
	start := time.Now()
	for _, f := range files {
		st, err := classifier.ReadExamples(f, opt, func(ex classifier.Example) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := t.Add(ex.Text, ex.Label); err != nil {
				return fmt.Errorf("line %d: %w", ex.Line, err)
			}
			prog.add(len(ex.Text))
			return nil
		})
		reportBad(stderr, f, st)
		if err != nil {
			return err
		}
		sum, _ := hex.DecodeString(st.File.SHA256)
		all.Write(sum)
		st.File.Name = datasetName(f) // folder and file, not the machine's path
		meta.Data = append(meta.Data, st.File)
	}
	prog.done()
	meta.DataSHA256 = hex.EncodeToString(all.Sum(nil))
	m, err := t.Model(meta)
	if err != nil {
		return err
	}
	trainTime := time.Since(start)
	if pruned, at := t.Pruned(); pruned > 0 {
		fmt.Fprintf(stderr, "train: pruned %d features seen in <= %d documents to stay under -max-vocab %d\n", pruned, at, cfg.MaxVocab)
	}
	if calibrate != "" {
		var held []classifier.Example
		for _, f := range splitList(calibrate) {
			if _, err := readAll(f, opt, &held, stderr); err != nil {
				return err
			}
		}
		note := ""
		if fitBias != "" {
			bias, got, err := classifier.FitClassBias(m, held, fitBias)
			if err != nil {
				return err
			}
			if m, err = m.WithClassBias(bias); err != nil {
				return err
			}
			note = fmt.Sprintf("class bias %v maximising %s (%.4f) and ", bias, fitBias, got)
		}
		temp, loss := classifier.FitTemperature(m, held)
		if m, err = m.WithTemperature(temp); err != nil {
			return err
		}
		meta := m.Metadata()
		meta.Calibration = fmt.Sprintf("%stemperature %.3f (log loss %.4f) fitted on %s (%d examples)", note, temp, loss, calibrationNames(calibrate), len(held))
		m = m.WithMetadata(meta)
	}
	if evalFiles != "" {
		meta := m.Metadata()
		meta.Evaluation = map[string]*classifier.Report{}
		for _, f := range splitList(evalFiles) {
			var held []classifier.Example
			if _, err := readAll(f, opt, &held, stderr); err != nil {
				return err
			}
			meta.Evaluation[datasetName(f)] = m.Evaluate(held, nil)
		}
		m = m.WithMetadata(meta)
	}
	if err := m.Save(out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "train: %d documents, %d features, %d classes %q in %s; wrote %s (sha256 %s)\n",
		t.Docs(), m.Features(), len(m.Classes()), m.Classes(), trainTime.Round(time.Millisecond), out, m.SHA256())
	return nil
}

// readAll appends every usable example of path to dst.
func readAll(path string, opt classifier.DataOptions, dst *[]classifier.Example, stderr io.Writer) (classifier.DataStats, error) {
	st, err := classifier.ReadExamples(path, opt, func(ex classifier.Example) error {
		*dst = append(*dst, ex)
		return nil
	})
	reportBad(stderr, path, st)
	return st, err
}

func reportBad(w io.Writer, path string, st classifier.DataStats) {
	if st.File.Bad == 0 {
		return
	}
	fmt.Fprintf(w, "%s: %d bad rows skipped\n", path, st.File.Bad)
	for _, b := range st.BadRows {
		fmt.Fprintf(w, "  line %d: %s\n", b.Line, b.Reason)
	}
	if st.File.Bad > len(st.BadRows) {
		fmt.Fprintf(w, "  ... and %d more\n", st.File.Bad-len(st.BadRows))
	}
}

// datasetName names a data file by its folder and file: "imdb/test".
func datasetName(path string) string {
	dir := filepath.Base(filepath.Dir(path))
	base := filepath.Base(path)
	base = base[:len(base)-len(filepath.Ext(base))]
	if dir == "." || dir == "/" {
		return base
	}
	return dir + "/" + base
}

// creationTime honours -created, then SOURCE_DATE_EPOCH (the reproducible
// builds convention), then the clock.
func creationTime(flagValue string) (time.Time, error) {
	if flagValue != "" {
		t, err := time.Parse(time.RFC3339, flagValue)
		if err != nil {
			return time.Time{}, fmt.Errorf("-created: %w", err)
		}
		return t.UTC(), nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, errors.New("SOURCE_DATE_EPOCH is not a whole number of seconds")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Now().UTC().Truncate(time.Second), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// calibrationNames names held-out files by dataset, for the metadata.
func calibrationNames(list string) string {
	var names []string
	for _, f := range splitList(list) {
		names = append(names, datasetName(f))
	}
	return strings.Join(names, ",")
}
