package rules

import "github.com/asymlab/asym/nn"

// SymmetricAlignment is symmetric alignment (Kunin et al. 2020):
// R = α·Decay + β·Self, so
//
//	∇_B R = 2αB − βW
//	ΔB = −η ∇_B R
//	δx = Bᵀδy
//
// With the defaults R = α(‖W‖² + ‖B‖²) − 2α⟨W, B⟩ = α‖W − B‖²: B tracks W
// with a lag and settles at B* = (β/2α)·W = W.
//
// Locality: non-local (Self needs W at B's synapse). Source: Kunin et al.,
// ICML 2020 (arXiv 2003.01513); defaults α = 1e-3, β = 2e-3.
type SymmetricAlignment struct {
	Alpha, Beta float64 // Decay and Self coefficients
}

func init() {
	Register(Info{
		Name: "sa", Summary: "symmetric alignment: α·Decay + β·Self",
		Update: "ΔB = −η(2αB − βW)", InputGrad: "δx = Bᵀδy", Locality: "non-local",
		Source: "Kunin et al. 2020 (arXiv 2003.01513)",
		Settings: []Setting{
			{Name: "alpha", Default: 1e-3, Doc: "Decay coefficient"},
			{Name: "beta", Default: 2e-3, Doc: "Self coefficient"},
		},
		New: func(s map[string]float64) (Rule, error) {
			return SymmetricAlignment{Alpha: s["alpha"], Beta: s["beta"]}, nil
		},
	})
}

// Name returns "sa".
func (SymmetricAlignment) Name() string { return "sa" }

// Coeffs returns α·Decay + β·Self.
func (r SymmetricAlignment) Coeffs() Coeffs { return Coeffs{Decay: r.Alpha, Self: r.Beta} }

// Bind gives the layer a trained B.
func (r SymmetricAlignment) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	return newRegularizer(r.Coeffs(), 0, l, env), nil
}
