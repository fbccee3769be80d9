// Command capastan is Capastan's single binary: the streaming worker, its
// HTTP side port and the tools around the model (train, eval, predict).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// stdio is a command's standard streams, so tests can drive commands in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, sio stdio) error
}

func commands() []command {
	return []command{
		{"train", "train a model from labeled data", runTrain},
		{"eval", "evaluate a model on labeled data", runEval},
		{"predict", "classify texts from the arguments or stdin", runPredict},
		{"produce", "publish review events from a file or stdin to Kafka", runProduce},
		{"tail", "print a topic's records as JSON lines", runTail},
		{"serve", "run the streaming worker and the HTTP API (or the API alone with --no-kafka)", runServe},
		{"dev", "run the worker on an in-process Kafka broker with the built-in model, for trying things", runDev},
		{"env", "list the CAPASTAN_* environment variables serve reads, with their defaults", runEnv},
		{"healthcheck", "exit 0 if the local HTTP port's /healthz answers 200 (for container health checks)", runHealthcheck},
		{"version", "print the version", func(_ context.Context, _ []string, sio stdio) error {
			fmt.Fprintln(sio.out, "capastan", version)
			return nil
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: capastan <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nrun 'capastan <command> -h' for a command's flags")
}

// errUsage marks errors whose message the flag package already printed.
var errUsage = errors.New("usage")

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Both signals are caught on one channel with room for two, so a second
	// signal that arrives while the first is still being handled is not
	// lost: the first starts a graceful shutdown, the second ends the
	// process at once, killed by that signal as if nothing had caught it.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		sig := <-sigs
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		if s, ok := sig.(syscall.Signal); ok {
			syscall.Kill(os.Getpid(), s)
			time.Sleep(time.Second) // the default action ends the process meanwhile
		}
		os.Exit(1)
	}()
	os.Exit(run(ctx, os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

// run executes one command line and returns the process exit code: 0 done,
// 1 failed, 2 usage error.
func run(ctx context.Context, args []string, sio stdio) int {
	stderr := sio.err
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], sio)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsage):
				return 2
			}
			// A command-line tool's failure is one plain line; the service
			// commands log structured records through slog.
			fmt.Fprintf(stderr, "capastan %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "capastan: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// parseFlags parses args into fs, mapping the flag package's errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
