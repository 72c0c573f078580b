package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// Linear is a dense layer y = x Wᵀ + b on inputs of shape (N, In); W has
// shape (Out, In), like PyTorch's nn.Linear.
type Linear struct {
	weighted
	In, Out int
}

// NewLinear returns a dense layer with weights drawn by init from rng and,
// if bias, a bias drawn from U(±1/√In) (PyTorch's default).
func NewLinear(name string, in, out int, bias bool, init Initializer, rng *rand.Rand) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: Linear %s: sizes %d→%d", name, in, out))
	}
	l := &Linear{weighted: weighted{name: name}, In: in, Out: out}
	l.w = newParam(join(name, "weight"), KindWeight, true, out, in)
	l.w.FanIn = in
	l.w.Init = func(t *tensor.Tensor, r *rand.Rand) { init(t, r, in) }
	l.w.Init(l.w.Value, rng)
	l.bw = l.w
	if bias {
		l.b = newParam(join(name, "bias"), KindBias, true, out)
		TorchUniform(l.b.Value, rng, in)
	}
	return l
}

// OutShape returns (N, Out) for an input (N, In).
func (l *Linear) OutShape(in []int) ([]int, error) {
	if len(in) != 2 || in[1] != l.In {
		return nil, fmt.Errorf("nn: %s: Linear expects input (N, %d), got %v", l.name, l.In, in)
	}
	return []int{in[0], l.Out}, nil
}

func (l *Linear) check(x *tensor.Tensor) {
	if x.Rank() != 2 || x.Shape[1] != l.In {
		panic(fmt.Sprintf("nn: %s: Linear expects input (N, %d), got %v", l.name, l.In, x.Shape))
	}
}

// Forward computes y = x Wᵀ + b.
func (l *Linear) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	l.check(x)
	l.Apply(c.E, &l.y, l.w.Value, x)
	if l.b != nil {
		c.E.AddBias(&l.y, l.b.Value.Data)
	}
	if c.Train {
		l.x = x
	}
	return &l.y
}

// Backward computes δW = δyᵀx, δb = Σδy and δx = δy B.
func (l *Linear) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	l.dy = dy
	l.Outer(c.E, l.w.Grad, dy, l.x, 1, 0)
	if l.b != nil {
		c.E.BiasGrad(l.b.Grad.Data, dy, 0)
	}
	if !needDX {
		return nil
	}
	l.ApplyT(c.E, &l.dx, l.bw.Value, dy)
	return &l.dx
}

// Apply computes dst = x Mᵀ.
func (l *Linear) Apply(e engine.Backend, dst, m, x *tensor.Tensor) {
	l.check(x)
	n := x.Shape[0]
	dst.Resize(n, l.Out)
	e.MatMul(false, true, n, l.Out, l.In, 1, x.Data, m.Data, 0, dst.Data)
}

// ApplyT computes dst = v M.
func (l *Linear) ApplyT(e engine.Backend, dst, m, v *tensor.Tensor) {
	if v.Rank() != 2 || v.Shape[1] != l.Out {
		panic(fmt.Sprintf("nn: %s: ApplyT expects (N, %d), got %v", l.name, l.Out, v.Shape))
	}
	n := v.Shape[0]
	dst.Resize(n, l.In)
	e.MatMul(false, false, n, l.In, l.Out, 1, v.Data, m.Data, 0, dst.Data)
}

// Outer computes dst = beta·dst + alpha·uᵀv.
func (l *Linear) Outer(e engine.Backend, dst, u, v *tensor.Tensor, alpha, beta float32) {
	if u.Rank() != 2 || v.Rank() != 2 || u.Shape[0] != v.Shape[0] || u.Shape[1] != l.Out || v.Shape[1] != l.In {
		panic(fmt.Sprintf("nn: %s: Outer of %v and %v", l.name, u.Shape, v.Shape))
	}
	e.MatMul(true, false, l.Out, l.In, u.Shape[0], alpha, u.Data, v.Data, beta, dst.Data)
}
