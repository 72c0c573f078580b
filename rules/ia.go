package rules

import "github.com/asymlab/asym/nn"

// InformationAlignment is information alignment (Kunin et al. 2020):
// R = α·Amp + β·Null + γ·Decay, so
//
//	∇_B R = −α E[y xᵀ] + 2β E[y yᵀ] B + 2γ B      (y = Wx)
//	ΔB = −η ∇_B R
//	δx = Bᵀδy
//
// B settles at B* = (α/2)(β WΣWᵀ + γI)⁻¹ WΣ with Σ = E[xxᵀ]: with the
// defaults, the ridge decoder of x from y. Its norm limits itself.
//
// Locality: local. Source: Kunin et al., ICML 2020 (arXiv 2003.01513);
// defaults α = 2e-3, β = 1e-3, γ = 1e-3 (official code).
type InformationAlignment struct {
	Alpha, Beta, Gamma float64 // Amp, Null and Decay coefficients
}

func init() {
	Register(Info{
		Name: "ia", Summary: "information alignment: α·Amp + β·Null + γ·Decay",
		Update: "ΔB = −η(−αE[y xᵀ] + 2βE[y yᵀ]B + 2γB)", InputGrad: "δx = Bᵀδy", Locality: "local",
		Source: "Kunin et al. 2020 (arXiv 2003.01513)",
		Settings: []Setting{
			{Name: "alpha", Default: 2e-3, Doc: "Amp coefficient"},
			{Name: "beta", Default: 1e-3, Doc: "Null coefficient"},
			{Name: "gamma", Default: 1e-3, Doc: "Decay coefficient"},
		},
		New: func(s map[string]float64) (Rule, error) {
			return InformationAlignment{Alpha: s["alpha"], Beta: s["beta"], Gamma: s["gamma"]}, nil
		},
	})
}

// Name returns "ia".
func (InformationAlignment) Name() string { return "ia" }

// Coeffs returns α·Amp + β·Null + γ·Decay.
func (r InformationAlignment) Coeffs() Coeffs {
	return Coeffs{Amp: r.Alpha, Null: r.Beta, Decay: r.Gamma}
}

// Bind gives the layer a trained B.
func (r InformationAlignment) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	return newRegularizer(r.Coeffs(), 0, l, env), nil
}
