package classifier

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var formatErrors = []error{ErrNotModel, ErrUnsupportedVersion, ErrTruncated, ErrChecksum, ErrCorrupt}

// isFormatError reports whether err wraps one of the sentinel errors of
// the file format (any of them, or only those in allowed when given).
func isFormatError(err error, allowed ...error) bool {
	if len(allowed) == 0 {
		allowed = formatErrors
	}
	for _, e := range allowed {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// reseal recomputes the CRC-32C trailer of a model file whose body was
// edited: CRC-32C (Castagnoli) of every byte before the 8-byte trailer,
// little-endian in the trailer's first 4 bytes.
func reseal(data []byte) []byte {
	body := data[:len(data)-8]
	sum := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))
	binary.LittleEndian.PutUint32(data[len(data)-8:], sum)
	return data
}

// smallModels are models whose files are small enough to corrupt at every
// byte.
func smallModels(tb testing.TB) map[string]*Model {
	tiny := []labeled{{"good fun", "pos"}, {"great film", "pos"}, {"bad film", "neg"}, {"awful mess", "neg"}}
	return map[string]*Model{
		"exact":  trainOn(tb, testConfig(func(c *Config) { c.NGrams = 1 }), tiny),
		"hashed": trainOn(tb, testConfig(func(c *Config) { c.HashBits = 8; c.NGrams = 1 }), tiny),
	}
}

var roundTripTexts = []string{"", typicalReview, "great wonderful film", "awful", "zyzzyva", "not good at all", "I <3 it 😀"}

func samePredictions(t *testing.T, what string, a, b *Model) {
	t.Helper()
	for _, s := range roundTripTexts {
		pa, pb := a.Classify(s), b.Classify(s)
		if pa.Label != pb.Label || pa.Tokens != pb.Tokens || !slices.Equal(pa.Probs, pb.Probs) {
			t.Errorf("%s: Classify(%q) = %+v, original %+v", what, s, pb, pa)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	meta := fixedMeta
	meta.DataSHA256 = strings.Repeat("ab", 32)
	meta.Data = []DataFile{{Name: "train.jsonl", SHA256: strings.Repeat("cd", 32), Rows: 10, Bad: 1}}
	meta.Calibration = "fitted on dev"
	ev := NewEvaluator([]string{"negative", "positive"})
	ev.Add("positive", "positive")
	ev.Add("negative", "positive")
	meta.Evaluation = map[string]*Report{"dev": ev.Report()}

	base := trainOn(t, testConfig(nil), sentimentTrain)
	biased, err := base.WithClassBias([]float64{0, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	hot, err := biased.WithTemperature(3.25)
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := trainOn(t, testConfig(nil), sentimentTrain, neutralTrain).WithNeutralMargin(0.3)
	if err != nil {
		t.Fatal(err)
	}
	models := []struct {
		name string
		m    *Model
	}{
		{"exact", base},
		{"metadata", base.WithMetadata(meta)},
		{"bias-temperature", hot},
		{"neutral-margin", mixed},
		{"hashed", trainOn(t, testConfig(func(c *Config) { c.HashBits = 10 }), sentimentTrain)},
		{"complement-3class", trainOn(t, testConfig(func(c *Config) { c.Kind = Complement; c.NGrams = 3 }), sentimentTrain, neutralTrain)},
		{"5class-fixed-order", trainOn(t, testConfig(func(c *Config) {
			c.Classes = []string{"weather", "tech", "music", "food", "sports"}
			c.Tokenizer.Numbers = true
		}), topicTrain)},
	}
	for _, tc := range models {
		t.Run(tc.name, func(t *testing.T) {
			data, err := tc.m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			again, err := tc.m.MarshalBinary()
			if err != nil || !bytes.Equal(again, data) {
				t.Fatalf("MarshalBinary is not deterministic (err %v)", err)
			}
			back, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			samePredictions(t, "decoded", tc.m, back)
			if !reflect.DeepEqual(back.Metadata(), tc.m.Metadata()) {
				t.Errorf("metadata\n got  %+v\n want %+v", back.Metadata(), tc.m.Metadata())
			}
			if !reflect.DeepEqual(back.Config(), tc.m.Config()) {
				t.Errorf("config\n got  %+v\n want %+v", back.Config(), tc.m.Config())
			}
			if !slices.Equal(back.Classes(), tc.m.Classes()) || back.Features() != tc.m.Features() {
				t.Errorf("classes %q / %d features, want %q / %d", back.Classes(), back.Features(), tc.m.Classes(), tc.m.Features())
			}
			if !reflect.DeepEqual(back.TopFeatures(20), tc.m.TopFeatures(20)) {
				t.Error("TopFeatures differ after the round trip")
			}
			re, err := back.MarshalBinary()
			if err != nil || !bytes.Equal(re, data) {
				t.Errorf("re-encoding the decoded model changes the bytes (err %v)", err)
			}
			sum := sha256.Sum256(data)
			want := hex.EncodeToString(sum[:])
			if back.SHA256() != want || tc.m.SHA256() != want {
				t.Errorf("SHA256() = %s (decoded), %s (original); want %s", back.SHA256(), tc.m.SHA256(), want)
			}
			viaRead, err := Read(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			samePredictions(t, "Read", tc.m, viaRead)
		})
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sentiment.model")
	m := trainOn(t, testConfig(nil), sentimentTrain)
	// Save over an existing file: replaced whole.
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 1<<16), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		t.Fatalf("Save: %v", err)
	}
	onDisk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.MarshalBinary()
	if !bytes.Equal(onDisk, want) {
		t.Errorf("file holds %d bytes, not the model's %d-byte encoding", len(onDisk), len(want))
	}
	back, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	samePredictions(t, "loaded", m, back)
	if !reflect.DeepEqual(back.Metadata(), m.Metadata()) {
		t.Errorf("metadata %+v, want %+v", back.Metadata(), m.Metadata())
	}
	sum := sha256.Sum256(onDisk)
	if back.SHA256() != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256() = %s, want the file's %x", back.SHA256(), sum)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("Save left files behind: %q", names)
	}
	if err := m.Save(filepath.Join(dir, "missing-dir", "m.model")); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}

func TestLoadErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	m := trainOn(t, testConfig(nil), sentimentTrain)
	good, _ := m.MarshalBinary()
	cases := []struct {
		name    string
		content []byte // nil: file absent
		want    error  // nil: any error (missing file)
	}{
		{"missing", nil, os.ErrNotExist},
		{"empty", []byte{}, ErrTruncated},
		{"text", []byte("this is not a model\n"), ErrNotModel},
		{"truncated", good[:len(good)/2], ErrTruncated},
		{"corrupt", func() []byte { b := slices.Clone(good); b[len(b)/2] ^= 0x40; return b }(), ErrChecksum},
		{"future", func() []byte {
			b := slices.Clone(good)
			binary.LittleEndian.PutUint16(b[8:], FormatVersion+1)
			return reseal(b)
		}(), ErrUnsupportedVersion},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, tc.name+".model")
		if tc.content != nil {
			if err := os.WriteFile(path, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Load(path)
		if err == nil {
			t.Errorf("%s: Load succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name %s", tc.name, err, path)
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %q is not %v", tc.name, err, tc.want)
		}
	}
}

// TestDecodeTruncated cuts a model file at every length.
func TestDecodeTruncated(t *testing.T) {
	for name, m := range smallModels(t) {
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n++ {
			_, err := Decode(data[:n:n])
			if err == nil {
				t.Fatalf("%s: Decode of the first %d of %d bytes succeeded", name, n, len(data))
			}
			if !isFormatError(err, ErrTruncated, ErrChecksum, ErrNotModel, ErrCorrupt) {
				t.Fatalf("%s: Decode of %d of %d bytes: %v is none of the format errors", name, n, len(data), err)
			}
		}
		if _, err := Decode(data); err != nil {
			t.Fatalf("%s: the whole file: %v", name, err)
		}
	}
}

// TestDecodeByteFlips corrupts a model file at every byte.
func TestDecodeByteFlips(t *testing.T) {
	for name, m := range smallModels(t) {
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		for i := range data {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				b := slices.Clone(data)
				b[i] ^= mask
				_, err := Decode(b)
				if err == nil {
					t.Fatalf("%s: flipping byte %d of %d with %#x went unnoticed", name, i, len(data), mask)
				}
				if !isFormatError(err) {
					t.Fatalf("%s: byte %d ^ %#x: %v is none of the format errors", name, i, mask, err)
				}
			}
		}
	}
}

func TestDecodeBadInput(t *testing.T) {
	m := trainOn(t, testConfig(nil), sentimentTrain)
	good, _ := m.MarshalBinary()
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, ErrTruncated},
		{"magic-prefix", []byte("CAPA"), ErrTruncated},
		{"magic-only", []byte(magic), ErrTruncated},
		{"wrong-magic", append([]byte("CAPASTAM"), good[8:]...), ErrNotModel},
		{"lowercase-magic", append([]byte("capastan"), good[8:]...), ErrNotModel},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), ErrNotModel},
		{"json", []byte(`{"config":{}}`), ErrNotModel},
		{"short-garbage", []byte{0xff}, ErrNotModel},
		{"appended-byte", append(slices.Clone(good), 0), ErrTruncated},
		{"appended-trailer", append(slices.Clone(good), good[len(good)-8:]...), ErrChecksum},
		{"doubled", append(slices.Clone(good), good...), ErrChecksum},
		{"preamble-only", slices.Clone(good[:16]), ErrTruncated},
	}
	for _, tc := range cases {
		_, err := Decode(tc.data)
		if err == nil {
			t.Errorf("%s: Decode succeeded", tc.name)
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Decode error %q, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDecodeVersion(t *testing.T) {
	m := trainOn(t, testConfig(nil), sentimentTrain)
	good, _ := m.MarshalBinary()
	if v := binary.LittleEndian.Uint16(good[8:]); v != FormatVersion {
		t.Fatalf("file says version %d, FormatVersion is %d", v, FormatVersion)
	}
	for _, v := range []uint16{FormatVersion + 1, FormatVersion + 100, 0} {
		b := slices.Clone(good)
		binary.LittleEndian.PutUint16(b[8:], v)
		reseal(b) // only the version differs: the checksum is right
		_, err := Decode(b)
		if !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("version %d: error %v, want ErrUnsupportedVersion", v, err)
			continue
		}
		words := strings.FieldsFunc(err.Error(), func(r rune) bool { return r < '0' || r > '9' })
		if !slices.Contains(words, strconv.Itoa(int(v))) || !slices.Contains(words, strconv.Itoa(FormatVersion)) {
			t.Errorf("version %d: message %q should name both the file's version and %d", v, err, FormatVersion)
		}
	}
}

// TestDecodeNewerSetting: a well-formed file whose header has a field this
// build does not know (a setting a newer build added) is refused as a
// version mismatch naming the field, not as corruption.
func TestDecodeNewerSetting(t *testing.T) {
	exact, _ := smallModels(t)["exact"].MarshalBinary()
	for _, tc := range []struct {
		name, field string
		edit        func(h map[string]any)
	}{
		{"top level", "surprise", func(h map[string]any) { h["surprise"] = 1 }},
		{"in the config", "future_rule", func(h map[string]any) { h["config"].(map[string]any)["future_rule"] = 0.5 }},
		{"in the tokenizer", "future_token", func(h map[string]any) {
			h["config"].(map[string]any)["tokenizer"].(map[string]any)["future_token"] = true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(rebuild(t, exact, tc.edit))
			if !errors.Is(err, ErrUnsupportedVersion) || !strings.Contains(err.Error(), `"`+tc.field+`"`) || !strings.Contains(err.Error(), "newer capastan") {
				t.Errorf("error %v, want ErrUnsupportedVersion naming %q and a newer capastan", err, tc.field)
			}
		})
	}
}

// rebuild re-encodes a model file with its JSON header edited, keeping
// the rest of the body and fixing lengths, padding and checksum, so only
// the header's content is wrong.
func rebuild(t *testing.T, data []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	le := binary.LittleEndian
	hlen := int(le.Uint32(data[12:]))
	var h map[string]any
	dec := json.NewDecoder(bytes.NewReader(data[16 : 16+hlen]))
	dec.UseNumber()
	if err := dec.Decode(&h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hdr, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	rest := data[(16+hlen+7)&^7:]
	out := append([]byte(nil), data[:12]...)
	out = le.AppendUint32(out, uint32(len(hdr)))
	out = append(out, hdr...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	out = append(out, rest...)
	return reseal(out)
}

// TestDecodeCorruptButChecksummed: a file whose checksum is right but whose
// content is inconsistent is refused with ErrCorrupt, without panicking.
func TestDecodeCorruptButChecksummed(t *testing.T) {
	models := smallModels(t)
	exact, _ := models["exact"].MarshalBinary()
	hashed, _ := models["hashed"].MarshalBinary()
	le := binary.LittleEndian
	hdrEnd := func(d []byte) int { return (16 + int(le.Uint32(d[12:])) + 7) &^ 7 }
	rows := models["exact"].Features()
	cfg := func(h map[string]any) map[string]any { return h["config"].(map[string]any) }
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		// Re-encoding the header unchanged must still decode: the
		// corruptions below fail because of what they change.
		{"unchanged-exact", rebuild(t, exact, func(map[string]any) {}), true},
		{"unchanged-hashed", rebuild(t, hashed, func(map[string]any) {}), true},
		{"flags", func() []byte { b := slices.Clone(exact); b[10] = 1; return reseal(b) }(), false},
		{"header-length-plus-8", func() []byte {
			b := slices.Clone(exact)
			le.PutUint32(b[12:], le.Uint32(b[12:])+8)
			return reseal(b)
		}(), false},
		{"header-length-huge", func() []byte {
			b := slices.Clone(exact)
			le.PutUint32(b[12:], math.MaxUint32)
			return reseal(b)
		}(), false},
		{"header-not-json", func() []byte {
			b := slices.Clone(exact)
			b[16] = '['
			return reseal(b)
		}(), false},
		{"rows-plus-one", rebuild(t, exact, func(h map[string]any) { h["rows"] = rows + 1 }), false},
		{"rows-minus-one", rebuild(t, exact, func(h map[string]any) { h["rows"] = rows - 1 }), false},
		{"rows-negative", rebuild(t, exact, func(h map[string]any) { h["rows"] = -1 }), false},
		{"rows-huge", rebuild(t, exact, func(h map[string]any) { h["rows"] = 1 << 40 }), false},
		{"one-class", rebuild(t, exact, func(h map[string]any) {
			h["classes"] = []string{"neg"}
			h["log_prior"] = []float64{0}
			cfg(h)["classes"] = []string{"neg"}
		}), false},
		{"prior-count", rebuild(t, exact, func(h map[string]any) { h["log_prior"] = []float64{-1} }), false},
		{"config-classes-count", rebuild(t, exact, func(h map[string]any) { cfg(h)["classes"] = []string{"a", "b", "c"} }), false},
		{"bad-ngrams", rebuild(t, exact, func(h map[string]any) { cfg(h)["ngrams"] = 7 }), false},
		{"bad-kind", rebuild(t, exact, func(h map[string]any) { cfg(h)["kind"] = "bernoulli" }), false},
		{"bias-count", rebuild(t, exact, func(h map[string]any) { cfg(h)["class_bias"] = []float64{1, 2, 3} }), false},
		{"exact-says-hashed", rebuild(t, exact, func(h map[string]any) { cfg(h)["hash_bits"] = 8 }), false},
		{"hashed-bits-changed", rebuild(t, hashed, func(h map[string]any) { cfg(h)["hash_bits"] = 9; h["rows"] = 512 }), false},
		{"hashed-says-exact", rebuild(t, hashed, func(h map[string]any) { cfg(h)["hash_bits"] = 0 }), false},
		{"keys-swapped", func() []byte {
			b := slices.Clone(exact)
			o := hdrEnd(b)
			k0, k1 := slices.Clone(b[o:o+8]), slices.Clone(b[o+8:o+16])
			copy(b[o:], k1)
			copy(b[o+8:], k0)
			return reseal(b)
		}(), false},
		{"key-zero", func() []byte {
			b := slices.Clone(exact)
			copy(b[hdrEnd(b):], make([]byte, 8))
			return reseal(b)
		}(), false},
		{"weight-nan", func() []byte {
			b := slices.Clone(exact)
			le.PutUint32(b[hdrEnd(b)+rows*8:], math.Float32bits(float32(math.NaN())))
			return reseal(b)
		}(), false},
		{"weight-inf", func() []byte {
			b := slices.Clone(hashed)
			le.PutUint32(b[hdrEnd(b)+4:], math.Float32bits(float32(math.Inf(-1))))
			return reseal(b)
		}(), false},
		{"vocab-offset-backwards", func() []byte {
			b := slices.Clone(exact)
			o := hdrEnd(b) + rows*8 + rows*2*4
			le.PutUint32(b[o:], le.Uint32(b[o+4:])+1) // row 0 ends after row 1
			return reseal(b)
		}(), false},
		{"vocab-total-huge", func() []byte {
			b := slices.Clone(exact)
			o := hdrEnd(b) + rows*8 + rows*2*4 + rows*4
			le.PutUint32(b[o:], math.MaxUint32)
			return reseal(b)
		}(), false},
		{"extra-body-bytes", func() []byte {
			b := slices.Clone(exact)
			n := len(b)
			b = append(b[:n-8:n-8], append([]byte{1, 2, 3, 4}, b[n-8:]...)...)
			return reseal(b)
		}(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.data)
			if tc.ok {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				samePredictions(t, tc.name, models[strings.TrimPrefix(tc.name, "unchanged-")], m)
				return
			}
			if err == nil {
				t.Fatal("Decode accepted an inconsistent file")
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) {
				t.Errorf("error %q, want ErrCorrupt (or ErrTruncated)", err)
			}
		})
	}
}
