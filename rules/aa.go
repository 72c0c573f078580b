package rules

import "github.com/asymlab/asym/nn"

// ActivationAlignment is activation alignment (Kunin et al. 2020):
// R = α·Sparse + β·Amp, so
//
//	∇_B R = 2α E[(Bx) xᵀ] − β E[y xᵀ] = E[(2αBx − βWx) xᵀ]
//	ΔB = −η ∇_B R
//	δx = Bᵀδy
//
// With the defaults R = α E‖Wx − Bx‖² (the official code's constant
// included): B → W on the span of the inputs, untouched off it.
//
// Locality: non-local (Sparse sends x forward through B). Source: Kunin et
// al., ICML 2020 (arXiv 2003.01513); defaults α = 1e-3, β = 2e-3.
type ActivationAlignment struct {
	Alpha, Beta float64 // Sparse and Amp coefficients
}

func init() {
	Register(Info{
		Name: "aa", Summary: "activation alignment: α·Sparse + β·Amp",
		Update: "ΔB = −η E[(2αBx − βWx) xᵀ]", InputGrad: "δx = Bᵀδy", Locality: "non-local",
		Source: "Kunin et al. 2020 (arXiv 2003.01513)",
		Settings: []Setting{
			{Name: "alpha", Default: 1e-3, Doc: "Sparse coefficient"},
			{Name: "beta", Default: 2e-3, Doc: "Amp coefficient"},
		},
		New: func(s map[string]float64) (Rule, error) {
			return ActivationAlignment{Alpha: s["alpha"], Beta: s["beta"]}, nil
		},
	})
}

// Name returns "aa".
func (ActivationAlignment) Name() string { return "aa" }

// Coeffs returns α·Sparse + β·Amp.
func (r ActivationAlignment) Coeffs() Coeffs { return Coeffs{Sparse: r.Alpha, Amp: r.Beta} }

// Bind gives the layer a trained B.
func (r ActivationAlignment) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	return newRegularizer(r.Coeffs(), 0, l, env), nil
}
