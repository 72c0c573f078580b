package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/asymlab/asym/report"
)

// checkPNG decodes b and checks its size, and that it is not blank (it
// has some pixels that are neither white nor gray: the colored lines).
func checkPNG(t *testing.T, name string, b []byte, w, h int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: PNG does not decode: %v", name, err)
	}
	if got := img.Bounds().Size(); got.X != w || got.Y != h {
		t.Errorf("%s: PNG is %v, want %dx%d", name, got, w, h)
	}
	colored := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if max(r, g, b)-min(r, g, b) > 0x2000 {
				colored++
			}
		}
	}
	// A blank or monochrome image has none; every figure here draws at
	// least a few colored lines or cells (thousands of pixels).
	if colored < 200 {
		t.Errorf("%s: only %d colored pixels (of a quarter sample): blank figure?", name, colored)
	}
	return img
}

// checkSVG parses b as XML and checks the root is an <svg> of the given
// size in points.
func checkSVG(t *testing.T, name string, b []byte, w, h vg.Length) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	var attrs map[string]string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: SVG is not well-formed XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
			attrs = map[string]string{}
			for _, a := range se.Attr {
				attrs[a.Name.Local] = a.Value
			}
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", name, root)
	}
	wantW, wantH := vg.Length(w).Points(), vg.Length(h).Points()
	for k, want := range map[string]float64{"width": wantW, "height": wantH} {
		var got float64
		if _, err := fmtSscanPt(attrs[k], &got); err != nil || math.Abs(got-want) > 0.01 {
			t.Errorf("%s: SVG %s = %q, want %.2fpt", name, k, attrs[k], want)
		}
	}
}

func fmtSscanPt(s string, v *float64) (int, error) {
	return fmt.Sscan(strings.TrimSuffix(s, "pt"), v)
}

func TestFiguresRender(t *testing.T) {
	rep := sampleReport(t)
	if len(rep.Figures) != 8 {
		t.Fatalf("%d figures", len(rep.Figures))
	}
	for _, f := range rep.Figures {
		t.Run(f.Name, func(t *testing.T) {
			b, err := f.PNG()
			if err != nil {
				t.Fatal(err)
			}
			w, h := f.PixelSize()
			// PixelSize is the size at 96 DPI.
			if w != int(math.Round(float64(f.Width/vg.Inch*96))) || h != int(math.Round(float64(f.Height/vg.Inch*96))) {
				t.Errorf("PixelSize %dx%d for %v×%v", w, h, f.Width, f.Height)
			}
			checkPNG(t, f.Name, b, w, h)
			svg, err := f.SVG()
			if err != nil {
				t.Fatal(err)
			}
			checkSVG(t, f.Name, svg, f.Width, f.Height)
			if f.Title == "" || f.Caption == "" {
				t.Errorf("figure %s has no title or caption", f.Name)
			}
		})
	}
}

func TestNewFigureSize(t *testing.T) {
	p := plot.New()
	p.Title.Text = "empty"
	f := report.NewFigure("x", "X", 5*vg.Inch, 3*vg.Inch, [][]*plot.Plot{{p, nil}})
	if w, h := f.PixelSize(); w != 480 || h != 288 {
		t.Errorf("5in × 3in at 96 DPI: %dx%d, want 480x288", w, h)
	}
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 480 || cfg.Height != 288 {
		t.Errorf("PNG config %+v, %v; want 480x288", cfg, err)
	}
}

func TestFigureSave(t *testing.T) {
	f, err := report.LearningCurves(synthRuns([]string{"bp"}, 1, 3, 1))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := f.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "learning_curves.png"))
	if err != nil || !bytes.Equal(onDisk, b) {
		t.Errorf("PNG on disk differs from the returned bytes (%v)", err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "learning_curves.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, "learning_curves.svg", svg, f.Width, f.Height)
	f.Name = "../escape"
	if _, err := f.Save(dir); err == nil || !strings.Contains(err.Error(), "figure name") {
		t.Errorf("Save with name %q: %v, want a name error", f.Name, err)
	}
}

func TestFiguresWithoutData(t *testing.T) {
	nan := math.NaN()
	noEpochs := []report.Run{{Name: "a", Rule: "fa"}}
	allNaN := []report.Run{{Name: "a", Rule: "fa", Epochs: []report.EpochPoint{{Epoch: 1, TestAcc: nan, TrainLoss: nan}},
		Align: []report.AlignPoint{{Step: 1, Layer: "fc", WeightAngle: nan, ProjectionAngle: nan, GradientAngle: nan,
			EndToEndAngle: nan, NormRatio: nan, Regularizer: nan}}}}
	for name, fn := range map[string]func() (*report.Figure, error){
		"learning curves, no runs":       func() (*report.Figure, error) { return report.LearningCurves(nil) },
		"learning curves, no epochs":     func() (*report.Figure, error) { return report.LearningCurves(noEpochs) },
		"learning curves, NaN":           func() (*report.Figure, error) { return report.LearningCurves(allNaN) },
		"alignment, no lines":            func() (*report.Figure, error) { return report.AlignmentCurves(noEpochs) },
		"alignment, NaN":                 func() (*report.Figure, error) { return report.AlignmentCurves(allNaN) },
		"heat map, empty":                func() (*report.Figure, error) { return report.Heatmap(report.Grid{Name: "h"}) },
		"line plot, no series":           func() (*report.Figure, error) { return report.GapVsDepth(nil) },
		"line plot, NaN or X ≤ 0 on log": func() (*report.Figure, error) { return report.AccuracyVsNoise(logSeries(), true) },
	} {
		if _, err := fn(); !errors.Is(err, report.ErrNoData) {
			t.Errorf("%s: %v, want ErrNoData", name, err)
		}
	}
}

func logSeries() []report.Series {
	return []report.Series{{Label: "sa", Points: []report.Point{{X: 0, Stat: report.Stat{Mean: 90, N: 1}},
		{X: 0.1, Stat: report.Stat{Mean: math.NaN()}}}}}
}

func TestHeatmapShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    report.Grid
	}{
		{"rows", report.Grid{Name: "h", X: []string{"a"}, Y: []string{"1", "2"}, Values: [][]float64{{1}}}},
		{"cols", report.Grid{Name: "h", X: []string{"a", "b"}, Y: []string{"1"}, Values: [][]float64{{1}}}},
		{"diverged rows", report.Grid{Name: "h", X: []string{"a"}, Y: []string{"1"}, Values: [][]float64{{1}}, Diverged: [][]bool{}}},
		{"diverged cols", report.Grid{Name: "h", X: []string{"a"}, Y: []string{"1"}, Values: [][]float64{{1}}, Diverged: [][]bool{{true, false}}}},
	} {
		if _, err := report.Heatmap(tc.g); err == nil || errors.Is(err, report.ErrNoData) || !strings.Contains(err.Error(), "heat map h") {
			t.Errorf("%s: %v, want a shape error naming the heat map", tc.name, err)
		}
	}
}

// A heat map marks diverged cells in DivergedColor and cells not run in
// MissingColor, and a one-cell or constant grid still renders.
func TestHeatmapCells(t *testing.T) {
	g := report.Grid{Name: "h", Title: "sweep", XLabel: "alpha", YLabel: "beta", X: []string{"a", "b", "c"}, Y: []string{"1"},
		Values: [][]float64{{50, 50, math.NaN()}}, Diverged: [][]bool{{false, true, false}}, ValueLabel: "acc"}
	f, err := report.Heatmap(g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.PNG()
	if err != nil {
		t.Fatal(err)
	}
	w, h := f.PixelSize()
	img := checkPNG(t, "heat map", b, w, h)
	count := func(c [3]uint32) int {
		n := 0
		for y := range h {
			for x := range w {
				r, g, b, _ := img.At(x, y).RGBA()
				if [3]uint32{r >> 8, g >> 8, b >> 8} == c {
					n++
				}
			}
		}
		return n
	}
	dc, mc := report.DivergedColor, report.MissingColor
	// Each cell covers about a quarter of the figure's width and a third of
	// its height; half a cell's area is a safe floor.
	cell := w / 4 * h / 3 / 2
	if n := count([3]uint32{uint32(dc.R), uint32(dc.G), uint32(dc.B)}); n < cell {
		t.Errorf("%d pixels in DivergedColor, want ≥ %d (one cell)", n, cell)
	}
	if n := count([3]uint32{uint32(mc.R), uint32(mc.G), uint32(mc.B)}); n < cell {
		t.Errorf("%d pixels in MissingColor, want ≥ %d (one cell)", n, cell)
	}
	one, err := report.Heatmap(report.Grid{Name: "one", X: []string{"a"}, Y: []string{"1"}, Values: [][]float64{{3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.PNG(); err != nil {
		t.Fatal(err)
	}
}
