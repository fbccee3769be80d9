package schemas

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const testSHA = "ee14ab8f2fd766a28cc91b5445868718707b6968bab8c3c444fdee547223e440"

func sampleLabeled() Labeled {
	return Labeled{
		ReviewID:     "amz-B00X4WHP5E-17",
		Label:        "neutral",
		Confidence:   0.61,
		Classes:      []string{"negative", "neutral", "positive"},
		Probs:        []float64{0.27, 0.61, 0.12},
		Model:        ModelRef{Name: "capastan-default", Version: "1.0.0", SHA256: testSHA},
		ClassifiedAt: time.Date(2026, 5, 1, 9, 30, 1, 250e6, time.UTC),
		Origin:       Origin{Topic: "reviews", Partition: 3, Offset: 18842},
		Source:       "shop.example",
		ProductID:    "B00X4WHP5E",
		Rating:       3,
		Lang:         "en",
		CreatedAt:    "2026-05-01T09:30:00Z",
		Metadata:     json.RawMessage(`{"campaign":"spring"}`),
	}
}

func TestAppendJSON(t *testing.T) {
	l := sampleLabeled()
	got := string(l.AppendJSON(nil))
	want := `{"schema_version":1,"review_id":"amz-B00X4WHP5E-17","label":"neutral","confidence":0.61,` +
		`"scores":{"negative":0.27,"neutral":0.61,"positive":0.12},` +
		`"model":{"name":"capastan-default","version":"1.0.0","sha256":"` + testSHA + `"},` +
		`"classified_at":"2026-05-01T09:30:01.25Z","origin":{"topic":"reviews","partition":3,"offset":18842},` +
		`"source":"shop.example","product_id":"B00X4WHP5E","rating":3,"lang":"en","created_at":"2026-05-01T09:30:00Z",` +
		`"metadata":{"campaign":"spring"}}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if err := l.Validate(); err != nil {
		t.Error(err)
	}

	// Optional fields are left out; the text is written when set.
	min := Labeled{ReviewID: "r", Label: "a", Confidence: 1, Classes: []string{"a", "b"}, Probs: []float64{1, 0},
		Model: ModelRef{Name: "m", SHA256: testSHA}, ClassifiedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), Text: "hi"}
	got = string(min.AppendJSON([]byte("prefix:")))
	want = `prefix:{"schema_version":1,"review_id":"r","label":"a","confidence":1,"scores":{"a":1,"b":0},` +
		`"model":{"name":"m","version":"","sha256":"` + testSHA + `"},"classified_at":"2026-01-02T02:04:05Z","text":"hi"}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAppendStringEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                  `"plain"`,
		`q"b\`:                   `"q\"b\\"`,
		"\n\r\t\b\f":             `"\n\r\t\b\f"`,
		"\x00\x01\x1f\x7f":       `"\u0000\u0001\u001f` + "\x7f" + `"`,
		"a\u2028b\u2029c":        `"a\u2028b\u2029c"`,
		"<&>":                    `"<&>"`,
		"é😀":                     `"é😀"`,
		"bad\xffbyte\xc3":        `"bad\ufffdbyte\ufffd"`,
		"\xed\xa0\x80 surrogate": `"\ufffd\ufffd\ufffd surrogate"`,
	} {
		got := string(appendString(nil, in))
		if got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != sanitize(in) {
			t.Errorf("%s reads back as %q (%v), want %q", got, back, err, sanitize(in))
		}
	}
}

// sanitize replaces each byte of invalid UTF-8 by U+FFFD, as AppendJSON
// and encoding/json do.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

func TestAppendProb(t *testing.T) {
	for _, f := range []float64{0, 1, 0.5, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 5e-324, 0.1 + 0.2, 1 - 1e-16, 0.333333333333333314829616256247} {
		got := appendProb(nil, f)
		want, _ := json.Marshal(f)
		if string(got) != string(want) {
			t.Errorf("appendProb(%v) = %s, encoding/json writes %s", f, got, want)
		}
	}
	for f, want := range map[float64]string{math.NaN(): "0", -0.5: "0", math.Copysign(0, -1): "0", 1.5: "1", math.Inf(1): "1", math.Inf(-1): "0"} {
		if got := string(appendProb(nil, f)); got != want {
			t.Errorf("appendProb(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestAppendJSONAllocations(t *testing.T) {
	l := sampleLabeled()
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() { buf = l.AppendJSON(buf[:0]) })
	if allocs != 0 {
		t.Errorf("AppendJSON allocates %v times into a reused buffer", allocs)
	}
}

func TestLabeledValidate(t *testing.T) {
	for name, mod := range map[string]func(*Labeled){
		"no review_id":     func(l *Labeled) { l.ReviewID = "" },
		"no label":         func(l *Labeled) { l.Label = "" },
		"one class":        func(l *Labeled) { l.Classes, l.Probs = l.Classes[:1], l.Probs[:1] },
		"probs mismatch":   func(l *Labeled) { l.Probs = l.Probs[:2] },
		"duplicate class":  func(l *Labeled) { l.Classes = []string{"a", "b", "a"} },
		"empty class":      func(l *Labeled) { l.Classes = []string{"a", "", "c"} },
		"no model name":    func(l *Labeled) { l.Model.Name = "" },
		"short sha":        func(l *Labeled) { l.Model.SHA256 = "abc" },
		"upper-case sha":   func(l *Labeled) { l.Model.SHA256 = strings.ToUpper(testSHA) },
		"year 10000":       func(l *Labeled) { l.ClassifiedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"rating 7":         func(l *Labeled) { l.Rating = 7 },
		"bad lang":         func(l *Labeled) { l.Lang = "english" },
		"bad created_at":   func(l *Labeled) { l.CreatedAt = "yesterday" },
		"bad metadata":     func(l *Labeled) { l.Metadata = json.RawMessage(`[1]`) },
		"negative offset":  func(l *Labeled) { l.Origin.Offset = -1 },
		"review_id 257 ch": func(l *Labeled) { l.ReviewID = strings.Repeat("x", 257) },
	} {
		l := sampleLabeled()
		mod(&l)
		if err := l.Validate(); err == nil {
			t.Errorf("%s: Validate accepts it", name)
		}
	}
}

func TestCopyReview(t *testing.T) {
	r, err := DecodeReview([]byte(benchReview), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var l Labeled
	l.CopyReview(&r, false)
	if l.ReviewID != r.ReviewID || l.Source != r.Source || l.ProductID != r.ProductID || l.Rating != r.Rating ||
		l.Lang != r.Lang || l.CreatedAt != r.CreatedAt || string(l.Metadata) != string(r.Metadata) || l.Text != "" {
		t.Errorf("CopyReview(false): %+v", l)
	}
	l.CopyReview(&r, true)
	if l.Text != r.Text {
		t.Error("CopyReview(true) left out the text")
	}
}

func TestDecodeLabeled(t *testing.T) {
	sl := sampleLabeled()
	base := string(sl.AppendJSON(nil))
	replace := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("%q not in %s", old, base)
		}
		return strings.Replace(base, old, new, 1)
	}
	v := reference(t)
	for _, tt := range []struct {
		name, in, code string
	}{
		{"as written", base, ""},
		{"leap second", replace(`"2026-05-01T09:30:01.25Z"`, `"2016-12-31T23:59:60.5Z"`), ""},
		{"lowercase t", replace(`"2026-05-01T09:30:01.25Z"`, `"2026-05-01t09:30:01.25z"`), ""},
		{"probability 1.0", replace(`"confidence":0.61`, `"confidence":1.0`), ""},
		{"probability 1e-400", replace(`"confidence":0.61`, `"confidence":1e-400`), ""},
		{"version 1.0", replace(`"schema_version":1`, `"schema_version":1.0`), ""},
		{"unknown fields", replace(`"label"`, `"extra":{"a":[1]},"label"`), ""},
		{"not JSON", base[:len(base)-1], CodeInvalidJSON},
		{"array", "[" + base + "]", CodeSchemaViolation},
		{"invalid UTF-8", replace(`shop.example`, "shop\xff"), CodeInvalidUTF8},
		{"version 2", replace(`"schema_version":1`, `"schema_version":2`), CodeUnsupportedVersion},
		{"no label", replace(`"label":"neutral",`, ``), CodeMissingField},
		{"label null", replace(`"label":"neutral"`, `"label":null`), CodeSchemaViolation},
		{"confidence string", replace(`"confidence":0.61`, `"confidence":"0.61"`), CodeSchemaViolation},
		{"confidence 1.0000000000000000001", replace(`"confidence":0.61`, `"confidence":1.0000000000000000001`), CodeSchemaViolation},
		{"confidence -1e-400", replace(`"confidence":0.61`, `"confidence":-1e-400`), CodeSchemaViolation},
		{"scores array", replace(`{"negative":0.27,"neutral":0.61,"positive":0.12}`, `[0.27,0.61,0.12]`), CodeSchemaViolation},
		{"one distinct class", replace(`{"negative":0.27,"neutral":0.61,"positive":0.12}`, `{"a":0.5,"a":0.5}`), CodeSchemaViolation},
		{"score null", replace(`"neutral":0.61`, `"neutral":null`), CodeSchemaViolation},
		{"model string", replace(`{"name":"capastan-default","version":"1.0.0","sha256":"`+testSHA+`"}`, `"capastan-default"`), CodeSchemaViolation},
		{"model without version", replace(`"version":"1.0.0",`, ``), CodeMissingField},
		{"empty model name", replace(`"name":"capastan-default"`, `"name":""`), CodeSchemaViolation},
		{"classified_at number", replace(`"2026-05-01T09:30:01.25Z"`, `1`), CodeSchemaViolation},
		{"origin without topic", replace(`"topic":"reviews",`, ``), CodeMissingField},
		{"partition too big", replace(`"partition":3`, `"partition":2147483648`), CodeSchemaViolation},
		{"partition 3.5", replace(`"partition":3`, `"partition":3.5`), CodeSchemaViolation},
		{"offset -1", replace(`"offset":18842`, `"offset":-1`), CodeSchemaViolation},
		{"offset 1e19", replace(`"offset":18842`, `"offset":1e19`), CodeSchemaViolation},
		{"rating 0", replace(`"rating":3`, `"rating":0`), CodeSchemaViolation},
		{"lang empty", replace(`"lang":"en"`, `"lang":""`), CodeSchemaViolation},
		{"created_at bad", replace(`"created_at":"2026-05-01T09:30:00Z"`, `"created_at":"2026-05-01"`), CodeSchemaViolation},
		{"metadata array", replace(`{"campaign":"spring"}`, `[]`), CodeSchemaViolation},
		{"text empty", replace(`"label"`, `"text":"","label"`), CodeSchemaViolation},
		{"source number", replace(`"source":"shop.example"`, `"source":5`), CodeSchemaViolation},
	} {
		_, err := DecodeLabeled([]byte(tt.in))
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s: rejected: %v", tt.name, err)
		case tt.code != "" && err == nil:
			t.Errorf("%s: accepted", tt.name)
		case tt.code != "" && err.(*Error).Code != tt.code:
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
		if tt.code != CodeInvalidUTF8 {
			if serr := schemaVerdict(v.labeled, []byte(tt.in)); (serr == nil) != (tt.code == "") {
				t.Errorf("%s: the schema disagrees: %v", tt.name, serr)
			}
		}
	}
	l, err := DecodeLabeled([]byte(replace(`"2026-05-01T09:30:01.25Z"`, `"2016-12-31T23:59:60.5Z"`)))
	if err != nil || !l.ClassifiedAt.Equal(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("leap second read as %v (%v)", l.ClassifiedAt, err)
	}
}

// labeledJSON is the struct a Go programmer would give encoding/json for
// the same record.
type labeledJSON struct {
	SchemaVersion int                `json:"schema_version"`
	ReviewID      string             `json:"review_id"`
	Label         string             `json:"label"`
	Confidence    float64            `json:"confidence"`
	Scores        map[string]float64 `json:"scores"`
	Model         struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		SHA256  string `json:"sha256"`
	} `json:"model"`
	ClassifiedAt time.Time `json:"classified_at"`
	Origin       *struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
	} `json:"origin,omitempty"`
	Source    string          `json:"source,omitempty"`
	ProductID string          `json:"product_id,omitempty"`
	Rating    int             `json:"rating,omitempty"`
	Lang      string          `json:"lang,omitempty"`
	CreatedAt string          `json:"created_at,omitempty"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Text      string          `json:"text,omitempty"`
}

func toLabeledJSON(l *Labeled) labeledJSON {
	j := labeledJSON{SchemaVersion: 1, ReviewID: l.ReviewID, Label: l.Label, Confidence: l.Confidence,
		Scores: make(map[string]float64, len(l.Classes)), ClassifiedAt: l.ClassifiedAt.UTC(),
		Source: l.Source, ProductID: l.ProductID, Rating: l.Rating, Lang: l.Lang, CreatedAt: l.CreatedAt, Metadata: l.Metadata, Text: l.Text}
	for c, name := range l.Classes {
		j.Scores[name] = l.Probs[c]
	}
	j.Model.Name, j.Model.Version, j.Model.SHA256 = l.Model.Name, l.Model.Version, l.Model.SHA256
	if l.Origin.Topic != "" {
		j.Origin = &struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Offset    int64  `json:"offset"`
		}{l.Origin.Topic, l.Origin.Partition, l.Origin.Offset}
	}
	return j
}

// Property: any Labeled that Validate accepts is written as JSON valid
// against labeled.v1.json, reads back through DecodeLabeled unchanged
// (strings sanitized), and means the same as encoding/json's rendering.
func TestAppendJSONProperty(t *testing.T) {
	v := reference(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	buf := make([]byte, 0, 4096)
	for i := 0; i < n; i++ {
		l := randomLabeled(rng)
		if err := l.Validate(); err != nil {
			t.Fatalf("case %d: generator made an invalid record: %v", i, err)
		}
		buf = l.AppendJSON(buf[:0])
		if !json.Valid(buf) {
			t.Fatalf("case %d: not JSON: %s", i, buf)
		}
		if !bytes.ContainsAny(l.Metadata, "\n\r") && bytes.ContainsAny(buf, "\n\r") {
			t.Fatalf("case %d: holds a line break: %q", i, buf)
		}
		if err := schemaVerdict(v.labeled, buf); err != nil {
			t.Fatalf("case %d: %s\nbreaks the schema: %v", i, buf, err)
		}
		back, err := DecodeLabeled(buf)
		if err != nil {
			t.Fatalf("case %d: %s\nDecodeLabeled: %v", i, buf, err)
		}
		want := l
		want.ReviewID, want.Label, want.Source, want.ProductID, want.Text = sanitize(l.ReviewID), sanitize(l.Label), sanitize(l.Source), sanitize(l.ProductID), sanitize(l.Text)
		want.Model = ModelRef{sanitize(l.Model.Name), sanitize(l.Model.Version), l.Model.SHA256}
		want.Origin.Topic = sanitize(l.Origin.Topic)
		want.Classes = nil
		for _, c := range l.Classes {
			want.Classes = append(want.Classes, sanitize(c))
		}
		if !back.ClassifiedAt.Equal(l.ClassifiedAt) {
			t.Fatalf("case %d: classified_at %v, want %v", i, back.ClassifiedAt, l.ClassifiedAt)
		}
		back.ClassifiedAt, want.ClassifiedAt = time.Time{}, time.Time{}
		if len(want.Metadata) == 0 {
			want.Metadata = nil
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("case %d: round trip\n got %+v\nwant %+v", i, back, want)
		}
		// encoding/json reads the same values as from its own rendering.
		j := toLabeledJSON(&l)
		ref, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		var a, b labeledJSON
		if err := json.Unmarshal(buf, &a); err != nil {
			t.Fatalf("case %d: encoding/json cannot read %s: %v", i, buf, err)
		}
		if err := json.Unmarshal(ref, &b); err != nil {
			t.Fatal(err)
		}
		if !a.ClassifiedAt.Equal(b.ClassifiedAt) {
			t.Fatalf("case %d: classified_at %v vs %v", i, a.ClassifiedAt, b.ClassifiedAt)
		}
		a.ClassifiedAt, b.ClassifiedAt = time.Time{}, time.Time{}
		a.Metadata, b.Metadata = compact(a.Metadata), compact(b.Metadata)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("case %d: encoding/json reads\n%+v\nfrom ours and\n%+v\nfrom its own", i, a, b)
		}
	}
}

func compact(b json.RawMessage) json.RawMessage {
	if b == nil {
		return nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// randomString draws strings that stress escaping: ASCII, controls,
// quotes, backslashes, non-ASCII, U+2028/9 and invalid UTF-8.
func randomString(rng *rand.Rand, maxLen int) string {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\x00", "\x1f", "\x7f", "<", "&",
		"é", "日", "😀", "\u2028", "\u2029", "\ufffd", "\xff", "\xc3", "\xed\xa0\x80"}
	n := rng.IntN(maxLen + 1)
	var b strings.Builder
	for range n {
		if rng.IntN(3) == 0 {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		} else {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
	}
	return b.String()
}

func nonEmpty(rng *rand.Rand, maxLen int) string {
	for {
		if s := randomString(rng, maxLen); s != "" {
			return s
		}
	}
}

func randomProb(rng *rand.Rand) float64 {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return 1
	case 2:
		return math.Pow(10, -rng.Float64()*320) // down to subnormals
	case 3:
		return 1 - rng.Float64()*1e-12
	}
	return rng.Float64()
}

func randomLabeled(rng *rand.Rand) Labeled {
	k := 2 + rng.IntN(5)
	l := Labeled{ReviewID: nonEmpty(rng, 40), Confidence: randomProb(rng)}
	seen := map[string]bool{}
	for len(l.Classes) < k {
		c := nonEmpty(rng, 10)
		if seen[sanitize(c)] { // distinct once sanitized, or the JSON repeats a key
			continue
		}
		seen[sanitize(c)] = true
		l.Classes = append(l.Classes, c)
		l.Probs = append(l.Probs, randomProb(rng))
	}
	l.Label = l.Classes[rng.IntN(k)]
	const hexd = "0123456789abcdef"
	sha := make([]byte, 64)
	for i := range sha {
		sha[i] = hexd[rng.IntN(16)]
	}
	l.Model = ModelRef{Name: nonEmpty(rng, 20), Version: randomString(rng, 8), SHA256: string(sha)}
	zones := []*time.Location{time.UTC, time.FixedZone("a", 5*3600+30*60), time.FixedZone("b", -8*3600), time.FixedZone("lmt", -75)}
	l.ClassifiedAt = time.Unix(rng.Int64N(253402300799), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
	if rng.IntN(2) == 0 {
		l.Origin = Origin{Topic: nonEmpty(rng, 20), Partition: rng.Int32(), Offset: rng.Int64()}
	}
	if rng.IntN(2) == 0 {
		l.Source = randomString(rng, 20)
	}
	if rng.IntN(2) == 0 {
		l.ProductID = randomString(rng, 20)
	}
	l.Rating = rng.IntN(6)
	if rng.IntN(2) == 0 {
		l.Lang = []string{"en", "pt-BR", "zh-Hant-TW", "FR", "sr-Latn-RS"}[rng.IntN(5)]
	}
	if rng.IntN(2) == 0 {
		l.CreatedAt = []string{"2026-05-01T09:30:00Z", "1999-12-31t23:59:59.999999999+05:30", "2016-12-31T23:59:60Z", "2024-02-29T00:00:00-00:00"}[rng.IntN(4)]
	}
	if rng.IntN(2) == 0 {
		m := map[string]any{randomString(rng, 5): randomString(rng, 10), "n": rng.Float64(), "list": []any{1, true, nil}}
		l.Metadata, _ = json.Marshal(m)
		if rng.IntN(2) == 0 {
			var ind bytes.Buffer
			_ = json.Indent(&ind, l.Metadata, "", "  ")
			l.Metadata = ind.Bytes() // white space inside is kept as is
		}
	}
	if rng.IntN(3) == 0 {
		l.Text = nonEmpty(rng, 60)
	}
	return l
}
