package classifier

import (
	"cmp"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/capastan/capastan/internal/corpora"
)

func loadExamples(tb testing.TB, rel string, max int) []Example {
	var out []Example
	_, err := ReadExamples(filepath.Join(corpora.ForTest(tb), rel), DataOptions{}, func(ex Example) error {
		if max <= 0 || len(out) < max {
			out = append(out, ex)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

var benchModels struct {
	sync.Mutex
	m map[string]*Model
}

// benchModel trains (once per process) a model on a corpus's train split.
func benchModel(b *testing.B, name string, cfg Config, train ...string) *Model {
	benchModels.Lock()
	defer benchModels.Unlock()
	if m := benchModels.m[name]; m != nil {
		return m
	}
	t, err := NewTrainer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, rel := range train {
		for _, ex := range loadExamples(b, rel, 0) {
			if err := t.Add(ex.Text, ex.Label); err != nil {
				b.Fatal(err)
			}
		}
	}
	m, err := t.Model(Metadata{Name: name})
	if err != nil {
		b.Fatal(err)
	}
	if benchModels.m == nil {
		benchModels.m = map[string]*Model{}
	}
	benchModels.m[name] = m
	return m
}

func textsBytes(ex []Example) (texts []string, n int64) {
	for _, e := range ex {
		texts = append(texts, e.Text)
		n += int64(len(e.Text))
	}
	return texts, n
}

// reportDocs sets bytes per op to the mean document size, so "MB/s" is
// throughput, and adds docs/s.
func reportDocs(b *testing.B, texts []string, total int64) {
	b.SetBytes(total / int64(len(texts)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkTokenizeIMDB is the floor classify is compared with: the same
// bytes through the tokenizer alone.
func BenchmarkTokenizeIMDB(b *testing.B) {
	texts, total := textsBytes(loadExamples(b, "imdb/test.jsonl", 5000))
	cfg := DefaultTokenizerConfig()
	// Build the lexicon here, once, not inside the first tokenize call,
	// where bench/ir.sh would count it as part of every review.
	if _, err := lexiconFor(cfg.Lexicon); err != nil {
		b.Fatal(err)
	}
	var s Scratch
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.tokenize(&cfg, texts[i%len(texts)])
	}
	reportDocs(b, texts, total)
}

func benchClassify(b *testing.B, m *Model, rel string) {
	texts, total := textsBytes(loadExamples(b, rel, 5000))
	var p Prediction
	m.ClassifyTo(&p, texts[0])
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.ClassifyTo(&p, texts[i%len(texts)])
	}
	reportDocs(b, texts, total)
}

// BenchmarkClassifyIMDBDefaultModel classifies IMDB test reviews with the
// shipped model (../models/default.cpst): the production path.
func BenchmarkClassifyIMDBDefaultModel(b *testing.B) {
	m, err := Load(filepath.Join("..", "models", "default.cpst"))
	if err != nil {
		b.Fatal(err)
	}
	benchClassify(b, m, "imdb/test.jsonl")
}

// BenchmarkClassifyIMDBDefaultLookup splits the shipped model's cost on
// IMDB reviews between its lookup table's cache misses and the rest of
// an exact lookup:
//   - exact/rows=all is the shipped model (a 1.02 MiB packed table);
//   - exact/rows=8192 is the same model cut to its 8,192 rows of highest
//     weight (the most frequent features): a 71 KiB table that stays in
//     a core's L2 cache, looked up by the same code;
//   - exact/rows=65536, cut to 65,536 rows: a 569 KiB table, between
//     the prefetch threshold and a core's L2 size;
//   - hashed/bits=16 is the shipped configuration trained on the same data
//     with 2^16 hashed buckets: the same tokenizer and three classes, each
//     feature's row found by masking its hash, with no key to compare.
func BenchmarkClassifyIMDBDefaultLookup(b *testing.B) {
	m, err := Load(filepath.Join("..", "models", "default.cpst"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("exact/rows=all", func(b *testing.B) { benchClassify(b, m, "imdb/test.jsonl") })
	b.Run("exact/rows=8192", func(b *testing.B) { benchClassify(b, topRows(b, m, 8192), "imdb/test.jsonl") })
	b.Run("exact/rows=65536", func(b *testing.B) { benchClassify(b, topRows(b, m, 65536), "imdb/test.jsonl") })
	b.Run("hashed/bits=16", func(b *testing.B) {
		cfg := m.Config()
		cfg.HashBits = 16
		h := benchModel(b, "default-hash-16", cfg, "semeval2017-task4a/train.jsonl", "sst5/train.jsonl")
		benchClassify(b, h, "imdb/test.jsonl")
	})
}

// topRows returns m cut to its n rows of highest maximum weight.
func topRows(b *testing.B, m *Model, n int) *Model {
	k := len(m.classes)
	heaviest := func(r int) float32 { return slices.Max(m.weights[r*k : r*k+k]) }
	rows := make([]int, len(m.keys))
	for r := range rows {
		rows[r] = r
	}
	slices.SortStableFunc(rows, func(x, y int) int { return cmp.Compare(heaviest(y), heaviest(x)) })
	rows = rows[:n]
	slices.Sort(rows) // keys stay ascending
	var keys []uint64
	var weights []float32
	var vocab []string
	for _, r := range rows {
		keys = append(keys, m.keys[r])
		weights = append(weights, m.weights[r*k:r*k+k]...)
		vocab = append(vocab, m.vocab[r])
	}
	cut, err := newModel(m.cfg, m.classes, m.logPrior, keys, weights, vocab, m.meta)
	if err != nil {
		b.Fatal(err)
	}
	return cut
}

// BenchmarkClassifyIMDB classifies IMDB test reviews (tokenize, score,
// probabilities) with the best IMDB configuration (uni+bi+trigrams).
func BenchmarkClassifyIMDB(b *testing.B) {
	cfg := DefaultConfig()
	cfg.NGrams = 3
	cfg.MinDF = 2
	benchClassify(b, benchModel(b, "imdb-tri", cfg, "imdb/train.jsonl"), "imdb/test.jsonl")
}

// BenchmarkClassifyIMDBBigram is the same with the default uni+bigrams.
func BenchmarkClassifyIMDBBigram(b *testing.B) {
	benchClassify(b, benchModel(b, "imdb-bi", DefaultConfig(), "imdb/train.jsonl"), "imdb/test.jsonl")
}

// BenchmarkClassifyIMDBHashed uses hashed buckets instead of a vocabulary:
// 2^20 (the accuracy of the exact vocabulary within half a point, a table
// larger than the caches), 2^16 (512 KiB of weights, which stay in a
// core's L2 cache: the fastest useful configuration, 1.6 points less
// accurate) and 2^10 (12 KiB, in L1, far less accurate: what classify
// costs with no cache misses at all).
func BenchmarkClassifyIMDBHashed(b *testing.B) {
	for _, bits := range []int{20, 16, 10} {
		b.Run(fmt.Sprintf("bits=%d", bits), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.HashBits = bits
			benchClassify(b, benchModel(b, fmt.Sprintf("imdb-hash-%d", bits), cfg, "imdb/train.jsonl"), "imdb/test.jsonl")
		})
	}
}

// BenchmarkClassifyTweets classifies SemEval test tweets.
func BenchmarkClassifyTweets(b *testing.B) {
	benchClassify(b, benchModel(b, "semeval", DefaultConfig(), "semeval2017-task4a/train.jsonl"), "semeval2017-task4a/test.jsonl")
}

// BenchmarkClassifyIMDBParallel shows how classify scales with GOMAXPROCS
// (run with -cpu 1,2).
func BenchmarkClassifyIMDBParallel(b *testing.B) {
	m := benchModel(b, "imdb-bi", DefaultConfig(), "imdb/train.jsonl")
	texts, total := textsBytes(loadExamples(b, "imdb/test.jsonl", 5000))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var p Prediction
		i := 0
		for pb.Next() {
			m.ClassifyTo(&p, texts[i%len(texts)])
			i++
		}
	})
	reportDocs(b, texts, total)
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// BenchmarkTrainIMDB trains on the 25,000 IMDB training reviews.
func BenchmarkTrainIMDB(b *testing.B) {
	ex := loadExamples(b, "imdb/train.jsonl", 0)
	_, total := textsBytes(ex)
	b.SetBytes(total)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		t, _ := NewTrainer(DefaultConfig())
		for _, e := range ex {
			if err := t.Add(e.Text, e.Label); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := t.Model(Metadata{}); err != nil {
			b.Fatal(err)
		}
	}
}
