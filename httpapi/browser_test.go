package httpapi_test

import (
	"context"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/capastan/capastan/classifier"
	"github.com/capastan/capastan/httpapi"
	"github.com/capastan/capastan/models"
)

// TestBrowser drives the page of GET / (ui/index.html) in a real headless
// Chromium, as a person would: it opens a link with ?text=, types and
// clicks, uses Ctrl+Enter and an example chip, and provokes an error
// answer; after each step it reads what the page shows. It fails on any
// JavaScript error or Content-Security-Policy violation, and saves
// screenshots (see browserArtifacts).
//
// It needs Debian's chromium; without it the test skips, unless
// CAPASTAN_REQUIRE_TOOLS=1, when it fails.
func TestBrowser(t *testing.T) {
	exe := browserExecutable(t)
	m, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := httpapi.DefaultConfig()
	cfg.MaxTextBytes = 200 // so that the error step needs no huge text
	srv := httptest.NewServer(httpapi.New(cfg, httpapi.Options{Model: func() *classifier.Model { return m }}))
	defer srv.Close()
	artifacts := browserArtifacts(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1000, 800), chromedp.Flag("hide-scrollbars", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	// The browser lives as long as the context of its first Run.
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 800)); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	t.Logf("%s started in %v", exe, time.Since(start).Round(time.Millisecond))
	// Record script errors and CSP violations from the first byte of
	// every page on.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__problems = [];
		addEventListener("error", e => __problems.push("error: " + e.message));
		addEventListener("unhandledrejection", e => __problems.push("rejection: " + e.reason));
		addEventListener("securitypolicyviolation", e => __problems.push("CSP: " + e.violatedDirective + " " + e.blockedURI));
	`}); err != nil {
		t.Fatal(err)
	}

	const (
		positive = "I loved it, a wonderful film with a great cast"
		negative = "Terrible quality, it broke after two days. Avoid."
	)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// waitLabel waits until the page shows label for text.
	waitLabel := func(name, text, label string) browserPage {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.PollFunction[chromedp.Void](`(text, label) => {
			const l = document.getElementById("label");
			return document.getElementById("text").value === text && !document.getElementById("result").hidden &&
				l.dataset.label === label && document.getElementById("go").disabled === false;
		}`, chromedp.WithPollingArgs(text, label), chromedp.WithPollingTimeout(10*time.Second)))
		p := browserRead(t, ctx)
		if err != nil {
			t.Fatalf("%s: the page does not show %s for %q: %v; it shows %+v", name, label, text, err, p)
		}
		browserCheck(t, name, p, m)
		return p
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(artifacts, "browser-"+name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	// A link with ?text= fills the box and classifies on load.
	step("link", chromedp.Navigate(srv.URL+"/?text="+url.QueryEscape(positive)))
	waitLabel("link", positive, "positive")
	screenshot("positive")

	// Typing and clicking the button.
	step("type", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("text")),
		chromedp.SendKeys(chromedp.ID("text"), negative), chromedp.Click(chromedp.ID("go")))
	waitLabel("type and click", negative, "negative")
	screenshot("negative")

	// Ctrl+Enter in the box; the page's URL then links to the text.
	const other = "What a great day, I am so happy with it"
	step("ctrl+enter", chromedp.SetValue(chromedp.ID("text"), other), chromedp.Focus(chromedp.ID("text")),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitLabel("ctrl+enter", other, "positive")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(loc); err != nil || u.Query().Get("text") != other {
		t.Errorf("after classifying, the page's URL is %s; want ?text= of the text", loc)
	}

	// A title is classified with the text, and the page's URL keeps it.
	const verdict, plain = "Waste of money", "It arrived on Tuesday in a brown box."
	if got := m.Classify(plain).Label; got == "negative" {
		t.Fatalf("the shipped model calls %q %s without a title: pick another example", plain, got)
	}
	step("title", chromedp.Navigate(srv.URL+"/?text="+url.QueryEscape(plain)+"&title="+url.QueryEscape(verdict)))
	if p := waitLabel("title", plain, "negative"); p.Title != verdict {
		t.Errorf("title: the title box holds %q, want %q from the link", p.Title, verdict)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("title").value = "", true`)); err != nil {
		t.Fatal(err)
	}
	step("title cleared", chromedp.Click(chromedp.ID("go")))
	waitLabel("title cleared", plain, m.Classify(plain).Label)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil {
		t.Fatal(err)
	} else if u, err := url.Parse(loc); err != nil || u.Query().Has("title") {
		t.Errorf("after classifying without a title, the page's URL is %s; want no ?title=", loc)
	}
	step("title typed", chromedp.SendKeys(chromedp.ID("title"), verdict), chromedp.Click(chromedp.ID("go")))
	waitLabel("title typed", plain, "negative")
	screenshot("title")

	// An example chip (it drops the title: the example is the whole text).
	chip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const c = [...document.querySelectorAll(".chip")].find(b => /terrible|awful|worst/i.test(b.textContent));
		c.click();
		return c.textContent;
	})()`))
	if err != nil {
		t.Fatalf("chip: %v", err)
	}
	waitLabel("chip", chip, "negative")

	// An error answer (the text is over this server's limit) is shown.
	long := strings.Repeat("long ", 50)
	step("error", chromedp.SetValue(chromedp.ID("text"), long), chromedp.Click(chromedp.ID("go")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`!document.getElementById("error").hidden`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("error: #error never shows: %v; the page shows %+v", err, browserRead(t, ctx))
	}
	if p := browserRead(t, ctx); !strings.Contains(p.Error, "text_too_long") || !p.ResultHidden {
		t.Errorf("error: #error %q (want text_too_long), result hidden %v (want true)", p.Error, p.ResultHidden)
	}
	screenshot("error")

	// The dark colour scheme, for the record.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	const mixed = "Great screen, but the battery is awful."
	step("dark", chromedp.Navigate(srv.URL+"/?text="+url.QueryEscape(mixed)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`!document.getElementById("result").hidden`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("dark: no result: %v; %+v", err, browserRead(t, ctx))
	}
	dark := browserRead(t, ctx)
	browserCheck(t, "dark", dark, m)
	if !strings.Contains(dark.Confidence, "mixed") {
		t.Errorf("dark: %q shows %q; the shipped model's neutral margin should call it mixed", mixed, dark.Confidence)
	}
	screenshot("dark")

	if probs := browserRead(t, ctx).Problems; len(probs) > 0 {
		t.Errorf("the page reported problems: %q", probs)
	}
	t.Logf("browser steps took %v", time.Since(start).Round(time.Millisecond))
}

// browserPage is what the page shows, read from its DOM.
type browserPage struct {
	Text         string       `json:"text"`
	Title        string       `json:"title"`
	Label        string       `json:"label"`
	LabelText    string       `json:"labelText"`
	Confidence   string       `json:"confidence"`
	Bars         []browserBar `json:"bars"`
	Explain      []string     `json:"explain"` // data-class per group
	Features     []int        `json:"features"`
	Model        string       `json:"model"`
	Error        string       `json:"error"`
	ErrorHidden  bool         `json:"errorHidden"`
	ResultHidden bool         `json:"resultHidden"`
	Problems     []string     `json:"problems"`
}

type browserBar struct {
	Class string  `json:"class"`
	Width float64 `json:"width"` // of the bar, in % of its track
	Text  string  `json:"text"`
}

func browserRead(t *testing.T, ctx context.Context) browserPage {
	t.Helper()
	p, err := chromedp.Run(ctx, chromedp.Evaluate[browserPage](`(() => {
		const $ = id => document.getElementById(id);
		const groups = [...$("explain").children];
		return {
			text: $("text").value,
			title: $("title").value,
			label: $("label").dataset.label || "",
			labelText: $("label").textContent,
			confidence: $("confidence").textContent,
			bars: [...document.querySelectorAll(".bar")].map(b => ({
				class: b.dataset.class || "",
				width: 100 * b.getBoundingClientRect().width / b.parentElement.getBoundingClientRect().width,
				text: b.textContent,
			})),
			explain: groups.map(g => g.dataset.class || ""),
			features: groups.map(g => g.querySelectorAll(".feature").length),
			model: $("model").textContent,
			error: $("error").textContent,
			errorHidden: $("error").hidden,
			resultHidden: $("result").hidden,
			problems: window.__problems || [],
		};
	})()`))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	return p
}

// browserCheck checks a shown prediction: one bar per class, as wide as
// its percentage says and summing to the whole track, features for the
// predicted class, the model's name, no error.
func browserCheck(t *testing.T, step string, p browserPage, m *classifier.Model) {
	t.Helper()
	if p.LabelText != p.Label || !slices.Contains(m.Classes(), p.Label) {
		t.Errorf("%s: label %q shown as %q", step, p.Label, p.LabelText)
	}
	var classes []string
	sum := 0.0
	for _, b := range p.Bars {
		classes = append(classes, b.Class)
		sum += b.Width
		pct, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(b.Text), "%"), 64)
		if err != nil || !strings.HasSuffix(b.Text, "%") || math.Abs(pct-b.Width) > 1.5 {
			t.Errorf("%s: bar %s is %.1f%% wide and says %q", step, b.Class, b.Width, b.Text)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(classes)), m.Classes()) {
		t.Errorf("%s: bars for %v, want one per class %v", step, classes, m.Classes())
	}
	if math.Abs(sum-100) > 2 {
		t.Errorf("%s: the bars add up to %.1f%% of the track", step, sum)
	}
	if len(p.Explain) != len(m.Classes()) || len(p.Explain) == 0 || p.Explain[0] != p.Label {
		t.Errorf("%s: explain groups %v, want every class, %s first", step, p.Explain, p.Label)
	} else if p.Features[0] < 1 || slices.Max(p.Features) > 5 {
		t.Errorf("%s: features per class %v, want 1 to 5 for the label", step, p.Features)
	}
	// A neutral answered by the model's margin is labeled mixed, naming
	// the class that led; any other answer is not.
	pred := m.Classify(classifier.Titled(p.Title, p.Text))
	top := slices.Index(pred.Probs, slices.Max(pred.Probs))
	if pred.Index != top {
		if want := "mixed: " + m.Classes()[top]; !strings.Contains(p.Confidence, want) {
			t.Errorf("%s: confidence shown as %q, want it to say %q (%s leads, the label is %s)", step, p.Confidence, want, m.Classes()[top], pred.Label)
		}
	} else if strings.Contains(p.Confidence, "mixed") {
		t.Errorf("%s: confidence shown as %q, but %s is the most probable class", step, p.Confidence, pred.Label)
	}
	if !strings.Contains(p.Model, m.Metadata().Name) {
		t.Errorf("%s: model %q, want %s", step, p.Model, m.Metadata().Name)
	}
	if !p.ErrorHidden {
		t.Errorf("%s: an error is shown: %q", step, p.Error)
	}
}

// browserExecutable finds Debian's chromium, or skips (fails with
// CAPASTAN_REQUIRE_TOOLS=1).
func browserExecutable(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium: install Debian's package (apt-get install chromium) to run the browser test"
	if os.Getenv("CAPASTAN_REQUIRE_TOOLS") == "1" {
		t.Fatal(msg + " (CAPASTAN_REQUIRE_TOOLS=1)")
	}
	t.Skip(msg)
	return ""
}

// browserArtifacts is where the screenshots go: $CAPASTAN_ARTIFACTS when
// set, else the test's artifact directory (kept with go test -artifacts,
// a temporary one otherwise).
func browserArtifacts(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("CAPASTAN_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}
