package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/capastan/capastan/httpapi"
)

// runHealthcheck asks the local HTTP port's /healthz and exits 0 on 200:
// a container HEALTHCHECK that needs no shell or curl in the image.
func runHealthcheck(ctx context.Context, args []string, sio stdio) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(sio.err)
	def := healthURL(os.Getenv(envPrefix + "HTTP_ADDR"))
	url := fs.String("url", def, "URL to ask (default from $CAPASTAN_HTTP_ADDR)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("url %q: %w", *url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, resp.Status)
	}
	return nil
}

// healthURL turns a listen address (":8080", "0.0.0.0:8080",
// "127.0.0.1:9000", or "" for the default) into the /healthz URL to ask
// from the same host.
func healthURL(addr string) string {
	if addr == "" {
		addr = httpapi.DefaultConfig().Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/healthz"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + ":" + port + "/healthz"
}
