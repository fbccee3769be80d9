package deploy

// Checks of the monitoring files: the Prometheus rules and their promtool
// unit tests, the compose stack's Prometheus configuration, the Prometheus
// Operator copy of the rules, the Grafana dashboard and provisioning, and
// their agreement with docs/metrics.md (every metric used is documented)
// and docs/operations.md (every alert has its runbook section).
//
// promtool comes with Prometheus (Debian: apt-get install prometheus).
// Without it the promtool tests skip; CAPASTAN_REQUIRE_TOOLS=1 makes them
// fail instead, as CI should.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const (
	rulesFile          = "prometheus/rules.yml"
	rulesTestFile      = "prometheus/rules_test.yml"
	prometheusConfig   = "prometheus/prometheus.yml"
	prometheusRuleFile = "k8s/base/prometheusrule.yaml"
	dashboardFile      = "grafana/dashboards/capastan.json"
	datasourceFile     = "grafana/provisioning/datasources/prometheus.yml"
	dashboardsProvider = "grafana/provisioning/dashboards/capastan.yml"
	metricsDoc         = "../docs/metrics.md"
	operationsDoc      = "../docs/operations.md"
	runbookPrefix      = "https://github.com/capastan/capastan/blob/main/docs/operations.md#"
)

// promRequireTool returns the path of an external tool, or skips the test
// without it (fails with CAPASTAN_REQUIRE_TOOLS=1).
func promRequireTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CAPASTAN_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is not installed and CAPASTAN_REQUIRE_TOOLS=1: %s", name, install)
	}
	t.Skipf("SKIPPED: %s is not installed (%s); set CAPASTAN_REQUIRE_TOOLS=1 to fail instead", name, install)
	return ""
}

const installPrometheus = "Debian/Ubuntu: apt-get install prometheus; or a release from https://prometheus.io/download/"

// promRunTool runs a tool and fails the test with its output if it fails.
func promRunTool(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

type promRuleFile struct {
	Groups []promRuleGroup `yaml:"groups"`
}

type promRuleGroup struct {
	Name  string     `yaml:"name"`
	Rules []promRule `yaml:"rules"`
}

type promRule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

func promReadYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func promLoadRules(t *testing.T) []promRule {
	t.Helper()
	var f promRuleFile
	promReadYAML(t, rulesFile, &f)
	var rules []promRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no rules", rulesFile)
	}
	return rules
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := promRequireTool(t, "promtool", installPrometheus)
	t.Log(promRunTool(t, ".", promtool, "check", "rules", rulesFile))
}

func TestPromtoolTestRules(t *testing.T) {
	promtool := promRequireTool(t, "promtool", installPrometheus)
	t.Log(promRunTool(t, ".", promtool, "test", "rules", rulesTestFile))
}

// promConfig is what the tests read of a Prometheus configuration file.
type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		Scheme        string `yaml:"scheme"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// readPromConfig decodes a Prometheus configuration file and returns it
// with the file's bytes.
func readPromConfig(t *testing.T, file string) (promConfig, []byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cfg promConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return cfg, b
}

// readDashboard decodes the Grafana dashboard as generic JSON.
func readDashboard(t *testing.T) any {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return dash
}

// TestPromtoolCheckConfig checks the compose stack's configuration with the
// rule file where the compose stack mounts it moved to a temporary copy.
func TestPromtoolCheckConfig(t *testing.T) {
	cfg, b := readPromConfig(t, prometheusConfig)
	const mounted = "/etc/prometheus/rules.yml"
	if !slices.Equal(cfg.RuleFiles, []string{mounted}) {
		t.Errorf("rule_files = %q, want [%s]", cfg.RuleFiles, mounted)
	}
	var targets []string
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName != "capastan" {
			continue
		}
		found = true
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job capastan: metrics_path %q", sc.MetricsPath)
		}
		for _, s := range sc.StaticConfigs {
			targets = append(targets, s.Targets...)
		}
	}
	sort.Strings(targets)
	if !found || !slices.Equal(targets, []string{"capastan-1:8080", "capastan-2:8080"}) {
		t.Errorf("job capastan targets %q, want capastan-1:8080 and capastan-2:8080 (the compose services)", targets)
	}

	promtool := promRequireTool(t, "promtool", installPrometheus)
	dir := t.TempDir()
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	moved := bytes.ReplaceAll(b, []byte(mounted), []byte(filepath.Join(dir, "rules.yml")))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), moved, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log(promRunTool(t, dir, promtool, "check", "config", "prometheus.yml"))
}

// TestPrometheusRuleMatches checks that the PrometheusRule carries exactly
// the groups of rules.yml. CAPASTAN_UPDATE_RULES=1 rewrites its spec from
// rules.yml (keeping everything up to `spec:`).
func TestPrometheusRuleMatches(t *testing.T) {
	if os.Getenv("CAPASTAN_UPDATE_RULES") == "1" {
		rules, err := os.ReadFile(rulesFile)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := os.ReadFile(prometheusRuleFile)
		if err != nil {
			t.Fatal(err)
		}
		head, _, ok := bytes.Cut(cur, []byte("\nspec:\n"))
		i := bytes.Index(rules, []byte("\ngroups:\n"))
		if !ok || i < 0 {
			t.Fatalf("cannot find `spec:` in %s or `groups:` in %s", prometheusRuleFile, rulesFile)
		}
		var out bytes.Buffer
		out.Write(head)
		out.WriteString("\nspec:\n")
		for _, line := range strings.SplitAfter(string(rules[i+1:]), "\n") {
			if strings.TrimSpace(line) != "" {
				out.WriteString("  ")
			}
			out.WriteString(line)
		}
		if err := os.WriteFile(prometheusRuleFile, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s from %s", prometheusRuleFile, rulesFile)
	}
	var plain struct {
		Groups any `yaml:"groups"`
	}
	promReadYAML(t, rulesFile, &plain)
	var pr struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Groups any `yaml:"groups"`
		} `yaml:"spec"`
	}
	promReadYAML(t, prometheusRuleFile, &pr)
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || pr.Metadata.Name == "" {
		t.Errorf("%s: apiVersion %q, kind %q, name %q; want a named monitoring.coreos.com/v1 PrometheusRule",
			prometheusRuleFile, pr.APIVersion, pr.Kind, pr.Metadata.Name)
	}
	if plain.Groups == nil || !reflect.DeepEqual(plain.Groups, pr.Spec.Groups) {
		t.Errorf("%s: spec.groups differ from the groups of %s; regenerate it:\n"+
			"  cd deploy && CAPASTAN_UPDATE_RULES=1 go test -run TestPrometheusRuleMatches .", prometheusRuleFile, rulesFile)
	}
}

// TestAlertsHaveRunbooksAndTests checks every alert's labels and
// annotations, that its runbook_url names a section of docs/operations.md,
// and that rules_test.yml has a case where it fires and one where it does
// not.
func TestAlertsHaveRunbooksAndTests(t *testing.T) {
	anchors := markdownAnchors(t, operationsDoc)
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	promReadYAML(t, rulesTestFile, &tests)
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, g := range tests.Tests {
		for _, a := range g.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	alerts := 0
	for _, r := range promLoadRules(t) {
		if r.Alert == "" {
			continue
		}
		alerts++
		if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
			t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		url := r.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(url, runbookPrefix)
		if !ok {
			t.Errorf("%s: runbook_url %q does not start with %s", r.Alert, url, runbookPrefix)
		} else if !anchors[anchor] {
			t.Errorf("%s: runbook_url %q: %s has no section with anchor #%s", r.Alert, url, operationsDoc, anchor)
		}
		if !firing[r.Alert] {
			t.Errorf("%s: %s has no case where it fires", r.Alert, rulesTestFile)
		}
		if !quiet[r.Alert] {
			t.Errorf("%s: %s has no case where it does not fire", r.Alert, rulesTestFile)
		}
	}
	if alerts == 0 {
		t.Fatalf("%s: no alerts", rulesFile)
	}
}

// markdownAnchors returns the anchors GitHub gives the headings of a
// Markdown file.
func markdownAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		a := githubSlug(title)
		if n := seen[a]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

func githubSlug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// documentedMetric is a row of docs/metrics.md.
type documentedMetric struct {
	typ    string
	labels map[string][]string // label -> its documented values (nil: any)
}

// documentedMetrics parses the tables of docs/metrics.md: | `name` | type |
// labels | meaning |, labels as `l1`, `l2` or `l` = `v1`, `v2`.
func documentedMetrics(t *testing.T) map[string]documentedMetric {
	t.Helper()
	b, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([^`]+)`")
	out := map[string]documentedMetric{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`capastan_") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		m := documentedMetric{typ: strings.Fields(strings.TrimSpace(cells[2]))[0], labels: map[string][]string{}}
		// "`topic`, `partition`", or "`stage` = `process` (...), `produce` (...)":
		// a code followed by "=" is a label whose values follow.
		cell, cur := cells[3], ""
		for _, loc := range code.FindAllStringSubmatchIndex(cell, -1) {
			c := cell[loc[2]:loc[3]]
			switch {
			case strings.HasPrefix(strings.TrimSpace(cell[loc[1]:]), "="):
				cur = c
				m.labels[c] = []string{}
			case cur != "":
				m.labels[cur] = append(m.labels[cur], c)
			default:
				m.labels[c] = nil
			}
		}
		out[name] = m
	}
	if len(out) < 20 {
		t.Fatalf("%s: found only %d metrics", metricsDoc, len(out))
	}
	return out
}

var (
	reSelector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}`)
	reMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	reGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	reString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	reRange    = regexp.MustCompile(`\[[^\]]*\]`)
	reNumber   = regexp.MustCompile(`(^|[^a-zA-Z0-9_:])[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+|ms|s|m|h|d|w|y)?`)
	reVariable = regexp.MustCompile(`\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?`)
	reIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	reLabelVal = regexp.MustCompile(`label_values\(\s*([^,)]*)(,\s*[a-zA-Z_][a-zA-Z0-9_]*)?\s*\)`)
)

var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "bool": true, "offset": true, "inf": true, "nan": true, "atan2": true,
}

// promqlUse is a metric a PromQL expression selects, with its label
// matchers.
type promqlUse struct {
	name     string
	matchers [][3]string // label, op, value
}

// metricsIn returns the metrics an expression selects. It is a lexical
// scan, enough for the expressions of this repository: identifiers not
// followed by "(" and outside label matchers, ranges, strings and grouping
// clauses are metric names.
func metricsIn(expr string) []promqlUse {
	expr = reLabelVal.ReplaceAllString(expr, "$1")
	var uses []promqlUse
	expr = reSelector.ReplaceAllStringFunc(expr, func(s string) string {
		m := reSelector.FindStringSubmatch(s)
		u := promqlUse{name: m[1]}
		for _, mm := range reMatcher.FindAllStringSubmatch(m[2], -1) {
			if mm[1] == "__name__" && mm[2] == "=" {
				u.name = mm[3]
				continue
			}
			u.matchers = append(u.matchers, [3]string{mm[1], mm[2], mm[3]})
		}
		if u.name != "" {
			uses = append(uses, u)
		}
		return " "
	})
	for _, re := range []*regexp.Regexp{reString, reRange, reGrouping, reVariable} {
		expr = re.ReplaceAllString(expr, " ")
	}
	expr = reNumber.ReplaceAllString(expr, "$1 ")
	for _, loc := range reIdent.FindAllStringIndex(expr, -1) {
		id := expr[loc[0]:loc[1]]
		rest := strings.TrimLeft(expr[loc[1]:], " \t\n")
		if promqlKeywords[strings.ToLower(id)] || strings.HasPrefix(rest, "(") {
			continue
		}
		uses = append(uses, promqlUse{name: id})
	}
	return uses
}

func TestMetricsInParser(t *testing.T) {
	got := metricsIn(`histogram_quantile(0.99, sum by (job, le) (rate(capastan_x_bucket{job="$job", code=~"5.."}[$__rate_interval])))
	  / on (job) group_left sum without (instance) (capastan_y) > 1e3 and label_values(capastan_z{a="b"}, instance) offset 5m`)
	var names []string
	for _, u := range got {
		names = append(names, u.name)
	}
	if want := []string{"capastan_x_bucket", "capastan_z", "capastan_y"}; !slices.Equal(names, want) {
		t.Errorf("metricsIn: %q, want %q", names, want)
	}
	if want := [][3]string{{"job", "=", "$job"}, {"code", "=~", "5.."}}; !reflect.DeepEqual(got[0].matchers, want) {
		t.Errorf("matchers %q, want %q", got[0].matchers, want)
	}
}

// TestMetricsDocumented checks that every metric the rules and the
// dashboard use is in docs/metrics.md (or is a recording rule, `up`, a Go
// or process collector's, or ALERTS), with documented labels and values.
func TestMetricsDocumented(t *testing.T) {
	docs := documentedMetrics(t)
	recorded := map[string]bool{}
	rules := promLoadRules(t)
	for _, r := range rules {
		if r.Record != "" {
			recorded[r.Record] = true
		}
	}
	type source struct{ where, expr string }
	var exprs []source
	for _, r := range rules {
		exprs = append(exprs, source{rulesFile + ": " + r.Record + r.Alert, r.Expr})
	}
	dash := readDashboard(t)
	walkJSON(dash, "", func(path, key, value string) {
		if key == "expr" || key == "definition" || strings.HasSuffix(path, ".query.query") {
			exprs = append(exprs, source{dashboardFile + ": " + path, value})
		}
	})
	used := map[string]bool{}
	for _, e := range exprs {
		uses := metricsIn(e.expr)
		if len(uses) == 0 && !strings.Contains(e.expr, "vector(") {
			t.Errorf("%s: no metric in %q", e.where, e.expr)
		}
		for _, u := range uses {
			used[u.name] = true
			checkUse(t, docs, recorded, e.where, u)
		}
	}
	// The dashboard shows every documented metric.
	for name, m := range docs {
		if m.typ == "histogram" {
			name += "_bucket"
		}
		if !used[name] && !usedViaRecording(name, rules, used) {
			t.Errorf("%s is documented but neither the dashboard nor the rules use it", name)
		}
	}
}

func usedViaRecording(name string, rules []promRule, used map[string]bool) bool {
	for _, r := range rules {
		if r.Record != "" && used[r.Record] && strings.Contains(r.Expr, name) {
			return true
		}
	}
	return false
}

func checkUse(t *testing.T, docs map[string]documentedMetric, recorded map[string]bool, where string, u promqlUse) {
	t.Helper()
	switch {
	case recorded[u.name], u.name == "up", u.name == "ALERTS",
		strings.HasPrefix(u.name, "go_"), strings.HasPrefix(u.name, "process_"):
		return
	}
	name, isHist := u.name, false
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(u.name, suffix); ok && docs[base].typ == "histogram" {
			name, isHist = base, true
		}
	}
	m, ok := docs[name]
	if !ok {
		t.Errorf("%s: metric %s is not in %s", where, u.name, metricsDoc)
		return
	}
	if m.typ == "histogram" && !isHist {
		t.Errorf("%s: %s is a histogram; use its _bucket, _sum or _count series", where, name)
	}
	for _, mt := range u.matchers {
		label, op, value := mt[0], mt[1], mt[2]
		if label == "job" || label == "instance" || label == "le" && strings.HasSuffix(u.name, "_bucket") {
			continue
		}
		values, ok := m.labels[label]
		if !ok {
			t.Errorf("%s: %s has no label %q in %s", where, name, label, metricsDoc)
			continue
		}
		if (op == "=" || op == "!=") && values != nil && !slices.Contains(values, value) && !strings.HasPrefix(value, "$") {
			t.Errorf("%s: %s{%s=%q}: %s lists %q", where, name, label, value, metricsDoc, values)
		}
	}
}

// walkJSON calls fn with every string value, its key and its path.
func walkJSON(v any, path string, fn func(path, key, value string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if s, ok := c.(string); ok {
				fn(path+"."+k, k, s)
			} else {
				walkJSON(c, path+"."+k, fn)
			}
		}
	case []any:
		for i, c := range v {
			walkJSON(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

// TestDashboard checks the dashboard's structure: unique panel ids, a grid
// position each, queries on the provisioned datasource.
func TestDashboard(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			ID         int             `json:"id"`
			Type       string          `json:"type"`
			Title      string          `json:"title"`
			GridPos    *map[string]int `json:"gridPos"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr       string `json:"expr"`
				Datasource *struct {
					UID string `json:"uid"`
				} `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: uid %q, title %q, %d panels", dashboardFile, d.UID, d.Title, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil {
			t.Errorf("panel %q: no gridPos", p.Title)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "prometheus" {
			t.Errorf("panel %q: datasource is not uid prometheus", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.Datasource == nil || q.Datasource.UID != "prometheus" {
				t.Errorf("panel %q: a query without expr or on another datasource", p.Title)
			}
		}
	}
	// The panels the brief promises, by the metrics they show.
	for _, want := range []string{
		"job:capastan_records_consumed:rate1m", "job:capastan_records_produced:rate1m", "job:capastan_records_classified:rate1m",
		"job:capastan_end_to_end_latency_seconds_bucket:rate1m", "job_stage:capastan_stage_duration_seconds_bucket:rate1m",
		"job_reason:capastan_records_dead_lettered:rate1m", "job_topic_partition:capastan_consumer_lag_records:max",
		"capastan_prediction_share", "job_label_source:capastan_predictions:rate1m", "capastan_drift_psi", "vector(0.25)",
		"job_route_code:capastan_http_requests:rate1m", "job_route:capastan_http_request_duration_seconds_bucket:rate1m",
		"capastan_ready", "capastan_model_info",
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s does not show %s", dashboardFile, want)
		}
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, URL, Access string
		} `yaml:"datasources"`
	}
	promReadYAML(t, datasourceFile, &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("%s: apiVersion %d, %d datasources", datasourceFile, ds.APIVersion, len(ds.Datasources))
	}
	if d := ds.Datasources[0]; d.UID != "prometheus" || d.Type != "prometheus" || d.URL != "http://prometheus:9090" {
		t.Errorf("%s: %+v, want uid prometheus, type prometheus, url http://prometheus:9090", datasourceFile, d)
	}
	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	promReadYAML(t, dashboardsProvider, &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" ||
		dp.Providers[0].Options.Path != "/var/lib/grafana/dashboards" {
		t.Errorf("%s: want one file provider with path /var/lib/grafana/dashboards, got %+v", dashboardsProvider, dp)
	}
}

// dashboardQueries returns the dashboard's PromQL queries (panels and
// annotations) with Grafana's variables replaced by plausible values.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	dash := readDashboard(t)
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "15s", "$__range", "1h",
		"$job", "capastan", "$instance", ".*")
	var out []string
	walkJSON(dash, "", func(path, key, value string) {
		if key == "expr" {
			out = append(out, vars.Replace(value))
		}
	})
	sort.Strings(out)
	return slices.Compact(out)
}

// TestDashboardQueriesParse has promtool parse every dashboard query, as
// recording rules of a throw-away rule file.
func TestDashboardQueriesParse(t *testing.T) {
	queries := dashboardQueries(t)
	promtool := promRequireTool(t, "promtool", installPrometheus)
	var f promRuleFile
	g := promRuleGroup{Name: "dashboard"}
	for i, q := range queries {
		g.Rules = append(g.Rules, promRule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: q})
	}
	f.Groups = []promRuleGroup{g}
	b, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	promRunTool(t, ".", promtool, "check", "rules", path)
}

// TestExpositionProblems checks the e2e test's comparison of a /metrics
// answer with docs/metrics.md on a made-up answer with three mistakes.
func TestExpositionProblems(t *testing.T) {
	docs := documentedMetrics(t)
	var ok strings.Builder
	for name, d := range docs {
		typ := d.typ
		fmt.Fprintf(&ok, "# TYPE %s %s\n", name, typ)
		var ls []string
		for l := range d.labels {
			ls = append(ls, l+`="x"`)
		}
		sort.Strings(ls)
		sample := name
		if typ == "histogram" {
			sample += "_bucket"
			ls = append(ls, `le="+Inf"`)
		}
		if len(ls) > 0 {
			sample += "{" + strings.Join(ls, ",") + "}"
		}
		fmt.Fprintf(&ok, "%s 1\n", sample)
	}
	ok.WriteString("# TYPE go_goroutines gauge\ngo_goroutines 9\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1e+08\n")
	if p := expositionProblems(ok.String(), docs); len(p) > 0 {
		t.Errorf("a faithful exposition: %q", p)
	}
	bad := strings.NewReplacer(
		"# TYPE capastan_ready gauge", "# TYPE capastan_ready counter",
		`capastan_transactions_total{outcome="x"}`, `capastan_transactions_total{result="x"}`,
		"# TYPE capastan_drift_psi gauge\ncapastan_drift_psi 1\n", "# TYPE capastan_drift gauge\ncapastan_drift 1\n",
	).Replace(ok.String())
	p := expositionProblems(bad, docs)
	for _, want := range []string{"capastan_ready is a counter", "capastan_transactions_total has labels", "serves capastan_drift ", "lacks documented metrics"} {
		if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no problem mentioning %q in %q", want, p)
		}
	}
}
