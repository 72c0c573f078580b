package nn

import (
	"fmt"

	"github.com/asymlab/asym/tensor"
)

// Sequential runs its layers one after another.
type Sequential struct {
	name   string
	Layers []Layer
}

// NewSequential returns a container of the given layers.
func NewSequential(name string, layers ...Layer) *Sequential {
	return &Sequential{name: name, Layers: layers}
}

// Add appends layers and returns s.
func (s *Sequential) Add(layers ...Layer) *Sequential {
	s.Layers = append(s.Layers, layers...)
	return s
}

// Name returns the container's name.
func (s *Sequential) Name() string { return s.name }

// Children returns the layers.
func (s *Sequential) Children() []Layer { return s.Layers }

// Params returns nil: the parameters belong to the children.
func (s *Sequential) Params() []*Param { return nil }

// OutShape chains the layers' shapes.
func (s *Sequential) OutShape(in []int) ([]int, error) {
	var err error
	for _, l := range s.Layers {
		if in, err = l.OutShape(in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// Forward runs the layers in order. In training, a BatchNorm directly
// followed by a ReLU runs as one fused pass when the backend has the
// kernel (bit-identical; the BatchNorm's own output is then not written).
func (s *Sequential) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	for i := 0; i < len(s.Layers); i++ {
		if bn, ok := s.Layers[i].(*BatchNorm); ok && i+1 < len(s.Layers) {
			if relu, ok := s.Layers[i+1].(*ReLU); ok {
				if y := bn.forwardReLU(c, x, relu); y != nil {
					x = y
					i++
					continue
				}
			}
		}
		x = s.Layers[i].Forward(c, x)
	}
	return x
}

// Backward runs the layers' backward passes in reverse order. A layer is
// told not to compute its input gradient when nobody would use it: when
// below it there are only parameter-free layers down to a Discarder (a tap
// with an injector) or down to the bottom of the sequence with needDX
// false.
//
// A ReLU directly above a BatchNorm is passed through by the BatchNorm's
// fused backward (when the backend has it; bit-identical), which writes
// no gradient for the ReLU's input.
func (s *Sequential) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if relu, ok := s.Layers[i].(*ReLU); ok && i > 0 && dy != nil {
			if bn, ok := s.Layers[i-1].(*BatchNorm); ok {
				need := s.needInputGrad(i-1, needDX)
				if dx, done := bn.backwardReLU(c, dy, relu, need); done {
					dy = dx
					i--
					continue
				}
			}
		}
		need := s.needInputGrad(i, needDX)
		dy = s.Layers[i].Backward(c, dy, need)
		if !need {
			dy = nil
		}
	}
	return dy
}

// needInputGrad reports whether layer i's input gradient is used.
func (s *Sequential) needInputGrad(i int, needDX bool) bool {
	for j := i - 1; j >= 0; j-- {
		l := s.Layers[j]
		if d, ok := l.(Discarder); ok && d.DiscardsGradient() {
			return false
		}
		if trains(l) {
			return true
		}
	}
	return needDX
}

// trains reports whether l or a layer inside it has a trained parameter.
func trains(l Layer) bool {
	found := false
	Walk(l, func(x Layer) {
		for _, p := range x.Params() {
			if p.Grad != nil {
				found = true
			}
		}
	})
	return found
}

// Residual computes post(branch(x) + shortcut(x)); a nil shortcut is the
// identity and a nil post is no activation. A ReLU post is fused with the
// sum: it needs no buffer for branch(x) + shortcut(x).
type Residual struct {
	name     string
	Branch   *Sequential
	Shortcut *Sequential
	Post     Layer
	sum, dx  tensor.Tensor
}

// NewResidual returns a residual block.
func NewResidual(name string, branch, shortcut *Sequential, post Layer) *Residual {
	return &Residual{name: name, Branch: branch, Shortcut: shortcut, Post: post}
}

// Name returns the block's name.
func (r *Residual) Name() string { return r.name }

// Children returns the branch, the shortcut (if any) and the activation.
func (r *Residual) Children() []Layer {
	ch := []Layer{r.Branch}
	if r.Shortcut != nil {
		ch = append(ch, r.Shortcut)
	}
	if r.Post != nil {
		ch = append(ch, r.Post)
	}
	return ch
}

// Params returns nil.
func (r *Residual) Params() []*Param { return nil }

// OutShape checks that branch and shortcut agree.
func (r *Residual) OutShape(in []int) ([]int, error) {
	b, err := r.Branch.OutShape(in)
	if err != nil {
		return nil, err
	}
	s := in
	if r.Shortcut != nil {
		if s, err = r.Shortcut.OutShape(in); err != nil {
			return nil, err
		}
	}
	if !tensor.SameShape(b, s) {
		return nil, fmt.Errorf("nn: %s: branch output %v does not match shortcut output %v", r.name, b, s)
	}
	if r.Post != nil {
		return r.Post.OutShape(b)
	}
	return b, nil
}

// Forward computes the block.
func (r *Residual) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	b := r.Branch.Forward(c, x)
	s := x
	if r.Shortcut != nil {
		s = r.Shortcut.Forward(c, x)
	}
	if relu, ok := r.Post.(*ReLU); ok {
		return relu.forwardSum(c, b, s)
	}
	c.E.Add(&r.sum, b, s)
	if r.Post != nil {
		return r.Post.Forward(c, &r.sum)
	}
	return &r.sum
}

// Backward sends δ through both paths and adds their input gradients.
func (r *Residual) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if r.Post != nil {
		dy = r.Post.Backward(c, dy, true)
	}
	db := r.Branch.Backward(c, dy, needDX)
	ds := dy
	if r.Shortcut != nil {
		ds = r.Shortcut.Backward(c, dy, needDX)
	}
	if !needDX {
		return nil
	}
	c.E.Add(&r.dx, db, ds)
	return &r.dx
}

// Tap is an identity layer marking a point where direct feedback may
// enter. With no injector it passes gradients through unchanged. With one,
// Backward ignores the incoming gradient and returns the injected one.
type Tap struct {
	name   string
	shape  []int // per-sample shape, recorded by OutShape
	inject Injector
	d      tensor.Tensor
	x      *tensor.Tensor // the input of the last training forward pass
	norm   bool
}

// NewTap returns a tap.
func NewTap(name string) *Tap { return &Tap{name: name} }

// Name returns the tap's name.
func (t *Tap) Name() string { return t.name }

// Params returns nil.
func (t *Tap) Params() []*Param { return nil }

// OutShape returns in and records the per-sample shape.
func (t *Tap) OutShape(in []int) ([]int, error) {
	if len(in) > 0 {
		t.shape = append([]int(nil), in[1:]...)
	}
	return append([]int(nil), in...), nil
}

// Shape returns the per-sample shape seen by the last shape check.
func (t *Tap) Shape() []int { return t.shape }

// SetInjector installs (or, with nil, removes) a direct-feedback injector.
func (t *Tap) SetInjector(f Injector) { t.inject = f }

// DiscardsGradient reports whether an injector is installed.
func (t *Tap) DiscardsGradient() bool { return t.inject != nil }

// Forward returns x (and, in training, keeps it for Input).
func (t *Tap) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if c.Train {
		t.x = x
	}
	return x
}

// SetNormalized declares that every reader of the tap's stream sees it
// through a LayerNorm over its last dimension (a pre-LN Transformer's
// residual stream), so that direct feedback may enter through that
// normalisation's Jacobian; it returns t.
func (t *Tap) SetNormalized(v bool) *Tap {
	t.norm = v
	return t
}

// Normalized reports what SetNormalized declared.
func (t *Tap) Normalized() bool { return t.norm }

// Input returns the tap's input of the last training forward pass (nil
// before one): an injector may make its gradient depend on it.
func (t *Tap) Input() *tensor.Tensor { return t.x }

// Backward returns dy, or the injected gradient.
func (t *Tap) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if t.inject == nil {
		return dy
	}
	t.inject(c, &t.d)
	return &t.d
}
