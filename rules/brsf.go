package rules

import (
	"sync"
	"sync/atomic"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// BatchRandomSign ("brSF") gives B the signs of W and random magnitudes
// redrawn for every batch:
//
//	B = |R_t| ⊙ sign(W)   (R_t drawn from W's initializer at step t)
//	δx = Bᵀδy
//
// R_t is drawn in chunks of brsfChunk entries, chunk k from
// tensor.NewRand(seed, Mix(t, layer, k)), on the backend's threads: the
// draw depends on neither the thread count nor the history, so a resumed
// run repeats it. Locality: non-local (one bit of W per synapse).
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

// brsfChunk is the number of magnitudes drawn from one random stream.
const brsfChunk = 1 << 14

// Prepare draws this step's magnitudes and sets B.
func (f *brsfFeedback) Prepare(c *nn.Ctx, l nn.WeightLayer) {
	w := l.Weight()
	f.m.ResizeLike(w.Value)
	n := len(w.Value.Data)
	chunks := (n + brsfChunk - 1) / brsfChunk
	var next atomic.Int64
	work := func() {
		for k := int(next.Add(1) - 1); k < chunks; k = int(next.Add(1) - 1) {
			lo, hi := k*brsfChunk, min((k+1)*brsfChunk, n)
			w.Init(tensor.FromData(f.m.Data[lo:hi], hi-lo), tensor.NewRand(f.seed, tensor.Mix(c.Step, f.id, uint64(k))))
			signOf(f.b.Value.Data[lo:hi], w.Value.Data[lo:hi], f.m.Data[lo:hi], 0) // takes |R|
		}
	}
	var wg sync.WaitGroup
	for range min(c.E.Threads(), chunks) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

func (f *brsfFeedback) Update(*nn.Ctx, nn.WeightLayer) {}
