package rules

import "github.com/asymlab/asym/nn"

// WeightMirror is weight mirror (Akrout et al. 2019) in the regularizer
// form of Kunin et al. (2020): R = α·Decay + β·Amp, so
//
//	∇_B R = 2αB − β E[y xᵀ]        (y = Wx)
//	ΔB = −η ∇_B R
//	δx = Bᵀδy
//
// B settles at B* = (β/2α)·W·E[xxᵀ]; B ∝ W only when x is white. With
// Noise = σ > 0 the rule runs Akrout's mirror phase instead: x is replaced
// by white noise ξ ~ N(0, σ²) fed through W (y = Wξ) inside the rule only,
// giving B* = (βσ²/2α)·W for a dense layer. On a convolution with
// positions = "sum" R sums over output positions, so each kernel entry of
// B* is also multiplied by the number of positions at which it meets the
// input (not the padding); with the default "mean" it is multiplied by the
// fraction of positions at which it does.
//
// Locality: local. Sources: Akrout et al., "Deep learning without weight
// transport", NeurIPS 2019 (arXiv 1904.05391); Kunin et al., "Two routes to
// scalable credit assignment without weight symmetry", ICML 2020 (arXiv
// 2003.01513). Defaults α = β = 1e-3 (official code) and σ = 1: the mirror
// phase on white noise, so that B* = ½W. The official code's Mirror uses
// the data by default (σ = 0 here, its input_distribution = None); then B*
// = ½WΣ grows with the input's second moment, and on a CIFAR-style ResNet
// on Fashion-MNIST B outgrows W until training diverges (step 121 on
// ResNet-20, 314 on ResNet-8, even with positions = "mean"; see
// docs/paper-findings.md).
type WeightMirror struct {
	Alpha, Beta float64 // Decay and Amp coefficients
	Noise       float64 // σ of the mirror-phase noise input; 0 uses the data
}

func init() {
	Register(Info{
		Name: "wm", Summary: "weight mirror: α·Decay + β·Amp (optionally driven by noise input)",
		Update: "ΔB = −η(2αB − βE[y xᵀ])", InputGrad: "δx = Bᵀδy", Locality: "local",
		Source: "Akrout et al. 2019 (arXiv 1904.05391); Kunin et al. 2020 (arXiv 2003.01513)",
		Settings: []Setting{
			{Name: "alpha", Default: 1e-3, Doc: "Decay coefficient"},
			{Name: "beta", Default: 1e-3, Doc: "Amp coefficient"},
			{Name: "noise", Default: 1, NonNegative: true, Doc: "σ of the mirror-phase noise input replacing x (0: use the data, as the official code's default)"},
		},
		New: func(s map[string]float64) (Rule, error) {
			return WeightMirror{Alpha: s["alpha"], Beta: s["beta"], Noise: s["noise"]}, nil
		},
	})
}

// Name returns "wm".
func (WeightMirror) Name() string { return "wm" }

// Coeffs returns the primitive weights α·Decay + β·Amp.
func (r WeightMirror) Coeffs() Coeffs { return Coeffs{Decay: r.Alpha, Amp: r.Beta} }

// Bind gives the layer a trained B.
func (r WeightMirror) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	return newRegularizer(r.Coeffs(), r.Noise, l, env), nil
}
