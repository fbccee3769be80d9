// Command e2e measures the worker end to end on a real Kafka broker: a
// backlog of review events on the input topic, the time until every one is
// labeled on the output topic, beside a pass-through pipe (the same
// consume-produce loop with the same settings, no decode or classify) run
// on the same backlog. Run it through bench/e2e.sh, which starts the broker.
//
//	go run ./bench/e2e -brokers 127.0.0.1:29092 -records 200000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/consumer"
	"github.com/capastan/capastan/internal/kafkaconn"
	"github.com/capastan/capastan/metrics"
	"github.com/capastan/capastan/models"
)

var words = strings.Fields("the battery lasts all day and the screen is bright but the speaker is weak for the price it is fine overall would buy again not worth it great value terrible support")

func main() {
	brokers := flag.String("brokers", "127.0.0.1:29092", "Kafka brokers")
	records := flag.Int("records", 200000, "backlog size")
	runs := flag.String("runs", "pipe:at-least-once:1:6,capastan:at-least-once:1:6,pipe:exactly-once:1:6,capastan:exactly-once:1:6", "runs: kind:delivery:workers:partitions,...")
	flag.IntVar(&maxPoll, "max-poll-records", consumer.DefaultConfig().MaxPollRecords, "records per batch")
	latencyRate := flag.Int("latency-rate", 0, "if > 0, also measure latency at this input rate (records/s) for 20 s per delivery mode")
	latencyModes := flag.String("latency-delivery", consumer.AtLeastOnce+","+consumer.ExactlyOnce, "delivery modes the latency is measured for")
	warmup := flag.Int("warmup", 50000, "records drained by an unreported pipe run before the measured ones (0: none)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (harness, workers) to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	bs := strings.Split(*brokers, ",")
	model, err := models.Default()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("records %d, GOMAXPROCS %d\n", *records, runtime.GOMAXPROCS(0))
	if *warmup > 0 {
		// A fresh broker's JVM is still compiling its hot paths: the first
		// run after a start is slow, whichever it is. Without this the
		// pipe, listed first, ran on a cold broker and looked slower than
		// it is.
		drain(bs, fill(bs, *warmup, 6), "pipe", consumer.AtLeastOnce, 1, 6, *warmup, model, false)
	}
	for _, spec := range strings.Split(*runs, ",") {
		var kind, delivery string
		var workers, partitions int
		if _, err := fmt.Sscanf(strings.ReplaceAll(spec, ":", " "), "%s %s %d %d", &kind, &delivery, &workers, &partitions); err != nil {
			log.Fatalf("run %q: %v", spec, err)
		}
		in := fill(bs, *records, partitions)
		secs := drain(bs, in, kind, delivery, workers, partitions, *records, model, true)
		fmt.Printf("%-8s %-13s workers %d partitions %2d: %7.0f records/s (%.2f s)\n", kind, delivery, workers, partitions, float64(*records)/secs, secs)
	}
	if *latencyRate > 0 {
		for _, d := range strings.Split(*latencyModes, ",") {
			p50, p99 := latency(bs, d, *latencyRate, model)
			fmt.Printf("latency %-13s at %d records/s: p50 %s p99 %s\n", d, *latencyRate, p50, p99)
		}
	}
}

var (
	seq     int
	maxPoll int
)

func newTopic(bs []string, prefix string, partitions int) string {
	seq++
	name := fmt.Sprintf("e2e-%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq)
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs...))
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopics(context.Background(), int32(partitions), 1, nil, name)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		log.Fatal(err)
	}
	return name
}

func event(i int, r *rand.Rand) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"review_id":"r%d","product_id":"p%d","rating":%d,"text":"`, i, i%1000, i%5+1)
	for j := 0; j < 36; j++ {
		if j > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	b.WriteString(`"}`)
	return []byte(b.String())
}

// fill creates an input topic holding n events (~300 bytes each).
func fill(bs []string, n, partitions int) string {
	in := newTopic(bs, "in", partitions)
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs...), kgo.DefaultProduceTopic(in), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	r := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Key: []byte(fmt.Sprintf("p%d", i%1000)), Value: event(i, r)}, func(_ *kgo.Record, err error) {
			if err != nil {
				log.Fatal(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	return in
}

func config(bs []string, in, out, delivery, group, txid string, pipe bool) consumer.Config {
	cfg := consumer.DefaultConfig()
	cfg.Conn = kafkaconn.Config{Brokers: bs}
	cfg.InputTopic, cfg.OutputTopic, cfg.DeadLetterTopic = in, out, out+"-dlq"
	cfg.Group, cfg.Delivery, cfg.TransactionalID, cfg.Passthrough = group, delivery, txid, pipe
	cfg.MaxPollRecords = maxPoll
	return cfg
}

// drain runs the workers on the backlog and returns the seconds until the
// output topic holds every record (committed, for exactly-once).
func drain(bs []string, in, kind, delivery string, workers, partitions, n int, model *classifier.Model, report bool) float64 {
	out := newTopic(bs, "out", partitions)
	newTopic(bs, "dlq", 1) // unused name; the worker's DLQ topic is out+"-dlq" below
	cl, _ := kgo.NewClient(kgo.SeedBrokers(bs...))
	kadm.NewClient(cl).CreateTopics(context.Background(), 1, 1, nil, out+"-dlq")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// One metrics set for the run's workers: printStages reports where
	// their batches spent their time.
	set := metrics.New()
	set.Model.SetModel(model)
	if report {
		defer printStages(set, kind+" "+delivery)
	}
	start := time.Now()
	for i := 0; i < workers; i++ {
		w, err := consumer.New(config(bs, in, out, delivery, "g-"+out, fmt.Sprintf("tx-%s-%d", out, i), kind == "pipe"), model, quiet, consumer.WithMetrics(set))
		if err != nil {
			log.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	adm := kadm.NewClient(cl)
	for {
		ends, err := adm.ListEndOffsets(context.Background(), out)
		var total int64
		if err == nil {
			ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
		}
		// With transactions each batch adds a commit marker to every
		// partition it wrote: count records by consuming instead.
		if delivery == consumer.AtLeastOnce && total >= int64(n) {
			break
		}
		if delivery == consumer.ExactlyOnce && total >= int64(n) && committed(bs, out) >= n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	secs := time.Since(start).Seconds()
	cancel()
	wg.Wait()
	cl.Close()
	return secs
}

// committed counts the read_committed records of topic.
func committed(bs []string, topic string) int {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bs...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()
	n := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		f := cl.PollFetches(ctx)
		cancel()
		got := f.NumRecords()
		n += got
		if got == 0 {
			return n
		}
	}
}

// latency feeds events at rate for 20 s to a running worker and returns the
// p50 and p99 of output timestamp minus input timestamp.
func latency(bs []string, delivery string, rate int, model *classifier.Model) (time.Duration, time.Duration) {
	in, out := newTopic(bs, "lin", 6), newTopic(bs, "lout", 6)
	cl, _ := kgo.NewClient(kgo.SeedBrokers(bs...))
	kadm.NewClient(cl).CreateTopics(context.Background(), 1, 1, nil, out+"-dlq")
	cl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	set := metrics.New()
	set.Model.SetModel(model)
	w, err := consumer.New(config(bs, in, out, delivery, "g-"+out, "tx-"+out, false), model, slog.New(slog.NewTextHandler(io.Discard, nil)), consumer.WithMetrics(set))
	if err != nil {
		log.Fatal(err)
	}
	defer printStages(set, delivery)
	go w.Run(ctx)
	for i := 0; !w.Ready() && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let the group settle
	prod, _ := kgo.NewClient(kgo.SeedBrokers(bs...), kgo.DefaultProduceTopic(in), kgo.ProducerLinger(0))
	defer prod.Close()
	r := rand.New(rand.NewPCG(3, 4))
	const dur = 20 * time.Second
	n := int(dur.Seconds()) * rate
	sent := make([]int64, n) // unix nanoseconds each review was handed to the producer
	go func() {
		start := time.Now()
		for i := 0; i < n; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); wait > 0 {
				time.Sleep(wait)
			}
			v := event(i, r)
			now := time.Now()
			atomicStore(&sent[i], now.UnixNano())
			prod.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprintf("p%d", i%1000)), Value: v, Timestamp: now}, nil)
		}
	}()
	cons, _ := kgo.NewClient(kgo.SeedBrokers(bs...), kgo.ConsumeTopics(out), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(10*time.Millisecond))
	defer cons.Close()
	// Latency: from handing the review to the producer to seeing its label
	// as a read_committed reader, so exactly-once pays for its commits.
	// stamp: the definition, the labeled record's timestamp (set
	// when the worker produces it) minus the review's.
	var lat, stamp []time.Duration
	deadline := time.Now().Add(dur + 30*time.Second)
	for len(lat) < n && time.Now().Before(deadline) {
		f := cons.PollFetches(ctx)
		now := time.Now().UnixNano()
		f.EachRecord(func(rec *kgo.Record) {
			var i int
			if k := strings.Index(string(rec.Value), `"review_id":"r`); k >= 0 {
				fmt.Sscanf(string(rec.Value[k+len(`"review_id":"r`):]), "%d", &i)
				sentAt := atomicLoad(&sent[i])
				lat = append(lat, time.Duration(now-sentAt))
				stamp = append(stamp, time.Duration(rec.Timestamp.UnixNano()-sentAt))
			}
		})
	}
	if len(lat) == 0 {
		return 0, 0
	}
	q := func(d []time.Duration) (time.Duration, time.Duration) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2].Round(100 * time.Microsecond), d[len(d)*99/100].Round(100 * time.Microsecond)
	}
	s50, s99 := q(stamp)
	fmt.Printf("  %s: record timestamp to result timestamp p50 %s p99 %s\n", delivery, s50, s99)
	return q(lat)
}

// printStages prints the worker's mean batch size and mean time per batch
// in each stage, from its metrics: where the latency goes.
func printStages(set *metrics.Set, delivery string) {
	mfs, err := set.Registry.Gather()
	if err != nil {
		return
	}
	out := delivery + ":"
	for _, mf := range mfs {
		switch mf.GetName() {
		case "capastan_stage_duration_seconds", "capastan_batch_records":
			for _, m := range mf.GetMetric() {
				h := m.GetHistogram()
				if h.GetSampleCount() == 0 {
					continue
				}
				name := "batch"
				for _, l := range m.GetLabel() {
					name = l.GetValue()
				}
				mean := h.GetSampleSum() / float64(h.GetSampleCount())
				if name == "batch" {
					out += fmt.Sprintf(" %d batches of %.0f records;", h.GetSampleCount(), mean)
				} else {
					out += fmt.Sprintf(" %s %.2f ms;", name, mean*1000)
				}
			}
		}
	}
	fmt.Println("  stages per batch (mean), " + out)
}

func atomicStore(p *int64, v int64) { atomic.StoreInt64(p, v) }
func atomicLoad(p *int64) int64     { return atomic.LoadInt64(p) }
