package classifier

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// The model file, all integers little-endian:
//
//	magic "CAPASTAN" | u16 format version | u16 flags (0) | u32 header length H
//	header: H bytes of JSON (config, classes, log priors, row count, metadata)
//	zero padding to a multiple of 8
//	keys:    rows x u64 feature hashes, strictly ascending (absent when hashing)
//	weights: rows x classes x f32 log weights
//	vocab:   (rows+1) x u32 end offsets, then the names' bytes
//	trailer: u32 CRC-32C of every byte before it | "CPSE"
//
// FormatVersion changes whenever the layout, the tokenizer's output or the
// feature hashing changes: an old binary must refuse a model it would
// silently misread.
const (
	FormatVersion = 1
	magic         = "CAPASTAN"
	endMagic      = "CPSE"
)

// Errors a model file can fail with; Load wraps them with the path and
// details, so test with errors.Is.
var (
	ErrNotModel           = errors.New("not a capastan model file (bad magic)")
	ErrUnsupportedVersion = errors.New("unsupported model format version")
	ErrTruncated          = errors.New("model file truncated")
	ErrChecksum           = errors.New("model file checksum mismatch (corrupted)")
	ErrCorrupt            = errors.New("model file corrupt")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Metadata describes where a model came from and how good it is.
type Metadata struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	// DataSHA256 is the SHA-256 of the training files' bytes, in order.
	DataSHA256 string     `json:"data_sha256"`
	Data       []DataFile `json:"data,omitempty"`
	Classes    []string   `json:"classes"`
	// TrainDocs counts training documents per class.
	TrainDocs      map[string]uint64 `json:"train_docs"`
	Features       int               `json:"features"`
	PrunedFeatures int               `json:"pruned_features,omitempty"`
	// Evaluation holds figures measured on held-out data, by data set.
	Evaluation map[string]*Report `json:"evaluation,omitempty"`
	// Calibration records how Temperature was fitted, if it was.
	Calibration string `json:"calibration,omitempty"`
}

// DataFile is one training input.
type DataFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	Bad    int    `json:"bad_rows,omitempty"`
}

type fileHeader struct {
	Config   Config    `json:"config"`
	Classes  []string  `json:"classes"`
	LogPrior []float64 `json:"log_prior"`
	Rows     int       `json:"rows"`
	Meta     Metadata  `json:"metadata"`
}

// WithMetadata returns a copy of m carrying meta instead of its own.
func (m *Model) WithMetadata(meta Metadata) *Model {
	c, err := newModel(m.cfg, m.classes, m.logPrior, m.keys, m.weights, m.vocab, meta)
	if err != nil { // the parts were valid a moment ago
		panic(err)
	}
	return c
}

// WithTemperature returns a copy of m whose probabilities are computed with
// temperature t (see Config.Temperature).
func (m *Model) WithTemperature(t float64) (*Model, error) {
	return m.withConfig(func(c *Config) { c.Temperature = t })
}

// WithClassBias returns a copy of m with the given per-class bias (see
// Config.ClassBias).
func (m *Model) WithClassBias(bias []float64) (*Model, error) {
	return m.withConfig(func(c *Config) { c.ClassBias = append([]float64(nil), bias...) })
}

// WithNeutralMargin returns a copy of m that answers neutral when the
// most probable class leads the next class other than neutral by less
// than margin (see Config.NeutralMargin); 0 turns the rule off.
func (m *Model) WithNeutralMargin(margin float64) (*Model, error) {
	return m.withConfig(func(c *Config) { c.NeutralMargin = margin })
}

// withConfig returns a copy of m, same weights, with its configuration
// changed by set and validated again.
func (m *Model) withConfig(set func(*Config)) (*Model, error) {
	cfg := m.cfg
	set(&cfg)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newModel(cfg, m.classes, m.logPrior, m.keys, m.weights, m.vocab, m.meta)
}

// MarshalBinary encodes the model in the file format. The same model
// always encodes to the same bytes.
func (m *Model) MarshalBinary() ([]byte, error) {
	hdr, err := json.Marshal(fileHeader{Config: m.cfg, Classes: m.classes, LogPrior: m.logPrior, Rows: m.Features(), Meta: m.meta})
	if err != nil {
		return nil, fmt.Errorf("encode model header: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(magic)
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, FormatVersion))
	b.Write(le.AppendUint16(nil, 0))
	b.Write(le.AppendUint32(nil, uint32(len(hdr))))
	b.Write(hdr)
	for b.Len()%8 != 0 {
		b.WriteByte(0)
	}
	buf := b.Bytes()
	for _, k := range m.keys {
		buf = le.AppendUint64(buf, k)
	}
	for _, w := range m.weights {
		buf = le.AppendUint32(buf, math.Float32bits(w))
	}
	end := uint32(0)
	for _, v := range m.vocab {
		end += uint32(len(v))
		buf = le.AppendUint32(buf, end)
	}
	buf = le.AppendUint32(buf, end)
	for _, v := range m.vocab {
		buf = append(buf, v...)
	}
	buf = le.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
	buf = append(buf, endMagic...)
	return buf, nil
}

// Save writes the model to path atomically (a temporary file renamed into
// place), so a reader never sees half a model.
func (m *Model) Save(path string) error {
	data, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dirOf(path), ".model-*")
	if err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600; a model is not a secret
		tmp.Close()
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	return nil
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' || path[i] == os.PathSeparator {
			return path[:i+1]
		}
	}
	return "."
}

// Load reads and verifies a model file. Every failure names the file.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return m, nil
}

// Read decodes a model from r (for example an embedded file).
func Read(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	return Decode(data)
}

// Decode verifies and decodes a model file's bytes.
func Decode(data []byte) (*Model, error) {
	le := binary.LittleEndian
	if len(data) < 8 || string(data[:8]) != magic {
		if len(data) < 8 && string(data) == magic[:len(data)] {
			return nil, fmt.Errorf("%w: %d bytes, shorter than the 16-byte preamble", ErrTruncated, len(data))
		}
		return nil, ErrNotModel
	}
	if len(data) < 16 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the 16-byte preamble", ErrTruncated, len(data))
	}
	if v := le.Uint16(data[8:]); v != FormatVersion {
		if v > FormatVersion {
			return nil, fmt.Errorf("%w: file is format %d, this build reads format %d; use a newer capastan", ErrUnsupportedVersion, v, FormatVersion)
		}
		return nil, fmt.Errorf("%w: file is format %d, this build reads format %d", ErrUnsupportedVersion, v, FormatVersion)
	}
	if f := le.Uint16(data[10:]); f != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, f)
	}
	hlen := int(le.Uint32(data[12:]))
	if 16+hlen+8 > len(data) {
		return nil, fmt.Errorf("%w: header says %d bytes, file has %d", ErrTruncated, 16+hlen+8, len(data))
	}
	// The checksum covers everything; check it before trusting any length.
	body, trailer := data[:len(data)-8], data[len(data)-8:]
	if string(trailer[4:]) != endMagic {
		return nil, fmt.Errorf("%w: end marker missing (file cut short or extended?)", ErrTruncated)
	}
	if got, want := crc32.Checksum(body, castagnoli), le.Uint32(trailer); got != want {
		return nil, fmt.Errorf("%w: CRC-32C %08x, trailer says %08x", ErrChecksum, got, want)
	}
	var h fileHeader
	dec := json.NewDecoder(bytes.NewReader(data[16 : 16+hlen]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		// The checksum held, so an unknown field was written on purpose:
		// a newer build added a setting this one cannot apply, and
		// ignoring it would answer differently from the model trained.
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return nil, fmt.Errorf("%w: header field %s is unknown to this build; the file was written by a newer capastan", ErrUnsupportedVersion, field)
		}
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if err := h.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrCorrupt, err)
	}
	k := len(h.Classes)
	if k < 2 || len(h.LogPrior) != k || len(h.Config.Classes) != k {
		return nil, fmt.Errorf("%w: %d classes, %d priors", ErrCorrupt, k, len(h.LogPrior))
	}
	rows := h.Rows
	hashed := h.Config.HashBits > 0
	if rows < 0 || rows > 1<<28 || hashed && rows != 1<<h.Config.HashBits {
		return nil, fmt.Errorf("%w: %d feature rows", ErrCorrupt, rows)
	}
	off := (16 + hlen + 7) &^ 7
	need := func(n int, what string) ([]byte, error) {
		if n < 0 || off+n > len(body) {
			return nil, fmt.Errorf("%w: %s needs %d bytes at offset %d, body has %d", ErrCorrupt, what, n, off, len(body))
		}
		b := body[off : off+n]
		off += n
		return b, nil
	}
	var keys []uint64
	if !hashed {
		kb, err := need(rows*8, "keys")
		if err != nil {
			return nil, err
		}
		keys = make([]uint64, rows)
		for i := range keys {
			keys[i] = le.Uint64(kb[i*8:])
		}
	}
	wb, err := need(rows*k*4, "weights")
	if err != nil {
		return nil, err
	}
	weights := make([]float32, rows*k)
	for i := range weights {
		weights[i] = math.Float32frombits(le.Uint32(wb[i*4:]))
	}
	ob, err := need((rows+1)*4, "vocabulary offsets")
	if err != nil {
		return nil, err
	}
	total := int(le.Uint32(ob[rows*4:]))
	sb, err := need(total, "vocabulary")
	if err != nil {
		return nil, err
	}
	if off != len(body) {
		return nil, fmt.Errorf("%w: %d unexpected bytes before the trailer", ErrCorrupt, len(body)-off)
	}
	names := string(sb) // one allocation; each name is a substring
	vocab := make([]string, rows)
	start := 0
	for r := range vocab {
		end := int(le.Uint32(ob[r*4:]))
		if end < start || end > total {
			return nil, fmt.Errorf("%w: vocabulary offset %d of row %d out of order", ErrCorrupt, end, r)
		}
		vocab[r] = names[start:end]
		start = end
	}
	m, err := newModel(h.Config, h.Classes, h.LogPrior, keys, weights, vocab, h.Meta)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	sum := sha256.Sum256(data)
	m.sha = hex.EncodeToString(sum[:])
	return m, nil
}

// SHA256 is the hex SHA-256 of the model's file encoding: the identity that
// labeled records carry.
func (m *Model) SHA256() string {
	if m.sha != "" {
		return m.sha
	}
	data, err := m.MarshalBinary()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
