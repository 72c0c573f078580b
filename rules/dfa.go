package rules

import (
	"fmt"
	"math"
	"strings"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// DirectFeedbackAlignment sends the output error e = ∂L/∂logits straight
// to every hidden block through its own fixed random matrix D_k, instead
// of down the chain of layers:
//
//	δh_k = D_k e           (at the output of hidden block k: a tap)
//	δy   = the block's own backward of δh_k (through its pool, ReLU, BN)
//	δW   = δy xᵀ            (true local gradient)
//	D_k ~ N(0, scale²/size_k), fixed; no input gradient crosses blocks.
//
// The output layer learns with its true gradient. For a network with an
// output per position (a language model, logits (N, T, K)), every block's
// tap has the same positions and D_k is shared by them: δh[n, t] =
// D_k e[n, t] (size_k the tap's width). Because nothing flows
// between blocks, the input gradients of the weight layers feeding a tap
// are never computed, so a step costs less than backprop's.
//
// Locality: local given a broadcast error signal. Source: Nøkland, "Direct
// feedback alignment provides learning in deep neural networks", NeurIPS
// 2016 (arXiv 1609.01596).
type DirectFeedbackAlignment struct {
	// Scale multiplies the standard deviation 1/√size of D's entries.
	Scale float64
}

func init() {
	Register(Info{
		Name: "dfa", Summary: "direct feedback alignment: output error to every hidden block via fixed random D_k",
		Update: "D_k fixed; δh_k = D_k e at each hidden block output", InputGrad: "none between blocks (δh_k = D_k e)",
		Locality: "local (broadcast error)", Source: "Nøkland 2016 (arXiv 1609.01596)", NoB: true,
		Settings: []Setting{{Name: "scale", Default: 1, NonNegative: true,
			Doc: "multiplies the std 1/√size of the random feedback matrices"}},
		New: func(s map[string]float64) (Rule, error) { return DirectFeedbackAlignment{Scale: s["scale"]}, nil },
	})
}

// Name returns "dfa".
func (DirectFeedbackAlignment) Name() string { return "dfa" }

// Bind keeps the layer's B at W: DFA does not use per-layer backward
// weights (the input gradients that would use them are skipped).
func (DirectFeedbackAlignment) Bind(l nn.WeightLayer, _ *Env) (nn.Feedback, error) {
	l.SetFeedback(l.Weight())
	return nil, nil
}

// BindNetwork draws D_k for every tap and installs the injectors.
func (r DirectFeedbackAlignment) BindNetwork(net *nn.Network, env *Env) error {
	taps := net.Taps()
	if len(taps) == 0 {
		return fmt.Errorf("the model has no hidden blocks with feedback taps")
	}
	k := net.Classes
	pos := net.Out[:len(net.Out)-1] // output positions (a language model's T), or none
	for _, t := range taps {
		shape := append([]int(nil), t.Shape()...)
		// One D_k for the whole tap, or, when the network has an output per
		// position and the tap has the same positions, one D_k shared by
		// the positions: δh[n, t] = D_k e[n, t].
		size, rows := tensor.Numel(shape), 1
		if len(pos) > 0 {
			if len(shape) != len(pos)+1 || !tensor.SameShape(shape[:len(pos)], pos) {
				return fmt.Errorf("tap %s has shape %v, not the output positions %v and a width", t.Name(), shape, pos)
			}
			size, rows = shape[len(pos)], tensor.Numel(pos)
		}
		d := &nn.Param{Name: strings.TrimSuffix(t.Name(), ".tap") + ".dfa_feedback", Kind: nn.KindBuffer,
			Value: tensor.New(size, k)}
		tensor.FillNormal(d.Value, env.Rand, r.Scale/math.Sqrt(float64(size)))
		env.AddState(d)
		t.SetInjector(func(c *nn.Ctx, dst *tensor.Tensor) {
			n := c.Err.Shape[0]
			dst.Resize(append([]int{n}, shape...)...)
			c.E.MatMul(false, true, n*rows, size, k, 1, c.Err.Data, d.Value.Data, 0, dst.Data)
		})
	}
	return nil
}
