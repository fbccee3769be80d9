package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const composeFile = "docker-compose.yml" // in repoRoot

// The compose file, decoded with unknown keys as errors: the structs name
// the Compose keys this repository uses (add one here to use it).
type compose struct {
	Name       string             `yaml:"name"`
	Services   map[string]service `yaml:"services"`
	Volumes    map[string]any     `yaml:"volumes"`
	Networks   map[string]any     `yaml:"networks"`
	Extensions map[string]any     `yaml:",inline"` // x-* keys only
}

type service struct {
	Image           string               `yaml:"image"`
	Build           *composeBuild        `yaml:"build"`
	Hostname        string               `yaml:"hostname"`
	ContainerName   string               `yaml:"container_name"`
	Command         stringList           `yaml:"command"`
	Entrypoint      stringList           `yaml:"entrypoint"`
	Environment     envMap               `yaml:"environment"`
	Ports           []string             `yaml:"ports"`
	Volumes         []string             `yaml:"volumes"`
	Healthcheck     *healthcheck         `yaml:"healthcheck"`
	DependsOn       map[string]dependsOn `yaml:"depends_on"`
	Restart         string               `yaml:"restart"`
	User            string               `yaml:"user"`
	ReadOnly        bool                 `yaml:"read_only"`
	CapDrop         []string             `yaml:"cap_drop"`
	SecurityOpt     []string             `yaml:"security_opt"`
	StopGracePeriod string               `yaml:"stop_grace_period"`
	Tmpfs           []string             `yaml:"tmpfs"`
	Labels          map[string]string    `yaml:"labels"`
	Networks        []string             `yaml:"networks"`
	Profiles        []string             `yaml:"profiles"`
}

type composeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
	Target     string            `yaml:"target"`
}

type healthcheck struct {
	Test        stringList `yaml:"test"`
	Interval    string     `yaml:"interval"`
	Timeout     string     `yaml:"timeout"`
	Retries     int        `yaml:"retries"`
	StartPeriod string     `yaml:"start_period"`
	Disable     bool       `yaml:"disable"`
}

type dependsOn struct {
	Condition string `yaml:"condition"`
	Restart   bool   `yaml:"restart"`
	Required  *bool  `yaml:"required"`
}

// stringList is a Compose list-or-string (command, entrypoint, test); a
// string is kept whole, as its one item.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = stringList{n.Value}
		return nil
	}
	var s []string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*l = s
	return nil
}

// envMap is a Compose environment, written as a mapping or a list of K=V.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	m := envMap{}
	switch n.Kind {
	case yaml.MappingNode:
		var raw map[string]any
		if err := n.Decode(&raw); err != nil {
			return err
		}
		for k, v := range raw {
			switch v.(type) {
			case nil:
				m[k] = ""
			case string, bool, int, float64:
				m[k] = fmt.Sprint(v)
			default:
				return fmt.Errorf("line %d: environment %s: want a string, number or bool", n.Line, k)
			}
		}
	case yaml.SequenceNode:
		var raw []string
		if err := n.Decode(&raw); err != nil {
			return err
		}
		for _, kv := range raw {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	*e = m
	return nil
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, composeFile))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return c
}

// mount is one short-syntax volume of a service.
type mount struct {
	source, target string
	bind, readOnly bool
}

func mounts(s service) ([]mount, error) {
	var out []mount
	for _, v := range s.Volumes {
		f := strings.Split(v, ":")
		if len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("volume %q: want SOURCE:TARGET[:MODE]", v)
		}
		m := mount{source: f[0], target: f[1]}
		m.bind = strings.HasPrefix(m.source, ".") || strings.HasPrefix(m.source, "/") || strings.HasPrefix(m.source, "~")
		m.readOnly = len(f) == 3 && slices.Contains(strings.Split(f[2], ","), "ro")
		out = append(out, m)
	}
	return out, nil
}

// mountedAt returns the host source bind-mounted at the container path p
// (or at a directory above it), relative to the repository.
func mountedAt(s service, p string) (string, bool) {
	ms, _ := mounts(s)
	for _, m := range ms {
		if !m.bind {
			continue
		}
		if m.target == p {
			return m.source, true
		}
		if rel, ok := strings.CutPrefix(p, strings.TrimSuffix(m.target, "/")+"/"); ok {
			return path.Join(m.source, rel), true
		}
	}
	return "", false
}

// published is one short-syntax port: [IP:]HOST:CONTAINER.
type published struct {
	ip              string
	host, container int
}

func ports(s service) ([]published, error) {
	var out []published
	for _, p := range s.Ports {
		spec, _, _ := strings.Cut(p, "/")
		f := strings.Split(spec, ":")
		var pub published
		var err1, err2 error
		switch len(f) {
		case 2:
			pub.host, err1 = strconv.Atoi(f[0])
			pub.container, err2 = strconv.Atoi(f[1])
		case 3:
			pub.ip = f[0]
			pub.host, err1 = strconv.Atoi(f[1])
			pub.container, err2 = strconv.Atoi(f[2])
		default:
			return nil, fmt.Errorf("port %q: want [IP:]HOST:CONTAINER", p)
		}
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("port %q: %v", p, err)
		}
		out = append(out, pub)
	}
	return out, nil
}

// flagValue is the value of --name=value or --name value in args.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		a = "--" + strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// noHealthcheck names the long-running services that have no health check,
// and why.
var noHealthcheck = map[string]string{
	"producer": "a Kafka client with no port to probe: its health is its process, restarted on failure",
}

func TestCompose(t *testing.T) {
	known := settings(t)
	c := loadCompose(t)
	for k := range c.Extensions {
		if !strings.HasPrefix(k, "x-") {
			t.Errorf("%s: unknown top-level key %q", composeFile, k)
		}
	}
	for _, name := range []string{"kafka", "topic-init", "producer", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("no %s service", name)
		}
	}
	var workers []string
	for _, name := range slices.Sorted(mapsKeys(c.Services)) {
		if cmd := c.Services[name].Command; len(cmd) > 0 && cmd[0] == "serve" {
			workers = append(workers, name)
		}
	}
	if len(workers) < 2 {
		t.Fatalf("want two workers (command serve), got %v", workers)
	}

	t.Run("services", func(t *testing.T) { checkServices(t, c) })
	t.Run("environment", func(t *testing.T) {
		for _, name := range slices.Sorted(mapsKeys(c.Services)) {
			env := c.Services[name].Environment
			for _, k := range slices.Sorted(mapsKeys(env)) {
				if err := checkVar(known, k, env[k], true); err != nil {
					t.Errorf("service %s: %v", name, err)
				}
			}
		}
	})
	t.Run("kafka", func(t *testing.T) { checkKafka(t, c, workers) })
	t.Run("workers", func(t *testing.T) { checkWorkers(t, c, workers, known) })
	t.Run("producer", func(t *testing.T) { checkProducer(t, c, workers) })
	t.Run("prometheus", func(t *testing.T) { checkPrometheus(t, c, workers) })
	t.Run("grafana", func(t *testing.T) { checkGrafana(t, c) })
}

// checkServices checks what every service must satisfy: images pinned,
// bind mounts present in the repository, health checks, depends_on
// conditions that can be met, and ports published on loopback only.
func checkServices(t *testing.T, c compose) {
	hostPorts := map[int]string{}
	for _, name := range slices.Sorted(mapsKeys(c.Services)) {
		s := c.Services[name]
		if s.Image == "" {
			t.Errorf("%s has no image", name)
		} else if s.Build == nil && (!strings.Contains(path.Base(s.Image), ":") || strings.HasSuffix(s.Image, ":latest")) {
			t.Errorf("%s: image %q is not pinned to a tag", name, s.Image)
		}
		ms, err := mounts(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, m := range ms {
			switch {
			case !m.bind:
				if _, ok := c.Volumes[m.source]; !ok {
					t.Errorf("%s: named volume %q is not declared under volumes", name, m.source)
				}
			case !strings.HasPrefix(m.source, "./"):
				t.Errorf("%s: bind mount %q is not relative to the repository (./...)", name, m.source)
			default:
				if _, err := os.Stat(filepath.Join(repoRoot, m.source)); err != nil {
					t.Errorf("%s: bind-mounted %s is not in the repository: %v", name, m.source, err)
				}
				if !m.readOnly {
					t.Errorf("%s: bind mount %s is writable; mount repository files :ro", name, m.source)
				}
			}
		}
		pubs, err := ports(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, p := range pubs {
			if p.ip != "127.0.0.1" {
				t.Errorf("%s: port %d is published on %q; publish on 127.0.0.1 only", name, p.host, p.ip)
			}
			if other, dup := hostPorts[p.host]; dup {
				t.Errorf("%s and %s both publish host port %d", other, name, p.host)
			}
			hostPorts[p.host] = name
		}
		oneShot := s.Restart == "no"
		switch {
		case s.Restart != "" && !slices.Contains([]string{"no", "always", "on-failure", "unless-stopped"}, strings.SplitN(s.Restart, ":", 2)[0]):
			t.Errorf("%s: restart %q", name, s.Restart)
		case oneShot:
		case noHealthcheck[name] != "":
			if s.Healthcheck != nil && !s.Healthcheck.Disable {
				t.Errorf("%s has a health check now: drop it from noHealthcheck", name)
			}
		case s.Healthcheck == nil || s.Healthcheck.Disable || len(s.Healthcheck.Test) == 0:
			t.Errorf("%s runs for long (restart %q) and has no health check", name, s.Restart)
		default:
			h := s.Healthcheck
			if !slices.Contains([]string{"CMD", "CMD-SHELL"}, h.Test[0]) || len(h.Test) < 2 {
				t.Errorf("%s: health check test %q: want [CMD, ...] or [CMD-SHELL, ...]", name, h.Test)
			}
			for what, d := range map[string]string{"interval": h.Interval, "timeout": h.Timeout, "start_period": h.StartPeriod} {
				if _, err := time.ParseDuration(d); d != "" && err != nil {
					t.Errorf("%s: health check %s %q: %v", name, what, d, err)
				}
			}
		}
		for _, dep := range slices.Sorted(mapsKeys(s.DependsOn)) {
			target, ok := c.Services[dep]
			cond := s.DependsOn[dep].Condition
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			case cond == "service_healthy":
				if target.Healthcheck == nil || target.Healthcheck.Disable {
					t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
				}
			case cond == "service_completed_successfully":
				if target.Restart != "no" {
					t.Errorf("%s waits for %s to complete, which restarts (restart %q)", name, dep, target.Restart)
				}
			case cond == "service_started":
			default:
				t.Errorf("%s depends on %s with condition %q; want service_healthy, service_completed_successfully or service_started", name, dep, cond)
			}
		}
	}
}

// checkKafka checks a single-node KRaft broker the workers and the host can
// reach, and the topics the workers use.
func checkKafka(t *testing.T, c compose, workers []string) {
	k := c.Services["kafka"]
	if !strings.HasPrefix(k.Image, "apache/kafka:") {
		t.Errorf("kafka image %q: want apache/kafka", k.Image)
	}
	env := k.Environment
	roles := strings.Split(env["KAFKA_PROCESS_ROLES"], ",")
	if !slices.Contains(roles, "broker") || !slices.Contains(roles, "controller") {
		t.Errorf("KAFKA_PROCESS_ROLES = %q: want a combined broker,controller (KRaft, one node)", env["KAFKA_PROCESS_ROLES"])
	}
	for k := range env {
		if strings.Contains(k, "ZOOKEEPER") {
			t.Errorf("%s: KRaft needs no ZooKeeper", k)
		}
	}
	for _, k := range []string{"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"} {
		if env[k] != "1" {
			// With the default 3 on one broker, transactions (exactly-once) and
			// group offsets never work.
			t.Errorf("%s = %q, want 1 on a single broker", k, env[k])
		}
	}
	advertised := env["KAFKA_ADVERTISED_LISTENERS"]
	brokers := c.Services[workers[0]].Environment["CAPASTAN_KAFKA_BROKERS"]
	for _, b := range strings.Split(brokers, ",") {
		host, _, err := net.SplitHostPort(b)
		if err != nil {
			t.Errorf("CAPASTAN_KAFKA_BROKERS %q: %v", b, err)
			continue
		}
		if _, ok := c.Services[host]; !ok {
			t.Errorf("broker %s: %s is not a service", b, host)
		}
		if !strings.Contains(advertised, "//"+b) {
			t.Errorf("the workers' broker %s is not among the advertised listeners %q", b, advertised)
		}
	}
	pubs, _ := ports(k)
	for _, p := range pubs {
		if !strings.Contains(advertised, fmt.Sprintf("//localhost:%d", p.host)) {
			t.Errorf("host port %d is not advertised as localhost:%d: host clients would be sent elsewhere", p.host, p.host)
		}
	}

	ti := c.Services["topic-init"]
	if ti.Restart != "no" {
		t.Errorf("topic-init must run once (restart: \"no\"), got %q", ti.Restart)
	}
	if ti.DependsOn["kafka"].Condition != "service_healthy" {
		t.Error("topic-init must wait for kafka to be healthy")
	}
	script := strings.Join(ti.Command, " ")
	partitions := map[string]int{}
	for _, m := range regexp.MustCompile(`([A-Za-z0-9._-]+):(\d+)`).FindAllStringSubmatch(script, -1) {
		partitions[m[1]], _ = strconv.Atoi(m[2])
	}
	w := c.Services[workers[0]].Environment
	for _, v := range []string{"CAPASTAN_INPUT_TOPIC", "CAPASTAN_OUTPUT_TOPIC", "CAPASTAN_DLQ_TOPIC"} {
		topic := w[v]
		n, ok := partitions[topic]
		switch {
		case topic == "":
			t.Errorf("the workers do not set %s", v)
		case !ok:
			t.Errorf("topic-init does not create %s (%s); it creates %v", topic, v, partitions)
		case v == "CAPASTAN_INPUT_TOPIC" && n < len(workers):
			t.Errorf("%s has %d partitions for %d workers: some would idle", topic, n, len(workers))
		}
	}
}

// checkWorkers checks the `capastan serve` services against the binary.
func checkWorkers(t *testing.T, c compose, workers []string, known map[string]setting) {
	ids := map[string]map[string]string{"CAPASTAN_TRANSACTIONAL_ID": {}, "CAPASTAN_GROUP_INSTANCE_ID": {}}
	groups := map[string]bool{}
	for _, name := range workers {
		s := c.Services[name]
		if s.Build == nil || path.Clean(s.Build.Context) != "." {
			t.Errorf("%s: not built from the repository's Dockerfile (build: context: .)", name)
		} else if df := cmpOrStr(s.Build.Dockerfile, "Dockerfile"); !fileExists(filepath.Join(repoRoot, df)) {
			t.Errorf("%s: %s does not exist", name, df)
		}
		if h := s.Healthcheck; h == nil || !slices.Equal(h.Test, []string{"CMD", "/capastan", "healthcheck"}) {
			t.Errorf("%s: health check must be [CMD, /capastan, healthcheck]", name)
		}
		if s.DependsOn["kafka"].Condition != "service_healthy" || s.DependsOn["topic-init"].Condition != "service_completed_successfully" {
			t.Errorf("%s must wait for kafka (service_healthy) and topic-init (service_completed_successfully)", name)
		}
		if !s.ReadOnly || s.User != fmt.Sprintf("%d:%d", imageUID, imageUID) || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s must run as the Kubernetes pod does: read_only, user %d:%d, cap_drop ALL", name, imageUID, imageUID)
		}
		env := s.Environment
		value := func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return known[k].Default
		}
		for k := range ids {
			v := env[k]
			if v == "" {
				t.Errorf("%s: %s is not set", name, k)
			} else if other, dup := ids[k][v]; dup {
				t.Errorf("%s and %s share %s=%s: it must be unique per live worker", other, name, k, v)
			}
			ids[k][v] = name
		}
		groups[value("CAPASTAN_GROUP")] = true
		addr := value("CAPASTAN_HTTP_ADDR")
		port, err := httpPort(addr)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		pubs, _ := ports(s)
		if len(pubs) != 1 || pubs[0].container != port {
			t.Errorf("%s publishes %v; want the side port %d (CAPASTAN_HTTP_ADDR=%s)", name, s.Ports, port, addr)
		}
		timeout, err := time.ParseDuration(value("CAPASTAN_SHUTDOWN_TIMEOUT"))
		if err != nil {
			t.Errorf("%s: CAPASTAN_SHUTDOWN_TIMEOUT: %v", name, err)
		}
		grace, err := time.ParseDuration(cmpOrStr(s.StopGracePeriod, "10s"))
		if err != nil || grace < timeout+shutdownSlack {
			t.Errorf("%s: stop_grace_period %q must exceed CAPASTAN_SHUTDOWN_TIMEOUT (%s) by %s", name, s.StopGracePeriod, timeout, shutdownSlack)
		}
	}
	if len(groups) != 1 {
		t.Errorf("the workers are in groups %v; they must share one", groups)
	}
	errs := checkFlags(commandHelp(t, "serve"), c.Services[workers[0]].Command[1:])
	for _, err := range errs {
		t.Error(err)
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// checkProducer checks the replay of the sample reviews.
func checkProducer(t *testing.T, c compose, workers []string) {
	p := c.Services["producer"]
	w := c.Services[workers[0]]
	if len(p.Command) == 0 || p.Command[0] != "produce" {
		t.Fatalf("the producer runs %q, want `capastan produce`", p.Command)
	}
	if p.Image != w.Image || p.Build == nil {
		t.Errorf("the producer's image %q is not the workers' %q, built from the Dockerfile", p.Image, w.Image)
	}
	args := p.Command[1:]
	for _, err := range checkFlags(commandHelp(t, "produce"), args) {
		t.Error(err)
	}
	for flag, want := range map[string]string{"brokers": w.Environment["CAPASTAN_KAFKA_BROKERS"], "topic": w.Environment["CAPASTAN_INPUT_TOPIC"]} {
		if got, _ := flagValue(args, flag); got != want {
			t.Errorf("produce --%s=%q, but the workers use %q", flag, got, want)
		}
	}
	file, _ := flagValue(args, "file")
	if src, ok := mountedAt(p, file); !ok || path.Clean(src) != "docs/sample-reviews.jsonl" {
		t.Errorf("produce --file=%q is not docs/sample-reviews.jsonl mounted into the container (got %q)", file, src)
	}
	if p.DependsOn["topic-init"].Condition != "service_completed_successfully" {
		t.Error("the producer must wait for topic-init to complete")
	}
}

// checkPrometheus checks Prometheus loads the mounted config and rules and
// scrapes every worker.
func checkPrometheus(t *testing.T, c compose, workers []string) {
	p := c.Services["prometheus"]
	for _, want := range []struct{ src, dst string }{
		{"./deploy/prometheus/prometheus.yml", "/etc/prometheus/prometheus.yml"},
		{"./deploy/prometheus/rules.yml", "/etc/prometheus/rules.yml"},
	} {
		if src, ok := mountedAt(p, want.dst); !ok || src != want.src {
			t.Errorf("prometheus: %s is not mounted at %s (got %q)", want.src, want.dst, src)
		}
	}
	configPath, ok := flagValue(p.Command, "config.file")
	if !ok {
		configPath = "/etc/prometheus/prometheus.yml" // the image's default
	}
	src, ok := mountedAt(p, configPath)
	if !ok {
		t.Fatalf("prometheus --config.file=%s is not mounted", configPath)
	}
	cfg, _ := readPromConfig(t, filepath.Join(repoRoot, src))
	if len(cfg.RuleFiles) == 0 {
		t.Errorf("%s loads no rule file", src)
	}
	for _, rf := range cfg.RuleFiles {
		if !path.IsAbs(rf) {
			rf = path.Join(path.Dir(configPath), rf)
		}
		if _, ok := mountedAt(p, rf); !ok && !strings.ContainsAny(rf, "*?[") {
			t.Errorf("%s loads %s, which is not mounted", src, rf)
		}
	}
	scraped := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" || sc.Scheme != "" && sc.Scheme != "http" {
			continue
		}
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				scraped[target] = true
			}
		}
	}
	for _, name := range workers {
		addr := cmpOrStr(c.Services[name].Environment["CAPASTAN_HTTP_ADDR"], ":8080")
		port, _ := httpPort(addr)
		if target := fmt.Sprintf("%s:%d", name, port); !scraped[target] {
			t.Errorf("%s does not scrape %s/metrics (targets %v)", src, target, slices.Sorted(mapsKeys(scraped)))
		}
	}
}

// checkGrafana checks Grafana gets the datasource, the dashboard provider
// and the dashboard where the provider looks, pointing at Prometheus.
func checkGrafana(t *testing.T, c compose) {
	g := c.Services["grafana"]
	const (
		datasource = "/etc/grafana/provisioning/datasources/prometheus.yml"
		provider   = "/etc/grafana/provisioning/dashboards/capastan.yml"
	)
	for src, dst := range map[string]string{
		"./deploy/grafana/provisioning/datasources/prometheus.yml": datasource,
		"./deploy/grafana/provisioning/dashboards/capastan.yml":    provider,
	} {
		if got, ok := mountedAt(g, dst); !ok || got != src {
			t.Errorf("grafana: %s is not mounted at %s (got %q)", src, dst, got)
		}
	}
	read := func(containerPath string, v any) {
		src, ok := mountedAt(g, containerPath)
		if !ok {
			t.Fatalf("grafana: nothing mounted at %s", containerPath)
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, src))
		if err == nil {
			err = yaml.Unmarshal(b, v)
		}
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	read(provider, &prov)
	if len(prov.Providers) == 0 {
		t.Fatal("the dashboard provisioning file has no provider")
	}
	dashDir := prov.Providers[0].Options.Path
	src, ok := mountedAt(g, path.Join(dashDir, "capastan.json"))
	if !ok || src != "./deploy/grafana/dashboards/capastan.json" {
		t.Errorf("deploy/grafana/dashboards/capastan.json is not mounted in the provider's directory %s (got %q)", dashDir, src)
	}
	var ds struct {
		Datasources []struct {
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	read(datasource, &ds)
	promPort := 9090
	if pubs, _ := ports(c.Services["prometheus"]); len(pubs) > 0 {
		promPort = pubs[0].container
	}
	want := fmt.Sprintf("http://prometheus:%d", promPort)
	found := false
	for _, d := range ds.Datasources {
		found = found || d.Type == "prometheus" && strings.TrimSuffix(d.URL, "/") == want
	}
	if !found {
		t.Errorf("no Prometheus datasource at %s (the compose service)", want)
	}
	if g.DependsOn["prometheus"].Condition != "service_healthy" {
		t.Error("grafana should wait for prometheus to be healthy")
	}
}

// TestComposeConfig validates the file with Compose itself, when installed:
// docker-compose (v1, the Debian package) or the `docker compose` plugin.
func TestComposeConfig(t *testing.T) {
	var argv []string
	if p, err := exec.LookPath("docker-compose"); err == nil {
		argv = []string{p}
	} else if p, err := exec.LookPath("docker"); err == nil && exec.Command(p, "compose", "version").Run() == nil {
		argv = []string{p, "compose"}
	} else {
		t.Skip("neither docker-compose nor the docker compose plugin is installed: the Compose file is checked by TestCompose only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "-f", composeFile, "config", "-q")...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s -f %s config -q: %v\n%s", strings.Join(argv, " "), composeFile, err, out)
	}
}
