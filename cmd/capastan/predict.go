package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/models"
)

// loadModel loads path, or the built-in default model when path is empty.
func loadModel(path string) (*classifier.Model, error) {
	if path == "" {
		return models.Default()
	}
	return classifier.Load(path)
}

// withMargin applies a -neutral-margin flag to a loaded model: a negative
// margin (the flag's default) keeps the model's own.
func withMargin(m *classifier.Model, margin float64) (*classifier.Model, error) {
	if margin < 0 {
		return m, nil
	}
	mm, err := m.WithNeutralMargin(margin)
	if err != nil {
		return nil, fmt.Errorf("-neutral-margin: %w", err)
	}
	return mm, nil
}

type predictOut struct {
	Label      string                               `json:"label"`
	Confidence float64                              `json:"confidence"`
	Scores     map[string]float64                   `json:"scores"`
	Explain    map[string][]classifier.Contribution `json:"explain,omitempty"`
	Error      string                               `json:"error,omitempty"`
}

func runPredict(ctx context.Context, args []string, sio stdio) error {
	stdin, stdout, stderr := sio.in, sio.out, sio.err
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		modelPath string
		explain   bool
		top       int
		margin    float64
	)
	fs.StringVar(&modelPath, "model", "", "model file (default: the model built into the binary)")
	fs.BoolVar(&explain, "explain", false, "add the words that pushed towards each class")
	fs.IntVar(&top, "top", 5, "with -explain, how many words per class")
	fs.Float64Var(&margin, "neutral-margin", -1, "answer with this neutral margin instead of the model's own (see train -neutral-margin)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m, err := loadModel(modelPath)
	if err != nil {
		return err
	}
	if m, err = withMargin(m, margin); err != nil {
		return err
	}
	classes := m.Classes()
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var p classifier.Prediction
	one := func(text string) error {
		var out predictOut
		if strings.TrimSpace(text) == "" {
			out.Error = "empty text"
			return enc.Encode(out)
		}
		if explain {
			ex := m.Explain(text, top)
			p = ex.Prediction
			out.Explain = map[string][]classifier.Contribution{}
			for c, list := range ex.Top {
				out.Explain[classes[c]] = append([]classifier.Contribution{}, list...)
			}
		} else {
			m.ClassifyTo(&p, text)
		}
		out.Label, out.Confidence = p.Label, p.Confidence
		out.Scores = make(map[string]float64, len(classes))
		for c, name := range classes {
			out.Scores[name] = p.Probs[c]
		}
		return enc.Encode(out)
	}
	if fs.NArg() > 0 {
		for _, text := range fs.Args() {
			if err := one(text); err != nil {
				return err
			}
		}
		return nil
	}
	br := bufio.NewReaderSize(stdin, 1<<16)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, rerr := br.ReadString('\n')
		if len(line) > 0 {
			if err := one(strings.TrimRight(line, "\r\n")); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("read stdin: %w", rerr)
		}
	}
}
