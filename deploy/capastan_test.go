package deploy

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// repoRoot is the repository the deployment files deploy: this module's
// parent directory.
const repoRoot = ".."

// imageUID is the user the image runs as (distroless :nonroot) and the
// one the pods and compose services must run as.
const imageUID = 65532

// buildVersion is stamped into the test binary as main.version, the way
// the Dockerfile stamps $VERSION; dockerfile_test.go checks it comes out.
const buildVersion = "deploy-test"

// dockerBuildArgs are the Dockerfile's `go build` arguments (before the
// output path), with $VERSION expanded to buildVersion.
// TestDockerfile checks the Dockerfile says exactly this.
var dockerBuildArgs = []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + buildVersion}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// capastan returns the path of the capastan binary built from ../cmd/capastan,
// once per test run, with the Dockerfile's build flags (so the image's
// binary and this one share the build cache).
func capastan(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "capastan-deploy-test-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "capastan")
		buildErr = goBuild(repoRoot, binPath)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// goBuild builds ./cmd/capastan of the module in dir to out as the
// Dockerfile does.
func goBuild(dir, out string) error {
	args := append(slices.Clone(dockerBuildArgs), "-o", out, "./cmd/capastan")
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, b)
	}
	return nil
}

// runCapastan runs the binary with args in a clean environment (no
// CAPASTAN_* variables of the test's own) and returns stdout, stderr and
// the exit error.
func runCapastan(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, capastan(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// setting is one line of `capastan env`: a variable the binary accepts.
type setting struct {
	Name, Default, Description string
}

var (
	settingsOnce sync.Once
	settingsMap  map[string]setting
	settingsErr  error
)

// settings returns the variables `capastan env` lists, by name. The
// contract: one line per accepted variable, NAME<TAB>default<TAB>description,
// sorted by name.
func settings(t *testing.T) map[string]setting {
	t.Helper()
	bin := capastan(t)
	settingsOnce.Do(func() {
		cmd := exec.Command(bin, "env")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			settingsErr = fmt.Errorf("capastan env (the list of accepted CAPASTAN_* variables): %v\n%s", err, stderr.String())
			return
		}
		settingsMap, settingsErr = parseSettings(string(out))
	})
	if settingsErr != nil {
		t.Fatal(settingsErr)
	}
	return settingsMap
}

func parseSettings(out string) (map[string]setting, error) {
	m := map[string]setting{}
	prev := ""
	for i, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("capastan env, line %d %q: want NAME<TAB>default<TAB>description", i+1, line)
		}
		s := setting{Name: f[0], Default: f[1], Description: f[2]}
		if s.Default == `""` {
			s.Default = "" // how `capastan env` shows an empty default
		}
		if !validVarName(s.Name) {
			return nil, fmt.Errorf("capastan env, line %d: %q is not a CAPASTAN_* variable name", i+1, s.Name)
		}
		if s.Name <= prev {
			return nil, fmt.Errorf("capastan env, line %d: %s is out of order or repeated (after %s)", i+1, s.Name, prev)
		}
		prev = s.Name
		m[s.Name] = s
	}
	// The deployment files depend on these: a list without them is not
	// the list this test was written against.
	for _, name := range []string{"CAPASTAN_HTTP_ADDR", "CAPASTAN_SHUTDOWN_TIMEOUT", "CAPASTAN_KAFKA_BROKERS",
		"CAPASTAN_GROUP", "CAPASTAN_INPUT_TOPIC", "CAPASTAN_GROUP_INSTANCE_ID", "CAPASTAN_TRANSACTIONAL_ID",
		"CAPASTAN_KAFKA_SASL_PASSWORD"} {
		if _, ok := m[name]; !ok {
			return nil, fmt.Errorf("capastan env does not list %s", name)
		}
	}
	return m, nil
}

func validVarName(s string) bool {
	if !strings.HasPrefix(s, "CAPASTAN_") || len(s) == len("CAPASTAN_") {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

func TestParseSettings(t *testing.T) {
	good := "CAPASTAN_GROUP\tcapastan\tconsumer group\n" +
		"CAPASTAN_GROUP_INSTANCE_ID\t\"\"\tstatic membership\n" +
		"CAPASTAN_HTTP_ADDR\t:8080\tHTTP side port\n" +
		"CAPASTAN_INPUT_TOPIC\treviews\tinput\n" +
		"CAPASTAN_KAFKA_BROKERS\t127.0.0.1:9092\tbrokers\n" +
		"CAPASTAN_KAFKA_SASL_PASSWORD\t\tpassword\n" +
		"CAPASTAN_SHUTDOWN_TIMEOUT\t30s\tshutdown\n" +
		"CAPASTAN_TRANSACTIONAL_ID\tcapastan-<host>-<pid>\tid\twith a tab\n"
	m, err := parseSettings(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := m["CAPASTAN_HTTP_ADDR"].Default; got != ":8080" {
		t.Errorf("default of CAPASTAN_HTTP_ADDR = %q", got)
	}
	if got := m["CAPASTAN_GROUP_INSTANCE_ID"].Default; got != "" {
		t.Errorf("default of CAPASTAN_GROUP_INSTANCE_ID = %q, want empty", got)
	}
	if got := m["CAPASTAN_TRANSACTIONAL_ID"].Description; got != "id\twith a tab" {
		t.Errorf("description = %q", got)
	}
	for name, bad := range map[string]string{
		"two fields":   "CAPASTAN_GROUP\tcapastan\n",
		"unsorted":     "CAPASTAN_HTTP_ADDR\t:8080\tx\nCAPASTAN_GROUP\tc\tx\n",
		"not prefixed": "GROUP\tc\tx\n",
		"incomplete":   "CAPASTAN_GROUP\tc\tx\n",
	} {
		if _, err := parseSettings(bad); err == nil {
			t.Errorf("%s: parseSettings accepted %q", name, bad)
		}
	}
}

// TestCapastanEnv checks the binary's own list (and that it builds).
func TestCapastanEnv(t *testing.T) {
	s := settings(t)
	for _, name := range []string{"CAPASTAN_HTTP_ADDR", "CAPASTAN_SHUTDOWN_TIMEOUT"} {
		if err := checkValue(s, name, s[name].Default); err != nil {
			t.Errorf("the binary's own default does not pass the checks: %v", err)
		}
	}
}

// checkVar reports a CAPASTAN_* variable the binary does not accept, or a
// value that cannot be right for it. Only names that look like ours are
// checked; others (GOMEMLIMIT, KAFKA_* of the broker) are not the binary's.
func checkVar(known map[string]setting, name, value string, haveValue bool) error {
	if !strings.HasPrefix(name, "CAPASTAN") {
		return nil
	}
	if _, ok := known[name]; !ok {
		return fmt.Errorf("%s is not a variable capastan accepts (see `capastan env`)", name)
	}
	if !haveValue {
		return nil
	}
	return checkValue(known, name, value)
}

// checkValue checks value against what the binary will parse: the type is
// inferred from the variable's default (a duration, a bool, an integer),
// and the enumerations and addresses are the README's.
func checkValue(known map[string]setting, name, value string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s=%q: %s", name, value, fmt.Sprintf(format, a...))
	}
	switch name {
	case "CAPASTAN_DELIVERY":
		if value != "exactly-once" && value != "at-least-once" {
			return bad("want exactly-once or at-least-once")
		}
		return nil
	case "CAPASTAN_LOG_LEVEL":
		if !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(value)) {
			return bad("want debug, info, warn or error")
		}
		return nil
	case "CAPASTAN_LOG_FORMAT":
		if !slices.Contains([]string{"json", "text"}, strings.ToLower(value)) {
			return bad("want json or text")
		}
		return nil
	case "CAPASTAN_KAFKA_SASL_MECHANISM":
		if !slices.Contains([]string{"", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, strings.ToUpper(value)) {
			return bad("want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
		}
		return nil
	case "CAPASTAN_KAFKA_BROKERS":
		for _, b := range strings.Split(value, ",") {
			if _, port, err := net.SplitHostPort(strings.TrimSpace(b)); err != nil || port == "" {
				return bad("broker %q is not host:port", b)
			}
		}
		return nil
	case "CAPASTAN_HTTP_ADDR":
		if value == "" {
			return nil // disabled: the callers that need the port say so
		}
		if _, err := httpPort(value); err != nil {
			return bad("%v", err)
		}
		return nil
	}
	def := known[name].Default
	if b := strings.ToLower(def); b == "true" || b == "false" {
		if _, err := strconv.ParseBool(value); err != nil {
			return bad("not a bool (the default is %s)", def)
		}
		return nil
	}
	if _, err := strconv.ParseInt(def, 10, 64); err == nil {
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return bad("not an integer (the default is %s)", def)
		}
		return nil
	}
	if d, err := time.ParseDuration(def); err == nil && d != 0 || def == "0s" {
		if _, err := time.ParseDuration(value); err != nil {
			return bad("not a duration such as 10s (the default is %s)", def)
		}
	}
	return nil
}

// httpPort is the TCP port of a CAPASTAN_HTTP_ADDR value.
func httpPort(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("HTTP address %q: %v", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("HTTP address %q: port %q is not 1-65535", addr, p)
	}
	return port, nil
}

func TestCheckValue(t *testing.T) {
	known := map[string]setting{
		"CAPASTAN_SHUTDOWN_TIMEOUT": {Default: "30s"},
		"CAPASTAN_CREATE_TOPICS":    {Default: "false"},
		"CAPASTAN_TOPIC_PARTITIONS": {Default: "12"},
		"CAPASTAN_DELIVERY":         {Default: "exactly-once"},
		"CAPASTAN_HTTP_ADDR":        {Default: ":8080"},
		"CAPASTAN_KAFKA_BROKERS":    {Default: "127.0.0.1:9092"},
	}
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"CAPASTAN_SHUTDOWN_TIMEOUT", "45s", true},
		{"CAPASTAN_SHUTDOWN_TIMEOUT", "45", false},
		{"CAPASTAN_CREATE_TOPICS", "true", true},
		{"CAPASTAN_CREATE_TOPICS", "yes", false},
		{"CAPASTAN_TOPIC_PARTITIONS", "6", true},
		{"CAPASTAN_TOPIC_PARTITIONS", "six", false},
		{"CAPASTAN_DELIVERY", "exactly_once", false},
		{"CAPASTAN_HTTP_ADDR", "8080", false},
		{"CAPASTAN_KAFKA_BROKERS", "kafka:9092,kafka-2:9092", true},
		{"CAPASTAN_KAFKA_BROKERS", "kafka", false},
	} {
		err := checkVar(known, c.name, c.value, true)
		if (err == nil) != c.ok {
			t.Errorf("%s=%q: err = %v, want ok %v", c.name, c.value, err, c.ok)
		}
	}
	if err := checkVar(known, "CAPASTAN_NOT_A_SETTING", "1", true); err == nil {
		t.Error("an unknown CAPASTAN_ variable passed")
	}
	if err := checkVar(known, "GOMEMLIMIT", "400MiB", true); err != nil {
		t.Errorf("a variable that is not ours: %v", err)
	}
}

// commandHelp returns `capastan <cmd> -h` output (flags go to stderr).
func commandHelp(t *testing.T, cmd string) string {
	t.Helper()
	stdout, stderr, err := runCapastan(t, cmd, "-h")
	if err != nil {
		t.Fatalf("capastan %s -h: %v\n%s%s", cmd, err, stdout, stderr)
	}
	return stdout + stderr
}

// checkFlags reports the flags of args (after the subcommand) that
// `capastan <cmd> -h` does not list.
func checkFlags(help string, args []string) []error {
	var errs []error
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name := strings.TrimLeft(a, "-")
		name, _, _ = strings.Cut(name, "=")
		if !strings.Contains(help, "-"+name+" ") && !strings.Contains(help, "-"+name+"\n") {
			errs = append(errs, fmt.Errorf("flag %s is not one `capastan` lists in its help", a))
		}
	}
	return errs
}

// execOutput runs a program in a clean environment and returns its stdout.
func execOutput(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
	out, err := cmd.Output()
	return string(out), err
}
