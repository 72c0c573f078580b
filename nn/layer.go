package nn

import (
	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// Ctx carries what a forward or backward pass needs besides its tensors.
type Ctx struct {
	// E is the compute backend.
	E engine.Backend
	// Train selects training behaviour (batch statistics, dropout, caching
	// for Backward). Evaluation passes set it to false.
	Train bool
	// Seed and Step determine all per-step randomness (dropout masks,
	// random feedback magnitudes): draws come from tensor.NewRand(Seed,
	// tensor.Mix(Step, ...)), so a resumed run repeats them exactly.
	Seed, Step uint64
	// Err is the gradient of the loss with respect to the network output
	// for the current backward pass; set by Network.Backward, read by
	// direct-feedback injectors.
	Err *tensor.Tensor
	// Offset is the index, in the global batch, of this process's first
	// sample (data-parallel training; 0 otherwise). Per-sample randomness
	// (dropout masks, noise inputs) is drawn per global sample index, so
	// that sharding a batch over processes does not change it.
	Offset int
	// Sync, when non-nil, sums a vector element-wise over all the
	// processes training together (data-parallel training). Batch
	// normalisation then uses the statistics of the global batch.
	Sync func(buf []float64) error
	// Share is this process's fraction of the global batch (n_local /
	// n_global) when Sync is set.
	Share float64
	// KeepFeedback makes [Network.Backward] skip the rules' Update: B's
	// gradients keep their old values and must not be applied. A trainer
	// that updates B only every K steps sets it on the other steps, so
	// that they do not pay for the rules' extra products.
	KeepFeedback bool
}

// Layer is one stage of a network.
type Layer interface {
	// Name returns the layer's name, unique within its network.
	Name() string
	// OutShape returns the output shape for an input of shape in (the batch
	// dimension included), or an error if the input does not fit.
	OutShape(in []int) ([]int, error)
	// Forward computes the output for x. The result is owned by the layer
	// and stays valid until its next Forward. In training mode the layer
	// keeps what Backward needs (a reference to x among it), so x must not
	// change before Backward.
	Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor
	// Backward takes the gradient with respect to the last output, writes
	// (overwrites) the gradients of the layer's parameters and, if needDX,
	// returns the gradient with respect to the last input (owned by the
	// layer); otherwise it may return nil and skip that work.
	Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor
	// Params returns the layer's parameters and buffers (not those of
	// sub-layers), in a fixed order.
	Params() []*Param
}

// Container is a layer made of sub-layers.
type Container interface {
	Layer
	// Children returns the sub-layers in forward order.
	Children() []Layer
}

// Discarder is implemented by layers whose Backward ignores the incoming
// gradient (a [Tap] with an injector). The layer below such a layer need
// not compute its input gradient.
type Discarder interface {
	DiscardsGradient() bool
}

// WeightLayer is a layer with forward weights W and backward weights B of
// the same shape: a dense or convolutional linear map y = W ⋆ x.
type WeightLayer interface {
	Layer
	// Weight returns W.
	Weight() *Param
	// Feedback returns B. Under backprop it is the same *Param as W.
	Feedback() *Param
	// SetFeedback makes p the layer's B (p == Weight() restores backprop).
	// It panics if p's shape differs from W's.
	SetFeedback(p *Param)
	// Bias returns the bias parameter, or nil.
	Bias() *Param
	// Input returns the x of the last training forward pass.
	Input() *tensor.Tensor
	// OutputGrad returns δy, the gradient with respect to the output
	// received by the last Backward (valid until the next backward pass).
	OutputGrad() *tensor.Tensor
	// Preactivation returns y = W ⋆ x of the last training forward pass,
	// without the bias.
	Preactivation(e engine.Backend) *tensor.Tensor
	// Apply computes dst = M ⋆ x, the layer's forward map with M in place of
	// W (M has W's shape, x the input's).
	Apply(e engine.Backend, dst, m, x *tensor.Tensor)
	// ApplyT computes dst = Mᵀ ⋆ v, the adjoint map from the output space to
	// the input space (for M = B and v = δy it is the input gradient).
	ApplyT(e engine.Backend, dst, m, v *tensor.Tensor)
	// Outer computes dst = beta·dst + alpha·Σ u ⊗ v over the batch (and, for
	// convolutions, over output positions, v being taken patch-wise): the
	// adjoint of Apply with respect to M. With u = δy and v = x it is the
	// weight gradient.
	Outer(e engine.Backend, dst, u, v *tensor.Tensor, alpha, beta float32)
}

// Feedback is the part of a learning rule bound to one weight layer.
// The network calls Prepare for every bound layer before a training
// backward pass, and Update after it.
type Feedback interface {
	// Prepare sets the layer's B for the coming backward pass (sign
	// rules derive it from W here). Most rules do nothing.
	Prepare(c *Ctx, l WeightLayer)
	// Update writes the gradient of the rule's objective with respect to
	// B into B.Grad (when B is trained by gradient descent). It runs after
	// the layer's Backward, so W.Grad holds the task gradient δW.
	Update(c *Ctx, l WeightLayer)
}

// Injector computes the gradient that a [Tap] sends down in place of the
// one arriving from above (direct feedback). It must resize dst to the
// tap's shape for the current batch, (N, Tap.Shape()...).
type Injector func(c *Ctx, dst *tensor.Tensor)

// Walk calls fn for l and, depth first in forward order, every layer inside
// it.
func Walk(l Layer, fn func(Layer)) {
	fn(l)
	if c, ok := l.(Container); ok {
		for _, ch := range c.Children() {
			Walk(ch, fn)
		}
	}
}
