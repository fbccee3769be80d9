package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/internal/kafkatest"
	"github.com/capastan/capastan/internal/testbin"
	"github.com/capastan/capastan/models"
)

// These tests run the built binary as a separate process, since signals
// (SIGHUP, SIGTERM, a second SIGTERM) act on a whole process.

// proc is a running capastan process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string // its HTTP port
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
	err  error
}

// start runs capastan with args and env, and waits for its HTTP port.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(testbin.Capastan(t), args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, done: make(chan struct{})}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "http port listening" {
				addrCh <- rec["addr"].(string)
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("capastan %v log:\n%s", args, p.logs())
		}
	})
	select {
	case p.addr = <-addrCh:
	case <-p.done:
		t.Fatalf("capastan exited at start-up: %v\n%s", p.err, p.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("capastan did not open its HTTP port\n%s", p.logs())
	}
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *proc) signal(s os.Signal) {
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits up to d for the process to exit and returns its exit code
// (-1 when a signal killed it).
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Fatalf("capastan still running after %v", d)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) get(path string) (int, string) {
	p.t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond every 20 ms for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeNoKafkaReload: the HTTP API alone serves predictions; SIGHUP
// swaps in a new model file, a bad file is rejected and counted while the
// old model keeps serving, and SIGTERM exits 0.
func TestServeNoKafkaReload(t *testing.T) {
	base, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.cpst")
	if err := base.Save(path); err != nil {
		t.Fatal(err)
	}
	next := base.WithMetadata(func() classifier.Metadata { m := base.Metadata(); m.Version = "2.0.0"; return m }())
	p := start(t, []string{"CAPASTAN_HTTP_ADDR=127.0.0.1:0", "CAPASTAN_MODEL=" + path, "CAPASTAN_MODEL_WATCH_INTERVAL=0"}, "serve", "--no-kafka")
	modelSHA := func() string {
		_, body := p.get("/model")
		var mi struct{ SHA256, Version string }
		json.Unmarshal([]byte(body), &mi)
		return mi.SHA256
	}
	if code, _ := p.get("/readyz"); code != 200 {
		t.Fatalf("readyz %d without Kafka", code)
	}
	if got := modelSHA(); got != base.SHA256() {
		t.Fatalf("model %s, want %s", got, base.SHA256())
	}
	resp, err := http.Post("http://"+p.addr+"/predict", "application/json", strings.NewReader(`{"text": "great value"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("predict: %v %v", err, resp)
	}
	resp.Body.Close()

	if err := next.Save(path); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	eventually(t, 5*time.Second, "SIGHUP to swap the model", func() bool { return modelSHA() == next.SHA256() })

	os.WriteFile(path, []byte("CAPASTAN but not a model"), 0o644)
	p.signal(syscall.SIGHUP)
	eventually(t, 5*time.Second, "the bad file to be counted", func() bool {
		_, m := p.get("/metrics")
		return strings.Contains(m, `capastan_model_reloads_total{result="failure"} 1`)
	})
	if got := modelSHA(); got != next.SHA256() {
		t.Errorf("after a bad file the model is %s, want the previous %s", got, next.SHA256())
	}
	_, m := p.get("/metrics")
	if !strings.Contains(m, `capastan_model_info{name="capastan-default",sha256="`+next.SHA256()+`",version="2.0.0"} 1`) {
		t.Errorf("model_info does not name the swapped model")
	}
	if !strings.Contains(p.logs(), "model reload rejected") {
		t.Error("no log line for the rejected file")
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}

// TestServeDrain: on SIGTERM readiness turns false at once; a batch that
// cannot be committed (the broker holds the worker's produce requests) is
// given up after the shutdown timeout with a non-zero exit, to be
// processed again after the restart; and a second SIGTERM exits at once.
func TestServeDrain(t *testing.T) {
	tests := []struct {
		name     string
		timeout  string
		second   bool
		wantCode int
		within   time.Duration
		inLog    string
	}{
		{"shutdown timeout", "2s", false, 1, 8 * time.Second, "shutdown timeout"},
		{"second signal", "60s", true, -1, 3 * time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Out of order: other requests on the held produce's
			// connection are answered, and kfake's in-order sleep queue,
			// which races with itself when requests pile up behind a
			// sleeping one, is not used.
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "reviews", "reviews.labeled"), kfake.SeedTopics(1, "reviews.dlq"), kfake.SleepOutOfOrder())
			if err != nil {
				t.Fatal(err)
			}
			addr := c.ListenAddrs()[0]
			release := make(chan struct{})
			held := make(chan struct{}, 1)
			t.Cleanup(func() { close(release); c.Close() })
			// Produce requests to the output topic are held until the
			// test ends: the worker's batch is stuck in flight.
			outID := c.TopicInfo("reviews.labeled").TopicID
			c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				if kafkatest.WritesTo(req.(*kmsg.ProduceRequest), "reviews.labeled", outID) {
					select {
					case held <- struct{}{}:
					default:
					}
					c.SleepControl(func() { <-release })
				}
				return nil, nil, false
			})
			p := start(t, []string{"CAPASTAN_HTTP_ADDR=127.0.0.1:0", "CAPASTAN_KAFKA_BROKERS=" + addr,
				"CAPASTAN_SHUTDOWN_TIMEOUT=" + tt.timeout, "CAPASTAN_DELIVERY=at-least-once"}, "serve")
			eventually(t, 20*time.Second, "readyz 200", func() bool { c, _ := p.get("/readyz"); return c == 200 })
			code, _, errs := capastan(t, "", "produce", "-brokers", addr, "-file", filepath.Join("..", "..", "docs", "sample-reviews.jsonl"))
			if code != 0 {
				t.Fatalf("produce: %s", errs)
			}
			select {
			case <-held:
			case <-time.After(20 * time.Second):
				t.Fatal("the worker never produced")
			}
			p.signal(syscall.SIGTERM)
			eventually(t, 2*time.Second, "readyz 503 while draining", func() bool {
				c, body := p.get("/readyz")
				return c == 503 && strings.Contains(body, "shutting down")
			})
			if tt.second {
				p.signal(syscall.SIGTERM)
			}
			begin := time.Now()
			exit := p.wait(tt.within)
			if exit != tt.wantCode {
				t.Errorf("exit %d, want %d", exit, tt.wantCode)
			}
			t.Logf("exited %d after %v", exit, time.Since(begin).Round(time.Millisecond))
			if tt.inLog != "" && !strings.Contains(p.logs(), tt.inLog) {
				t.Errorf("log lacks %q", tt.inLog)
			}
		})
	}
}

// TestServeBrokerLater: a worker started before its broker keeps running,
// says not ready, and joins and labels once the broker appears.
func TestServeBrokerLater(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := start(t, []string{"CAPASTAN_HTTP_ADDR=127.0.0.1:0", "CAPASTAN_KAFKA_BROKERS=" + addr}, "serve")
	for i := 0; i < 10; i++ {
		code, body := p.get("/readyz")
		if code != 503 || !strings.Contains(body, "joining the consumer group") {
			t.Fatalf("readyz without a broker: %d %s", code, body)
		}
		select {
		case <-p.done:
			t.Fatalf("the worker exited without a broker: %v", p.err)
		case <-time.After(150 * time.Millisecond):
		}
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port),
		kfake.SeedTopics(3, "reviews", "reviews.labeled"), kfake.SeedTopics(1, "reviews.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, 30*time.Second, "readyz 200 once the broker is up", func() bool { c, _ := p.get("/readyz"); return c == 200 })
	if code, _, errs := capastan(t, "", "produce", "-brokers", addr, "-file", filepath.Join("..", "..", "docs", "sample-reviews.jsonl")); code != 0 {
		t.Fatalf("produce: %s", errs)
	}
	eventually(t, 20*time.Second, "the sample labeled", func() bool {
		_, m := p.get("/metrics")
		return strings.Contains(m, "capastan_records_produced_total 6")
	})
	p.signal(syscall.SIGTERM)
	if code := p.wait(10 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}
