//go:build !amd64

package classifier

// prefetchMinBytes is the table size from which sum prefetches. With
// plain loads for a prefetch, the pass only pays on tables far past the
// caches: on amd64 it cost the shipped model's 2 MiB table 7.9%.
const prefetchMinBytes = 8 << 20

// prefetchSlots touches slot at[j] of words for every j and returns the
// sum of the words read, for the caller to keep so that the loads stay.
// Without a prefetch instruction a load is the nearest thing, though it
// holds its place in the reorder window until the data arrives (see
// prefetch_amd64.go).
func prefetchSlots(words []uint32, at []uint64, stride int) uint32 {
	var sink uint32
	for _, i := range at {
		sink += words[int(i)*stride]
	}
	return sink
}
