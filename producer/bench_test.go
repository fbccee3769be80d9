package producer

import (
	"bytes"
	"fmt"
	"testing"
)

func benchLines(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"review_id":"r%d","product_id":"p%d","rating":%d,"text":"the battery lasts all day and the screen is bright but the speaker is weak for the price it is fine overall would buy again not worth it great value terrible support the battery lasts all day and the screen is bright but the speaker is weak for"}`+"\n", i, i%1000, i%5+1)
	}
	return b.Bytes()
}

// BenchmarkReadRecords is the per-record input cost of `capastan produce`:
// parse a ~300-byte JSON line, map it, encode the event, check it against
// the contract.
func BenchmarkReadRecords(b *testing.B) {
	data := benchLines(1000)
	b.SetBytes(int64(len(data) / 1000))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		err := ReadRecords(bytes.NewReader(data), SourceOptions{}, "", func(Record) error {
			n++
			return nil
		}, func(e *LineError) error { return e })
		if err != nil {
			b.Fatal(err)
		}
	}
}
