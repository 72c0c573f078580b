package rules

import (
	"strings"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// FixedRandomSign ("frSF") gives B the signs of W and fixed random
// magnitudes, before every backward pass:
//
//	B = |R| ⊙ sign(W)   (R drawn once from W's initializer)
//	δx = Bᵀδy
//
// Locality: non-local (one bit of W per synapse). Source: Liao, Leibo and
// Poggio, AAAI 2016 (arXiv 1510.05067); Moskovitz, Litwin-Kumar and Abbott,
// "Feedback alignment in deep convolutional networks", 2018 (arXiv
// 1812.06488).
type FixedRandomSign struct{}

func init() {
	Register(Info{
		Name: "frsf", Summary: "sign symmetry with fixed random magnitudes",
		Update: "B = |R| ⊙ sign(W), R fixed", InputGrad: "δx = Bᵀδy", Locality: "non-local (one bit of W)",
		Source: "Liao et al. 2016 (arXiv 1510.05067); Moskovitz et al. 2018 (arXiv 1812.06488)",
		New:    func(map[string]float64) (Rule, error) { return FixedRandomSign{}, nil },
	})
}

// Name returns "frsf".
func (FixedRandomSign) Name() string { return "frsf" }

// Bind draws the fixed magnitudes.
func (FixedRandomSign) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	b := newFixedB(l, env)
	w := l.Weight()
	m := &nn.Param{Name: strings.TrimSuffix(w.Name, "weight") + "feedback_magnitude", Kind: nn.KindBuffer,
		Value: tensor.New(w.Value.Shape...)}
	absDraw(m.Value, w, env)
	env.AddState(m)
	return &frsfFeedback{b: b, m: m}, nil
}

type frsfFeedback struct{ b, m *nn.Param }

// Prepare sets B = |R| ⊙ sign(W).
func (f *frsfFeedback) Prepare(_ *nn.Ctx, l nn.WeightLayer) {
	signOf(f.b.Value.Data, l.Weight().Value.Data, f.m.Value.Data, 0)
}

func (f *frsfFeedback) Update(*nn.Ctx, nn.WeightLayer) {}
