package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of the PNG figures.
const DPI = 96

// ErrNoData is returned by figure constructors when there is nothing to
// plot (no runs, or no finite values).
var ErrNoData = errors.New("report: no data to plot")

// Figure is a rendered-on-demand figure of one or more panels.
type Figure struct {
	// Name is the file stem ("learning_curves"): lower-case letters,
	// digits, '-', '_' and '.'.
	Name string
	// Title and Caption are shown above and below the figure in the HTML
	// report.
	Title, Caption string
	// Width and Height are the figure's size.
	Width, Height vg.Length

	draw func(dc draw.Canvas)
}

// legendItem is one entry of a figure-wide legend.
type legendItem struct {
	label  string
	thumbs []plot.Thumbnailer
}

// NewFigure returns a figure drawing a grid of panels (rows × columns;
// nil entries are left blank) aligned on a common layout.
func NewFigure(name, title string, w, h vg.Length, panels [][]*plot.Plot) *Figure {
	return newFigure(name, title, w, h, panels, nil)
}

// newFigure is NewFigure with a legend in a strip to the right of the
// panels (which widens the figure).
func newFigure(name, title string, w, h vg.Length, panels [][]*plot.Plot, legend []legendItem) *Figure {
	var leg plot.Legend
	var strip vg.Length
	if len(legend) > 0 {
		leg = plot.NewLegend()
		leg.Top, leg.Left = true, true
		leg.ThumbnailWidth = vg.Millimeter * 7
		leg.TextStyle.Font.Size = vg.Points(10)
		widest := vg.Length(0)
		for _, it := range legend {
			leg.Add(it.label, it.thumbs...)
			widest = max(widest, leg.TextStyle.Rectangle(it.label).Max.X)
		}
		strip = leg.ThumbnailWidth + widest + 6*vg.Millimeter
		w += strip
	}
	rows := len(panels)
	cols := 0
	for _, r := range panels {
		cols = max(cols, len(r))
	}
	grid := make([][]*plot.Plot, rows)
	for i := range panels {
		grid[i] = make([]*plot.Plot, cols)
		copy(grid[i], panels[i])
	}
	return &Figure{Name: name, Title: title, Width: w, Height: h, draw: func(dc draw.Canvas) {
		if strip > 0 {
			side := draw.Crop(dc, dc.Max.X-dc.Min.X-strip+2*vg.Millimeter, 0, 0, -4*vg.Millimeter)
			leg.Draw(side)
			dc = draw.Crop(dc, 0, -strip, 0, 0)
		}
		if rows == 0 || cols == 0 {
			return
		}
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2,
			PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter * 2}
		cs := plot.Align(grid, tiles, dc)
		for i := range grid {
			for j, p := range grid[i] {
				if p != nil {
					p.Draw(cs[i][j])
				}
			}
		}
	}}
}

// PixelSize returns the size of the figure's PNG in pixels.
func (f *Figure) PixelSize() (w, h int) {
	return int(f.Width/vg.Inch*DPI + 0.5), int(f.Height/vg.Inch*DPI + 0.5)
}

// PNG renders the figure as a PNG at [DPI].
func (f *Figure) PNG() ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI))
	f.draw(draw.New(c))
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("report: figure %s: %w", f.Name, err)
	}
	return b.Bytes(), nil
}

// SVG renders the figure as SVG.
func (f *Figure) SVG() ([]byte, error) {
	c := vgsvg.New(f.Width, f.Height)
	f.draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("report: figure %s: %w", f.Name, err)
	}
	return b.Bytes(), nil
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// checkName returns an error if the figure cannot be saved under its name.
func (f *Figure) checkName() error {
	if !validName.MatchString(f.Name) {
		return fmt.Errorf("report: figure name %q: use lower-case letters, digits, '-', '_' and '.'", f.Name)
	}
	return nil
}

// Save writes dir/Name.png and dir/Name.svg and returns the PNG bytes.
func (f *Figure) Save(dir string) ([]byte, error) {
	if err := f.checkName(); err != nil {
		return nil, err
	}
	png, err := f.PNG()
	if err != nil {
		return nil, err
	}
	svg, err := f.SVG()
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, f.Name+".png"), png); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, f.Name+".svg"), svg); err != nil {
		return nil, err
	}
	return png, nil
}

// writeFile writes b to path atomically (a temporary file renamed).
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
