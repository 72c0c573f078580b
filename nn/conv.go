package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// ConvSpec describes a Conv2d layer.
type ConvSpec struct {
	In, Out          int // channels
	KH, KW           int // kernel size
	StrideH, StrideW int // default 1
	PadH, PadW       int
	DilH, DilW       int // default 1
	Groups           int // default 1
	Bias             bool
}

// Conv2d is a 2-D convolution (cross-correlation) over NCHW inputs with
// weights W of shape (Out, In/Groups, KH, KW), like PyTorch's nn.Conv2d.
type Conv2d struct {
	weighted
	Spec  ConvSpec
	geom  engine.ConvGeom
	bgeom engine.ConvGeom // geometry on the padded input (Bordered)
}

// NewConv2d returns a convolution with weights drawn by init from rng.
func NewConv2d(name string, s ConvSpec, init Initializer, rng *rand.Rand) *Conv2d {
	g := engine.ConvGeom{In: s.In, Out: s.Out, KH: s.KH, KW: s.KW, StrideH: s.StrideH, StrideW: s.StrideW,
		PadH: s.PadH, PadW: s.PadW, DilH: s.DilH, DilW: s.DilW, Groups: s.Groups, H: s.KH, W: s.KW}
	if s.In <= 0 || s.Out <= 0 || s.KH <= 0 || s.KW <= 0 {
		panic(fmt.Sprintf("nn: Conv2d %s: bad spec %+v", name, s))
	}
	// Pad the probe input so Init checks only channels and kernel.
	g.H, g.W = g.KH*max(g.DilH, 1)+1, g.KW*max(g.DilW, 1)+1
	g = g.Init()
	s.StrideH, s.StrideW, s.DilH, s.DilW, s.Groups = g.StrideH, g.StrideW, g.DilH, g.DilW, g.Groups
	l := &Conv2d{weighted: weighted{name: name}, Spec: s, geom: g}
	shape := g.WeightShape()
	fanIn := shape[1] * shape[2] * shape[3]
	l.w = newParam(join(name, "weight"), KindWeight, true, shape...)
	l.w.FanIn = fanIn
	l.w.Init = func(t *tensor.Tensor, r *rand.Rand) { init(t, r, fanIn) }
	l.w.Init(l.w.Value, rng)
	l.bw = l.w
	if s.Bias {
		l.b = newParam(join(name, "bias"), KindBias, true, s.Out)
		TorchUniform(l.b.Value, rng, fanIn)
	}
	return l
}

// Geom returns the convolution geometry for an input shape.
func (l *Conv2d) Geom(in []int) (engine.ConvGeom, error) {
	s := l.Spec
	if len(in) != 4 || in[1] != s.In {
		return engine.ConvGeom{}, fmt.Errorf("nn: %s: Conv2d expects input (N, %d, H, W), got %v", l.name, s.In, in)
	}
	// Spans are checked before dividing: Go's division truncates towards
	// zero, so a negative span smaller than the stride would give 1.
	spanH := in[2] + 2*s.PadH - s.DilH*(s.KH-1) - 1
	spanW := in[3] + 2*s.PadW - s.DilW*(s.KW-1) - 1
	if spanH < 0 || spanW < 0 {
		return engine.ConvGeom{}, fmt.Errorf("nn: %s: input %dx%d is too small for a %dx%d kernel", l.name, in[2], in[3], s.KH, s.KW)
	}
	g := l.geom
	g.N, g.H, g.W = in[0], in[2], in[3]
	return g.Init(), nil
}

// OutShape returns (N, Out, OH, OW).
func (l *Conv2d) OutShape(in []int) ([]int, error) {
	g, err := l.Geom(in)
	if err != nil {
		return nil, err
	}
	return g.OutShape(), nil
}

func (l *Conv2d) geomFor(x *tensor.Tensor) *engine.ConvGeom {
	if x.Rank() == 4 && l.geom.N == x.Shape[0] && l.geom.H == x.Shape[2] && l.geom.W == x.Shape[3] && x.Shape[1] == l.Spec.In {
		return &l.geom
	}
	g, err := l.Geom(x.Shape)
	if err != nil {
		panic(err.Error())
	}
	l.geom = g
	return &l.geom
}

// Forward computes y = W ⋆ x + b.
func (l *Conv2d) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	c.E.Conv2d(&l.y, x, l.w.Value, l.geomFor(x))
	if l.b != nil {
		c.E.AddBias(&l.y, l.b.Value.Data)
	}
	if c.Train {
		l.x = x
	}
	return &l.y
}

// Backward computes δW = Σ δy ⊗ patch(x), δb and δx = Bᵀ ⋆ δy.
func (l *Conv2d) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	l.dy = dy
	g := l.geomFor(l.x)
	c.E.Conv2dWeightGrad(l.w.Grad, l.x, dy, g, 1, 0)
	if l.b != nil {
		c.E.BiasGrad(l.b.Grad.Data, dy, 0)
	}
	if !needDX {
		return nil
	}
	c.E.Conv2dInputGrad(&l.dx, dy, l.bw.Value, g)
	return &l.dx
}

// Apply computes dst = M ⋆ x.
func (l *Conv2d) Apply(e engine.Backend, dst, m, x *tensor.Tensor) {
	e.Conv2d(dst, x, m, l.geomFor(x))
}

// ApplyT computes dst = Mᵀ ⋆ v for the geometry of the last input, with
// v's batch size (v may hold the first samples of a batch only).
func (l *Conv2d) ApplyT(e engine.Backend, dst, m, v *tensor.Tensor) {
	g := &l.geom
	if v.Rank() == 4 && v.Shape[0] != g.N {
		ng, err := l.Geom([]int{v.Shape[0], g.In, g.H, g.W})
		if err != nil {
			panic(err.Error())
		}
		l.geom = ng
	}
	e.Conv2dInputGrad(dst, v, m, g)
}

// Outer computes dst = beta·dst + alpha·Σ u ⊗ patch(v).
func (l *Conv2d) Outer(e engine.Backend, dst, u, v *tensor.Tensor, alpha, beta float32) {
	e.Conv2dWeightGrad(dst, v, u, l.geomFor(v), alpha, beta)
}

// Bordered is implemented by layers that zero-pad their input (convolutions).
// Its methods work on the padded input space, border included: the
// official code of Kunin et al. (2020) pads strided convolutions explicitly
// and reconstructs onto the padded shape, so its Null primitive sums the
// border too. Rules use it for that option; layers know nothing of rules.
type Bordered interface {
	WeightLayer
	// StridedPadded reports whether the layer has a stride > 1 and padding.
	StridedPadded() bool
	// ApplyTBorder computes dst = Mᵀ ⋆ v onto the padded input (N, C,
	// H+2·PadH, W+2·PadW), border included (ApplyT crops it).
	ApplyTBorder(e engine.Backend, dst, m, v *tensor.Tensor)
	// OuterBorder computes dst = beta·dst + alpha·Σ u ⊗ patch(v) for v of
	// the padded input's shape (the adjoint of ApplyTBorder in M).
	OuterBorder(e engine.Backend, dst, u, v *tensor.Tensor, alpha, beta float32)
}

// StridedPadded reports whether the convolution has a stride > 1 and a
// padding.
func (l *Conv2d) StridedPadded() bool {
	return (l.Spec.StrideH > 1 || l.Spec.StrideW > 1) && (l.Spec.PadH > 0 || l.Spec.PadW > 0)
}

// borderGeom returns the geometry of the same convolution applied without
// padding to the explicitly padded last input.
func (l *Conv2d) borderGeom() *engine.ConvGeom {
	g := l.geom
	if g.H == 0 {
		panic("nn: " + l.name + ": border maps before any forward pass")
	}
	g.H, g.W = g.H+2*g.PadH, g.W+2*g.PadW
	g.PadH, g.PadW = 0, 0
	g = g.Init()
	if g.OH != l.geom.OH || g.OW != l.geom.OW {
		panic("nn: " + l.name + ": padded geometry changes the output size")
	}
	l.bgeom = g
	return &l.bgeom
}

// ApplyTBorder computes Mᵀ ⋆ v onto the padded input shape.
func (l *Conv2d) ApplyTBorder(e engine.Backend, dst, m, v *tensor.Tensor) {
	e.Conv2dInputGrad(dst, v, m, l.borderGeom())
}

// OuterBorder computes dst = beta·dst + alpha·Σ u ⊗ patch(v) for a padded v.
func (l *Conv2d) OuterBorder(e engine.Backend, dst, u, v *tensor.Tensor, alpha, beta float32) {
	e.Conv2dWeightGrad(dst, v, u, l.borderGeom(), alpha, beta)
}
