package nn

import (
	"errors"
	"fmt"
	"math"

	"github.com/asymlab/asym/tensor"
)

// Network is a root layer mapping inputs of a fixed per-sample shape to
// logits over Classes — one vector of logits per sample (a classifier) or
// per position (a language model: output (N, T, Classes)) — with the loss
// head that scores them and the learning-rule bindings of its weight
// layers.
type Network struct {
	// Root is the whole model.
	Root Layer
	// In is the per-sample input shape, e.g. [1 28 28], or [T] for a
	// sequence of T token ids.
	In []int
	// Out is the per-sample output shape: [Classes], or [T, Classes].
	Out []int
	// Classes is the number of logits per sample or position (the
	// vocabulary size of a language model).
	Classes int
	// Head scores the logits against the batch's targets: [Classification]
	// for an (N, Classes) output, [TokenCrossEntropy] (ignore −1) for an
	// output with positions, unless the model sets another.
	Head Head

	weights  []WeightLayer
	taps     []*Tap
	bindings []binding
	byName   map[string]WeightLayer
}

type binding struct {
	l  WeightLayer
	fb Feedback
}

// NewNetwork checks that root maps inputs of shape in to Classes logits
// per sample, (N, Classes), or per position, (N, …, Classes), and that
// names are unique, and returns the network with its default head.
func NewNetwork(root Layer, in []int, classes int) (*Network, error) {
	n := &Network{Root: root, In: append([]int(nil), in...), Classes: classes, byName: map[string]WeightLayer{}}
	out, err := root.OutShape(append([]int{1}, in...))
	if err != nil {
		return nil, err
	}
	if len(out) < 2 || out[len(out)-1] != classes {
		return nil, fmt.Errorf("nn: model output %v is not (N, %d) or (N, …, %d)", out, classes, classes)
	}
	n.Out = out[1:]
	n.Head = Classification{}
	if len(out) > 2 {
		n.Head = TokenCrossEntropy{Ignore: -1}
	}
	names := map[string]bool{}
	var dup error
	Walk(root, func(l Layer) {
		for _, p := range l.Params() {
			if names[p.Name] {
				dup = errors.Join(dup, fmt.Errorf("nn: duplicate parameter name %q", p.Name))
			}
			names[p.Name] = true
		}
		if w, ok := l.(WeightLayer); ok {
			n.weights = append(n.weights, w)
			n.byName[w.Name()] = w
		}
		if t, ok := l.(*Tap); ok {
			n.taps = append(n.taps, t)
		}
	})
	if dup != nil {
		return nil, dup
	}
	return n, nil
}

// CheckInput returns an error if a batch of shape (N, In...) does not fit.
func (n *Network) CheckInput(shape []int) error {
	if len(shape) != len(n.In)+1 || !tensor.SameShape(shape[1:], n.In) {
		return fmt.Errorf("nn: data of shape %v does not fit a model built for inputs %v", shape[1:], n.In)
	}
	return nil
}

// WeightLayers returns the weight layers in forward order.
func (n *Network) WeightLayers() []WeightLayer { return n.weights }

// WeightLayer returns the weight layer called name, or nil.
func (n *Network) WeightLayer(name string) WeightLayer { return n.byName[name] }

// Taps returns the direct-feedback taps in forward order.
func (n *Network) Taps() []*Tap { return n.taps }

// Params returns every parameter and buffer in forward order, backward
// weights included.
func (n *Network) Params() []*Param {
	var ps []*Param
	Walk(n.Root, func(l Layer) { ps = append(ps, l.Params()...) })
	return ps
}

// Bind attaches a rule's feedback to a weight layer (replacing any earlier
// binding of that layer). A nil fb removes the binding.
func (n *Network) Bind(l WeightLayer, fb Feedback) {
	for i, b := range n.bindings {
		if b.l == l {
			if fb == nil {
				n.bindings = append(n.bindings[:i], n.bindings[i+1:]...)
			} else {
				n.bindings[i].fb = fb
			}
			return
		}
	}
	if fb != nil {
		n.bindings = append(n.bindings, binding{l, fb})
	}
}

// Forward computes the logits for x.
func (n *Network) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	return n.Root.Forward(c, x)
}

// Backward runs the backward pass from dlogits, the gradient of the loss
// with respect to the logits: it lets every bound rule prepare its B, runs
// the layers' backward passes, and lets every rule write B's gradient
// (unless c.KeepFeedback is set).
func (n *Network) Backward(c *Ctx, dlogits *tensor.Tensor) {
	c.Err = dlogits
	for _, b := range n.bindings {
		b.fb.Prepare(c, b.l)
	}
	n.Root.Backward(c, dlogits, false)
	if c.KeepFeedback {
		return
	}
	for _, b := range n.bindings {
		b.fb.Update(c, b.l)
	}
}

// UpdateFeedback runs only the rules' Update step (used while the task
// loss is delayed and only B learns). It needs a training Forward first.
func (n *Network) UpdateFeedback(c *Ctx) {
	for _, b := range n.bindings {
		b.fb.Update(c, b.l)
	}
}

// WithExactGradients runs a plain backprop backward pass from dlogits —
// every weight layer with B ≡ W, no direct-feedback injectors, no rule
// updates — and calls fn while the exact gradients are in the parameters'
// Grad tensors (and each weight layer's OutputGrad is the exact δy). It
// then restores the layers' backward weights, the injectors and every
// gradient as they were, so the training step continues with the rule's
// gradients. It needs a training Forward and Backward on the same batch
// first; it costs one extra backward pass and a copy of the gradients.
func (n *Network) WithExactGradients(c *Ctx, dlogits *tensor.Tensor, fn func()) {
	params := n.Params()
	saved := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		if p.Grad != nil {
			saved[i] = p.Grad.Clone()
		}
	}
	fbs := make([]*Param, len(n.weights))
	for i, w := range n.weights {
		fbs[i] = w.Feedback()
		w.SetFeedback(w.Weight())
	}
	injs := make([]Injector, len(n.taps))
	for i, t := range n.taps {
		injs[i] = t.inject
		t.inject = nil
	}
	c.Err = dlogits
	n.Root.Backward(c, dlogits, false)
	fn()
	for i, w := range n.weights {
		w.SetFeedback(fbs[i])
	}
	for i, t := range n.taps {
		t.inject = injs[i]
	}
	for i, p := range params {
		if saved[i] != nil {
			copy(p.Grad.Data, saved[i].Data)
		}
	}
}

// LargestGain reruns the forward pass on x stage by stage (as
// FirstNonFinite) and returns the stage whose output has the largest root
// mean square relative to that of its input, with that ratio. It is a
// diagnostic for a loss that exploded while staying finite: the stage that
// amplifies most.
func (n *Network) LargestGain(c *Ctx, x *tensor.Tensor) (name string, gain float64) {
	stages := []Layer{n.Root}
	if s, ok := n.Root.(*Sequential); ok {
		stages = s.Layers
	}
	rms := func(t *tensor.Tensor) float64 {
		return tensor.Norm2(t.Data) / math.Sqrt(float64(max(len(t.Data), 1)))
	}
	in := rms(x)
	for _, l := range stages {
		x = l.Forward(c, x)
		out := rms(x)
		if g := out / in; in > 0 && (name == "" || g > gain) {
			name, gain = l.Name(), g
		}
		in = out
	}
	return name, gain
}

// FirstNonFinite reruns the forward pass on x stage by stage (the stages of
// the root Sequential, or the root as a whole) and returns the name of the
// first stage whose output holds a NaN or an Inf although its input did
// not, or "" if none does. It is a diagnostic for a loss that became
// non-finite.
func (n *Network) FirstNonFinite(c *Ctx, x *tensor.Tensor) string {
	if x.HasNaNOrInf() {
		return "input"
	}
	stages := []Layer{n.Root}
	if s, ok := n.Root.(*Sequential); ok {
		stages = s.Layers
	}
	for _, l := range stages {
		x = l.Forward(c, x)
		if x.HasNaNOrInf() {
			return l.Name()
		}
	}
	return ""
}
