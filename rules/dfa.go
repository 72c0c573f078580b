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
// At the blocks of a pre-LN Transformer (gpt, vit), whose residual stream
// every reader sees through a LayerNorm, the feedback enters through the
// Jacobian of a parameter-free LayerNorm of the block's output h_k
// (setting norm, default 1): δh_k = J_LN(h_k)ᵀ D_k e (see Norm).
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
	// Norm weights, at taps whose stream is read through LayerNorms
	// (nn.Tap.Normalized: the blocks of gpt and vit), the path of D_k e
	// through the Jacobian of a parameter-free LayerNorm of the tap's
	// input h_k over its last dimension:
	//
	//	δh_k = (1 − Norm)·D_k e + Norm·J_LN(h_k)ᵀ D_k e.
	//
	// At 1 (the default) this removes the components of the feedback no
	// reader sees (the mean of each vector and h_k's own direction) and
	// scales it by 1/σ(h_k), as backprop's gradient of the stream is
	// scaled; at 0 the feedback keeps its size while the stream grows,
	// and the ViT diverges (docs/vit-results.md).
	Norm float64
}

func init() {
	Register(Info{
		Name: "dfa", Summary: "direct feedback alignment: output error to every hidden block via fixed random D_k",
		Update: "D_k fixed; δh_k = D_k e at each hidden block output (J_LN(h_k)ᵀ D_k e at Transformer blocks)", InputGrad: "none between blocks (δh_k = D_k e)",
		Locality: "local (broadcast error)", Source: "Nøkland 2016 (arXiv 1609.01596)", NoB: true,
		Settings: []Setting{{Name: "scale", Default: 1, NonNegative: true,
			Doc: "multiplies the std 1/√size of the random feedback matrices"},
			{Name: "norm", Default: 1, NonNegative: true,
				Doc: "weight of the path of D_k e through a LayerNorm's Jacobian at taps of a LayerNorm-read stream (gpt, vit); 0: plain D_k e"}},
		New: func(s map[string]float64) (Rule, error) {
			return DirectFeedbackAlignment{Scale: s["scale"], Norm: s["norm"]}, nil
		},
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
		var ln *tapNorm
		if r.Norm != 0 && t.Normalized() {
			ln = &tapNorm{w: float32(r.Norm)}
		}
		t.SetInjector(func(c *nn.Ctx, dst *tensor.Tensor) {
			n := c.Err.Shape[0]
			if ln != nil {
				ln.de.Resize(append([]int{n}, shape...)...)
				c.E.MatMul(false, true, n*rows, size, k, 1, c.Err.Data, d.Value.Data, 0, ln.de.Data)
				ln.backward(c, dst, &ln.de, t.Input())
				return
			}
			dst.Resize(append([]int{n}, shape...)...)
			c.E.MatMul(false, true, n*rows, size, k, 1, c.Err.Data, d.Value.Data, 0, dst.Data)
		})
	}
	return nil
}

// tapNorm holds the buffers of DFA's norm option: the Jacobian of a
// LayerNorm with γ = 1, β = 0 over the last dimension of the tap's input.
type tapNorm struct {
	w                         float32 // weight of the Jacobian path
	de, y                     tensor.Tensor
	gamma, beta, dg, db, m, v []float32
}

// backward writes dst = (1 − w)·dy + w·J_LN(x)ᵀ dy.
func (ln *tapNorm) backward(c *nn.Ctx, dst, dy, x *tensor.Tensor) {
	if x == nil || !tensor.SameShape(x.Shape, dy.Shape) {
		panic(fmt.Sprintf("rules: dfa norm: tap input %v, feedback %v", x, dy.Shape))
	}
	w := x.Shape[x.Rank()-1]
	rows := len(x.Data) / w
	if len(ln.gamma) != w {
		ln.gamma, ln.beta = make([]float32, w), make([]float32, w)
		ln.dg, ln.db = make([]float32, w), make([]float32, w)
		for i := range ln.gamma {
			ln.gamma[i] = 1
		}
	}
	if cap(ln.m) < rows {
		ln.m, ln.v = make([]float32, rows), make([]float32, rows)
	}
	ln.m, ln.v = ln.m[:rows], ln.v[:rows]
	c.E.LayerNorm(&ln.y, x, ln.gamma, ln.beta, ln.m, ln.v, 1e-5) // nn.LayerNorm's ε (PyTorch's default)
	c.E.LayerNormGrad(dst, ln.dg, ln.db, dy, x, ln.gamma, ln.m, ln.v)
	if ln.w != 1 {
		c.E.Scale(ln.w, dst.Data)
		c.E.Axpy(1-ln.w, dy.Data, dst.Data)
	}
}
