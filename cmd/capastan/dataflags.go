package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/capastan/capastan/classifier"
)

// dataFlags are the options for reading labeled files, shared by train and eval.
type dataFlags struct {
	format, textField, labelField, ratingField string
	titleField                                 string
	ratingMap, labelMap                        string
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.format, "format", "", "data format: jsonl, csv or tsv (default: by file extension)")
	fs.StringVar(&d.textField, "text-field", "text", "field or column holding the text")
	fs.StringVar(&d.labelField, "label-field", "label", "field or column holding the label")
	fs.StringVar(&d.titleField, "title-field", "", "field or column holding a title to put before the text, as the service does with an event's title (default: none)")
	fs.StringVar(&d.ratingField, "rating-field", "", "field holding a 1-5 star rating, used when the label is absent")
	fs.StringVar(&d.ratingMap, "rating-map", "1=negative,2=negative,3=neutral,4=positive,5=positive", "star rating to label mapping")
	fs.StringVar(&d.labelMap, "label-map", "", "rename labels as read, e.g. 0=negative,1=positive")
}

func (d *dataFlags) options() (classifier.DataOptions, error) {
	opt := classifier.DataOptions{Format: d.format, TextField: d.textField, LabelField: d.labelField, TitleField: d.titleField, RatingField: d.ratingField}
	pairs, err := parsePairs(d.ratingMap)
	if err != nil {
		return opt, fmt.Errorf("-rating-map: %w", err)
	}
	opt.RatingMap = map[int]string{}
	for k, v := range pairs {
		n, err := strconv.Atoi(k)
		if err != nil {
			return opt, fmt.Errorf("-rating-map: %q is not a whole number", k)
		}
		opt.RatingMap[n] = v
	}
	if opt.LabelMap, err = parsePairs(d.labelMap); err != nil {
		return opt, fmt.Errorf("-label-map: %w", err)
	}
	return opt, nil
}

// parsePairs parses "a=b,c=d".
func parsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, p := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%q is not key=value", p)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
