package nn

import (
	"fmt"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// Pool2d is a max or average pooling layer over NCHW inputs. A Global
// average pool averages each whole plane to 1×1.
type Pool2d struct {
	name   string
	Max    bool
	Global bool
	K, S   int // window and stride (square)
	Pad    int
	// Same pads as TensorFlow's "SAME": the output is ⌈H/S⌉ × ⌈W/S⌉ and
	// the padding it needs is split with the smaller half before (for a
	// 3×3/2 window on an even input: 0 before, 1 after). Pad is ignored.
	Same  bool
	geom  engine.PoolGeom
	idx   []int32
	y, dx tensor.Tensor
}

// NewMaxPool2d returns a k×k max pooling with stride s and padding pad.
func NewMaxPool2d(name string, k, s, pad int) *Pool2d {
	return &Pool2d{name: name, Max: true, K: k, S: s, Pad: pad}
}

// NewMaxPool2dSame returns a k×k max pooling with stride s and
// TensorFlow's "SAME" padding (see [Pool2d].Same).
func NewMaxPool2dSame(name string, k, s int) *Pool2d {
	return &Pool2d{name: name, Max: true, K: k, S: s, Same: true}
}

// samePad returns TensorFlow's "SAME" padding of one axis: before, and the
// extra after.
func samePad(in, k, s int) (before, extra int) {
	out := (in + s - 1) / s
	total := max((out-1)*s+k-in, 0)
	before = total / 2
	return before, total - 2*before
}

// NewAvgPool2d returns a k×k average pooling with stride s and padding pad
// (padding excluded from the average).
func NewAvgPool2d(name string, k, s, pad int) *Pool2d {
	return &Pool2d{name: name, K: k, S: s, Pad: pad}
}

// NewGlobalAvgPool returns a layer averaging every channel plane to 1×1.
func NewGlobalAvgPool(name string) *Pool2d { return &Pool2d{name: name, Global: true} }

// Name returns the layer's name.
func (l *Pool2d) Name() string { return l.name }

// Params returns nil.
func (l *Pool2d) Params() []*Param { return nil }

func (l *Pool2d) geomOf(in []int) (engine.PoolGeom, error) {
	if len(in) != 4 {
		return engine.PoolGeom{}, fmt.Errorf("nn: %s: pooling expects (N, C, H, W), got %v", l.name, in)
	}
	g := engine.PoolGeom{N: in[0], C: in[1], H: in[2], W: in[3], KH: l.K, KW: l.K, StrideH: l.S, StrideW: l.S, PadH: l.Pad, PadW: l.Pad}
	if l.Same && !l.Global {
		g.PadH, g.ExtraH = samePad(in[2], l.K, l.S)
		g.PadW, g.ExtraW = samePad(in[3], l.K, l.S)
	}
	if l.Global {
		g.KH, g.KW, g.StrideH, g.StrideW, g.PadH, g.PadW = in[2], in[3], 1, 1, 0, 0
	}
	if g.KH <= 0 || g.KW <= 0 || g.H+2*g.PadH+g.ExtraH < g.KH || g.W+2*g.PadW+g.ExtraW < g.KW || 2*g.PadH > g.KH {
		return engine.PoolGeom{}, fmt.Errorf("nn: %s: input %dx%d too small for a %dx%d window", l.name, in[2], in[3], g.KH, g.KW)
	}
	return g.Init(), nil
}

// OutShape returns the pooled shape.
func (l *Pool2d) OutShape(in []int) ([]int, error) {
	g, err := l.geomOf(in)
	if err != nil {
		return nil, err
	}
	return g.OutShape(), nil
}

// Forward pools x.
func (l *Pool2d) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if l.geom.OH == 0 || !tensor.SameShape(x.Shape, []int{l.geom.N, l.geom.C, l.geom.H, l.geom.W}) {
		g, err := l.geomOf(x.Shape)
		if err != nil {
			panic(err.Error())
		}
		l.geom = g
	}
	if l.Max {
		c.E.MaxPool2d(&l.y, &l.idx, x, &l.geom)
	} else {
		c.E.AvgPool2d(&l.y, x, &l.geom)
	}
	return &l.y
}

// Backward routes δy back to the inputs.
func (l *Pool2d) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if !needDX {
		return nil
	}
	if l.Max {
		c.E.MaxPool2dGrad(&l.dx, dy, l.idx, &l.geom)
	} else {
		c.E.AvgPool2dGrad(&l.dx, dy, &l.geom)
	}
	return &l.dx
}
