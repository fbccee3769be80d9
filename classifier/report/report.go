// Package report renders an evaluation of a classifier as one
// self-contained HTML page: inline CSS only, no scripts, no external
// assets, no links, so the file can be mailed, archived or opened offline.
//
// The page shows the model's identity and configuration, the headline
// figures (accuracy, macro-F1, macro-averaged recall), the confusion matrix
// as a row-normalised heat map, per-class precision/recall/F1 bars and the
// features each class has learned to rely on most.
//
// Labels and feature names are user data; the page is rendered with
// html/template so they are always escaped. Every rate is computed with a
// guard on its denominator, and non-finite figures print as a dash, so an
// empty evaluation or a class absent from the data renders cleanly.
package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/capastan/capastan/classifier"
)

// Input is what a report shows.
type Input struct {
	Title  string
	Model  *classifier.Model
	Report *classifier.Report
}

// topFeatures is how many features per class the page lists.
const topFeatures = 15

// Write renders the report to w. A nil Report renders as an empty
// evaluation; a nil Model leaves out the model sections.
func Write(w io.Writer, in Input) error {
	return page.Execute(w, build(in))
}

// WriteFile renders the report to path. The page is written to a
// temporary file in the same directory and renamed into place once it is
// complete and closed, so a reader never sees half a page.
func WriteFile(path string, in Input) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op once renamed
	if err := Write(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// view is everything the template shows, precomputed and formatted so the
// template does no arithmetic.
type view struct {
	Title    string
	Model    *modelView
	N        string
	Headline []figure
	Labels   []string
	Matrix   []matrixRow
	ColTotal []string
	Classes  []classView
	Features []featureList
}

type kv struct{ Key, Value string }

type modelView struct {
	Name, Version, SHA string
	Info               []kv
	Config             []kv
}

type figure struct {
	Name, Value, Exact, Note string
	Width                    template.CSS
}

type matrixRow struct {
	Gold    string
	Support string
	Cells   []cell
}

type cell struct {
	Pred  string
	Count string
	Pct   string
	Diag  bool
	Dark  bool // the background is dark enough for light text
	Style template.CSS
}

type classView struct {
	Name    string
	Support string
	Absent  bool
	Bars    []bar
}

type bar struct {
	Name, Value string
	Width       template.CSS
}

type featureList struct {
	Class string
	Items []featureItem
	Note  string
}

type featureItem struct {
	Feature, Weight string
	Width           template.CSS
}

// finite maps NaN and ±Inf to 0, for widths and intensities.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// clamp01 is finite(x) limited to [0, 1].
func clamp01(x float64) float64 {
	return math.Max(0, math.Min(1, finite(x)))
}

// ratio is a/b, or 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// num formats a figure with 4 decimals, or a dash when it is not finite.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}

// pct formats a rate in [0, 1] as a percentage, or a dash when not finite.
func pct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
}

// width is a CSS width for a bar of fraction x of its track.
func width(x float64) template.CSS {
	return template.CSS("width:" + strconv.FormatFloat(100*clamp01(x), 'f', 2, 64) + "%")
}

// group formats n with thousands separators.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func build(in Input) view {
	r := in.Report
	if r == nil {
		r = &classifier.Report{}
	}
	v := view{Title: in.Title, N: group(r.N)}
	if strings.TrimSpace(v.Title) == "" {
		v.Title = "Evaluation"
	}
	if in.Model != nil {
		v.Model = buildModel(in.Model)
	}
	v.Headline = []figure{
		headline("Accuracy", r.Accuracy, "share of examples labeled correctly"),
		headline("Macro-F1", r.MacroF1, "mean F1 over the classes in the data"),
		headline("Macro recall", r.MacroRecall, "mean recall over the classes in the data"),
	}

	// Confusion matrix; tolerate a hand-made, ragged one.
	k := len(r.Labels)
	v.Labels = append([]string(nil), r.Labels...)
	colTotal := make([]int, k)
	for g := 0; g < k; g++ {
		var row []int
		if g < len(r.Confusion) {
			row = r.Confusion[g]
		}
		at := func(p int) int {
			if p < len(row) {
				return row[p]
			}
			return 0
		}
		support := 0
		for p := 0; p < k; p++ {
			support += at(p)
		}
		mr := matrixRow{Gold: r.Labels[g], Support: group(support)}
		for p := 0; p < k; p++ {
			n := at(p)
			colTotal[p] += n
			rate := ratio(n, support)
			c := cell{Pred: r.Labels[p], Count: group(n), Pct: pct(rate), Diag: g == p}
			if support == 0 {
				c.Pct = "—"
			}
			// A faint tint for any non-zero count, so rare confusions
			// still show; full colour at a rate of 1.
			a := clamp01(rate)
			if n > 0 {
				a = 0.06 + 0.94*a
			}
			c.Dark = a > 0.55
			c.Style = template.CSS("background:rgba(37,99,235," + strconv.FormatFloat(a, 'f', 3, 64) + ")")
			mr.Cells = append(mr.Cells, c)
		}
		v.Matrix = append(v.Matrix, mr)
	}
	for _, n := range colTotal {
		v.ColTotal = append(v.ColTotal, group(n))
	}

	// Per-class figures, in matrix order, then any other class named in
	// PerClass.
	names := append([]string(nil), r.Labels...)
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	var extra []string
	for n := range r.PerClass {
		if !seen[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	names = append(names, extra...)
	for _, n := range names {
		m := r.PerClass[n] // zero when absent (e.g. an empty evaluation)
		cv := classView{Name: n, Support: group(m.Support), Absent: m.Support == 0}
		for _, b := range []struct {
			name string
			x    float64
		}{{"Precision", m.Precision}, {"Recall", m.Recall}, {"F1", m.F1}} {
			cv.Bars = append(cv.Bars, bar{Name: b.name, Value: num(b.x), Width: width(b.x)})
		}
		v.Classes = append(v.Classes, cv)
	}

	if in.Model != nil {
		v.Features = buildFeatures(in.Model)
	}
	return v
}

func headline(name string, x float64, note string) figure {
	return figure{Name: name, Value: pct(x), Exact: num(x), Note: note, Width: width(x)}
}

func buildModel(m *classifier.Model) *modelView {
	meta := m.Metadata()
	cfg := m.Config()
	mv := &modelView{Name: meta.Name, Version: meta.Version, SHA: m.SHA256()}
	if mv.Name == "" {
		mv.Name = "(unnamed)"
	}
	if mv.Version == "" {
		mv.Version = "—"
	}
	classes := m.Classes()
	mv.Info = append(mv.Info, kv{"Classes", strings.Join(classes, ", ")})
	if !meta.CreatedAt.IsZero() {
		mv.Info = append(mv.Info, kv{"Created", meta.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")})
	}
	if len(meta.TrainDocs) > 0 {
		var parts []string
		total := uint64(0)
		for _, c := range classes {
			if d, ok := meta.TrainDocs[c]; ok {
				parts = append(parts, c+" "+group(int(d)))
				total += d
			}
		}
		mv.Info = append(mv.Info, kv{"Training docs", group(int(total)) + " (" + strings.Join(parts, " · ") + ")"})
	}
	feats := meta.Features
	if feats == 0 {
		feats = m.Features()
	}
	mv.Info = append(mv.Info, kv{"Features", group(feats)})
	if meta.PrunedFeatures > 0 {
		mv.Info = append(mv.Info, kv{"Pruned features", group(meta.PrunedFeatures)})
	}
	if len(meta.Data) > 0 {
		var files []string
		for _, d := range meta.Data {
			files = append(files, d.Name)
		}
		mv.Info = append(mv.Info, kv{"Training data", strings.Join(files, ", ")})
	}
	if meta.Calibration != "" {
		mv.Info = append(mv.Info, kv{"Calibration", meta.Calibration})
	}

	hash := "off (exact vocabulary)"
	if cfg.HashBits > 0 {
		hash = strconv.Itoa(cfg.HashBits) + " (" + group(1<<cfg.HashBits) + " buckets)"
	}
	mv.Config = []kv{
		{"kind", cfg.Kind},
		{"ngrams", strconv.Itoa(cfg.NGrams)},
		{"binary", strconv.FormatBool(cfg.Binary)},
		{"alpha", strconv.FormatFloat(cfg.Alpha, 'g', -1, 64)},
		{"min_df", strconv.Itoa(cfg.MinDF)},
		{"hash_bits", hash},
	}
	if cfg.Temperature != 0 && cfg.Temperature != 1 {
		mv.Config = append(mv.Config, kv{"temperature", strconv.FormatFloat(cfg.Temperature, 'g', 4, 64)})
	}
	if cfg.UniformPrior {
		mv.Config = append(mv.Config, kv{"uniform_prior", "true"})
	}
	if len(cfg.ClassBias) > 0 {
		var parts []string
		for _, b := range cfg.ClassBias {
			parts = append(parts, strconv.FormatFloat(b, 'f', 3, 64))
		}
		mv.Config = append(mv.Config, kv{"class_bias", strings.Join(parts, ", ")})
	}
	return mv
}

// buildFeatures lists each class's top features, with bars scaled to the
// largest weight on the page so classes can be compared.
func buildFeatures(m *classifier.Model) []featureList {
	classes := m.Classes()
	top := m.TopFeatures(topFeatures)
	max := 0.0
	for _, list := range top {
		for _, c := range list {
			if w := finite(c.Weight); w > max {
				max = w
			}
		}
	}
	var out []featureList
	for i, name := range classes {
		fl := featureList{Class: name}
		if i < len(top) {
			for _, c := range top[i] {
				if math.IsNaN(c.Weight) || math.IsInf(c.Weight, 0) {
					continue
				}
				w := 0.0
				if max > 0 {
					w = c.Weight / max
				}
				fl.Items = append(fl.Items, featureItem{Feature: c.Feature, Weight: strconv.FormatFloat(c.Weight, 'f', 3, 64), Width: width(w)})
			}
		}
		if len(fl.Items) == 0 {
			fl.Note = "No named feature favours this class."
		}
		out = append(out, fl)
	}
	return out
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — capastan evaluation</title>
<style>
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:#1f2937;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1080px;margin:0 auto;padding:28px 24px 40px}
h1{font-size:26px;margin:0 0 2px}
h2{font-size:17px;margin:0 0 12px}
.sub{color:#6b7280;margin:0 0 20px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:18px 20px;margin:0 0 18px}
.hint{color:#6b7280;font-size:12.5px;margin:-6px 0 12px}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin:0 0 18px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:14px 16px}
.card .k{color:#6b7280;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:30px;font-weight:650;margin:2px 0 0;font-variant-numeric:tabular-nums}
.card .x{color:#6b7280;font-size:12px;font-variant-numeric:tabular-nums}
.card .track{margin-top:8px}
.track{background:#eef0f3;border-radius:4px;height:8px;overflow:hidden}
.fill{height:100%;border-radius:4px;background:#2563eb}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:8px 28px}
dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:5px 14px}
dt{color:#6b7280}
dd{margin:0;overflow-wrap:anywhere}
h3{font-size:13px;margin:0 0 8px;color:#374151;text-transform:uppercase;letter-spacing:.04em}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
.cm th{font-weight:600;padding:6px 8px;color:#374151}
.cm th.g{text-align:right;max-width:180px;overflow-wrap:anywhere}
.cm th.p{text-align:center;max-width:120px;overflow-wrap:anywhere;vertical-align:bottom}
.cm .axis{color:#6b7280;font-weight:500;font-size:12px}
.cm td.c{width:108px;height:58px;text-align:center;border:2px solid #fff;border-radius:6px;color:#1f2937}
.cm td.c.dk{color:#fff}
.cm td.c.d{box-shadow:inset 0 0 0 2px #1e3a8a}
.cm td.c .n{display:block;font-size:16px;font-weight:650}
.cm td.c .q{display:block;font-size:12px;opacity:.85}
.cm td.t{color:#6b7280;text-align:center;padding:4px 8px}
.cm td.s{color:#6b7280;padding-left:12px}
.pc{width:100%}
.pc th{text-align:left;font-weight:600;color:#374151;padding:6px 10px;border-bottom:1px solid #e5e7eb}
.pc td{padding:7px 10px;border-bottom:1px solid #f0f1f3;vertical-align:middle}
.pc tr:last-child td{border-bottom:0}
.pc td.name{font-weight:600;overflow-wrap:anywhere;max-width:180px}
.pc td.num{text-align:right;color:#374151}
.pc tr.absent td{color:#9ca3af}
.pc .tag{font-weight:400;font-size:11.5px;color:#9ca3af;margin-left:6px}
.m{display:flex;align-items:center;gap:8px}
.m .track{flex:1;height:12px;min-width:80px}
.m .val{width:48px;text-align:right}
.fill.pr{background:#4c78a8}.fill.re{background:#f58518}.fill.f1{background:#54a24b}
.legend{display:flex;gap:16px;font-size:12.5px;color:#4b5563;margin:0 0 10px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.feats{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:18px}
.fl{border:1px solid #eef0f3;border-radius:8px;padding:12px 14px}
.fl h3{margin-bottom:10px;text-transform:none;letter-spacing:0;font-size:14px;overflow-wrap:anywhere}
.fr{display:grid;grid-template-columns:minmax(0,1fr) 72px 40px;gap:8px;align-items:center;padding:2px 0}
.fr .f{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.fr .track{height:10px}
.fr .fill{background:#7c3aed}
.fr .w{text-align:right;color:#6b7280;font-size:12px;font-variant-numeric:tabular-nums}
.empty{color:#9ca3af;font-style:italic}
footer{color:#9ca3af;font-size:12px;text-align:center}
@media (max-width:760px){.cards{grid-template-columns:1fr 1fr}.grid2{grid-template-columns:1fr}}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="sub">Evaluation report{{with .Model}} for model <b>{{.Name}}</b> {{.Version}}{{end}} · {{.N}} examples</p>

<div class="cards">
<div class="card"><div class="k">Examples</div><div class="v">{{.N}}</div><div class="x">labeled examples scored</div></div>
{{range .Headline}}<div class="card"><div class="k">{{.Name}}</div><div class="v">{{.Value}}</div><div class="x">{{.Exact}} · {{.Note}}</div><div class="track"><div class="fill" style="{{.Width}}"></div></div></div>
{{end}}</div>

{{with .Model}}<section id="model">
<h2>Model</h2>
<div class="grid2">
<div><h3>Identity</h3><dl>
<dt>Name</dt><dd>{{.Name}}</dd>
<dt>Version</dt><dd>{{.Version}}</dd>
<dt>SHA-256</dt><dd class="mono">{{.SHA}}</dd>
{{range .Info}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>
{{end}}</dl></div>
<div><h3>Configuration</h3><dl class="mono">
{{range .Config}}<dt>{{.Key}}</dt><dd>{{.Value}}</dd>
{{end}}</dl></div>
</div>
</section>
{{end}}
<section id="confusion">
<h2>Confusion matrix</h2>
<p class="hint">Rows are gold labels, columns are predictions. Each cell shows the count and the share of its row; colour intensity follows that share. The diagonal (correct answers) is outlined.</p>
{{if .Labels}}<table class="cm">
<thead>
<tr><th></th><th class="axis" colspan="{{len .Labels}}">predicted →</th><th></th></tr>
<tr><th class="g axis">gold ↓</th>{{range .Labels}}<th class="p" scope="col">{{.}}</th>{{end}}<th class="p axis">support</th></tr>
</thead>
<tbody>
{{range .Matrix}}<tr><th class="g" scope="row">{{.Gold}}</th>{{$gold := .Gold}}{{range .Cells}}<td class="c{{if .Diag}} d{{end}}{{if .Dark}} dk{{end}}" style="{{.Style}}" title="gold: {{$gold}}, predicted: {{.Pred}}"><span class="n">{{.Count}}</span><span class="q">{{.Pct}}</span></td>{{end}}<td class="s">{{.Support}}</td></tr>
{{end}}</tbody>
<tfoot><tr><th class="g axis">predicted total</th>{{range .ColTotal}}<td class="t">{{.}}</td>{{end}}<td class="t">{{$.N}}</td></tr></tfoot>
</table>
{{else}}<p class="empty">No labels: nothing was evaluated.</p>
{{end}}</section>

<section id="classes">
<h2>Per-class figures</h2>
<p class="hint">One-vs-rest precision, recall and F1 of each class; support is the number of gold examples of the class. Classes with no support do not count in the macro averages.</p>
<div class="legend"><span><i style="background:#4c78a8"></i>precision</span><span><i style="background:#f58518"></i>recall</span><span><i style="background:#54a24b"></i>F1</span></div>
{{if .Classes}}<table class="pc">
<thead><tr><th>class</th><th style="text-align:right">support</th><th>precision</th><th>recall</th><th>F1</th></tr></thead>
<tbody>
{{range .Classes}}<tr{{if .Absent}} class="absent"{{end}}><td class="name">{{.Name}}{{if .Absent}}<span class="tag">not in data</span>{{end}}</td><td class="num">{{.Support}}</td>{{range $i, $b := .Bars}}<td><div class="m" title="{{$b.Name}}"><div class="track"><div class="fill {{if eq $i 0}}pr{{else if eq $i 1}}re{{else}}f1{{end}}" style="{{$b.Width}}"></div></div><span class="val">{{$b.Value}}</span></div></td>{{end}}</tr>
{{end}}</tbody>
</table>
{{else}}<p class="empty">No classes.</p>
{{end}}</section>

{{if .Features}}<section id="features">
<h2>Most telling features</h2>
<p class="hint">For each class, the features whose weight for the class most exceeds their best weight for any other class (log-probability margin). Bars share one scale across classes.</p>
<div class="feats">
{{range .Features}}<div class="fl"><h3>{{.Class}}</h3>
{{range .Items}}<div class="fr"><span class="f" title="{{.Feature}}">{{.Feature}}</span><div class="track"><div class="fill" style="{{.Width}}"></div></div><span class="w">{{.Weight}}</span></div>
{{else}}<p class="empty">{{.Note}}</p>
{{end}}</div>
{{end}}</div>
</section>
{{end}}
<footer>Generated by capastan · self-contained page, no external resources</footer>
</main>
</body>
</html>
`))
