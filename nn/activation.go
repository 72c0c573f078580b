package nn

import (
	"fmt"

	"github.com/asymlab/asym/tensor"
)

// ReLU is the rectifier y = max(x, 0).
type ReLU struct {
	name  string
	y, dx tensor.Tensor
}

// NewReLU returns a ReLU layer.
func NewReLU(name string) *ReLU { return &ReLU{name: name} }

// Name returns the layer's name.
func (l *ReLU) Name() string { return l.name }

// OutShape returns in.
func (l *ReLU) OutShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Params returns nil.
func (l *ReLU) Params() []*Param { return nil }

// Forward computes max(x, 0).
func (l *ReLU) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	c.E.ReLU(&l.y, x)
	return &l.y
}

// addReLUer is implemented by backends with a fused max(a + b, 0) (the
// CPU backend's AddReLU), bit-identical to Add followed by ReLU.
type addReLUer interface {
	AddReLU(dst, a, b *tensor.Tensor)
}

// forwardSum computes max(a + b, 0) into the layer's output: the fused sum
// and activation of a residual block, with no buffer for the sum.
func (l *ReLU) forwardSum(c *Ctx, a, b *tensor.Tensor) *tensor.Tensor {
	if f, ok := c.E.(addReLUer); ok {
		f.AddReLU(&l.y, a, b)
		return &l.y
	}
	c.E.Add(&l.y, a, b)
	c.E.ReLU(&l.y, &l.y)
	return &l.y
}

// Backward passes δy where the output was positive.
func (l *ReLU) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if !needDX {
		return nil
	}
	c.E.ReLUGrad(&l.dx, dy, &l.y)
	return &l.dx
}

// Flatten reshapes (N, ...) to (N, prod(...)) without copying.
type Flatten struct {
	name    string
	inShape []int
	y, dx   tensor.Tensor
}

// NewFlatten returns a Flatten layer.
func NewFlatten(name string) *Flatten { return &Flatten{name: name} }

// Name returns the layer's name.
func (l *Flatten) Name() string { return l.name }

// OutShape returns (N, prod(rest)).
func (l *Flatten) OutShape(in []int) ([]int, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("nn: %s: Flatten needs a batch dimension", l.name)
	}
	return []int{in[0], tensor.Numel(in[1:])}, nil
}

// Params returns nil.
func (l *Flatten) Params() []*Param { return nil }

// Forward returns a (N, rest) view of x.
func (l *Flatten) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	l.inShape = append(l.inShape[:0], x.Shape...)
	l.y.Data = x.Data
	l.y.Shape = append(l.y.Shape[:0], x.Shape[0], x.RowLen())
	return &l.y
}

// Backward returns a view of dy in the input's shape.
func (l *Flatten) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if !needDX {
		return nil
	}
	l.dx.Data = dy.Data
	l.dx.Shape = append(l.dx.Shape[:0], l.inShape...)
	return &l.dx
}

// Dropout zeroes each input with probability P during training and scales
// the rest by 1/(1−P) (inverted dropout); it is the identity in evaluation.
// The mask of sample n comes from tensor.NewRand(Seed, Mix(Step,
// hash(name), Offset+n)), so masks are reproducible and independent of how
// a batch is split over processes.
type Dropout struct {
	name    string
	P       float64
	mask    tensor.Tensor
	y, dx   tensor.Tensor
	id      uint64
	applied bool
}

// NewDropout returns a dropout layer with drop probability p in [0, 1).
func NewDropout(name string, p float64) *Dropout {
	if p < 0 || p >= 1 {
		panic(fmt.Sprintf("nn: Dropout %s: probability %v outside [0, 1)", name, p))
	}
	return &Dropout{name: name, P: p, id: hashName(name)}
}

// Name returns the layer's name.
func (l *Dropout) Name() string { return l.name }

// OutShape returns in.
func (l *Dropout) OutShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Params returns nil.
func (l *Dropout) Params() []*Param { return nil }

// Forward applies the mask in training mode and is the identity otherwise.
func (l *Dropout) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	l.applied = c.Train && l.P > 0
	if !l.applied {
		return x
	}
	l.mask.ResizeLike(x)
	keep := float32(1 / (1 - l.P))
	per := x.RowLen()
	for n := 0; n < x.Shape[0]; n++ {
		// One stream per global sample: sharding the batch over processes
		// draws the same masks.
		rng := tensor.NewRand(c.Seed, tensor.Mix(c.Step, l.id, uint64(c.Offset+n)))
		row := l.mask.Data[n*per : (n+1)*per]
		for i := range row {
			if rng.Float64() < l.P {
				row[i] = 0
			} else {
				row[i] = keep
			}
		}
	}
	c.E.Mul(&l.y, x, &l.mask)
	return &l.y
}

// Backward applies the same mask to δy.
func (l *Dropout) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if !needDX {
		return nil
	}
	if !l.applied {
		return dy
	}
	c.E.Mul(&l.dx, dy, &l.mask)
	return &l.dx
}

// hashName returns a stable 64-bit FNV-1a hash of a layer name.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
