package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
	line int
}

// parseDockerfile is a small Dockerfile reader: comments, line
// continuations, one instruction per logical line. (BuildKit's own parser
// lives in the moby/buildkit module, far too heavy for this.)
func parseDockerfile(text string) ([]instruction, error) {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue // a comment or blank line inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(strings.TrimSpace(s) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args), start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("line %d: the file ends inside a continued instruction", start)
	}
	return out, nil
}

// execForm decodes a JSON-array (exec form) argument.
func execForm(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("%s: not the exec form (a JSON array): %v", s, err)
	}
	return v, nil
}

// shellWords splits a RUN line the way sh does for plain words and double
// quotes (enough for our build command).
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (r == ' ' || r == '\t'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

var argRef = regexp.MustCompile(`\$\{?(\w+)\}?`)

func TestDockerfile(t *testing.T) {
	known := settings(t)
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := parseDockerfile(string(b))
	if err != nil {
		t.Fatal(err)
	}
	// Global ARGs (before the first FROM) and the stages.
	globals := map[string]string{}
	type stage struct {
		from, name string
		ins        []instruction
	}
	var stages []*stage
	for _, in := range ins {
		switch {
		case in.cmd == "ARG" && len(stages) == 0:
			k, v, _ := strings.Cut(in.args, "=")
			globals[k] = v
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := &stage{from: argRef.ReplaceAllStringFunc(f[0], func(ref string) string {
				return globals[argRef.FindStringSubmatch(ref)[1]]
			})}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
		case len(stages) == 0:
			t.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
		default:
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stages", len(stages))
	}
	builder, final := stages[0], stages[len(stages)-1]

	// The builder's Go is the one go.mod asks for.
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "golang:" + string(m[1]); builder.from != want && !strings.HasPrefix(builder.from, want+".") && !strings.HasPrefix(builder.from, want+"-") {
		t.Errorf("the builder is %s; go.mod wants Go %s (%s)", builder.from, m[1], want)
	}
	var build []string
	for _, in := range builder.ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			w := shellWords(in.args)
			i := slices.Index(w, "go")
			if !slices.Contains(w[:i], "CGO_ENABLED=0") {
				t.Error("the go build does not set CGO_ENABLED=0 (a static binary for distroless/static)")
			}
			build = w[i+1:]
		}
	}
	want := append(slices.Clone(dockerBuildArgs), "-o", "/out/capastan", "./cmd/capastan")
	want[3] = strings.Replace(want[3], buildVersion, "$VERSION", 1)
	if !slices.Equal(build, want) {
		t.Errorf("the builder runs go %q, want go %q (deploy tests build the binary the same way)", build, want)
	}

	if final.from != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("the runtime image is %s, want gcr.io/distroless/static-debian12:nonroot", final.from)
	}
	last := map[string]instruction{}
	labels := map[string]bool{}
	for _, in := range final.ins {
		last[in.cmd] = in
		switch in.cmd {
		case "RUN":
			t.Errorf("line %d: RUN in the runtime stage: distroless has no shell", in.line)
		case "LABEL":
			for _, m := range regexp.MustCompile(`([\w.-]+)=`).FindAllStringSubmatch(in.args, -1) {
				labels[m[1]] = true
			}
		case "COPY":
			if in.args != "--from="+builder.name+" /out/capastan /capastan" {
				t.Errorf("line %d: COPY %s; want only the binary from the builder", in.line, in.args)
			}
		}
	}
	for _, l := range []string{"title", "description", "source", "licenses", "version", "revision"} {
		if !labels["org.opencontainers.image."+l] {
			t.Errorf("no org.opencontainers.image.%s label", l)
		}
	}
	if u := last["USER"].args; u != fmt.Sprintf("%d:%d", imageUID, imageUID) && u != fmt.Sprint(imageUID) {
		t.Errorf("USER %q, want %d:%d (distroless nonroot; the pods' runAsUser)", u, imageUID, imageUID)
	}
	port, err := httpPort(known["CAPASTAN_HTTP_ADDR"].Default)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(last["EXPOSE"].args), fmt.Sprint(port)) {
		t.Errorf("EXPOSE %q does not include the side port %d", last["EXPOSE"].args, port)
	}
	for cmd, want := range map[string][]string{"ENTRYPOINT": {"/capastan"}, "CMD": {"serve"}} {
		if got, err := execForm(last[cmd].args); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s %s, want %q (%v)", cmd, last[cmd].args, want, err)
		}
	}
	hc := last["HEALTHCHECK"].args
	_, cmdArgs, ok := strings.Cut(hc, "CMD ")
	if got, err := execForm(strings.TrimSpace(cmdArgs)); !ok || err != nil || !slices.Equal(got, []string{"/capastan", "healthcheck"}) {
		t.Errorf("HEALTHCHECK %s, want CMD [\"/capastan\", \"healthcheck\"] (%v)", hc, err)
	}
	// The subcommands the image runs exist.
	for _, sub := range []string{"serve", "healthcheck"} {
		commandHelp(t, sub)
	}
	lic, err := os.ReadFile(filepath.Join(repoRoot, "LICENSE"))
	if err == nil && !strings.HasPrefix(string(lic), "MIT") {
		t.Error("LICENSE is not MIT, but the image's licenses label says MIT")
	}
}

// TestDockerBuildContext builds ./cmd/capastan from a copy of exactly the
// files .dockerignore lets into the build context, as the Dockerfile does,
// and runs the result: the context holds everything the build embeds.
func TestDockerBuildContext(t *testing.T) {
	capastan(t) // warm the build cache: the build below then only links
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var size int64
	var files []string
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if excluded && !pm.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		if excluded || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		files = append(files, rel)
		return copyFile(p, filepath.Join(dir, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go.mod", "go.sum", "models/default.cpst", "schemas/review.v1.json", "classifier/lexicons/vader.tsv"} {
		if !slices.Contains(files, want) {
			t.Errorf("%s is not in the build context", want)
		}
	}
	for _, f := range files {
		for _, unwanted := range []string{".git/", "bin/", "bench/", "deploy/", ".venv"} {
			if strings.HasPrefix(f, unwanted) {
				t.Errorf("%s is in the build context", f)
			}
		}
	}
	if size > 64<<20 {
		t.Errorf("the build context is %d MiB", size>>20)
	}
	t.Logf("build context: %d files, %.1f MiB", len(files), float64(size)/(1<<20))
	out := filepath.Join(t.TempDir(), "capastan")
	if err := goBuild(dir, out); err != nil {
		t.Fatalf("building from the .dockerignore'd context: %v", err)
	}
	got, err := execOutput(out, "version")
	if err != nil || strings.TrimSpace(got) != "capastan "+buildVersion {
		t.Errorf("capastan version = %q (%v), want %q: -X main.version does not reach the binary", got, err, "capastan "+buildVersion)
	}
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestParseDockerfile(t *testing.T) {
	ins, err := parseDockerfile("# c\nFROM a AS b\nRUN x \\\n  # inside\n  y\nCMD [\"serve\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []instruction{{"FROM", "a AS b", 2}, {"RUN", "x y", 3}, {"CMD", `["serve"]`, 6}}
	if !slices.Equal(ins, want) {
		t.Errorf("got %v, want %v", ins, want)
	}
	if _, err := parseDockerfile("RUN x \\\n"); err == nil {
		t.Error("an unfinished continuation passed")
	}
	if got := shellWords(`CGO_ENABLED=0 go build -ldflags "-s -w" -o /x`); !slices.Equal(got, []string{"CGO_ENABLED=0", "go", "build", "-ldflags", "-s -w", "-o", "/x"}) {
		t.Errorf("shellWords = %q", got)
	}
}
