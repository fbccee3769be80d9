package deploy

// An end-to-end check of the metrics with a real Prometheus server: build
// capastan, run `capastan dev` (in-process broker, worker, HTTP side port),
// put docs/sample-reviews.jsonl on the topic, ask /predict a few times,
// let Prometheus scrape the side port every second with rules.yml loaded,
// and query it until the figures match what was done, as docs/metrics.md
// promises.
//
// Needs the prometheus server (Debian: apt-get install prometheus); without
// it the test skips, unless CAPASTAN_REQUIRE_TOOLS=1. Skipped with -short.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const sampleReviews = "../docs/sample-reviews.jsonl"

func TestPrometheusEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: builds capastan and runs it with a real Prometheus")
	}
	promBin := promRequireTool(t, "prometheus", installPrometheus)
	tmp := t.TempDir()

	// Build the binary from the repository root.
	bin := filepath.Join(tmp, "capastan")
	build := exec.Command("go", "build", "-o", bin, "./cmd/capastan")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/capastan: %v\n%s", err, out)
	}

	// capastan dev on free ports.
	kafkaPort, httpPort, promPort := e2eFreePort(t), e2eFreePort(t), e2eFreePort(t)
	brokers := fmt.Sprintf("127.0.0.1:%d", kafkaPort)
	side := fmt.Sprintf("127.0.0.1:%d", httpPort)
	devLog := filepath.Join(tmp, "dev.log")
	dev := e2eStart(t, devLog, bin, "dev", "-port", strconv.Itoa(kafkaPort), "-http-addr", side)
	base := "http://" + side

	e2eWaitFor(t, time.Now().Add(60*time.Second), dev, devLog, "capastan dev /readyz 200", func() (bool, string) {
		code, body, err := e2eGet(base + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
	})

	// The sample reviews onto the topic.
	records := e2eCountLines(t, sampleReviews)
	produce := exec.Command(bin, "produce", "--brokers", brokers, "--file", sampleReviews)
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("capastan produce: %v\n%s", err, out)
	}

	// A few /predict calls with known answers.
	predictions := []struct{ text, label string }{
		{"Absolutely loved it, the best purchase I have made this year.", "positive"},
		{"Terrible quality, it broke after two days and support never answered.", "negative"},
		{"It arrived on Tuesday in a brown box.", "neutral"},
	}
	httpLabels := map[string]int{}
	for _, p := range predictions {
		code, b := postJSON(t, base+"/predict", map[string]string{"text": p.text})
		var got struct {
			Label string `json:"label"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &got) != nil {
			t.Fatalf("POST /predict %q: %d %s", p.text, code, b)
		}
		httpLabels[got.Label]++
		if got.Label != p.label {
			t.Errorf("POST /predict %q: label %q, want %q", p.text, got.Label, p.label)
		}
	}

	// One /predict/batch of 200 texts, so that the drift window holds enough
	// predictions for capastan_drift_psi (exported from 200 on).
	const batchItems = 200
	batch := make([]map[string]string, batchItems)
	for i := range batch {
		batch[i] = map[string]string{"id": strconv.Itoa(i), "text": predictions[i%len(predictions)].text}
	}
	code, b := postJSON(t, base+"/predict/batch", batch)
	var batchResp struct {
		Results []struct {
			Label string `json:"label"`
		} `json:"results"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &batchResp) != nil || len(batchResp.Results) != batchItems {
		t.Fatalf("POST /predict/batch of %d: %d %.300s", batchItems, code, b)
	}
	for _, r := range batchResp.Results {
		httpLabels[r.Label]++
	}

	// An unknown path, counted as route "other".
	if code, _, err := e2eGet(base + "/no-such-page"); err != nil || code != http.StatusNotFound {
		t.Fatalf("GET /no-such-page: %d %v, want 404", code, err)
	}

	// The model the worker reports.
	code, b, err := e2eGet(base + "/model")
	var model struct{ Name, Version, SHA256 string }
	if err != nil || code != http.StatusOK || json.Unmarshal(b, &model) != nil || model.SHA256 == "" {
		t.Fatalf("GET /model: %d %s %v", code, b, err)
	}

	// Prometheus scraping the side port every second, with the rules.
	rulesPath, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: capastan
    static_configs:
      - targets: [%q]
`, rulesPath, side)
	configPath := filepath.Join(tmp, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	promAddr := fmt.Sprintf("127.0.0.1:%d", promPort)
	promLog := filepath.Join(tmp, "prometheus.log")
	prom := e2eStart(t, promLog, promBin, "--config.file="+configPath, "--storage.tsdb.path="+filepath.Join(tmp, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	api := &promAPI{base: "http://" + promAddr}

	// What must hold once Prometheus has scraped and evaluated.
	alerts, recorded := e2eRuleNames(t)
	checks := []struct {
		what  string
		check func() (bool, string)
	}{
		{`up{job="capastan"} == 1`, api.expect(`up{job="capastan"}`, 1)},
		{"capastan_ready == 1", api.expect(`capastan_ready{job="capastan"}`, 1)},
		{fmt.Sprintf("capastan_records_consumed_total == %d records produced", records),
			api.expect(`capastan_records_consumed_total{job="capastan"}`, float64(records))},
		{fmt.Sprintf("capastan_records_classified_total == %d", records),
			api.expect(`capastan_records_classified_total{job="capastan"}`, float64(records))},
		{fmt.Sprintf("capastan_records_produced_total == %d", records),
			api.expect(`capastan_records_produced_total{job="capastan"}`, float64(records))},
		{fmt.Sprintf(`sum(capastan_predictions_total{source="kafka"}) == %d`, records),
			api.expect(`sum(capastan_predictions_total{job="capastan", source="kafka"})`, float64(records))},
		{fmt.Sprintf(`sum(capastan_predictions_total{source="http"}) == %d /predict calls + %d batch items`, len(predictions), batchItems),
			api.expect(`sum(capastan_predictions_total{job="capastan", source="http"})`, float64(len(predictions)+batchItems))},
		{fmt.Sprintf("capastan_http_batch_items_sum == %d, _count == 1", batchItems),
			api.expect(`capastan_http_batch_items_sum{job="capastan"} + 1000 * capastan_http_batch_items_count{job="capastan"}`, batchItems+1000)},
		{fmt.Sprintf(`capastan_model_info{name=%q, version=%q, sha256=%q} == 1 (GET /model)`, model.Name, model.Version, model.SHA256),
			api.expect(fmt.Sprintf(`capastan_model_info{job="capastan", name=%q, version=%q, sha256=%q}`, model.Name, model.Version, model.SHA256), 1)},
		{"one capastan_model_info series", api.expect(`count(capastan_model_info{job="capastan"})`, 1)},
		{fmt.Sprintf(`capastan_predictions_total{source="http"} by label == the labels /predict answered %v`, httpLabels),
			api.expectByLabel(`sum by (label) (capastan_predictions_total{job="capastan", source="http"}) > 0`, "label", httpLabels)},
		{`capastan_http_requests_total{route="/predict",method="POST",code="200"} == /predict calls`,
			api.expect(`sum(capastan_http_requests_total{job="capastan", route="/predict", method="POST", code="200"})`, float64(len(predictions)))},
		{fmt.Sprintf("capastan_end_to_end_latency_seconds_count == %d", records),
			api.expect(`capastan_end_to_end_latency_seconds_count{job="capastan"}`, float64(records))},
		{fmt.Sprintf("capastan_batch_records_sum == %d", records),
			api.expect(`capastan_batch_records_sum{job="capastan"}`, float64(records))},
		{`capastan_stage_duration_seconds_count >= 1 for each stage process, produce, commit`,
			api.expect(`count(capastan_stage_duration_seconds_count{job="capastan", stage=~"process|produce|commit"} >= 1)`, 3)},
		{`capastan_transactions_total{outcome="committed"} >= 1 (dev is exactly-once)`,
			api.expect(`count(capastan_transactions_total{job="capastan", outcome="committed"} >= 1)`, 1)},
		{`capastan_rebalances_total{event="assigned"} >= 1`,
			api.expect(`count(capastan_rebalances_total{job="capastan", event="assigned"} >= 1)`, 1)},
		{"capastan_consumer_lag_records reported, all 0 once consumed",
			api.expect(`sum(capastan_consumer_lag_records{job="capastan"}) == 0 and count(capastan_consumer_lag_records{job="capastan"}) > 0`, 0)},
		{"capastan_buffered_records == 0 once committed", api.expect(`capastan_buffered_records{job="capastan"}`, 0)},
		{"sum(capastan_prediction_share) == 1", api.expect(`round(sum(capastan_prediction_share{job="capastan"}), 0.000001)`, 1)},
		{fmt.Sprintf("capastan_drift_psi >= 0 (after %d predictions)", records+len(predictions)+batchItems),
			api.expect(`count(capastan_drift_psi{job="capastan"} >= 0)`, 1)},
		{"capastan_model_reloads_total{result=success|failure} both present at 0",
			api.expect(`count(capastan_model_reloads_total{job="capastan", result=~"success|failure"} == 0)`, 2)},
		{"capastan_model_loaded_timestamp_seconds within the last 5 minutes",
			api.expect(`count(time() - capastan_model_loaded_timestamp_seconds{job="capastan"} < 300 >= 0)`, 1)},
		{`capastan_http_requests_total{route="other", method="GET", code="404"} == 1 (GET /no-such-page)`,
			api.expect(`sum(capastan_http_requests_total{job="capastan", route="other", method="GET", code="404"})`, 1)},
		{`capastan_http_request_size_bytes_count{route="/predict"} == /predict calls`,
			api.expect(`capastan_http_request_size_bytes_count{job="capastan", route="/predict"}`, float64(len(predictions)))},
		{"the Go and process collectors (go_goroutines, process_resident_memory_bytes)",
			api.expect(`count(go_goroutines{job="capastan"}) + count(process_resident_memory_bytes{job="capastan"})`, 2)},
		{"every rule loaded and evaluated without error", api.rulesHealthy(alerts, recorded)},
		{"no Capastan alert firing", api.expect(`count(ALERTS{alertname=~"Capastan.*", alertstate="firing"}) or vector(0)`, 0)},
	}
	pending := map[int]string{}
	for i := range checks {
		pending[i] = "not checked yet"
	}
	e2eWaitFor(t, time.Now().Add(60*time.Second), prom, promLog, "Prometheus to see what was done", func() (bool, string) {
		if dev.exited() {
			return false, "capastan dev exited; its log:\n" + e2eLogTail(devLog)
		}
		for i, c := range checks {
			if _, ok := pending[i]; !ok {
				continue
			}
			if ok, got := c.check(); ok {
				delete(pending, i)
			} else {
				pending[i] = got
			}
		}
		var msg []string
		for i, c := range checks {
			if got, ok := pending[i]; ok {
				msg = append(msg, fmt.Sprintf("  %s: got %s", c.what, got))
			}
		}
		return len(pending) == 0, "\n" + strings.Join(msg, "\n")
	})
	// Checks pass once and are not asked again; this one must still hold.
	if ok, got := checks[len(checks)-1].check(); !ok {
		t.Errorf("%s: got %s", checks[len(checks)-1].what, got)
	}

	// The exposition itself: every family documented, with its type and
	// labels.
	code, b, err = e2eGet(base + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	for _, p := range expositionProblems(string(b), documentedMetrics(t)) {
		t.Error(p)
	}

	// Every dashboard query evaluates without error on the live data.
	for _, q := range dashboardQueries(t) {
		if _, _, err := api.query(q); err != nil {
			t.Errorf("dashboard query: %v", err)
		}
	}
	t.Logf("Prometheus at %s saw %d records consumed, classified and produced, %d /predict calls and %d batch items (labels %v), model %s %s, %d alerts and %d recording rules healthy",
		promAddr, records, len(predictions), batchItems, httpLabels, model.Name, model.SHA256[:12], len(alerts), len(recorded))
}

// process is a started command whose end is noticed.
type e2eProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *e2eProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// e2eStart starts a command logging to logPath, stopped at the test's
// end (SIGTERM, then SIGKILL after 10 s).
func e2eStart(t *testing.T, logPath, name string, args ...string) *e2eProcess {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &e2eProcess{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait() //nolint:errcheck
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.exited() {
			return
		}
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-p.done
		}
	})
	return p
}

// e2eWaitFor polls cond every 250 ms until it holds, the process exits or
// the deadline passes; then it fails with cond's last word and the log.
func e2eWaitFor(t *testing.T, deadline time.Time, p *e2eProcess, logPath, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for {
		ok, got := cond()
		if ok {
			return
		}
		last = got
		if p.exited() {
			t.Fatalf("waiting for %s: %s exited: %v; last: %s\n%s:\n%s", what, p.cmd.Path, p.cmd.ProcessState, last, logPath, e2eLogTail(logPath))
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out; last: %s\n%s:\n%s", what, last, logPath, e2eLogTail(logPath))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func e2eLogTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func e2eFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

var e2eClient = &http.Client{Timeout: 5 * time.Second}

func e2eGet(u string) (int, []byte, error) {
	resp, err := e2eClient.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func e2eCountLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.TrimSpace(s.Text()) != "" {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("%s: no records", path)
	}
	return n
}

// e2eRuleNames returns the alerts and recording rules of rules.yml.
func e2eRuleNames(t *testing.T) (alerts, recorded []string) {
	t.Helper()
	for _, r := range promLoadRules(t) {
		if r.Alert != "" {
			alerts = append(alerts, r.Alert)
		} else {
			recorded = append(recorded, r.Record)
		}
	}
	return alerts, recorded
}

// promAPI queries a Prometheus server's HTTP API.
type promAPI struct{ base string }

// sample is one element of an instant query's vector.
type sample struct {
	metric map[string]string
	value  float64
	raw    string
}

// samples runs an instant query and returns its vector.
func (a *promAPI) samples(q string) ([]sample, error) {
	code, b, err := e2eGet(a.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%d %s", code, b)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, r.Error)
	}
	out := make([]sample, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v", q, s.Value[1])
		}
		out = append(out, sample{s.Metric, v, str})
	}
	return out, nil
}

// query runs an instant query and returns its vector's samples as
// "labels=value" and values.
func (a *promAPI) query(q string) ([]float64, []string, error) {
	ss, err := a.samples(q)
	if err != nil {
		return nil, nil, err
	}
	var vals []float64
	var descr []string
	for _, s := range ss {
		vals = append(vals, s.value)
		descr = append(descr, fmt.Sprintf("%v=%s", s.metric, s.raw))
	}
	return vals, descr, nil
}

// expect is a check that q returns one sample equal to want.
func (a *promAPI) expect(q string, want float64) func() (bool, string) {
	return func() (bool, string) {
		vals, descr, err := a.query(q)
		if err != nil {
			return false, err.Error()
		}
		if len(vals) != 1 {
			return false, fmt.Sprintf("%d samples %v", len(vals), descr)
		}
		return math.Abs(vals[0]-want) < 1e-9, strings.Join(descr, " ")
	}
}

// expectByLabel is a check that q returns one sample per key of want,
// told apart by label, with want's values.
func (a *promAPI) expectByLabel(q, label string, want map[string]int) func() (bool, string) {
	return func() (bool, string) {
		ss, err := a.samples(q)
		if err != nil {
			return false, err.Error()
		}
		got := map[string]int{}
		for _, s := range ss {
			got[s.metric[label]] = int(s.value)
		}
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprint(got)
	}
}

// rulesHealthy is a check that /api/v1/rules lists every alert and
// recording rule of rules.yml, each evaluated without error.
func (a *promAPI) rulesHealthy(alerts, recorded []string) func() (bool, string) {
	return func() (bool, string) {
		code, b, err := e2eGet(a.base + "/api/v1/rules")
		if err != nil {
			return false, err.Error()
		}
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Groups []struct {
					Name  string `json:"name"`
					Rules []struct {
						Name      string `json:"name"`
						Type      string `json:"type"`
						Health    string `json:"health"`
						LastError string `json:"lastError"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
			return false, fmt.Sprintf("%d %s", code, b)
		}
		health := map[string]string{}
		for _, g := range r.Data.Groups {
			for _, rl := range g.Rules {
				h := rl.Health
				if rl.LastError != "" {
					h += ": " + rl.LastError
				}
				health[rl.Type+" "+rl.Name] = h
			}
		}
		var bad []string
		for _, n := range alerts {
			if h := health["alerting "+n]; h != "ok" {
				bad = append(bad, fmt.Sprintf("alert %s: %q", n, h))
			}
		}
		for _, n := range recorded {
			if h := health["recording "+n]; h != "ok" {
				bad = append(bad, fmt.Sprintf("recording rule %s: %q", n, h))
			}
		}
		sort.Strings(bad)
		if len(bad) > 0 {
			return false, strings.Join(bad, "; ")
		}
		return true, fmt.Sprintf("%d rules ok", len(health))
	}
}

// expositionProblems compares the capastan_* families of a /metrics
// answer with docs/metrics.md: the same names, types and label names.
func expositionProblems(text string, docs map[string]documentedMetric) []string {
	var problems []string
	types := map[string]string{}
	labels := map[string]map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") || !strings.HasPrefix(line, "capastan_") {
			continue
		}
		name, rest, _ := strings.Cut(line, "{")
		name = strings.Fields(name)[0]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && types[base] == "histogram" {
				name = base
			}
		}
		if labels[name] == nil {
			labels[name] = map[string]bool{}
		}
		if strings.Contains(line, "{") {
			for _, m := range reMatcher.FindAllStringSubmatch(strings.SplitN(rest, "}", 2)[0], -1) {
				if m[1] != "le" {
					labels[name][m[1]] = true
				}
			}
		}
	}
	for name, typ := range types {
		if !strings.HasPrefix(name, "capastan_") {
			continue
		}
		d, ok := docs[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("/metrics serves %s (%s), which %s does not document", name, typ, metricsDoc))
			continue
		}
		if d.typ != typ {
			problems = append(problems, fmt.Sprintf("/metrics: %s is a %s, %s says %s", name, typ, metricsDoc, d.typ))
		}
		var got, want []string
		for l := range labels[name] {
			got = append(got, l)
		}
		for l := range d.labels {
			want = append(want, l)
		}
		sort.Strings(got)
		sort.Strings(want)
		if len(labels[name]) > 0 && strings.Join(got, ",") != strings.Join(want, ",") {
			problems = append(problems, fmt.Sprintf("/metrics: %s has labels %q, %s says %q", name, got, metricsDoc, want))
		}
	}
	var missing []string
	for name, d := range docs {
		if _, ok := types[name]; !ok && len(d.labels) == 0 {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("/metrics lacks documented metrics (without labels, so always present): %q", missing))
	}
	for _, family := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := types[family]; !ok {
			problems = append(problems, fmt.Sprintf("/metrics lacks %s (the Go and process collectors)", family))
		}
	}
	return problems
}

// postJSON posts v as JSON to url and returns the status and the body.
func postJSON(t *testing.T, url string, v any) (int, []byte) {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e2eClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}
