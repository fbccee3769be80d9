package classifier

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// perfectTable is the lookup structure of an exact-vocabulary model: a
// perfect hash from feature key to slot, after PTHash (Pibiri and
// Trani, 2021). The keys are spread over buckets of about three; each
// bucket has a pilot, found when the model is loaded, that sends its keys
// to slots no other key uses. A lookup is one pilot read (two bytes per
// three keys: the pilots stay in cache), five multiplies and one slot
// read, with no probing loop.
//
// What matters more than the arithmetic is that nothing in a lookup
// branches on the slot's contents. Whether the feature is in the
// vocabulary is one compare whose result selects its slot or a slot of
// zero weights by arithmetic, so the CPU runs on through the next
// features while a slot read waits on memory, and the reads overlap.
// Under the open addressing this replaced, every probe asked "found here,
// further on, or absent?", a coin toss for the branch predictor whose
// answer waited on a likely cache miss.
//
// Each slot is stride 32-bit words: the key's fingerprint (32 bits of the
// mixed key), then what the key adds to the class scores. A fingerprint
// rather than the whole key keeps slots small. The price: a feature the
// model does not know is taken for the one in its home slot when their
// fingerprints agree, 1 in 2^32 look-ups of unknown features, about once
// in 40 million IMDB-sized reviews, and it then adds one feature's
// weights.
//
// Two and three classes, nearly every model, pack a slot into 8 bytes.
// Softmax, the argmax and the neutral margin see only differences
// between class scores, so a feature's weight for class 0 can be taken
// off all its weights without changing an answer: the slot keeps w[c] -
// w[0] for c >= 1 as fixed-point integers, one int32 for two classes, two
// int16 for three, in steps of quantum (the largest difference over the
// int's range: 1.1e-4 for the shipped model). Each feature is then off by
// at most half a step per class, and a document's sums are exact integer
// additions with one multiply at the end. Against float32 slots of 16
// bytes, the table is half the size (the shipped model's 2.0 MiB becomes
// 1.0 MiB, about a core's L2 cache) and each feature costs integer adds
// rather than float conversions and adds in a dependency chain. A model
// whose differences need a step over packMaxQuantum keeps float32 slots:
// the fingerprint, one float32 per class, padded so that stride divides a
// 64-byte cache line.
type perfectTable struct {
	seed    uint64 // odd multiplier that mixes keys before both hash steps
	pilots  []uint16
	buckets uint64   // len(pilots)
	slots   uint64   // slots for keys; slot index slots is the zero slot
	stride  int      // 32-bit words per slot: 2 packed, else 4, 8 or a multiple of 16
	words   []uint32 // (slots+1)*stride
	// quantum is the step of a packed table's integers (two and three
	// classes), 0 for float32 slots.
	quantum float64
	// prefetch: the table is over prefetchMinBytes, and sum prefetches
	// every slot of a document before it adds (sumPrefetched).
	prefetch bool
}

const (
	// perfectKeysPerBucket is the mean bucket size: pilots cost 2/3 of a
	// byte per key. Larger buckets are harder to place: the shipped
	// model's 120,000 keys build in about 8 ms at 3 and 11 ms at 4.
	perfectKeysPerBucket = 3
	// perfectLoad is keys per slot. Fuller means a smaller table but a
	// longer pilot search for the last buckets.
	perfectLoad = 0.9
	// perfectMaxBucket bounds a bucket; keys that crowd one bucket past it
	// (never seen with feature hashes) make the build retry with another
	// seed.
	perfectMaxBucket = 64
	pilotMul         = 0x9e3779b97f4a7c15
	slotMul          = 0xbf58476d1ce4e5b9
)

// bucketOf and slotOf are the two hash steps on a mixed key x. Both map a
// uniform 64-bit value onto [0, n) with the high half of a 128-bit
// product, without a division (Lemire's fastrange); slotOf first mixes the
// pilot into x, so each pilot gives a bucket's keys new slots.
func bucketOf(x, buckets uint64) uint64 {
	hi, _ := bits.Mul64(x, buckets)
	return hi
}

func slotOf(x, pilot, slots uint64) uint64 {
	hi, _ := bits.Mul64((x^pilot*pilotMul)*slotMul, slots)
	return hi
}

// buildPerfect lays out keys (distinct, non-zero) with their k weights
// per row. It is deterministic: the same rows give the same table.
func buildPerfect(keys []uint64, weights []float32, k int) (perfectTable, error) {
	slots := uint64(float64(len(keys))/perfectLoad) + 1
	// Whether to pack depends on the weights alone: decided once, not
	// per attempt.
	var quantum float64
	if q := packQuantum(weights, k); k <= 3 && q <= packMaxQuantum {
		quantum = q
	}
	for attempt := uint64(0); attempt < 8; attempt++ {
		// A new odd multiplier per attempt, and more room every other
		// attempt. Feature hashes are uniform and build at the first.
		seed := fmix64(attempt+1) | 1
		if t, ok := tryPerfect(keys, weights, k, seed, slots, quantum); ok {
			return t, nil
		}
		if attempt%2 == 1 {
			slots += slots / 8
		}
	}
	return perfectTable{}, fmt.Errorf("lookup table: no perfect hash found for %d feature keys", len(keys))
}

func tryPerfect(keys []uint64, weights []float32, k int, seed, slots uint64, quantum float64) (perfectTable, bool) {
	n := len(keys)
	buckets := uint64(n/perfectKeysPerBucket) + 1
	// Group the mixed keys by bucket (a counting sort), then place the
	// largest buckets first, while most slots are still free.
	start := make([]int32, buckets+1)
	for _, f := range keys {
		start[bucketOf(f*seed, buckets)+1]++
	}
	for b := uint64(1); b <= buckets; b++ {
		if start[b] > perfectMaxBucket {
			return perfectTable{}, false
		}
		start[b] += start[b-1]
	}
	grouped := make([]uint64, n)
	next := slices.Clone(start[:buckets])
	for _, f := range keys {
		x := f * seed
		b := bucketOf(x, buckets)
		grouped[next[b]] = x
		next[b]++
	}
	// Buckets by size, largest first, ties in bucket order: a counting
	// sort, since no bucket holds more than perfectMaxBucket keys.
	var first [perfectMaxBucket + 2]int32
	for b := uint64(0); b < buckets; b++ {
		first[perfectMaxBucket-(start[b+1]-start[b])+1]++
	}
	for i := 1; i < len(first); i++ {
		first[i] += first[i-1]
	}
	order := make([]int32, buckets)
	for b := uint64(0); b < buckets; b++ {
		i := perfectMaxBucket - (start[b+1] - start[b])
		order[first[i]] = int32(b)
		first[i]++
	}

	// taken is a bitmap of the slots: 8 times smaller than a []bool, so
	// it stays in a core's nearest caches through the search.
	taken := make([]uint64, (slots+63)/64)
	pilots := make([]uint16, buckets)
	var claimed [perfectMaxBucket]uint64
	for _, b := range order {
		members := grouped[start[b]:start[b+1]]
		if len(members) == 0 {
			break // sorted by size: the rest are empty too
		}
		found := false
		for p := uint64(0); p <= math.MaxUint16 && !found; p++ {
			found = true
			for i, x := range members {
				s := slotOf(x, p, slots)
				if taken[s/64]&(1<<(s%64)) != 0 { // another key's, or this bucket's
					for _, c := range claimed[:i] {
						taken[c/64] &^= 1 << (c % 64)
					}
					found = false
					break
				}
				taken[s/64] |= 1 << (s % 64)
				claimed[i] = s
			}
			if found {
				pilots[b] = uint16(p)
			}
		}
		if !found {
			return perfectTable{}, false
		}
	}

	stride := slotStride(k)
	if quantum != 0 {
		stride = 2
	}
	t := perfectTable{seed: seed, pilots: pilots, buckets: buckets, slots: slots, stride: stride,
		words: make([]uint32, int(slots+1)*stride), quantum: quantum}
	t.prefetch = len(t.words)*4 > prefetchMinBytes
	inv := 1 / quantum // a multiply per weight rather than a division
	for row, f := range keys {
		base := int(t.slot(f)) * stride
		t.words[base] = fingerprint(f * seed)
		if quantum != 0 {
			t.words[base+1] = packDiffs(weights[row*k:row*k+k], inv)
			continue
		}
		for c := 0; c < k; c++ {
			t.words[base+1+c] = math.Float32bits(weights[row*k+c])
		}
	}
	return t, true
}

// packMaxQuantum bounds the step of a packed table: a weight is off by at
// most half of it. Naive-Bayes weights spread over a few units (the
// shipped model's largest difference is 3.7, a step of 1.1e-4); a model
// whose differences span more than 32 (three classes) keeps float32
// slots instead of losing precision everywhere.
const packMaxQuantum = 1.0 / 1024

// packLimit is the largest packed difference for k classes: 16 bits each
// for three classes, 32 for two.
func packLimit(k int) float64 {
	if k == 2 {
		return math.MaxInt32
	}
	return math.MaxInt16
}

// packQuantum is the fixed-point step of a packed table: the largest
// difference of a class's weight from class 0's maps to packLimit.
func packQuantum(weights []float32, k int) float64 {
	var most float64
	for r := 0; r < len(weights); r += k {
		for c := 1; c < k; c++ {
			most = max(most, math.Abs(float64(weights[r+c])-float64(weights[r])))
		}
	}
	if most == 0 {
		return packMaxQuantum // any step keeps zeros
	}
	return most / packLimit(k)
}

// packDiffs packs the differences w[c]-w[0] in steps of 1/inv; unpack3
// reads a three-class slot back, int32(d) a two-class one.
func packDiffs(w []float32, inv float64) uint32 {
	d := func(c int) int64 { return int64(math.Round((float64(w[c]) - float64(w[0])) * inv)) }
	if len(w) == 2 {
		return uint32(int32(d(1)))
	}
	return uint32(uint16(int16(d(1)))) | uint32(uint16(int16(d(2))))<<16
}

// unpack3 returns the two differences a three-class packed slot holds.
func unpack3(d uint32) (int64, int64) { return int64(int16(d)), int64(int32(d) >> 16) }

// slotStride is the 32-bit words of a slot for k classes: a fingerprint
// and k weights, rounded up to 4, 8 or a multiple of 16 so that slots,
// from a line-aligned start, never straddle a cache line. Go's allocator
// aligns the large tables this matters for to a page.
func slotStride(k int) int {
	n := 1 + k
	if n > 16 {
		return (n + 15) / 16 * 16
	}
	p := 4
	for p < n {
		p *= 2
	}
	return p
}

// fingerprint is the part of a key a slot keeps: the high 32 bits of the
// key mixed by the seed (x), which depend on every bit of the key, so
// keys that differ only in their low bits get different ones. Two keys
// share a slot only when their x's high bits agree: a uniform x does so
// with probability 2^-32 whichever slot it lands on.
func fingerprint(x uint64) uint32 { return uint32(x >> 32) }

// slot is where key f lives if it is in the table.
func (t *perfectTable) slot(f uint64) uint64 {
	return homeSlot(f, t.seed, t.buckets, t.slots, t.pilots)
}

// homeSlot is slot on the table's fields: the key mixed by the seed, its
// bucket's pilot, and the slot they give.
func homeSlot(f, seed, buckets, slots uint64, pilots []uint16) uint64 {
	x := f * seed
	return slotOf(x, uint64(pilots[bucketOf(x, buckets)]), slots)
}

// orZero is slot i when fp, the fingerprint stored there, is that of the
// feature whose mixed key is x, and otherwise the zero slot (index slots),
// picked by arithmetic rather than a branch.
func orZero(i uint64, fp uint32, x, slots uint64) uint64 {
	d := uint64(fp ^ fingerprint(x))
	return i ^ (i^slots)&uint64(int64(d|-d)>>63) // d != 0: all ones
}

// find returns the slot of f, or the zero slot (index t.slots) when f is
// not a feature of the model, without a branch on the table's contents.
// sum's loops do the same with the table's fields in registers.
func (t *perfectTable) find(f uint64) uint64 {
	i := t.slot(f)
	return orZero(i, t.words[int(i)*t.stride], f*t.seed, t.slots)
}

// sum adds the weights of s.feats to the running class sums: a0..a2 for
// two or three classes, scores itself for more (see Model.score). With
// binary set, each of the first dedup features counts once per document.
// A packed table adds to a1 and a2 the weights' differences from class
// 0's and leaves a0 as it was.
//
// Features are de-duplicated on the key rather than the slot: the seen
// set's branches then wait on nothing, while the slot is likely a cache
// miss away. Each class count has a loop of its own, which keeps the
// table's fields in registers; each looks a feature up as find does.
func (t *perfectTable) sum(s *Scratch, scores []float64, binary bool, dedup int, a0, a1, a2 float64) (float64, float64, float64) {
	seed, pilots, buckets, slots, words := t.seed, t.pilots, t.buckets, t.slots, t.words
	if !binary {
		dedup = 0
	}
	if t.prefetch {
		return t.sumPrefetched(s, scores, dedup, a0, a1, a2)
	}
	if t.quantum != 0 {
		i1, i2 := t.sumPacked(s, len(scores), dedup)
		return a0, a1 + float64(i1)*t.quantum, a2 + float64(i2)*t.quantum
	}
	switch len(scores) {
	case 2:
		for j, f := range s.feats {
			if j < dedup && !s.firstSightKey(f) {
				continue
			}
			i := homeSlot(f, seed, buckets, slots, pilots)
			i = orZero(i, words[4*i], f*seed, slots)
			w := words[4*i+1 : 4*i+3 : 4*i+3]
			a0 += float64(math.Float32frombits(w[0]))
			a1 += float64(math.Float32frombits(w[1]))
		}
	case 3:
		for j, f := range s.feats {
			if j < dedup && !s.firstSightKey(f) {
				continue
			}
			i := homeSlot(f, seed, buckets, slots, pilots)
			i = orZero(i, words[4*i], f*seed, slots)
			w := words[4*i+1 : 4*i+4 : 4*i+4]
			a0 += float64(math.Float32frombits(w[0]))
			a1 += float64(math.Float32frombits(w[1]))
			a2 += float64(math.Float32frombits(w[2]))
		}
	default:
		stride := t.stride
		for j, f := range s.feats {
			if j < dedup && !s.firstSightKey(f) {
				continue
			}
			i := homeSlot(f, seed, buckets, slots, pilots)
			base := int(orZero(i, words[int(i)*stride], f*seed, slots))*stride + 1
			for c := range scores {
				scores[c] += float64(math.Float32frombits(words[base+c]))
			}
		}
	}
	return a0, a1, a2
}

// sumPrefetched is sum for tables larger than the nearest caches: a first
// pass finds every feature's slot, prefetchSlots asks for them all, so the
// misses of a whole document overlap rather than the few the CPU's window
// holds, and the second pass checks the fingerprints and adds.
func (t *perfectTable) sumPrefetched(s *Scratch, scores []float64, dedup int, a0, a1, a2 float64) (float64, float64, float64) {
	seed, pilots, buckets, slots, words, stride := t.seed, t.pilots, t.buckets, t.slots, t.words, t.stride
	if cap(s.slots) < len(s.feats) {
		s.slots = make([]uint64, len(s.feats), 2*len(s.feats))
	}
	at := s.slots[:len(s.feats)]
	for j, f := range s.feats {
		at[j] = homeSlot(f, seed, buckets, slots, pilots)
	}
	s.sink = prefetchSlots(words, at, stride)
	if t.quantum != 0 {
		i1, i2 := t.addPacked(s, at, len(scores), dedup)
		return a0, a1 + float64(i1)*t.quantum, a2 + float64(i2)*t.quantum
	}
	for j, f := range s.feats {
		if j < dedup && !s.firstSightKey(f) {
			continue
		}
		i := orZero(at[j], words[int(at[j])*stride], f*seed, slots)
		base := int(i)*stride + 1
		switch len(scores) {
		case 2:
			w := words[base : base+2 : base+2]
			a0 += float64(math.Float32frombits(w[0]))
			a1 += float64(math.Float32frombits(w[1]))
		case 3:
			w := words[base : base+3 : base+3]
			a0 += float64(math.Float32frombits(w[0]))
			a1 += float64(math.Float32frombits(w[1]))
			a2 += float64(math.Float32frombits(w[2]))
		default:
			for c := range scores {
				scores[c] += float64(math.Float32frombits(words[base+c]))
			}
		}
	}
	return a0, a1, a2
}

// sumPacked is sum's loop for a packed table of k (2 or 3) classes: it
// returns the integer sums of the differences from class 0 (for three
// classes, class 1's and class 2's; for two, class 1's and 0). A function
// of its own, so that the accumulators and the table's fields stay in
// registers: inside sum, beside the float32 loops, they were spilled to
// the stack on every feature.
func (t *perfectTable) sumPacked(s *Scratch, k, dedup int) (i1, i2 int64) {
	seed, pilots, buckets, slots, words := t.seed, t.pilots, t.buckets, t.slots, t.words
	if k == 2 {
		for j, f := range s.feats {
			if j < dedup && !s.firstSightKey(f) {
				continue
			}
			i := homeSlot(f, seed, buckets, slots, pilots)
			i = orZero(i, words[2*i], f*seed, slots)
			i1 += int64(int32(words[2*i+1]))
		}
		return i1, 0
	}
	for j, f := range s.feats {
		if j < dedup && !s.firstSightKey(f) {
			continue
		}
		i := homeSlot(f, seed, buckets, slots, pilots)
		i = orZero(i, words[2*i], f*seed, slots)
		d1, d2 := unpack3(words[2*i+1])
		i1 += d1
		i2 += d2
	}
	return i1, i2
}

// addPacked is sumPacked with every feature's home slot already found
// (at[j] for s.feats[j]), after sumPrefetched's prefetch.
func (t *perfectTable) addPacked(s *Scratch, at []uint64, k, dedup int) (i1, i2 int64) {
	seed, slots, words := t.seed, t.slots, t.words
	at = at[:len(s.feats)]
	if k == 2 {
		for j, f := range s.feats {
			if j < dedup && !s.firstSightKey(f) {
				continue
			}
			i := orZero(at[j], words[2*at[j]], f*seed, slots)
			i1 += int64(int32(words[2*i+1]))
		}
		return i1, 0
	}
	for j, f := range s.feats {
		if j < dedup && !s.firstSightKey(f) {
			continue
		}
		i := orZero(at[j], words[2*at[j]], f*seed, slots)
		d1, d2 := unpack3(words[2*i+1])
		i1 += d1
		i2 += d2
	}
	return i1, i2
}
