package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
)

// File names written by [Report.Write].
const (
	HTMLFile    = "report.html"
	SummaryFile = "summary.md"
	FiguresDir  = "figures"
)

// KV is one line of a configuration summary.
type KV struct {
	// Key names the setting; Value is its value as shown.
	Key, Value string
}

// Report is an experiment's report: a title, the configuration, tables and
// figures.
type Report struct {
	// Title is the page title.
	Title string
	// Intro is a paragraph under the title.
	Intro string
	// Config summarises the configuration, one key per line.
	Config []KV
	// ConfigText is the full configuration (e.g. TOML), shown verbatim.
	ConfigText string
	// Tables are shown before the figures.
	Tables []*Table
	// Figures are rendered as PNG (embedded in the HTML) and SVG.
	Figures []*Figure
	// Provenance says how and where the results were made (command line,
	// version and commit, date, BLAS, threads, CPU; see package
	// provenance), one key per line, shown at the end.
	Provenance []KV
}

// rendered is a figure with its PNG.
type rendered struct {
	Fig    *Figure
	PNG    []byte
	W, H   int
	Source template.HTMLAttr
}

func (r *Report) check() error {
	seen := map[string]bool{}
	for _, f := range r.Figures {
		if err := f.checkName(); err != nil {
			return err
		}
		if seen[f.Name] {
			return fmt.Errorf("report: two figures are named %q", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

// HTML renders the report as one self-contained HTML page: CSS inline,
// figures as PNG data URIs, no script and no external reference.
func (r *Report) HTML() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	figs := make([]rendered, len(r.Figures))
	for i, f := range r.Figures {
		png, err := f.PNG()
		if err != nil {
			return nil, err
		}
		figs[i] = rendered{Fig: f, PNG: png}
	}
	return r.html(figs)
}

func (r *Report) html(figs []rendered) ([]byte, error) {
	for i := range figs {
		figs[i].W, figs[i].H = figs[i].Fig.PixelSize()
		// The whole attribute is built here from base64 text (A–Z, a–z,
		// 0–9, +, /, =), which needs no escaping; as a plain URL the
		// template would write every '+' as &#43;.
		figs[i].Source = template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(figs[i].PNG) + `"`)
	}
	tables := make([]template.HTML, len(r.Tables))
	for i, t := range r.Tables {
		tables[i] = t.HTML()
	}
	var b bytes.Buffer
	err := pageTmpl.Execute(&b, struct {
		*Report
		TablesHTML []template.HTML
		Figs       []rendered
	}{r, tables, figs})
	if err != nil {
		return nil, fmt.Errorf("report: rendering HTML: %w", err)
	}
	return b.Bytes(), nil
}

// Markdown renders summary.md: the title, the configuration summary, the
// tables, and a list of the figure files.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", strings.ReplaceAll(r.Title, "\n", " "))
	if r.Intro != "" {
		fmt.Fprintf(&b, "%s\n\n", r.Intro)
	}
	for _, kv := range r.Config {
		fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(kv.Key), mdEscape(kv.Value))
	}
	if len(r.Config) > 0 {
		b.WriteString("\n")
	}
	for _, t := range r.Tables {
		b.WriteString(t.Markdown())
		b.WriteString("\n")
	}
	if len(r.Figures) > 0 {
		b.WriteString("Figures:\n\n")
		for _, f := range r.Figures {
			fmt.Fprintf(&b, "- %s: `%s/%s.png`, `%s/%s.svg`\n", mdEscape(f.Title), FiguresDir, f.Name, FiguresDir, f.Name)
		}
	}
	if len(r.Provenance) > 0 {
		b.WriteString("\nProvenance:\n\n")
		for _, kv := range r.Provenance {
			fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(kv.Key), mdEscape(kv.Value))
		}
	}
	return b.String()
}

// Write writes dir/report.html, dir/summary.md and every figure as
// dir/figures/NAME.png and .svg, creating the directories.
func (r *Report) Write(dir string) error {
	if err := r.check(); err != nil {
		return err
	}
	fd := filepath.Join(dir, FiguresDir)
	if err := os.MkdirAll(fd, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	figs := make([]rendered, len(r.Figures))
	for i, f := range r.Figures {
		png, err := f.Save(fd)
		if err != nil {
			return err
		}
		figs[i] = rendered{Fig: f, PNG: png}
	}
	page, err := r.html(figs)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, HTMLFile), page); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, SummaryFile), []byte(r.Markdown()))
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #222; background: #fff; margin: 0 auto; max-width: 1100px; padding: 1.5em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.4em; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3em 0.8em; text-align: left; }
th { background: #f6f6f6; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { color: #555; font-size: 0.9em; margin-top: -0.5em; }
dl.config { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.config dt { font-weight: 600; }
dl.config dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{- if .Intro}}
<p>{{.Intro}}</p>
{{- end}}
{{- if or .Config .ConfigText}}
<h2>Configuration</h2>
{{- if .Config}}
<dl class="config">
{{- range .Config}}
<dt>{{.Key}}</dt><dd>{{.Value}}</dd>
{{- end}}
</dl>
{{- end}}
{{- if .ConfigText}}
<details><summary>Full configuration</summary>
<pre>{{.ConfigText}}</pre>
</details>
{{- end}}
{{- end}}
{{- if .TablesHTML}}
<h2>Results</h2>
{{- range .TablesHTML}}
{{.}}
{{- end}}
{{- end}}
{{- if .Figs}}
<h2>Figures</h2>
{{- range .Figs}}
<figure id="fig-{{.Fig.Name}}">
<img {{.Source}} width="{{.W}}" height="{{.H}}" alt="{{.Fig.Title}}">
<figcaption><strong>{{.Fig.Title}}.</strong> {{.Fig.Caption}}</figcaption>
</figure>
{{- end}}
{{- end}}
{{- if .Provenance}}
<h2>Provenance</h2>
<dl class="config" id="provenance">
{{- range .Provenance}}
<dt>{{.Key}}</dt><dd>{{.Value}}</dd>
{{- end}}
</dl>
{{- end}}
</body>
</html>
`))
