package schemas

import (
	"encoding/json"
	"testing"
)

// benchReview is a typical review of about 300 bytes.
const benchReview = `{"schema_version":1,"review_id":"amz-B00X4WHP5E-17","text":"The battery lasts two days, which is great, but the strap broke after a week and support never answered.","source":"shop.example","product_id":"B00X4WHP5E","rating":2,"lang":"en","created_at":"2026-05-01T09:30:00Z","metadata":{"campaign":"spring","verified":true}}`

// benchTitledReview is benchReview with a title, as app-store and product
// reviews carry one.
const benchTitledReview = `{"schema_version":1,"review_id":"amz-B00X4WHP5E-17","title":"Great battery, flimsy strap","text":"The battery lasts two days, which is great, but the strap broke after a week and support never answered.","source":"shop.example","product_id":"B00X4WHP5E","rating":2,"lang":"en","created_at":"2026-05-01T09:30:00Z","metadata":{"campaign":"spring","verified":true}}`

func BenchmarkDecodeReview(b *testing.B) {
	doc := []byte(benchReview)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeReview(doc, DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeReviewTitled(b *testing.B) {
	doc := []byte(benchTitledReview)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeReview(doc, DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// reviewJSON is what encoding/json would decode the same review into; it
// checks nothing, so it is a lower bound for a reflection-based decoder.
type reviewJSON struct {
	SchemaVersion *int            `json:"schema_version"`
	ReviewID      *string         `json:"review_id"`
	Text          *string         `json:"text"`
	Title         string          `json:"title"`
	Source        string          `json:"source"`
	ProductID     string          `json:"product_id"`
	Rating        *int            `json:"rating"`
	Lang          string          `json:"lang"`
	CreatedAt     string          `json:"created_at"`
	Metadata      json.RawMessage `json:"metadata"`
}

func BenchmarkUnmarshalReview(b *testing.B) {
	doc := []byte(benchReview)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		var r reviewJSON
		if err := json.Unmarshal(doc, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeReviewRecordBinary(b *testing.B) {
	doc := []byte(benchReview)
	hs := binaryHeaders("content-type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeReviewRecord(hs, doc, DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	l := sampleLabeled()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = l.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkMarshalLabeled(b *testing.B) {
	l := sampleLabeled()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		// Building the map is part of the encoding/json way.
		j := toLabeledJSON(&l)
		out, err := json.Marshal(&j)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.SetBytes(int64(n))
}
