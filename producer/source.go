package producer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/capastan/capastan/schemas"
)

// Mapping names the input fields (JSON keys or CSV header columns) that
// become the review event's fields. An empty name, or "none", leaves the
// field out. DefaultMapping maps each field to its own name.
type Mapping struct {
	ID, Text, Title, Source, Product, Rating, Lang, CreatedAt, Metadata string
	// IDFallback is tried when the ID field is absent ("id" in the staged
	// corpora).
	IDFallback string
}

// DefaultMapping reads review events as the contract names their fields,
// and takes "id" as the review id when "review_id" is absent.
func DefaultMapping() Mapping {
	return Mapping{ID: "review_id", IDFallback: "id", Text: "text", Title: "title", Source: "source", Product: "product_id",
		Rating: "rating", Lang: "lang", CreatedAt: "created_at", Metadata: "metadata"}
}

// Key choices for SourceOptions.KeyBy.
const (
	KeyProduct = "product_id" // the product id, or the review id when there is none
	KeyReview  = "review_id"
	KeyNone    = "none" // no key: records spread over partitions
)

// SourceOptions says how to read input lines into review events.
type SourceOptions struct {
	// Format is "jsonl" or "csv".
	Format string
	// Mapping is the field mapping; the zero Mapping means DefaultMapping.
	Mapping Mapping
	KeyBy   string
	// MaxTextBytes is the contract's text limit (schemas.DefaultMaxTextBytes).
	MaxTextBytes int
}

// Record is one review event ready to send.
type Record struct {
	Line       int
	ReviewID   string
	Key, Value []byte
}

// event is the wire form the producer writes: the contract's review event.
type event struct {
	ReviewID  string          `json:"review_id"`
	Text      string          `json:"text"`
	Title     string          `json:"title,omitempty"`
	Source    string          `json:"source,omitempty"`
	ProductID string          `json:"product_id,omitempty"`
	Rating    json.RawMessage `json:"rating,omitempty"`
	Lang      string          `json:"lang,omitempty"`
	CreatedAt string          `json:"created_at,omitempty"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
}

// LineError is an input line that could not become a valid event.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ReadRecords reads r and calls fn for each valid event and bad for each
// line that is not one (with the contract's reason); fn's error stops the
// read. suffix, when not empty, is appended to every review id (replay
// passes use it to keep ids unique).
func ReadRecords(r io.Reader, opt SourceOptions, suffix string, fn func(Record) error, bad func(*LineError) error) error {
	if opt.MaxTextBytes <= 0 {
		opt.MaxTextBytes = schemas.DefaultMaxTextBytes
	}
	if opt.Mapping == (Mapping{}) {
		opt.Mapping = DefaultMapping()
	}
	switch opt.Format {
	case "", "jsonl":
		return readJSONL(r, opt, suffix, fn, bad)
	case "csv":
		return readCSV(r, opt, suffix, fn, bad)
	}
	return fmt.Errorf("unknown input format %q (want jsonl or csv)", opt.Format)
}

func readJSONL(r io.Reader, opt SourceOptions, suffix string, fn func(Record) error, bad func(*LineError) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			rec, lerr := fromJSON(b, line, opt, suffix)
			if lerr != nil {
				if e := bad(lerr); e != nil {
					return e
				}
			} else if e := fn(rec); e != nil {
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
	}
}

func fromJSON(b []byte, line int, opt SourceOptions, suffix string) (Record, *LineError) {
	// Fast path: a line that already is a valid review event, read with
	// the default mapping, is sent as it is (unknown fields included, as
	// the contract allows), without a parse-map-encode round trip.
	if suffix == "" && opt.Mapping == DefaultMapping() {
		value := bytes.TrimSpace(b)
		if rev, err := schemas.DecodeReview(value, schemas.DecodeOptions{MaxTextBytes: opt.MaxTextBytes}); err == nil {
			rec := Record{Line: line, ReviewID: rev.ReviewID, Value: value} // ReadBytes gave this line its own memory
			rec.Key = key(opt.KeyBy, rev.ProductID, rev.ReviewID)
			return rec, nil
		}
	}
	if !utf8.Valid(b) {
		return Record{}, &LineError{line, errors.New("invalid_utf8: the line is not valid UTF-8")}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return Record{}, &LineError{line, fmt.Errorf("invalid_json: %v", err)}
	}
	m := opt.Mapping
	str := func(field string) (string, error) {
		raw, ok := obj[field]
		if field == "" || field == "none" || !ok || string(raw) == "null" {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, nil
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil { // numeric ids
			return n.String(), nil
		}
		return "", fmt.Errorf("schema_violation: %q is neither a string nor a number", field)
	}
	for _, f := range []string{m.Text} {
		if raw, ok := obj[f]; !ok || string(raw) == "null" {
			return Record{}, &LineError{line, fmt.Errorf("missing_field: no %q field for the text", f)}
		}
	}
	var ev event
	var err error
	if ev.ReviewID, err = str(m.ID); err == nil && ev.ReviewID == "" {
		ev.ReviewID, err = str(m.IDFallback)
	}
	for _, f := range []struct {
		dst   *string
		field string
	}{{&ev.Text, m.Text}, {&ev.Title, m.Title}, {&ev.Source, m.Source}, {&ev.ProductID, m.Product}, {&ev.Lang, m.Lang}, {&ev.CreatedAt, m.CreatedAt}} {
		if err != nil {
			break
		}
		*f.dst, err = str(f.field)
	}
	if err != nil {
		return Record{}, &LineError{line, err}
	}
	if m.Rating != "" && m.Rating != "none" {
		ev.Rating = obj[m.Rating]
	}
	if m.Metadata != "" && m.Metadata != "none" {
		ev.Metadata = obj[m.Metadata]
	}
	return finish(ev, line, opt, suffix)
}

func readCSV(r io.Reader, opt SourceOptions, suffix string, fn func(Record) error, bad func(*LineError) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	m := opt.Mapping
	if _, ok := col[m.Text]; !ok {
		return fmt.Errorf("CSV header %q has no text column %q", header, m.Text)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if e := bad(&LineError{pe.StartLine, fmt.Errorf("invalid_csv: %v", pe.Err)}); e != nil {
					return e
				}
				continue
			}
			return fmt.Errorf("read CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		get := func(field string) string {
			if i, ok := col[field]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		ev := event{ReviewID: get(m.ID), Text: get(m.Text), Title: get(m.Title), Source: get(m.Source), ProductID: get(m.Product), Lang: get(m.Lang), CreatedAt: get(m.CreatedAt)}
		if ev.ReviewID == "" {
			ev.ReviewID = get(m.IDFallback)
		}
		if s := strings.TrimSpace(get(m.Rating)); s != "" {
			if _, err := strconv.Atoi(s); err != nil {
				if e := bad(&LineError{line, fmt.Errorf("schema_violation: rating %q is not a whole number", s)}); e != nil {
					return e
				}
				continue
			}
			ev.Rating = json.RawMessage(s)
		}
		if s := get(m.Metadata); s != "" {
			ev.Metadata = json.RawMessage(s)
		}
		r, lerr := finish(ev, line, opt, suffix)
		if lerr != nil {
			if e := bad(lerr); e != nil {
				return e
			}
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

// finish encodes the event and checks it against the contract, so the
// producer never sends what the worker would dead-letter.
func finish(ev event, line int, opt SourceOptions, suffix string) (Record, *LineError) {
	if ev.ReviewID != "" {
		ev.ReviewID += suffix
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return Record{}, &LineError{line, fmt.Errorf("schema_violation: %v", err)}
	}
	value := bytes.TrimRight(buf.Bytes(), "\n")
	if _, derr := schemas.DecodeReview(value, schemas.DecodeOptions{MaxTextBytes: opt.MaxTextBytes}); derr != nil {
		return Record{}, &LineError{line, fmt.Errorf("%s: %s", derr.Code, derr.Message)}
	}
	return Record{Line: line, ReviewID: ev.ReviewID, Value: value, Key: key(opt.KeyBy, ev.ProductID, ev.ReviewID)}, nil
}

// key picks a record's key.
func key(by, product, review string) []byte {
	switch by {
	case "", KeyProduct:
		if product != "" {
			return []byte(product)
		}
		return []byte(review)
	case KeyReview:
		return []byte(review)
	}
	return nil
}
