package rules

import "github.com/asymlab/asym/nn"

// Backprop is exact backpropagation: B ≡ W (the layer's B is its W, no
// copy).
//
//	ΔB: none (B is W)
//	δx = Wᵀδy
//
// Locality: n/a (it needs weight transport). Source: Rumelhart, Hinton and
// Williams (1986).
type Backprop struct{}

func init() {
	Register(Info{
		Name: "bp", Summary: "backpropagation: B ≡ W (weight transport)",
		Update: "none (B is W itself)", InputGrad: "δx = Wᵀδy", Locality: "n/a",
		Source: "Rumelhart, Hinton & Williams 1986",
		New:    func(map[string]float64) (Rule, error) { return Backprop{}, nil },
	})
}

// Name returns "bp".
func (Backprop) Name() string { return "bp" }

// Bind makes the layer's B its W.
func (Backprop) Bind(l nn.WeightLayer, _ *Env) (nn.Feedback, error) {
	l.SetFeedback(l.Weight())
	return nil, nil
}
