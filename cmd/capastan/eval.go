package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/classifier/report"
)

func runEval(_ context.Context, args []string, sio stdio) error {
	stdout, stderr := sio.out, sio.err
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		modelPath, data, among, htmlOut string
		asJSON                          bool
		margin                          float64
		df                              dataFlags
	)
	df.register(fs)
	fs.StringVar(&modelPath, "model", "", "model file (default: the model built into the binary)")
	fs.StringVar(&data, "data", "", "labeled file to evaluate on (required)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.StringVar(&among, "among", "", "restrict answers to these classes, e.g. negative,positive for 2-class data")
	fs.StringVar(&htmlOut, "report", "", "also write a self-contained HTML report to this file")
	fs.Float64Var(&margin, "neutral-margin", -1, "evaluate with this neutral margin instead of the model's own (see train -neutral-margin)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if data == "" {
		fmt.Fprintln(stderr, "eval: -data is required")
		return errUsage
	}
	m, err := loadModel(modelPath)
	if err != nil {
		return err
	}
	if m, err = withMargin(m, margin); err != nil {
		return err
	}
	allowed, err := m.ClassIndices(splitList(among))
	if err != nil {
		return err
	}
	opt, err := df.options()
	if err != nil {
		return err
	}
	var examples []classifier.Example
	if _, err := readAll(data, opt, &examples, stderr); err != nil {
		return err
	}
	rep := m.Evaluate(examples, allowed)
	if htmlOut != "" {
		if err := report.WriteFile(htmlOut, report.Input{Title: datasetName(data), Model: m, Report: rep}); err != nil {
			return err
		}
	}
	if asJSON {
		return writeJSON(stdout, rep)
	}
	printReport(stdout, rep)
	return nil
}

func printReport(w io.Writer, r *classifier.Report) {
	fmt.Fprintf(w, "n=%d accuracy=%.4f macro_f1=%.4f macro_recall=%.4f\n\n", r.N, r.Accuracy, r.MacroF1, r.MacroRecall)
	fmt.Fprintf(w, "%-12s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support")
	names := make([]string, 0, len(r.PerClass))
	for n := range r.PerClass {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := r.PerClass[n]
		fmt.Fprintf(w, "%-12s %9.4f %9.4f %9.4f %8d\n", n, c.Precision, c.Recall, c.F1, c.Support)
	}
	fmt.Fprintf(w, "\nconfusion (rows gold, columns predicted)\n%-12s", "")
	for _, l := range r.Labels {
		fmt.Fprintf(w, " %10s", l)
	}
	fmt.Fprintln(w)
	for g, row := range r.Confusion {
		fmt.Fprintf(w, "%-12s", r.Labels[g])
		for _, n := range row {
			fmt.Fprintf(w, " %10d", n)
		}
		fmt.Fprintln(w)
	}
}
