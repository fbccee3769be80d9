package classifier

import (
	"math"
	"testing"
)

// TestSeenSetsAfterWrap: when the per-document generation counter wraps,
// entries written 2^32 documents ago must not look like this document's.
// A long-lived worker's Scratch reaches that after 4 billion messages.
func TestSeenSetsAfterWrap(t *testing.T) {
	cases := map[string]func(s *Scratch) bool{
		"rows (firstSight)":    func(s *Scratch) bool { return s.firstSight(7) },
		"keys (firstSightKey)": func(s *Scratch) bool { return s.firstSightKey(0xfeedface) },
	}
	for name, sight := range cases {
		var s Scratch
		s.resetSeen(10, true) // generation 1
		if !sight(&s) || sight(&s) {
			t.Fatalf("%s: first sight not new, or second sight new", name)
		}
		s.gen = math.MaxUint32 // the last generation before the wrap
		s.resetSeen(10, true)
		if !sight(&s) {
			t.Errorf("%s: after the wrap, an entry of generation %d reads as this document's", name, s.gen)
		}
		if sight(&s) {
			t.Errorf("%s: after the wrap, a repeat reads as new", name)
		}
	}
}
