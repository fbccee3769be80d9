package classifier

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DataOptions says how to read labeled examples from a file.
type DataOptions struct {
	// Format is "jsonl", "csv" or "tsv"; empty picks by file extension
	// (.csv, .tsv, anything else is JSON Lines).
	Format string
	// TextField and LabelField name the fields (JSON keys or CSV/TSV header
	// columns). Defaults: "text" and "label".
	TextField  string
	LabelField string
	// TitleField, when set, names a field holding the review's title,
	// which is put before the text as Titled does. A row whose title is
	// absent, null or empty keeps its text alone; a title that is not a
	// string makes the row bad. For CSV and TSV the column must exist.
	TitleField string
	// RatingField, when set, derives the label from a 1-5 star rating
	// through RatingMap whenever the label field is absent or empty.
	RatingField string
	// RatingMap maps star ratings to labels; nil means DefaultRatingMap.
	RatingMap map[int]string
	// LabelMap renames labels as read ("0" -> "negative"); labels not in
	// it pass through unchanged.
	LabelMap map[string]string
	// MaxBadLines bounds how many bad rows are kept with their reason
	// (all are counted). Default 20.
	MaxBadLines int
}

// DefaultRatingMap is 1-2 stars negative, 3 neutral, 4-5 positive.
func DefaultRatingMap() map[int]string {
	return map[int]string{1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
}

// Example is one labeled text, with its 1-based line (or record) number.
type Example struct {
	Line  int
	Text  string
	Label string
}

// BadRow is a row that could not be used, and why.
type BadRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// DataStats reports what reading a file found.
type DataStats struct {
	File    DataFile
	BadRows []BadRow // the first MaxBadLines
}

// ErrNoUsableRows is returned when a file yields no usable example.
var ErrNoUsableRows = errors.New("no usable rows")

// ReadExamples streams the examples of path to fn, counting bad rows
// instead of stopping at them. It hashes the file's bytes as it reads, so
// a model can record exactly what it was trained on.
func ReadExamples(path string, opt DataOptions, fn func(Example) error) (DataStats, error) {
	opt = opt.withDefaults()
	st := DataStats{File: DataFile{Name: filepath.Base(path)}}
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("read data: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	r := io.TeeReader(f, h)
	format := opt.Format
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			format = "csv"
		case ".tsv":
			format = "tsv"
		default:
			format = "jsonl"
		}
	}
	bad := func(line int, reason string) {
		st.File.Bad++
		if len(st.BadRows) < opt.MaxBadLines {
			st.BadRows = append(st.BadRows, BadRow{Line: line, Reason: reason})
		}
	}
	emit := func(line int, title, text, label, rating string, hasLabel bool) error {
		if label, reason := opt.label(label, rating, hasLabel); reason != "" {
			bad(line, reason)
		} else if reason := checkText(text); reason != "" {
			bad(line, reason)
		} else {
			st.File.Rows++
			return fn(Example{Line: line, Text: Titled(title, text), Label: label})
		}
		return nil
	}
	switch format {
	case "jsonl":
		err = readJSONL(r, opt, emit, bad)
	case "csv", "tsv":
		err = readCSV(r, format, opt, emit, bad)
	default:
		err = fmt.Errorf("unknown data format %q (want jsonl, csv or tsv)", format)
	}
	if err != nil {
		return st, fmt.Errorf("read data %s: %w", path, err)
	}
	io.Copy(h, r) // hash any tail the parser did not need
	st.File.SHA256 = hex.EncodeToString(h.Sum(nil))
	if st.File.Rows == 0 {
		return st, fmt.Errorf("read data %s: %w (%d bad rows)", path, ErrNoUsableRows, st.File.Bad)
	}
	return st, nil
}

func (o DataOptions) withDefaults() DataOptions {
	if o.TextField == "" {
		o.TextField = "text"
	}
	if o.LabelField == "" {
		o.LabelField = "label"
	}
	if o.RatingMap == nil {
		o.RatingMap = DefaultRatingMap()
	}
	if o.MaxBadLines == 0 {
		o.MaxBadLines = 20
	}
	return o
}

// label resolves a row's label; a non-empty reason means the row is bad.
func (o DataOptions) label(label, rating string, hasLabel bool) (string, string) {
	label = strings.TrimSpace(label)
	if label == "" && o.RatingField != "" && rating != "" {
		n, err := strconv.ParseFloat(strings.TrimSpace(rating), 64)
		if err != nil || n != float64(int(n)) {
			return "", fmt.Sprintf("rating %q is not a whole number", rating)
		}
		l, ok := o.RatingMap[int(n)]
		if !ok {
			return "", fmt.Sprintf("rating %d has no label mapping", int(n))
		}
		return l, ""
	}
	if !hasLabel || label == "" {
		return "", fmt.Sprintf("missing %q", o.LabelField)
	}
	if m, ok := o.LabelMap[label]; ok {
		return m, ""
	}
	return label, ""
}

func checkText(text string) string {
	switch {
	case strings.TrimSpace(text) == "":
		return "empty text"
	case !utf8.ValidString(text):
		return "text is not valid UTF-8"
	}
	return ""
}

// emitFunc hands one row on: line, title, text, label, rating, and
// whether the label field was present.
type emitFunc func(line int, title, text, label, rating string, hasLabel bool) error

func readJSONL(r io.Reader, o DataOptions, emit emitFunc, bad func(int, string)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			var obj map[string]json.RawMessage
			// encoding/json would quietly turn invalid UTF-8 into U+FFFD.
			if !utf8.Valid(b) {
				bad(line, "text is not valid UTF-8")
			} else if jerr := json.Unmarshal(b, &obj); jerr != nil {
				bad(line, "invalid JSON: "+jerr.Error())
			} else {
				text, tok := jsonString(obj[o.TextField])
				label, lok := jsonScalar(obj[o.LabelField])
				rating := ""
				if o.RatingField != "" {
					rating, _ = jsonScalar(obj[o.RatingField])
				}
				title, titleOK := "", true
				if raw := obj[o.TitleField]; o.TitleField != "" && raw != nil && string(raw) != "null" {
					title, titleOK = jsonString(raw)
				}
				switch {
				case obj[o.TextField] == nil:
					bad(line, fmt.Sprintf("missing %q", o.TextField))
				case !tok:
					bad(line, fmt.Sprintf("%q is not a string", o.TextField))
				case !titleOK:
					bad(line, fmt.Sprintf("%q is not a string", o.TitleField))
				default:
					if e := emit(line, title, text, label, rating, lok); e != nil {
						return e
					}
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonScalar renders a string, number or boolean as text.
func jsonScalar(raw json.RawMessage) (string, bool) {
	if raw == nil {
		return "", false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

func readCSV(r io.Reader, format string, o DataOptions, emit emitFunc, bad func(int, string)) error {
	cr := csv.NewReader(r)
	if format == "tsv" {
		cr.Comma = '\t'
		cr.LazyQuotes = true
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("header row: %w", err)
	}
	col := func(name string) int {
		for i, h := range header {
			if strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == name {
				return i
			}
		}
		if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < len(header) {
			return n
		}
		return -1
	}
	ti, li, ri, hi := col(o.TextField), col(o.LabelField), -1, -1
	if o.RatingField != "" {
		ri = col(o.RatingField)
	}
	if ti < 0 {
		return fmt.Errorf("no column %q in header %q", o.TextField, header)
	}
	if o.TitleField != "" {
		if hi = col(o.TitleField); hi < 0 {
			return fmt.Errorf("no title column %q in header %q", o.TitleField, header)
		}
	}
	if li < 0 && ri < 0 {
		return fmt.Errorf("no column %q (or rating column) in header %q", o.LabelField, header)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad(pe.StartLine, "malformed row: "+pe.Err.Error())
				continue
			}
			return err
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) (string, bool) {
			if i < 0 || i >= len(rec) {
				return "", false
			}
			return rec[i], true
		}
		text, ok := get(ti)
		if !ok {
			bad(line, fmt.Sprintf("missing %q", o.TextField))
			continue
		}
		label, lok := get(li)
		rating, _ := get(ri)
		title, _ := get(hi)
		if err := emit(line, title, text, label, rating, lok); err != nil {
			return err
		}
	}
}
