package rules

import "github.com/asymlab/asym/nn"

// FeedbackAlignment keeps B fixed at its random initial value.
//
//	ΔB = 0
//	δx = Bᵀδy
//
// Locality: local (nothing to compute). Source: Lillicrap, Cownden, Tweed
// and Akerman, "Random synaptic feedback weights support error
// backpropagation for deep learning", Nature Communications 2016.
type FeedbackAlignment struct{}

func init() {
	Register(Info{
		Name: "fa", Summary: "feedback alignment: B fixed at a random draw",
		Update: "ΔB = 0", InputGrad: "δx = Bᵀδy", Locality: "local",
		Source: "Lillicrap et al. 2016 (Nat. Commun. 7:13276)",
		New:    func(map[string]float64) (Rule, error) { return FeedbackAlignment{}, nil },
	})
}

// Name returns "fa".
func (FeedbackAlignment) Name() string { return "fa" }

// Bind gives the layer a fixed, untrained B.
func (FeedbackAlignment) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	l.SetFeedback(env.NewFeedbackParam(l, false))
	return nil, nil
}
