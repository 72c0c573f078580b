package rules

import "github.com/asymlab/asym/nn"

// KolenPollack gives B the same task gradient as W and the same decay, so
// B and W converge (Kolen & Pollack 1994; Akrout et al. 2019):
//
//	ΔB = −η (δW + (w_decay·λ + 2·decay) B),   with δW = E[δy xᵀ] W's task gradient
//	ΔW = −η (δW + λ W)                (λ: the optimizer's weight decay on W)
//	δx = Bᵀδy
//
// With plain SGD, decay = 0 and w_decay = 1 (asym's defaults), B − W ←
// (1 − ηλ)(B − W): the difference shrinks geometrically whatever the
// gradients. The decay setting is the Decay primitive of the official code
// (α·‖B‖², gradient 2α·B). The official code puts no L2 on B and uses
// α = 1e-3: decay = 1e-3 with w_decay = 0 reproduces it (B and W then
// decay at different rates, 2e-3 against λ, and B − W no longer contracts
// by itself).
//
// Locality: non-local in the paper's sense (B needs W's gradient, i.e. the
// same δy xᵀ at both synapses). Source: Akrout, Wilson, Humphreys,
// Lillicrap and Tweed, "Deep learning without weight transport", NeurIPS
// 2019 (arXiv 1904.05391).
type KolenPollack struct {
	// Decay is the coefficient of the extra Decay primitive.
	Decay float64
	// WDecay multiplies W's weight decay λ in B's decay (1: B decays like
	// W; 0: the official code, no L2 on B).
	WDecay float64
}

func init() {
	Register(Info{
		Name: "kp", Summary: "Kolen–Pollack: B receives W's gradient, both decay",
		Update: "ΔB = −η(δW + (w_decay·λ_W + 2·decay)·B)", InputGrad: "δx = Bᵀδy", Locality: "non-local",
		Source:         "Akrout et al. 2019 (arXiv 1904.05391); Kolen & Pollack 1994",
		GlobalNoiseOnB: true,
		Settings: []Setting{
			{Name: "decay", Default: 0, NonNegative: true,
				Doc: "Decay primitive coefficient α on B (gradient 2α·B); the official code uses 1e-3"},
			{Name: "w_decay", Default: 1, NonNegative: true,
				Doc: "multiplies W's weight decay λ_W in B's decay; the official code has 0 (no L2 on B)"}},
		New: func(s map[string]float64) (Rule, error) {
			return KolenPollack{Decay: s["decay"], WDecay: s["w_decay"]}, nil
		},
	})
}

// Name returns "kp".
func (KolenPollack) Name() string { return "kp" }

// Bind gives the layer a trained B.
func (r KolenPollack) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	b := env.NewFeedbackParam(l, true)
	l.SetFeedback(b)
	return &kpFeedback{b: b, lambda: float32(r.WDecay*env.WeightDecay + 2*r.Decay)}, nil
}

type kpFeedback struct {
	b      *nn.Param
	lambda float32
}

func (f *kpFeedback) Prepare(*nn.Ctx, nn.WeightLayer) {}

// Update sets B.Grad = W.Grad + λ·B.
func (f *kpFeedback) Update(c *nn.Ctx, l nn.WeightLayer) {
	copy(f.b.Grad.Data, l.Weight().Grad.Data)
	if f.lambda != 0 {
		c.E.Axpy(f.lambda, f.b.Value.Data, f.b.Grad.Data)
	}
}
