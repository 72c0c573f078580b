package report_test

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/rules"
)

// svgOf renders f as SVG text.
func svgOf(t *testing.T, f *report.Figure) string {
	t.Helper()
	b, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("ASYM_FIGURE_DIR"); dir != "" { // to look at them
		png, err := f.PNG()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/"+f.Name+".png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return string(b)
}

// svgColor is how the SVG writer spells a stroke or fill colour.
func svgColor(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
}

var svgText = regexp.MustCompile(`>([^<>]+)</text>`)

// texts returns the text elements of an SVG.
func texts(svg string) []string {
	var out []string
	for _, m := range svgText.FindAllStringSubmatch(svg, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	return out
}

// Every registered rule has a colour of its own, the same in every figure.
func TestRuleColors(t *testing.T) {
	seen := map[string]string{}
	for _, name := range rules.Names() {
		c, ok := report.RuleColor(name)
		if !ok {
			t.Errorf("rule %s has no colour: add it to ruleOrder in report/plots.go", name)
			continue
		}
		if other, dup := seen[svgColor(c)]; dup {
			t.Errorf("rules %s and %s share colour %s", name, other, svgColor(c))
		}
		seen[svgColor(c)] = name
	}
	for label, want := range map[string]string{"sa": "sa", "mlp/sa": "sa", "kp · convnet": "kp", "wm alpha=0.1": "wm", "resnet20": "", "bpx": ""} {
		if got := report.RuleOf(label); got != want {
			t.Errorf("RuleOf(%q) = %q, want %q", label, got, want)
		}
	}
}

// A rule is drawn in its colour whatever the other rules of the figure
// (the README's figure once gave bp and sa, dfa and wm the same colour).
func TestFigureRuleColorsFixed(t *testing.T) {
	must := mustFig(t)
	for _, set := range [][]string{{"sa"}, {"bp", "sa"}, {"bp", "fa", "dfa", "sign", "frsf", "brsf", "kp", "wm", "ia", "sa", "aa"}} {
		runs := synthRuns(set, 2, 4, 2)
		svg := svgOf(t, must(report.LearningCurves(runs)))
		for _, r := range set {
			c, _ := report.RuleColor(r)
			if !strings.Contains(svg, svgColor(c)) {
				t.Errorf("rules %v: learning curves lack %s's colour %s", set, r, svgColor(c))
			}
		}
		// With one rule, no other rule's colour appears.
		if len(set) == 1 {
			for _, other := range []string{"bp", "fa", "kp"} {
				c, _ := report.RuleColor(other)
				if strings.Contains(svg, svgColor(c)) {
					t.Errorf("sa alone: figure holds %s's colour", other)
				}
			}
		}
	}
}

// The depth figure has ticks at the depths run, and marks where runs
// diverged.
func TestLinePlotTicksAndDivergence(t *testing.T) {
	pt := func(x, m float64, n, bad int) report.Point {
		return report.Point{X: x, Stat: report.Stat{Mean: m, Std: 0.2, N: n, Bad: bad}}
	}
	nan := math.NaN()
	gaps := []report.Series{
		{Label: "sa", Points: []report.Point{pt(8, 0.1, 2, 0), pt(20, 0.2, 2, 0), pt(32, 0.1, 2, 0), pt(56, 0.3, 2, 0)}},
		{Label: "ia", Points: []report.Point{pt(8, 3, 2, 0), pt(20, 4, 1, 1), pt(32, nan, 0, 2), pt(56, nan, 0, 2)}},
	}
	f, err := report.GapVsDepth(gaps)
	if err != nil {
		t.Fatal(err)
	}
	svg := svgOf(t, f)
	txt := texts(svg)
	for _, want := range []string{"8", "20", "32", "56", "diverged"} {
		if !slices.Contains(txt, want) {
			t.Errorf("depth figure: no text %q in %q", want, txt)
		}
	}
	for _, not := range []string{"10", "30", "50"} {
		if slices.Contains(txt, not) {
			t.Errorf("depth figure: tick %q at a depth not run", not)
		}
	}
	if !strings.Contains(f.Caption, "diverged") {
		t.Errorf("caption %q does not explain the crosses", f.Caption)
	}
	// Without divergence there is no marker.
	f, err = report.GapVsDepth(gaps[:1])
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(texts(svgOf(t, f)), "diverged") {
		t.Error("a figure without divergence has a diverged marker")
	}
}

// The training loss is on a log scale: its labelled ticks are powers of
// ten.
func TestLearningCurvesLogLoss(t *testing.T) {
	runs := synthRuns([]string{"bp", "fa"}, 2, 6, 2)
	runs[3].Diverged = true
	f, err := report.LearningCurves(runs)
	if err != nil {
		t.Fatal(err)
	}
	txt := texts(svgOf(t, f))
	// The loss spans 0.15–2.4: a log axis labels only 1, a linear one
	// 0.5, 1, 1.5 and 2.
	if !slices.Contains(txt, "training loss (log scale)") || !slices.Contains(txt, "1") || slices.Contains(txt, "0.5") || slices.Contains(txt, "1.5") {
		t.Errorf("no log-scale loss panel (a tick at 1, none at 0.5 or 1.5): %q", txt)
	}
	if !slices.Contains(txt, "diverged") {
		t.Errorf("a diverged run is not marked: %q", txt)
	}
}

// With several rules, the regularizers get a figure with one panel per
// rule that has one, each on its own scale; the alignment grid has no
// regularizer panel; the per-layer figure has one panel per rule with B.
func TestRegularizersAndLayers(t *testing.T) {
	runs := synthRuns([]string{"bp", "sa", "wm", "dfa"}, 2, 4, 3)
	for i := range runs {
		for j := range runs[i].Align {
			p := &runs[i].Align[j]
			switch runs[i].Rule {
			case "wm":
				p.Regularizer = 1e-4 * float64(p.Step) // a scale far below sa's
			case "dfa":
				p.NoB = true
				p.WeightAngle, p.ProjectionAngle, p.GradientAngle, p.NormRatio = nan(), nan(), nan(), nan()
			}
		}
	}
	must := mustFig(t)
	reg := must(report.Regularizers(runs))
	txt := texts(svgOf(t, reg))
	for _, r := range []string{"sa", "wm"} {
		if !slices.Contains(txt, r) {
			t.Errorf("regularizers: no panel titled %s in %q", r, txt)
		}
	}
	for _, r := range []string{"bp", "dfa"} {
		if slices.Contains(txt, r) {
			t.Errorf("regularizers: panel for %s, which has none", r)
		}
	}
	al := texts(svgOf(t, must(report.AlignmentCurves(runs))))
	if slices.Contains(al, "rule regularizer R") {
		t.Error("alignment grid of several rules still has the shared regularizer panel")
	}
	layers := texts(svgOf(t, must(report.AlignmentByLayer(runs))))
	for _, want := range []string{"bp", "sa", "wm", "fc1", "fc2", "fc3"} {
		if !slices.Contains(layers, want) {
			t.Errorf("per-layer figure: no %q in %q", want, layers)
		}
	}
	if slices.Contains(layers, "dfa") {
		t.Error("per-layer weight angles drawn for dfa, which has no B")
	}
}

func nan() float64 { return math.NaN() }

// A run of a rule without backward weights reports NoB — from its lines'
// no_b, or from the rule's registration for lines written before no_b —
// and its mean metrics of B are NaN, not the 0° of B ≡ W.
func TestRunNoB(t *testing.T) {
	for name, line := range map[string]string{
		"no_b":       `{"kind":"align","step":5,"rule":"dfa","layer":"fc1","bound":true,"weight_angle":null,"norm_ratio":null,"projection_angle":null,"gradient_angle":null,"end_to_end_angle":40,"no_b":true}`,
		"old format": `{"kind":"align","step":5,"rule":"dfa","layer":"fc1","bound":true,"weight_angle":0,"norm_ratio":1,"projection_angle":0,"gradient_angle":0,"end_to_end_angle":40}`,
	} {
		r, err := report.ReadMetrics(strings.NewReader(line+"\n"), name)
		if err != nil {
			t.Fatal(err)
		}
		if !r.NoB() {
			t.Errorf("%s: NoB() = false", name)
		}
		m := report.LayerMeans(r)
		if len(m) != 1 || !math.IsNaN(m[0].WeightAngle) || !math.IsNaN(m[0].NormRatio) || m[0].EndToEndAngle != 40 {
			t.Errorf("%s: layer means %+v, want NaN metrics of B and end-to-end 40", name, m)
		}
	}
	r, err := report.ReadMetrics(strings.NewReader(`{"kind":"align","step":5,"rule":"fa","layer":"fc1","bound":true,"weight_angle":70,"norm_ratio":1,"projection_angle":0,"gradient_angle":0,"end_to_end_angle":40}`+"\n"), "fa")
	if err != nil || r.NoB() {
		t.Errorf("fa: NoB() = %v, err %v", r.NoB(), err)
	}
}

// A report shows its provenance in the HTML page and in summary.md.
func TestReportProvenance(t *testing.T) {
	rep := &report.Report{Title: "t", Provenance: []report.KV{{Key: "command", Value: "asym compare --threads 1"}, {Key: "commit", Value: "18629a7 <b>"}}}
	page, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<h2>Provenance</h2>`, `id="provenance"`, "<dt>command</dt><dd>asym compare --threads 1</dd>", "18629a7 &lt;b&gt;"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if md := rep.Markdown(); !strings.Contains(md, "Provenance:") || !strings.Contains(md, "- **command**: asym compare --threads 1") {
		t.Errorf("summary.md lacks the provenance:\n%s", md)
	}
}

// A log axis whose range holds less than two powers of ten still gets
// labels; one spanning decades is labelled at the powers of ten.
func TestLogTicksLabelled(t *testing.T) {
	runs := synthRuns([]string{"bp"}, 2, 3, 2)
	for i := range runs {
		for j := range runs[i].Epochs {
			runs[i].Epochs[j].TrainLoss = 0.5 - 0.08*float64(j) // 0.5 → 0.34
		}
	}
	txt := texts(svgOf(t, mustFig(t)(report.LearningCurves(runs))))
	n := 0
	for _, s := range txt {
		if s == "0.35" || s == "0.4" || s == "0.45" || s == "0.5" {
			n++
		}
	}
	if n < 2 {
		t.Errorf("a loss within one decade has %d labelled ticks: %q", n, txt)
	}
}
