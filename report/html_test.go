package report_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/asymlab/asym/report"
)

var imgRe = regexp.MustCompile(`<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="(\d+)" height="(\d+)"`)

// checkImages finds every <img> of page and checks that each is an
// embedded PNG of the size its figure asks for, in the figures' order.
func checkImages(t *testing.T, page string, figs []*report.Figure) {
	t.Helper()
	if n := strings.Count(page, "<img"); n != len(figs) {
		t.Errorf("%d <img> elements, want %d", n, len(figs))
	}
	m := imgRe.FindAllStringSubmatch(page, -1)
	if len(m) != len(figs) {
		t.Fatalf("%d embedded PNG images, want %d", len(m), len(figs))
	}
	for i, f := range figs {
		b, err := base64.StdEncoding.DecodeString(m[i][1])
		if err != nil {
			t.Fatalf("image %d (%s): bad base64: %v", i, f.Name, err)
		}
		w, h := f.PixelSize()
		if m[i][2] != strconv.Itoa(w) || m[i][3] != strconv.Itoa(h) {
			t.Errorf("image %d (%s): attributes %sx%s, want %dx%d", i, f.Name, m[i][2], m[i][3], w, h)
		}
		checkPNG(t, f.Name, b, w, h)
	}
}

func TestReportHTML(t *testing.T) {
	rep := sampleReport(t)
	b, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	checkSelfContained(t, page)
	checkImages(t, page, rep.Figures)
	for _, s := range []string{
		"<title>asym compare: digits &lt;mlp&gt;</title>",
		"digits &amp; friends",
		"<dt>model</dt><dd>mlp [64 32]</dd>",
		"# &lt;b&gt;not bold&lt;/b&gt;", // config text escaped
		"<caption>Results on digits</caption>",
		`id="fig-sweep_wm"`,
		"<figcaption><strong>Learning curves.</strong>",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("report.html does not contain %q", s)
		}
	}
}

// checkSelfContained fails if page refers to anything outside itself or
// runs a script.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	low := strings.ToLower(page)
	for _, bad := range []string{"http://", "https://", "<script", "<link", "@import", "url(", "src=\"file:", "<iframe"} {
		if strings.Contains(low, bad) {
			i := strings.Index(low, bad)
			t.Errorf("report.html contains %q: …%s…", bad, page[max(0, i-40):min(len(page), i+60)])
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "data:image/png;base64,") {
			t.Errorf("reference to %q, want only embedded PNG data URIs", m[1][:min(len(m[1]), 60)])
		}
	}
}

func TestReportWrite(t *testing.T) {
	rep := sampleReport(t)
	rep.Figures = rep.Figures[:2]
	dir := filepath.Join(t.TempDir(), "out")
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, string(page))
	checkImages(t, string(page), rep.Figures)
	md, err := os.ReadFile(filepath.Join(dir, report.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != rep.Markdown() {
		t.Error("summary.md differs from Markdown()")
	}
	// summary.md holds the table: a header, an alignment row and one row
	// per rule.
	var rows []string
	for _, l := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "|:") {
			rows = append(rows, l)
		}
	}
	if len(rows) != 5 || !strings.HasPrefix(rows[2], "| bp | ") || !strings.HasPrefix(rows[4], "| sa | ") {
		t.Errorf("summary.md table rows %q, want header, alignment, bp, fa, sa", rows)
	}
	for _, f := range rep.Figures {
		for _, ext := range []string{".png", ".svg"} {
			p := filepath.Join(dir, report.FiguresDir, f.Name+ext)
			if _, err := os.Stat(p); err != nil {
				t.Errorf("figure file: %v", err)
			}
			if !strings.Contains(string(md), report.FiguresDir+"/"+f.Name+ext) {
				t.Errorf("summary.md does not list %s", f.Name+ext)
			}
		}
	}
	tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func TestReportRejectsBadFigureNames(t *testing.T) {
	rep := sampleReport(t)
	rep.Figures[1].Name = rep.Figures[0].Name
	if _, err := rep.HTML(); err == nil || !strings.Contains(err.Error(), "two figures") {
		t.Errorf("duplicate names: %v", err)
	}
	rep.Figures[1].Name = "Bad Name"
	if err := rep.Write(t.TempDir()); err == nil || !strings.Contains(err.Error(), "Bad Name") {
		t.Errorf("bad name: %v", err)
	}
}
