package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// Linear is a dense layer y = x Wᵀ + b on inputs of shape (N, …, In):
// every leading position (a sample, or a token of a sample) is mapped
// alike, and the output has shape (N, …, Out). W has shape (Out, In), like
// PyTorch's nn.Linear. For the learning rules, the leading dimensions
// after N are positions, as the output positions of a convolution are:
// their regularizers' data terms are summed (or, with positions = mean,
// averaged) over them.
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
	l := &Linear{weighted: weighted{name: name, dense: true}, In: in, Out: out}
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

// OutShape returns (N, …, Out) for an input (N, …, In).
func (l *Linear) OutShape(in []int) ([]int, error) {
	if len(in) < 2 || in[len(in)-1] != l.In {
		return nil, fmt.Errorf("nn: %s: Linear expects input (N, …, %d), got %v", l.name, l.In, in)
	}
	out := append([]int(nil), in...)
	out[len(out)-1] = l.Out
	return out, nil
}

// rows returns the number of vectors of size d in t (N times the leading
// positions), panicking unless t has shape (N, …, d).
func (l *Linear) rows(op string, t *tensor.Tensor, d int) int {
	if t.Rank() < 2 || t.Shape[t.Rank()-1] != d {
		panic(fmt.Sprintf("nn: %s: Linear %s expects (N, …, %d), got %v", l.name, op, d, t.Shape))
	}
	return len(t.Data) / d
}

// flat returns t itself when it has rank 2 and a (rows, d) view of it
// otherwise, for the kernels that take the channel as dimension 1.
func flat(t *tensor.Tensor, d int) *tensor.Tensor {
	if t.Rank() == 2 {
		return t
	}
	return t.View(len(t.Data)/d, d)
}

// resizeLast resizes dst to src's shape with the last dimension set to d.
func resizeLast(dst, src *tensor.Tensor, d int) {
	var buf [8]int
	shape := append(buf[:0], src.Shape...)
	shape[len(shape)-1] = d
	dst.Resize(shape...)
}

// Forward computes y = x Wᵀ + b.
func (l *Linear) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	l.Apply(c.E, &l.y, l.w.Value, x)
	if l.b != nil {
		c.E.AddBias(flat(&l.y, l.Out), l.b.Value.Data)
	}
	if c.Train {
		l.x = x
	}
	return &l.y
}

// Backward computes δW = δyᵀx, δb = Σδy and δx = δy B (sums over the
// batch and every leading position).
func (l *Linear) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	l.dy = dy
	l.Outer(c.E, l.w.Grad, dy, l.x, 1, 0)
	if l.b != nil {
		c.E.BiasGrad(l.b.Grad.Data, flat(dy, l.Out), 0)
	}
	if !needDX {
		return nil
	}
	l.ApplyT(c.E, &l.dx, l.bw.Value, dy)
	return &l.dx
}

// Apply computes dst = x Mᵀ.
func (l *Linear) Apply(e engine.Backend, dst, m, x *tensor.Tensor) {
	n := l.rows("input", x, l.In)
	resizeLast(dst, x, l.Out)
	e.MatMul(false, true, n, l.Out, l.In, 1, x.Data, m.Data, 0, dst.Data)
}

// ApplyT computes dst = v M.
func (l *Linear) ApplyT(e engine.Backend, dst, m, v *tensor.Tensor) {
	n := l.rows("ApplyT", v, l.Out)
	resizeLast(dst, v, l.In)
	e.MatMul(false, false, n, l.In, l.Out, 1, v.Data, m.Data, 0, dst.Data)
}

// Outer computes dst = beta·dst + alpha·uᵀv, summed over the batch and
// every leading position.
func (l *Linear) Outer(e engine.Backend, dst, u, v *tensor.Tensor, alpha, beta float32) {
	if u.Rank() < 2 || u.Rank() != v.Rank() || !tensor.SameShape(u.Shape[:u.Rank()-1], v.Shape[:v.Rank()-1]) ||
		u.Shape[u.Rank()-1] != l.Out || v.Shape[v.Rank()-1] != l.In {
		panic(fmt.Sprintf("nn: %s: Outer of %v and %v", l.name, u.Shape, v.Shape))
	}
	e.MatMul(true, false, l.Out, l.In, len(u.Data)/l.Out, alpha, u.Data, v.Data, beta, dst.Data)
}
