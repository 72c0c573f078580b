package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Default figure sizes.
var (
	panelW = 4 * vg.Inch
	panelH = 3 * vg.Inch
)

// MaxLayerLines is the most layers drawn as separate lines in a per-layer
// alignment figure; deeper models show evenly spaced layers (always the
// first and the last).
const MaxLayerLines = 8

// newPlot returns a plot with the house style: title, axis labels, a grid.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	p.Add(g)
	return p
}

// linePalette holds twelve colours distinct enough for one line per rule
// (Tableau 10 plus two).
var linePalette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255}, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 215, 0, 255},
}

// lineColor returns the i-th line color.
func lineColor(i int) color.Color { return linePalette[i%len(linePalette)] }

// ruleOrder gives every registered rule its colour, linePalette[i] for
// ruleOrder[i], the same in every figure. A new rule is added here (see
// docs/extending.md).
var ruleOrder = []string{"bp", "fa", "dfa", "sign", "frsf", "brsf", "kp", "wm", "ia", "sa", "aa", "custom"}

// RuleOf returns the rule named in a group or series label ("sa",
// "mlp/sa", "sa · convnet", "wm alpha=0.1"), or "" if it names none.
func RuleOf(label string) string {
	for _, tok := range strings.FieldsFunc(label, func(r rune) bool {
		return r == '/' || r == ' ' || r == '·' || r == ',' || r == '(' || r == ')' || r == ':'
	}) {
		if slices.Contains(ruleOrder, tok) {
			return tok
		}
	}
	return ""
}

// RuleColor returns the colour that rule has in every figure; ok is false
// for a name without one.
func RuleColor(rule string) (c color.Color, ok bool) {
	i := slices.Index(ruleOrder, rule)
	if i < 0 {
		return nil, false
	}
	return linePalette[i%len(linePalette)], true
}

// lineStyler gives the lines of one figure their colour and dashes: a line
// whose label names a rule has the rule's colour (see [RuleColor]); a
// second line of the same colour in the figure is dashed; lines naming no
// rule take the palette in turn.
type lineStyler struct {
	uses map[color.Color]int
	next int
}

func (s *lineStyler) style(label string) (color.Color, []vg.Length) {
	if s.uses == nil {
		s.uses = map[color.Color]int{}
	}
	c, ok := RuleColor(RuleOf(label))
	if !ok {
		c = lineColor(s.next)
		s.next++
	}
	n := s.uses[c]
	s.uses[c]++
	return c, plotutil.Dashes(n)
}

// logTicks labels a logarithmic axis at the powers of ten when the range
// holds at least two of them, and at evenly spaced round values otherwise
// (a loss from 0.25 to 0.5 would get no label at all).
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	labelled := 0
	for _, t := range ts {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled >= 2 {
		return ts
	}
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value > 0 {
			out = append(out, t)
		}
	}
	return out
}

// divergedGlyph marks where a run diverged.
var divergedGlyph = draw.CrossGlyph{}

// addDiverged draws a cross at each point where runs diverged, in colour
// c, and returns the legend entry (ok false when pts is empty).
func addDiverged(p *plot.Plot, c color.Color, pts plotter.XYs) (legendItem, bool, error) {
	if len(pts) == 0 {
		return legendItem{}, false, nil
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return legendItem{}, false, fmt.Errorf("report: diverged markers: %w", err)
	}
	s.Shape, s.Color, s.Radius = divergedGlyph, c, vg.Points(5)
	p.Add(s)
	k, _ := plotter.NewScatter(plotter.XYs{{}})
	k.Shape, k.Color, k.Radius = divergedGlyph, color.Black, vg.Points(4)
	return legendItem{"diverged", []plot.Thumbnailer{k}}, true, nil
}

// withAlpha returns c with alpha a (0–255), non-premultiplied.
func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

// addBand adds a line through the means with points and, where a point
// has N ≥ 2, a translucent mean ± std band. Points with a NaN mean are
// skipped; on a logarithmic y axis (logY) so are non-positive means, and
// the band's lower edge stays above a tenth of the mean. It returns the
// legend entry, or ok false if there was nothing to draw.
func addBand(p *plot.Plot, label string, c color.Color, dashes []vg.Length, pts []Point, logY bool) (item legendItem, ok bool, err error) {
	var line, upper, lower plotter.XYs
	for _, q := range pts {
		if math.IsNaN(q.Mean) || math.IsInf(q.Mean, 0) || (logY && q.Mean <= 0) {
			continue
		}
		line = append(line, plotter.XY{X: q.X, Y: q.Mean})
		if q.N >= 2 {
			lo := q.Mean - q.Std
			if logY {
				lo = math.Max(lo, q.Mean/10)
			}
			upper = append(upper, plotter.XY{X: q.X, Y: q.Mean + q.Std})
			lower = append(lower, plotter.XY{X: q.X, Y: lo})
		}
	}
	if len(line) == 0 {
		return legendItem{}, false, nil
	}
	if len(upper) >= 2 {
		ring := append(plotter.XYs{}, upper...)
		for i := len(lower) - 1; i >= 0; i-- {
			ring = append(ring, lower[i])
		}
		poly, err := plotter.NewPolygon(ring)
		if err != nil {
			return legendItem{}, false, fmt.Errorf("report: %s: %w", label, err)
		}
		poly.Color = withAlpha(c, 60)
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	l, s, err := plotter.NewLinePoints(line)
	if err != nil {
		return legendItem{}, false, fmt.Errorf("report: %s: %w", label, err)
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	l.Dashes = dashes
	s.Color = c
	s.Shape = draw.CircleGlyph{}
	s.Radius = vg.Points(1.5)
	p.Add(l, s)
	return legendItem{label, []plot.Thumbnailer{l, s}}, true, nil
}

// legendSet collects legend entries, each label once, in order.
type legendSet struct {
	items []legendItem
	seen  map[string]bool
}

func (ls *legendSet) add(it legendItem) {
	if ls.seen == nil {
		ls.seen = map[string]bool{}
	}
	if !ls.seen[it.label] {
		ls.seen[it.label] = true
		ls.items = append(ls.items, it)
	}
}

// LearningCurves plots, per group of runs (see [GroupRuns]), test
// accuracy (in %) and training loss (on a logarithmic axis) against the
// epoch: the mean over the group's seeds with a mean ± std band. A cross
// marks the last epoch logged by a run that then diverged. Each rule keeps
// its colour ([RuleColor]). It returns [ErrNoData] if no run logged an
// epoch.
func LearningCurves(runs []Run) (*Figure, error) {
	acc := newPlot("test accuracy", "epoch", "accuracy (%)")
	loss := newPlot("training loss (log scale)", "epoch", "loss")
	loss.Y.Scale = plot.LogScale{}
	loss.Y.Tick.Marker = logTicks{}
	var legend legendSet
	var styles lineStyler
	var divItem legendItem
	drawnLoss := false
	for _, g := range GroupRuns(runs) {
		byEpoch := map[int][2][]float64{}
		var divAcc, divLoss plotter.XYs
		for _, r := range g.Runs {
			for _, e := range r.Epochs {
				v := byEpoch[e.Epoch]
				v[0] = append(v[0], 100*e.TestAcc)
				v[1] = append(v[1], e.TrainLoss)
				byEpoch[e.Epoch] = v
			}
			if r.Diverged && len(r.Epochs) > 0 {
				e := r.Epochs[len(r.Epochs)-1]
				divAcc = append(divAcc, plotter.XY{X: float64(e.Epoch), Y: 100 * e.TestAcc})
				if e.TrainLoss > 0 && !math.IsInf(e.TrainLoss, 0) && !math.IsNaN(e.TrainLoss) {
					divLoss = append(divLoss, plotter.XY{X: float64(e.Epoch), Y: e.TrainLoss})
				}
			}
		}
		epochs := make([]int, 0, len(byEpoch))
		for e := range byEpoch {
			epochs = append(epochs, e)
		}
		sort.Ints(epochs)
		var pa, pl []Point
		for _, e := range epochs {
			pa = append(pa, Point{X: float64(e), Stat: Summarize(byEpoch[e][0])})
			pl = append(pl, Point{X: float64(e), Stat: Summarize(byEpoch[e][1])})
		}
		c, dashes := styles.style(g.Label)
		for _, pp := range []struct {
			p    *plot.Plot
			pts  []Point
			div  plotter.XYs
			logY bool
		}{{acc, pa, divAcc, false}, {loss, pl, divLoss, true}} {
			it, ok, err := addBand(pp.p, g.Label, c, dashes, pp.pts, pp.logY)
			if err != nil {
				return nil, err
			}
			if ok {
				legend.add(it)
				drawnLoss = drawnLoss || pp.logY
			}
			if it, ok, err := addDiverged(pp.p, c, pp.div); err != nil {
				return nil, err
			} else if ok {
				divItem = it
			}
		}
	}
	if len(legend.items) == 0 {
		return nil, fmt.Errorf("%w: learning curves: no run logged an epoch", ErrNoData)
	}
	if divItem.label != "" {
		legend.add(divItem)
	}
	row := []*plot.Plot{acc, loss}
	if !drawnLoss { // no positive loss: a log axis would have no range
		row = row[:1]
	}
	f := newFigure("learning_curves", "Learning curves", vg.Length(len(row))*panelW, panelH, [][]*plot.Plot{row}, legend.items)
	f.Caption = "Mean over seeds; the band is ± one standard deviation. Training loss on a logarithmic axis."
	if divItem.label != "" {
		f.Caption += " A cross marks the last epoch of a run that then diverged."
	}
	return f, nil
}

// AlignMetric is one per-layer alignment metric.
type AlignMetric struct {
	// Key is the metric's key in metrics.jsonl.
	Key string
	// Title is the panel title.
	Title string
	// Unit labels the y axis.
	Unit string
	// Get extracts the metric.
	Get func(AlignPoint) float64
	// NeedsB marks metrics of the backward weights, which rules without
	// them (see [Run.NoB]) do not have: they are left off these panels.
	NeedsB bool
}

// AlignMetrics lists the metrics of [AlignmentCurves], one panel each.
var AlignMetrics = []AlignMetric{
	{"weight_angle", "weight angle (W, B)", "degrees", func(p AlignPoint) float64 { return p.WeightAngle }, true},
	{"projection_angle", "projection angle (Wx, Bx)", "degrees", func(p AlignPoint) float64 { return p.ProjectionAngle }, true},
	{"gradient_angle", "layer-local gradient angle", "degrees", func(p AlignPoint) float64 { return p.GradientAngle }, true},
	{"end_to_end_angle", "end-to-end angle to backprop", "degrees", func(p AlignPoint) float64 { return p.EndToEndAngle }, false},
	{"norm_ratio", "norm ratio |B| / |W|", "ratio", func(p AlignPoint) float64 { return p.NormRatio }, true},
	{"regularizer", "rule regularizer R", "R", func(p AlignPoint) float64 { return p.Regularizer }, true},
}

// LayerMeans returns, for each logged step of r, the mean of each metric
// over the layers the rule is bound to (over every layer when none is
// bound), NaN values skipped; Layer is "mean". The regularizer is summed,
// like the rule's total loss.
func LayerMeans(r Run) []AlignPoint {
	var out []AlignPoint
	for i := 0; i < len(r.Align); {
		j := i
		for j < len(r.Align) && r.Align[j].Step == r.Align[i].Step {
			j++
		}
		step := r.Align[i:j]
		bound := false
		for _, p := range step {
			bound = bound || p.Bound
		}
		m := AlignPoint{Step: r.Align[i].Step, Layer: "mean", Bound: bound, NoB: r.NoB()}
		for _, am := range AlignMetrics {
			var vs []float64
			for _, p := range step {
				if p.Bound == bound {
					vs = append(vs, am.Get(p))
				}
			}
			s := Summarize(vs)
			v := s.Mean
			if am.Key == "regularizer" && s.N > 0 {
				v = s.Mean * float64(s.N)
			}
			if m.NoB && am.NeedsB {
				v = math.NaN() // runs logged before no_b existed hold 0° here
			}
			setAlign(&m, am.Key, v)
		}
		out = append(out, m)
		i = j
	}
	return out
}

func setAlign(p *AlignPoint, key string, v float64) {
	switch key {
	case "weight_angle":
		p.WeightAngle = v
	case "projection_angle":
		p.ProjectionAngle = v
	case "gradient_angle":
		p.GradientAngle = v
	case "end_to_end_angle":
		p.EndToEndAngle = v
	case "norm_ratio":
		p.NormRatio = v
	case "regularizer":
		p.Regularizer = v
	default:
		panic("report: unknown alignment metric " + key)
	}
}

// alignLine is one line of an alignment panel: values per step over the
// runs of a group.
type alignLine struct {
	label  string
	color  color.Color
	dashes []vg.Length
	// noB marks a rule without backward weights: left off the panels of
	// metrics that need B.
	noB bool
	pts func(get func(AlignPoint) float64) []Point
}

// drawLines adds the lines' values of get to p, each a mean ± std band,
// and their legend entries to legend; it reports whether any line had
// points.
func drawLines(p *plot.Plot, legend *legendSet, lines []alignLine, get func(AlignPoint) float64) (bool, error) {
	drawn := false
	for _, l := range lines {
		it, ok, err := addBand(p, l.label, l.color, l.dashes, l.pts(get), false)
		if err != nil {
			return false, err
		}
		if ok {
			legend.add(it)
			drawn = true
		}
	}
	return drawn, nil
}

// groupNoB reports whether every run of g has no backward weights.
func groupNoB(g Group) bool {
	for _, r := range g.Runs {
		if !r.NoB() {
			return false
		}
	}
	return len(g.Runs) > 0
}

// layerLines returns one line per layer of the runs (at most
// [MaxLayerLines], evenly spaced), colored from the input, dark, to the
// output, light, and a caption note when layers were left out.
func layerLines(runs []Run) ([]alignLine, string) {
	var layers []string
	seen := map[string]bool{}
	for _, r := range runs {
		for _, p := range r.Align {
			if !seen[p.Layer] {
				seen[p.Layer] = true
				layers = append(layers, p.Layer)
			}
		}
	}
	shown := pickLayers(len(layers))
	note := ""
	if len(shown) < len(layers) {
		note = fmt.Sprintf(" %d of the %d layers are shown, evenly spaced.", len(shown), len(layers))
	}
	cm := depthColors()
	var lines []alignLine
	for k, li := range shown {
		name := layers[li]
		t := 0.0
		if len(shown) > 1 {
			t = float64(k) / float64(len(shown)-1)
		}
		c, _ := cm.At(0.85 * t)
		lines = append(lines, alignLine{label: name, color: c, pts: func(get func(AlignPoint) float64) []Point {
			return stepPoints(runs, func(r Run) []AlignPoint { return r.Align }, name, get)
		}})
	}
	return lines, note
}

// AlignmentCurves plots the alignment metrics against the training step,
// one panel per metric with data. With one group of runs (see
// [GroupRuns]) it draws one line per layer (mean over seeds; at most
// [MaxLayerLines] layers, colored from the input, dark, to the output,
// light); with several groups, one line per group in its rule's colour:
// the mean over the bound layers ([LayerMeans]) with a mean ± std band
// over seeds, and no regularizer panel (the rules' regularizers differ in
// scale by orders of magnitude: see [Regularizers]; the layers:
// [AlignmentByLayer]). Rules without backward weights ([Run.NoB]) are
// left off the panels of metrics of B. It returns [ErrNoData] if no run
// logged alignment metrics.
func AlignmentCurves(runs []Run) (*Figure, error) {
	groups := GroupRuns(runs)
	var lines []alignLine
	caption := ""
	var noB []string
	if len(groups) == 1 {
		var note string
		lines, note = layerLines(groups[0].Runs)
		caption = "One line per layer, mean over seeds (" + groups[0].Label + ")." + note
		if groupNoB(groups[0]) {
			noB = append(noB, groups[0].Label)
		}
	} else {
		var styles lineStyler
		for _, g := range groups {
			c, d := styles.style(g.Label)
			nb := groupNoB(g)
			if nb {
				noB = append(noB, g.Label)
			}
			lines = append(lines, alignLine{label: g.Label, color: c, dashes: d, noB: nb, pts: func(get func(AlignPoint) float64) []Point {
				return stepPoints(g.Runs, LayerMeans, "mean", get)
			}})
		}
		caption = "Mean over the layers each rule is bound to; the band is ± one standard deviation over seeds."
	}
	if len(noB) > 0 {
		caption += fmt.Sprintf(" %s has no backward weights B (no B): it appears only on the end-to-end panel.", strings.Join(noB, ", "))
	}
	var panels []*plot.Plot
	var legend legendSet
	for _, am := range AlignMetrics {
		if am.Key == "regularizer" && len(groups) > 1 {
			continue
		}
		p := newPlot(am.Title, "step", am.Unit)
		if am.Unit == "degrees" {
			// Angles span at least 0°–90° (more if the data go beyond), so
			// panels of different rules compare at a glance.
			p.Y.Min, p.Y.Max = 0, 90
		}
		var shown []alignLine
		for _, l := range lines {
			if !(am.NeedsB && (l.noB || (len(groups) == 1 && len(noB) > 0))) {
				shown = append(shown, l)
			}
		}
		drawn, err := drawLines(p, &legend, shown, am.Get)
		if err != nil {
			return nil, err
		}
		if drawn {
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("%w: alignment curves: no run logged alignment metrics", ErrNoData)
	}
	const cols = 3
	var grid [][]*plot.Plot
	for i := 0; i < len(panels); i += cols {
		grid = append(grid, panels[i:min(i+cols, len(panels))])
	}
	ncols := min(cols, len(panels))
	f := newFigure("alignment", "Alignment of backward with forward weights", vg.Length(ncols)*panelW*0.9,
		vg.Length(len(grid))*panelH, grid, legend.items)
	f.Caption = caption
	return f, nil
}

// smallPanels lays out panels in rows of at most cols.
func smallPanels(panels []*plot.Plot, cols int) [][]*plot.Plot {
	var grid [][]*plot.Plot
	for i := 0; i < len(panels); i += cols {
		row := make([]*plot.Plot, cols)
		copy(row, panels[i:min(i+cols, len(panels))])
		grid = append(grid, row)
	}
	return grid
}

// AlignmentByLayer plots, for every group of runs with backward weights,
// the weight angle ∠(W, B) of each layer against the training step (mean
// over seeds; at most [MaxLayerLines] layers, colored from the input,
// dark, to the output, light): one panel per group, on a common 0°–90°
// scale. Groups without B ([Run.NoB]) are left out. It returns
// [ErrNoData] if no group has a weight angle.
func AlignmentByLayer(runs []Run) (*Figure, error) {
	var panels []*plot.Plot
	var legend legendSet
	note := ""
	var left []string
	for _, g := range GroupRuns(runs) {
		if groupNoB(g) {
			left = append(left, g.Label)
			continue
		}
		lines, n := layerLines(g.Runs)
		note = cmp.Or(note, n)
		p := newPlot(g.Label, "step", "weight angle (°)")
		p.Y.Min, p.Y.Max = 0, 90
		drawn, err := drawLines(p, &legend, lines, func(a AlignPoint) float64 { return a.WeightAngle })
		if err != nil {
			return nil, err
		}
		if drawn {
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("%w: alignment by layer: no weight angles", ErrNoData)
	}
	const cols = 4
	grid := smallPanels(panels, min(cols, len(panels)))
	ncols := min(cols, len(panels))
	f := newFigure("alignment_layers", "Weight angle of every layer", vg.Length(ncols)*panelW*0.7,
		vg.Length(len(grid))*panelH*0.8, grid, legend.items)
	f.Caption = "Weight angle ∠(W, B) of each layer, mean over seeds, input layer dark to output layer light; one panel per rule." + note
	if len(left) > 0 {
		f.Caption += " Left out (no B): " + strings.Join(left, ", ") + "."
	}
	return f, nil
}

// Regularizers plots, for every group of runs whose rule has a
// regularizer, its value R summed over the layers against the training
// step (mean over seeds, ± std band), one panel per group with a scale of
// its own, in the rule's colour. It returns [ErrNoData] if no run logged a
// regularizer.
func Regularizers(runs []Run) (*Figure, error) {
	var panels []*plot.Plot
	var styles lineStyler
	for _, g := range GroupRuns(runs) {
		pts := stepPoints(g.Runs, LayerMeans, "mean", func(a AlignPoint) float64 { return a.Regularizer })
		c, _ := styles.style(g.Label)
		p := newPlot(g.Label, "step", "R")
		_, ok, err := addBand(p, g.Label, c, nil, pts, false)
		if err != nil {
			return nil, err
		}
		if ok {
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		return nil, fmt.Errorf("%w: regularizers: no run logged a regularizer", ErrNoData)
	}
	const cols = 4
	ncols := min(cols, len(panels))
	grid := smallPanels(panels, ncols)
	f := newFigure("regularizers", "Regularizer of each rule", vg.Length(ncols)*panelW*0.7, vg.Length(len(grid))*panelH*0.8, grid, nil)
	f.Caption = "The rule's regularizer R(B; x, W, y) summed over the layers, mean over seeds (band: ± one standard deviation); each panel has its own scale."
	return f, nil
}

// stepPoints summarises, at each step, get of the named layer's point over
// runs.
func stepPoints(runs []Run, points func(Run) []AlignPoint, layer string, get func(AlignPoint) float64) []Point {
	byStep := map[int64][]float64{}
	for _, r := range runs {
		for _, p := range points(r) {
			if p.Layer == layer {
				byStep[p.Step] = append(byStep[p.Step], get(p))
			}
		}
	}
	steps := make([]int64, 0, len(byStep))
	for s := range byStep {
		steps = append(steps, s)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	out := make([]Point, len(steps))
	for i, s := range steps {
		out[i] = Point{X: float64(s), Stat: Summarize(byStep[s])}
	}
	return out
}

// pickLayers returns the indices of at most MaxLayerLines of n layers,
// evenly spaced, first and last included.
func pickLayers(n int) []int {
	if n <= MaxLayerLines {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, MaxLayerLines)
	for i := range idx {
		idx[i] = int(math.Round(float64(i) * float64(n-1) / float64(MaxLayerLines-1)))
	}
	return idx
}

// viridis control points (luminance increasing).
var viridis = []color.Color{
	color.NRGBA{0x44, 0x01, 0x54, 0xff}, color.NRGBA{0x3b, 0x52, 0x8b, 0xff}, color.NRGBA{0x21, 0x91, 0x8c, 0xff},
	color.NRGBA{0x5e, 0xc9, 0x62, 0xff}, color.NRGBA{0xfd, 0xe7, 0x25, 0xff},
}

// depthColors returns a perceptually uniform map from 0 (dark purple) to
// 1 (yellow).
func depthColors() palette.ColorMap {
	cm, err := moreland.NewLuminance(viridis)
	if err != nil {
		panic("report: viridis control points: " + err.Error())
	}
	cm.SetMin(0)
	cm.SetMax(1)
	return cm
}

// Grid is the result of a 2-D sweep: one value per pair of settings.
type Grid struct {
	// Name and Title name the figure (see [Figure]).
	Name, Title string
	// XLabel and YLabel name the two settings.
	XLabel, YLabel string
	// X and Y are the settings' values as labels (columns, rows).
	X, Y []string
	// Values[r][c] is the result at (X[c], Y[r]), e.g. the mean test
	// accuracy in %; NaN when that cell was not run.
	Values [][]float64
	// Diverged[r][c] marks cells whose runs diverged (optional).
	Diverged [][]bool
	// ValueLabel names the values (the color bar's label).
	ValueLabel string
	// Format formats the value printed in each cell (default "%.1f").
	Format string
}

func (g Grid) check() error {
	if len(g.X) == 0 || len(g.Y) == 0 {
		return fmt.Errorf("%w: heat map %s: empty grid", ErrNoData, g.Name)
	}
	if len(g.Values) != len(g.Y) {
		return fmt.Errorf("report: heat map %s: %d rows of values for %d Y labels", g.Name, len(g.Values), len(g.Y))
	}
	for r, row := range g.Values {
		if len(row) != len(g.X) {
			return fmt.Errorf("report: heat map %s: row %d has %d values for %d X labels", g.Name, r, len(row), len(g.X))
		}
	}
	if g.Diverged != nil {
		if len(g.Diverged) != len(g.Y) {
			return fmt.Errorf("report: heat map %s: %d rows of Diverged for %d Y labels", g.Name, len(g.Diverged), len(g.Y))
		}
		for r, row := range g.Diverged {
			if len(row) != len(g.X) {
				return fmt.Errorf("report: heat map %s: Diverged row %d has %d cells for %d X labels", g.Name, r, len(row), len(g.X))
			}
		}
	}
	return nil
}

// Colors of heat map cells that hold no value.
var (
	// DivergedColor fills cells whose runs diverged.
	DivergedColor = color.NRGBA{0xb0, 0x00, 0x20, 0xff}
	// MissingColor fills cells that were not run.
	MissingColor = color.NRGBA{0xf0, 0xf0, 0xf0, 0xff}
)

type gridZ struct {
	z [][]float64 // z[r][c]
}

func (g gridZ) Dims() (c, r int)   { return len(g.z[0]), len(g.z) }
func (g gridZ) Z(c, r int) float64 { return g.z[r][c] }
func (g gridZ) X(c int) float64    { return float64(c) }
func (g gridZ) Y(r int) float64    { return float64(r) }

// Heatmap draws a sweep's grid: each cell colored by its value (viridis)
// and labelled with it, diverged cells in [DivergedColor] labelled
// "diverged", cells not run in [MissingColor] labelled "n/a", and a
// color bar. It returns an error if the shapes disagree, or [ErrNoData]
// for an empty grid.
func Heatmap(g Grid) (*Figure, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	if g.Format == "" {
		g.Format = "%.1f"
	}
	rows, cols := len(g.Y), len(g.X)
	z := make([][]float64, rows)
	lo, hi := math.Inf(1), math.Inf(-1)
	for r := range z {
		z[r] = make([]float64, cols)
		for c := range z[r] {
			v := g.Values[r][c]
			switch {
			case g.Diverged != nil && g.Diverged[r][c]:
				v = math.NaN() // NaN color
			case math.IsNaN(v) || math.IsInf(v, 0):
				v = math.Inf(-1) // underflow color
			default:
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			z[r][c] = v
		}
	}
	if lo > hi { // no finite value
		lo, hi = 0, 1
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	cm := depthColors()
	cm.SetMin(lo)
	cm.SetMax(hi)
	pal := cm.Palette(256)
	hm := plotter.NewHeatMap(gridZ{z}, pal)
	hm.Min, hm.Max = lo, hi
	hm.NaN = DivergedColor
	hm.Underflow = MissingColor

	p := newPlot(g.Title, g.XLabel, g.YLabel)
	p.Add(hm)
	var xy plotter.XYs
	var labels []string
	var styles []text.Style
	for r := range rows {
		for c := range cols {
			xy = append(xy, plotter.XY{X: float64(c), Y: float64(r)})
			st := text.Style{Color: color.Black, Font: plot.DefaultFont, Handler: p.Title.TextStyle.Handler,
				XAlign: draw.XCenter, YAlign: draw.YCenter}
			st.Font.Size = vg.Points(9)
			v := z[r][c]
			switch {
			case math.IsNaN(v):
				labels = append(labels, "diverged")
				st.Color = color.White
			case math.IsInf(v, -1):
				labels = append(labels, "n/a")
			default:
				labels = append(labels, fmt.Sprintf(g.Format, v))
				if (v-lo)/(hi-lo) < 0.5 { // dark half of viridis
					st.Color = color.White
				}
			}
			styles = append(styles, st)
		}
	}
	lab, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
	if err != nil {
		return nil, fmt.Errorf("report: heat map %s: %w", g.Name, err)
	}
	lab.TextStyle = styles
	p.Add(lab)
	p.X.Tick.Marker = categoryTicks(g.X)
	p.Y.Tick.Marker = categoryTicks(g.Y)
	p.X.Min, p.X.Max = -0.5, float64(cols)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5

	bar := plot.New()
	cmBar := depthColors()
	cmBar.SetMin(lo)
	cmBar.SetMax(hi)
	bar.Add(&plotter.ColorBar{ColorMap: cmBar, Vertical: true})
	bar.HideX()
	bar.Y.Label.Text = g.ValueLabel
	bar.Title.Text = " "

	w := vg.Length(max(cols, 3))*vg.Inch + 2*vg.Inch
	h := vg.Length(max(rows, 3))*vg.Inch*0.6 + 1.2*vg.Inch
	f := &Figure{Name: g.Name, Title: g.Title, Width: w, Height: h}
	f.draw = func(dc draw.Canvas) {
		W := dc.Max.X - dc.Min.X
		main := draw.Crop(dc, 0, -1.3*vg.Inch, 0, 0)
		side := draw.Crop(dc, W-1.2*vg.Inch, -0.2*vg.Inch, vg.Inch*0.5, -vg.Inch*0.3)
		p.Draw(main)
		bar.Draw(side)
	}
	f.Caption = "Cells show the value; diverged settings are marked \"diverged\", settings not run \"n/a\"."
	return f, nil
}

// categoryTicks labels integer positions 0..n-1 with names.
func categoryTicks(names []string) plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(names))
	for i, n := range names {
		t[i] = plot.Tick{Value: float64(i), Label: n}
	}
	return t
}

// LineSpec describes a line plot with error bars.
type LineSpec struct {
	// Name and Title name the figure.
	Name, Title string
	// XLabel and YLabel label the axes.
	XLabel, YLabel string
	// LogX uses a logarithmic x axis (points with X ≤ 0 are then left out).
	LogX bool
	// ZeroLine draws a dashed horizontal line at y = 0.
	ZeroLine bool
	// Caption is shown under the figure in the report.
	Caption string
}

// LinePlot draws each series as a line through its means with ± std error
// bars, in its rule's colour ([RuleColor]). A cross marks every x where
// runs diverged: at the mean of the others, or at the top of the panel
// when all diverged (where the line stops). With at most [MaxTicks]
// distinct x values the x axis has a tick at each of them and nowhere
// else. It returns [ErrNoData] if no point has a finite mean.
func LinePlot(spec LineSpec, series []Series) (*Figure, error) {
	p := newPlot(spec.Title, spec.XLabel, spec.YLabel)
	if spec.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	var xmin, xmax = math.Inf(1), math.Inf(-1)
	ymax := math.Inf(-1)
	var legend legendSet
	var styles lineStyler
	xs := map[float64]bool{}
	type divMark struct {
		c     color.Color
		x, y  float64
		atTop bool
	}
	var divs []divMark
	for i, s := range series {
		var xys plotter.XYs
		var errs plotter.YErrors
		c, dashes := styles.style(s.Label)
		for _, q := range s.Points {
			if spec.LogX && q.X <= 0 {
				continue
			}
			if q.Bad > 0 {
				divs = append(divs, divMark{c: c, x: q.X, y: q.Mean, atTop: math.IsNaN(q.Mean) || math.IsInf(q.Mean, 0)})
				xs[q.X] = true
				xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
			}
			if math.IsNaN(q.Mean) || math.IsInf(q.Mean, 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: q.X, Y: q.Mean})
			errs = append(errs, struct{ Low, High float64 }{q.Std, q.Std})
			xmin, xmax = math.Min(xmin, q.X), math.Max(xmax, q.X)
			ymax = math.Max(ymax, q.Mean+q.Std)
			xs[q.X] = true
		}
		if len(xys) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("report: %s: %s: %w", spec.Name, s.Label, err)
		}
		l.Color, l.Width = c, vg.Points(1.5)
		l.Dashes = dashes
		sc.Color, sc.Shape, sc.Radius = c, plotutil.Shape(i), vg.Points(3)
		eb, err := plotter.NewYErrorBars(errBars{xys, errs})
		if err != nil {
			return nil, fmt.Errorf("report: %s: %s: %w", spec.Name, s.Label, err)
		}
		eb.Color = c
		p.Add(eb, l, sc)
		legend.add(legendItem{s.Label, []plot.Thumbnailer{l, sc}})
	}
	if len(legend.items) == 0 {
		return nil, fmt.Errorf("%w: %s: no finite point", ErrNoData, spec.Name)
	}
	divAny := false
	for _, d := range divs {
		y := d.y
		if d.atTop {
			y = ymax
		}
		it, ok, err := addDiverged(p, d.c, plotter.XYs{{X: d.x, Y: y}})
		if err != nil {
			return nil, err
		}
		if ok {
			legend.add(it)
			divAny = true
		}
	}
	if len(xs) <= MaxTicks {
		ticks := make([]float64, 0, len(xs))
		for x := range xs {
			ticks = append(ticks, x)
		}
		sort.Float64s(ticks)
		var ct plot.ConstantTicks
		for _, x := range ticks {
			ct = append(ct, plot.Tick{Value: x, Label: fmt.Sprintf("%g", x)})
		}
		p.X.Tick.Marker = ct
	}
	if spec.LogX {
		// A log axis needs a positive range; pad it (a single x would
		// otherwise be padded linearly, possibly below zero).
		p.X.Min, p.X.Max = xmin/1.5, xmax*1.5
	}
	if spec.ZeroLine {
		zl, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: 0}, {X: xmax, Y: 0}})
		if err != nil {
			return nil, err
		}
		zl.Color = color.Gray{Y: 90}
		zl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(zl)
	}
	f := newFigure(spec.Name, spec.Title, 1.4*panelW, 1.2*panelH, [][]*plot.Plot{{p}}, legend.items)
	f.Caption = spec.Caption
	if divAny {
		f.Caption += " A cross marks a setting where runs diverged (at the top of the panel when every seed did)."
	}
	return f, nil
}

// MaxTicks is the most distinct x values a line plot labels one by one
// (see [LinePlot]).
const MaxTicks = 12

type errBars struct {
	plotter.XYs
	plotter.YErrors
}

// GapVsDepth plots the accuracy gap to a baseline (see [Gap]) against
// depth, one line per rule, with error bars.
func GapVsDepth(gaps []Series) (*Figure, error) {
	return LinePlot(LineSpec{Name: "gap_vs_depth", Title: "Gap to backprop against depth", XLabel: "depth (weight layers)",
		YLabel: "backprop accuracy − rule accuracy (points)", ZeroLine: true,
		Caption: "Mean over seeds; error bars are ± one standard deviation (rule and backprop combined)."}, gaps)
}

// AccuracyVsNoise plots test accuracy against the variance of the noise
// added to B's updates, one line per rule, with error bars. logX uses a
// logarithmic axis (which leaves out variance 0).
func AccuracyVsNoise(series []Series, logX bool) (*Figure, error) {
	return LinePlot(LineSpec{Name: "accuracy_vs_noise", Title: "Accuracy against update noise", XLabel: "noise variance",
		YLabel: "test accuracy (%)", LogX: logX,
		Caption: "Mean over seeds; error bars are ± one standard deviation."}, series)
}
