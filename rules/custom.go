package rules

import (
	"fmt"

	"github.com/asymlab/asym/nn"
)

// Custom is any weighted sum of the five primitives, given in a config:
// for example decay = 1e-3, amp = 2e-3, null = 1e-3 (which is information
// alignment). A new rule without new code.
//
//	R = decay·‖B‖² − amp·E[yᵀBx] + null·E‖Bᵀy‖² + sparse·E‖Bx‖² − self·ΣW⊙B
//	ΔB = −η ∇_B R
//	δx = Bᵀδy
//
// Locality: local when sparse = self = 0, else non-local. Source: the
// primitives of Kunin et al., ICML 2020 (arXiv 2003.01513).
type Custom struct {
	K     Coeffs
	Noise float64 // σ of a white-noise input replacing x inside R; 0 uses the data
}

func init() {
	Register(Info{
		Name: "custom", Summary: "any weighted sum of the primitives decay, amp, null, sparse, self",
		Update:    "ΔB = −η(2·decay·B − amp·E[y xᵀ] + 2·null·E[y yᵀ]B + 2·sparse·E[(Bx) xᵀ] − self·W)",
		InputGrad: "δx = Bᵀδy", Locality: "local unless sparse or self ≠ 0",
		Source: "Kunin et al. 2020 (arXiv 2003.01513), regularization primitives",
		Settings: []Setting{
			{Name: "decay", Doc: "weight of Decay ‖B‖²"},
			{Name: "amp", Doc: "weight of Amp −E[yᵀBx]"},
			{Name: "null", Doc: "weight of Null E‖Bᵀy‖²"},
			{Name: "sparse", Doc: "weight of Sparse E‖Bx‖²"},
			{Name: "self", Doc: "weight of Self −Σ W⊙B"},
			{Name: "noise", NonNegative: true, Doc: "σ of a white-noise input replacing x inside R (0: use the data)"},
		},
		New: func(s map[string]float64) (Rule, error) {
			k := Coeffs{Decay: s["decay"], Amp: s["amp"], Null: s["null"], Sparse: s["sparse"], Self: s["self"]}
			if k == (Coeffs{}) {
				return nil, fmt.Errorf("rules: custom: all primitive weights are zero; set at least one of %v", PrimitiveNames)
			}
			return Custom{K: k, Noise: s["noise"]}, nil
		},
	})
}

// Name returns "custom".
func (Custom) Name() string { return "custom" }

// Coeffs returns the primitive weights.
func (r Custom) Coeffs() Coeffs { return r.K }

// Bind gives the layer a trained B.
func (r Custom) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	return newRegularizer(r.K, r.Noise, l, env), nil
}
