package rules

import (
	"strings"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// SignSymmetry sets B to the signs of W times a fixed per-layer scale s,
// before every backward pass:
//
//	B = s·sign(W)      (s = E|W| at binding, or the scale setting if > 0)
//	δx = Bᵀδy
//
// Locality: non-local (B reads the signs of W), though it transports only
// one bit per synapse. Sources: Liao, Leibo and Poggio, "How important is
// weight symmetry in backpropagation?", AAAI 2016 (arXiv 1510.05067); Xiao,
// Chen, Liao and Poggio, "Biologically-plausible learning algorithms can
// scale to large datasets", 2018 (arXiv 1811.03567).
type SignSymmetry struct {
	// Scale is the magnitude of B's entries; 0 means E|W| at binding.
	Scale float64
}

func init() {
	Register(Info{
		Name: "sign", Summary: "sign symmetry: B = s·sign(W), s fixed per layer",
		Update: "B = s·sign(W) before each backward pass", InputGrad: "δx = Bᵀδy", Locality: "non-local (one bit of W)",
		Source: "Liao et al. 2016 (arXiv 1510.05067); Xiao et al. 2018 (arXiv 1811.03567)",
		Settings: []Setting{{Name: "scale", NonNegative: true,
			Doc: "magnitude of B's entries; 0 = E|W| of the layer at binding"}},
		New: func(s map[string]float64) (Rule, error) { return SignSymmetry{Scale: s["scale"]}, nil },
	})
}

// Name returns "sign".
func (SignSymmetry) Name() string { return "sign" }

// Bind gives the layer a B derived from W and records its scale.
func (r SignSymmetry) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	b := newFixedB(l, env)
	s := r.Scale
	if s == 0 {
		s = meanAbs(l.Weight().Value.Data)
	}
	scale := &nn.Param{Name: strings.TrimSuffix(l.Weight().Name, "weight") + "sign_scale", Kind: nn.KindBuffer,
		Value: tensor.FromData([]float32{float32(s)}, 1)}
	env.AddState(scale)
	return &signFeedback{b: b, scale: scale}, nil
}

type signFeedback struct{ b, scale *nn.Param }

// Prepare sets B = s·sign(W).
func (f *signFeedback) Prepare(_ *nn.Ctx, l nn.WeightLayer) {
	signOf(f.b.Value.Data, l.Weight().Value.Data, nil, f.scale.Value.Data[0])
}

func (f *signFeedback) Update(*nn.Ctx, nn.WeightLayer) {}
