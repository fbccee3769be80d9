package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/capastan/capastan/internal/kafkaconn"
)

// runDev is the embedded default a newcomer runs first: an in-process
// Kafka-compatible broker (franz-go's kfake) on loopback with the topics
// created, and the worker with the built-in model, until interrupted.
// Nothing to install, nothing kept on disk. It ignores CAPASTAN_*
// variables, so a production environment cannot leak into it.
func runDev(ctx context.Context, args []string, sio stdio) error {
	stdout := sio.out
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	s := defaultServeSettings()
	s.LogFormat = "text"
	s.HTTP.Addr = "127.0.0.1:8080"
	var port, partitions int
	fs.IntVar(&port, "port", 9092, "broker port on 127.0.0.1")
	fs.IntVar(&partitions, "partitions", 6, "partitions of the input and output topics")
	registerWorkerFlags(fs, &s)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if port < 1 || port > 65535 || partitions < 1 {
		return fmt.Errorf("-port must be 1-65535 and -partitions at least 1")
	}
	log, err := newLogger(&s, sio)
	if err != nil {
		return err
	}
	model, err := loadModel(s.Model)
	if err != nil {
		return err
	}
	w := &s.Worker
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port),
		kfake.SeedTopics(int32(partitions), w.InputTopic, w.OutputTopic), kfake.SeedTopics(1, w.DeadLetterTopic))
	if err != nil {
		return fmt.Errorf("start the in-process broker on 127.0.0.1:%d: %w", port, err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	w.Conn = kafkaconn.Config{Brokers: []string{addr}}
	fmt.Fprintf(stdout, `capastan dev: in-process Kafka broker on %s, worker (%s) with model %s
  topics: %s -> %s, bad records -> %s

Try, in another terminal:
  capastan produce --brokers %s --file docs/sample-reviews.jsonl
  capastan tail    --brokers %s --topic %s
  curl -s http://%s/predict -d '{"text": "the battery lasts all day and the screen is gorgeous"}'
  open  http://%s/ in a browser; metrics at http://%s/metrics

Ctrl-C stops it; nothing is kept.
`, addr, w.Delivery, model.Metadata().Name, w.InputTopic, w.OutputTopic, w.DeadLetterTopic, addr, addr, w.OutputTopic, s.HTTP.Addr, s.HTTP.Addr, s.HTTP.Addr)
	s.HTTP.MaxTextBytes = w.MaxTextBytes
	return serveAll(ctx, &s, model, log)
}
