package rules

import "github.com/asymlab/asym/nn"

// KolenPollack gives B the same task gradient as W and the same decay, so
// B and W converge (Kolen & Pollack 1994; Akrout et al. 2019):
//
//	ΔB = −η (δW + (λ + 2·decay) B),   with δW = E[δy xᵀ] W's task gradient
//	ΔW = −η (δW + λ W)                (λ: the optimizer's weight decay on W)
//	δx = Bᵀδy
//
// With plain SGD and decay = 0, B − W ← (1 − ηλ)(B − W): the difference
// shrinks geometrically whatever the gradients. The extra decay setting is
// the Decay primitive of the official code (α·‖B‖²).
//
// Locality: non-local in the paper's sense (B needs W's gradient, i.e. the
// same δy xᵀ at both synapses). Source: Akrout, Wilson, Humphreys,
// Lillicrap and Tweed, "Deep learning without weight transport", NeurIPS
// 2019 (arXiv 1904.05391).
type KolenPollack struct {
	// Decay is the coefficient of the extra Decay primitive.
	Decay float64
}

func init() {
	Register(Info{
		Name: "kp", Summary: "Kolen–Pollack: B receives W's gradient, both decay",
		Update: "ΔB = −η(δW + (λ_W + 2·decay)·B)", InputGrad: "δx = Bᵀδy", Locality: "non-local",
		Source: "Akrout et al. 2019 (arXiv 1904.05391); Kolen & Pollack 1994",
		Settings: []Setting{{Name: "decay", Default: 0, NonNegative: true,
			Doc: "extra Decay primitive coefficient on B, on top of W's weight decay λ_W"}},
		New: func(s map[string]float64) (Rule, error) { return KolenPollack{Decay: s["decay"]}, nil },
	})
}

// Name returns "kp".
func (KolenPollack) Name() string { return "kp" }

// Bind gives the layer a trained B.
func (r KolenPollack) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	b := env.NewFeedbackParam(l, true)
	l.SetFeedback(b)
	return &kpFeedback{b: b, lambda: float32(env.WeightDecay + 2*r.Decay)}, nil
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
