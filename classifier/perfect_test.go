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
					base := int(s) * tab.stride
					for c := 0; c < k; c++ {
						got := math.Float32frombits(tab.words[base+1+c])
						if got != weights[i*k+c] {
							t.Fatalf("%s n=%d k=%d: key %d class %d weight %v, want %v", name, n, k, i, c, got, weights[i*k+c])
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
