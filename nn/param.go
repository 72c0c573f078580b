package nn

import (
	"math/rand/v2"

	"github.com/asymlab/asym/tensor"
)

// Kind classifies a parameter for optimizers, checkpoints and rules.
type Kind int

const (
	// KindWeight is a forward weight W of a Linear or Conv2d layer. Weight
	// decay applies to it by default.
	KindWeight Kind = iota
	// KindBias is a bias vector. No weight decay by default.
	KindBias
	// KindNorm is a normalisation scale or shift (BatchNorm γ, β). No weight
	// decay by default.
	KindNorm
	// KindFeedback is a backward weight B, or another feedback matrix owned
	// by a learning rule. It is trained when its Grad is non-nil.
	KindFeedback
	// KindBuffer is state that is not trained by gradient descent but must
	// be saved and synchronised: BatchNorm running statistics.
	KindBuffer
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindWeight:
		return "weight"
	case KindBias:
		return "bias"
	case KindNorm:
		return "norm"
	case KindFeedback:
		return "feedback"
	case KindBuffer:
		return "buffer"
	}
	return "unknown"
}

// Param is a named tensor of a layer, with its gradient.
type Param struct {
	// Name is unique within a network, PyTorch style: "layer1.0.conv1.weight".
	Name string
	// Kind classifies the parameter.
	Kind Kind
	// Value holds the parameter.
	Value *tensor.Tensor
	// Grad holds the gradient written by the last backward pass (or by a
	// learning rule for B); nil for parameters that are not trained.
	Grad *tensor.Tensor
	// Init draws a fresh value from the parameter's initializer (nil if it
	// has none). Rules use it to draw B independently of W.
	Init func(t *tensor.Tensor, rng *rand.Rand)
	// FanIn is the number of inputs feeding one output (for weights).
	FanIn int
}

// Trainable reports whether an optimizer should update p.
func (p *Param) Trainable() bool { return p.Grad != nil }

func newParam(name string, kind Kind, trainable bool, shape ...int) *Param {
	p := &Param{Name: name, Kind: kind, Value: tensor.New(shape...)}
	if trainable {
		p.Grad = tensor.New(shape...)
	}
	return p
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
