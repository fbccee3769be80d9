package classifier

// prefetchMinBytes is the table size from which sum prefetches: half a
// core's L2 (1 MiB here), since the table shares it with the text, the
// tokenizer's buffers and the pilots. PREFETCHT0 pays on tables in DRAM,
// cost nothing on the shipped model's float32 table (2 MiB, in L3), takes
// 22% off its packed table (1.02 MiB) and 12% off that model cut to a
// 569 KiB table, each against the same table without the pass; on a
// 71 KiB table, in cache, it costs 3% (BENCHMARKS.md).
const prefetchMinBytes = 512 << 10

// prefetchSlots asks the CPU to start loading slot at[j] of words (slots
// of stride words) for every j, and returns without waiting for them:
// PREFETCHT0 retires at once, where a plain load of the same address
// holds its place in the reorder window until the data arrives, so a
// whole document's misses are in flight together. Go has no prefetch the
// compiler will emit, hence the assembly: one call per document, not per
// feature. The result is always 0 here (see prefetch_other.go).
//
//go:noescape
func prefetchSlots(words []uint32, at []uint64, stride int) uint32
