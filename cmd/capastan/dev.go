package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
)

// runDev starts the embedded development stack: an in-process
// Kafka-compatible broker (franz-go's kfake) on loopback with the topics
// created, until interrupted. Nothing to install, nothing kept on disk.
func runDev(ctx context.Context, args []string, sio stdio) error {
	stdout, stderr := sio.out, sio.err
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		port                   int
		partitions             int
		input, output, deadLtr string
	)
	fs.IntVar(&port, "port", 9092, "broker port on 127.0.0.1")
	fs.IntVar(&partitions, "partitions", 6, "partitions of the input and output topics")
	fs.StringVar(&input, "topic", "reviews", "input topic")
	fs.StringVar(&output, "output-topic", "reviews.labeled", "output topic")
	fs.StringVar(&deadLtr, "dlq-topic", "reviews.dlq", "dead-letter topic")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if port < 1 || port > 65535 || partitions < 1 {
		return fmt.Errorf("-port must be 1-65535 and -partitions at least 1")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port),
		kfake.SeedTopics(int32(partitions), input, output), kfake.SeedTopics(1, deadLtr))
	if err != nil {
		return fmt.Errorf("start the in-process broker on 127.0.0.1:%d: %w", port, err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	fmt.Fprintf(stdout, `capastan dev: in-process Kafka broker on %s
  topics: %s (%d partitions), %s (%d partitions), %s (1 partition)

Try, in another terminal:
  capastan produce --brokers %s --topic %s --file docs/sample-reviews.jsonl
  capastan tail    --brokers %s --topic %s

Ctrl-C stops it; nothing is kept.
`, addr, input, partitions, output, partitions, deadLtr, addr, input, addr, input)
	<-ctx.Done()
	fmt.Fprintln(stderr, "capastan dev: stopping")
	return nil
}
