package integration

import (
	"context"
	"slices"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/models"
	"github.com/capastan/capastan/schemas"
)

// TestWorkerTitle: `capastan serve` on the real broker labels a review
// that has a title with the probabilities of its titled text, unless
// CAPASTAN_CLASSIFY_TITLE=false, and dead-letters a title that breaks
// the contract.
func TestWorkerTitle(t *testing.T) {
	m, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	const title, text = "Waste of money", "It arrived on Tuesday in a brown box."
	plain, titled := m.Classify(text), m.Classify(classifier.Titled(title, text))
	if plain.Label == titled.Label {
		t.Fatalf("the shipped model labels %q %s with and without the title %q: pick another example", text, plain.Label, title)
	}
	for _, tc := range []struct {
		name string
		env  []string
		want classifier.Prediction // for the titled review
	}{
		{"default", nil, titled},
		{"off", []string{"CAPASTAN_CLASSIFY_TITLE=false"}, plain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bs := brokers(t)
			s := &stream{bs: bs, in: topic(t, bs, "it-title-in", 2), out: topic(t, bs, "it-title-out", 2), dlq: topic(t, bs, "it-title-dlq", 1), n: 2}
			cl, err := kgo.NewClient(kgo.SeedBrokers(bs...), kgo.DefaultProduceTopic(s.in))
			if err != nil {
				t.Fatal(err)
			}
			err = cl.ProduceSync(context.Background(),
				&kgo.Record{Key: []byte("p"), Value: []byte(`{"review_id":"titled","product_id":"p","title":"` + title + `","text":"` + text + `"}`)},
				&kgo.Record{Key: []byte("p"), Value: []byte(`{"review_id":"untitled","product_id":"p","text":"` + text + `"}`)},
				&kgo.Record{Key: []byte("p"), Value: []byte(`{"review_id":"bad-title","product_id":"p","title":["x"],"text":"` + text + `"}`)},
			).FirstErr()
			cl.Close()
			if err != nil {
				t.Fatal(err)
			}
			cmd, _ := s.serve(t, "it-title-"+tc.name, tc.env...)
			want := map[string]classifier.Prediction{"titled": tc.want, "untitled": plain}
			for _, r := range consumeAtLeast(t, bs, s.out, 2) {
				l, err := schemas.DecodeLabeled(r.Value)
				if err != nil {
					t.Fatalf("output %q: %v", r.Value, err)
				}
				w, ok := want[l.ReviewID]
				if !ok {
					t.Fatalf("unexpected output %s", r.Value)
				}
				delete(want, l.ReviewID)
				if l.Label != w.Label || !slices.Equal(l.Probs, w.Probs) {
					t.Errorf("%s: %s %v, want %s %v", l.ReviewID, l.Label, l.Probs, w.Label, w.Probs)
				}
			}
			dl := consumeAtLeast(t, bs, s.dlq, 1)
			if len(dl) != 1 || !hasHeader(dl[0], schemas.HeaderErrorCode, schemas.CodeSchemaViolation) {
				t.Errorf("dead letters %v, want the bad title's, as schema_violation", dl)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
}

// hasHeader reports whether r has header key with value v.
func hasHeader(r *kgo.Record, key, v string) bool {
	for _, h := range r.Headers {
		if h.Key == key && string(h.Value) == v {
			return true
		}
	}
	return false
}
