package classifier

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// inverseOdd returns the multiplicative inverse of odd a modulo 2^64
// (Newton's iteration), to build keys that the first seed maps to chosen
// values.
func inverseOdd(a uint64) uint64 {
	x := a
	for i := 0; i < 6; i++ {
		x *= 2 - a*x
	}
	return x
}

// slotWeights decodes what slot i adds to each class's score: the
// float32 weights, or in a packed table the differences from class 0's.
func slotWeights(t *perfectTable, i uint64, k int) []float64 {
	w := make([]float64, k)
	base := int(i) * t.stride
	if t.quantum == 0 {
		for c := range w {
			w[c] = float64(math.Float32frombits(t.words[base+1+c]))
		}
		return w
	}
	d := t.words[base+1]
	if k == 2 {
		w[1] = float64(int32(d)) * t.quantum
	} else {
		d1, d2 := unpack3(d)
		w[1], w[2] = float64(d1)*t.quantum, float64(d2)*t.quantum
	}
	return w
}

// TestPerfectTable: every key finds its own slot holding its weights,
// no two keys share a slot, features outside the table find the zero
// slot, and the same keys build the same table; for uniform hashes, for
// keys a weak hash would cluster, and for keys the first seed sends all
// into one bucket (the build retries with another).
func TestPerfectTable(t *testing.T) {
	firstSeed := fmix64(1) | 1
	cases := map[string]func(i int) uint64{
		"uniform":     func(i int) uint64 { return fmix64(uint64(i) + 1) },
		"sequential":  func(i int) uint64 { return uint64(i) + 1 },
		"high bits":   func(i int) uint64 { return uint64(i+1) << 40 },
		"one bucket":  func(i int) uint64 { return (1<<62 + uint64(i)) * inverseOdd(firstSeed) },
		"top and low": func(i int) uint64 { return 1<<63 | uint64(i) },
	}
	for name, key := range cases {
		for _, n := range []int{1, 2, 3, 100, 20000} {
			for _, k := range []int{2, 3, 5} {
				keys := make([]uint64, n)
				weights := make([]float32, n*k)
				for i := range keys {
					keys[i] = key(i)
					for c := 0; c < k; c++ {
						weights[i*k+c] = float32(i) + float32(c)/8 + 1
					}
				}
				tab, err := buildPerfect(keys, weights, k)
				if err != nil {
					t.Fatalf("%s n=%d k=%d: %v", name, n, k, err)
				}
				if name == "one bucket" && n > perfectMaxBucket && tab.seed == firstSeed {
					t.Errorf("%s n=%d: built with the first seed, whose one bucket holds every key", name, n)
				}
				used := map[uint64]bool{}
				for i, f := range keys {
					s := tab.find(f)
					if s == tab.slots || used[s] {
						t.Fatalf("%s n=%d k=%d: key %d at slot %d (zero slot %d, used before: %v)", name, n, k, i, s, tab.slots, used[s])
					}
					used[s] = true
					got := slotWeights(&tab, s, k)
					for c := 0; c < k; c++ {
						want, tol := float64(weights[i*k+c]), 0.0
						if tab.quantum != 0 {
							want -= float64(weights[i*k])
							tol = tab.quantum / 2 * (1 + 1e-9)
						}
						if math.Abs(got[c]-want) > tol {
							t.Fatalf("%s n=%d k=%d: key %d class %d weight %v, want %v within %g", name, n, k, i, c, got[c], want, tol)
						}
					}
				}
				zero := tab.words[int(tab.slots)*tab.stride : int(tab.slots+1)*tab.stride]
				if slices.ContainsFunc(zero, func(w uint32) bool { return w != 0 }) {
					t.Fatalf("%s n=%d k=%d: zero slot %x", name, n, k, zero)
				}
				for i := 0; i < 2000; i++ {
					f := fmix64(uint64(i) + 1<<32) // none of the keys above
					if slices.Contains(keys, f) {
						continue
					}
					if s := tab.find(f); s != tab.slots {
						t.Fatalf("%s n=%d k=%d: absent feature %x found at slot %d", name, n, k, f, s)
					}
				}
				again, err := buildPerfect(keys, weights, k)
				if err != nil || again.seed != tab.seed || !slices.Equal(again.pilots, tab.pilots) || !slices.Equal(again.words, tab.words) {
					t.Fatalf("%s n=%d k=%d: a second build differs (err %v)", name, n, k, err)
				}
			}
		}
	}
}

// TestPackedSlots: two- and three-class slots pack each weight's
// difference from class 0's in steps of one quantum: the largest
// difference either way lands on the end of the range without wrapping
// round, small ones keep their sign, and equal weights pack to zero. A
// three-class model whose differences span too much for 16 bits keeps
// float32 slots.
func TestPackedSlots(t *testing.T) {
	cases := map[string][]float32{
		"spread":      {-1, 2, -4, -9, -9, -9, 0.5, 0.25, 0.75, -3, -3.0001, -2.9999},
		"tiny":        {-20, -20.000002, -19.999998, -5, -5, -5, 1, 1, 1, 2, 2, 2},
		"equal":       {-7, -7, -7, -3, -3, -3, 0, 0, 0, 4, 4, 4},
		"huge spread": {-1e6, 1e6, 0, 3, 2, 1, -5, -5, -4, 0, 0, 0},
	}
	for name, weights := range cases {
		for _, k := range []int{2, 3} {
			keys := make([]uint64, len(weights)/k)
			for i := range keys {
				keys[i] = fmix64(uint64(i) + 1)
			}
			w := weights[:len(keys)*k]
			tab, err := buildPerfect(keys, w, k)
			if err != nil {
				t.Fatal(err)
			}
			if name == "huge spread" && k == 3 {
				// 16 bits cannot keep a step of 1/1024 over 2e6.
				if tab.quantum != 0 || tab.stride != slotStride(k) {
					t.Fatalf("%s k=%d: quantum %g stride %d, want float32 slots", name, k, tab.quantum, tab.stride)
				}
				continue
			}
			if tab.quantum <= 0 || tab.quantum > packMaxQuantum || tab.stride != 2 {
				t.Fatalf("%s k=%d: quantum %g stride %d, want a packed table", name, k, tab.quantum, tab.stride)
			}
			for i, f := range keys {
				got := slotWeights(&tab, tab.find(f), k)
				for c := 1; c < k; c++ {
					want := float64(w[i*k+c]) - float64(w[i*k])
					if math.Abs(got[c]-want) > tab.quantum/2*(1+1e-9) || want != 0 && math.Signbit(got[c]) != math.Signbit(want) && math.Abs(want) > tab.quantum/2 {
						t.Errorf("%s k=%d: row %d class %d adds %v, want %v (quantum %g)", name, k, i, c, got[c], want, tab.quantum)
					}
				}
			}
		}
	}
}

// TestPerfectTableUnplaceable: keys no pilot can separate (a repeated
// key) are an error, not a hang or a panic. Model loading rejects such
// keys first, with its own message.
func TestPerfectTableUnplaceable(t *testing.T) {
	_, err := buildPerfect([]uint64{7, 9, 9}, make([]float32, 6), 2)
	if err == nil || !strings.Contains(err.Error(), "no perfect hash found for 3 feature keys") {
		t.Fatalf("err = %v", err)
	}
}

// TestPerfectTableFingerprint pins down the one approximation of the
// lookup: a slot keeps 32 bits of its key, so a feature the model does
// not know is taken for the one in its home slot when both agree on the
// slot and on the mixed key's high 32 bits (1 in 2^32 for a uniform
// hash), and only then. Keys that differ in their high bits alone, or
// their low bits alone, are told apart.
func TestPerfectTableFingerprint(t *testing.T) {
	keys := []uint64{fmix64(11), fmix64(12), fmix64(13), fmix64(14), fmix64(15)}
	tab, err := buildPerfect(keys, make([]float32, 3*len(keys)), 3)
	if err != nil {
		t.Fatal(err)
	}
	inv := inverseOdd(tab.seed)
	home := tab.find(keys[0])
	x := keys[0] * tab.seed
	var twin, lowOnly, highOnly uint64
	for d := uint64(1); d < 1<<20 && (twin == 0 || lowOnly == 0 || highOnly == 0); d++ {
		low := (x ^ d) * inv      // same high 32 bits of x, other low bits
		high := (x ^ d<<32) * inv // other high bits, same low bits
		if tab.slot(low) == home {
			twin = low
		} else if lowOnly == 0 {
			lowOnly = low
		}
		if highOnly == 0 && tab.slot(high) == home {
			highOnly = high
		}
	}
	if twin == 0 || lowOnly == 0 || highOnly == 0 {
		t.Fatalf("no test keys found (twin %x, low bits only %x, high bits only %x)", twin, lowOnly, highOnly)
	}
	if got := tab.find(twin); got != home {
		t.Errorf("a key with the same slot and fingerprint: slot %d, want the known key's %d", got, home)
	}
	for name, f := range map[string]uint64{"same slot, other fingerprint": highOnly, "same fingerprint, other slot": lowOnly} {
		if got := tab.find(f); got != tab.slots {
			t.Errorf("%s: slot %d, want the zero slot %d", name, got, tab.slots)
		}
	}
}
