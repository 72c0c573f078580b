package rules

import (
	"math"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// BatchRandomSign ("brSF") gives B the signs of W and random magnitudes
// redrawn for every batch:
//
//	B = |R_t| ⊙ sign(W)   (R_t drawn from W's initializer at step t)
//	δx = Bᵀδy
//
// The draw at step t comes from tensor.NewRand(seed, Mix(t, layer)), so a
// resumed run repeats it. Locality: non-local (one bit of W per synapse).
// Source: Liao, Leibo and Poggio, "How important is weight symmetry in
// backpropagation?", AAAI 2016 (arXiv 1510.05067).
type BatchRandomSign struct{}

func init() {
	Register(Info{
		Name: "brsf", Summary: "sign symmetry with random magnitudes redrawn every batch",
		Update: "B = |R_t| ⊙ sign(W), R_t redrawn each batch", InputGrad: "δx = Bᵀδy", Locality: "non-local (one bit of W)",
		Source: "Liao et al. 2016 (arXiv 1510.05067)",
		New:    func(map[string]float64) (Rule, error) { return BatchRandomSign{}, nil },
	})
}

// Name returns "brsf".
func (BatchRandomSign) Name() string { return "brsf" }

// Bind gives the layer an untrained B.
func (BatchRandomSign) Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error) {
	return &brsfFeedback{b: newFixedB(l, env), seed: env.Seed, id: hashString(l.Name())}, nil
}

type brsfFeedback struct {
	b        *nn.Param
	seed, id uint64
	m        tensor.Tensor
}

// Prepare draws this step's magnitudes and sets B.
func (f *brsfFeedback) Prepare(c *nn.Ctx, l nn.WeightLayer) {
	w := l.Weight()
	f.m.ResizeLike(w.Value)
	w.Init(&f.m, tensor.NewRand(f.seed, tensor.Mix(c.Step, f.id)))
	for i, v := range f.m.Data {
		f.m.Data[i] = float32(math.Abs(float64(v)))
	}
	signOf(f.b.Value.Data, w.Value.Data, f.m.Data, 0)
}

func (f *brsfFeedback) Update(*nn.Ctx, nn.WeightLayer) {}
