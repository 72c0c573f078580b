package engine_test

import (
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// convStep runs a convolution's forward pass and both gradients.
type convStep struct {
	g         engine.ConvGeom
	x, w, dy  *tensor.Tensor
	y, dx, dw *tensor.Tensor
}

func newConvStep(gg gc.Conv, seed uint64) *convStep {
	rng := newRand(seed)
	g := engineGeom(gg)
	return &convStep{
		g:  g,
		x:  tensor.FromData(gc.Uniform(rng, gg.N*gg.C*gg.H*gg.W, -1, 1), gg.N, gg.C, gg.H, gg.W),
		w:  tensor.FromData(gc.Uniform(rng, gg.WeightLen(), -1, 1), g.WeightShape()...),
		dy: tensor.FromData(gc.Uniform(rng, tensor.Numel(g.OutShape()), -1, 1), g.OutShape()...),
		y:  tensor.New(), dx: tensor.New(), dw: tensor.New(g.WeightShape()...),
	}
}

func (s *convStep) run(e engine.Backend) {
	e.Conv2d(s.y, s.x, s.w, &s.g)
	e.Conv2dInputGrad(s.dx, s.dy, s.w, &s.g)
	e.Conv2dWeightGrad(s.dw, s.x, s.dy, &s.g, 1, 0)
}

func (s *convStep) results() []*tensor.Tensor {
	return []*tensor.Tensor{s.y.Clone(), s.dx.Clone(), s.dw.Clone()}
}

var determinismGeoms = []gc.Conv{
	{N: 16, C: 8, H: 14, W: 14, Out: 16, KH: 3, KW: 3, PH: 1, PW: 1},             // several samples per GEMM
	{N: 9, C: 16, H: 7, W: 7, Out: 32, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}, // uneven shares
	{N: 10, C: 8, H: 8, W: 8, Out: 16, KH: 1, KW: 1},                             // pointwise
}

// TestConvDeterminism checks that repeated runs on the same thread count
// give bit-identical outputs and gradients, with the same backend (reused
// scratch) and with a fresh one; weight gradients, whose per-worker partial
// sums are added in worker order, included.
func TestConvDeterminism(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		forEachBLAS(t, func(t *testing.T) {
			for gi, gg := range determinismGeoms {
				for _, th := range []int{1, 2, 3} {
					s := newConvStep(gg, uint64(gi))
					e := engine.NewCPU(th)
					s.run(e)
					first := s.results()
					for rep := 0; rep < 3; rep++ {
						be := engine.Backend(e)
						if rep == 2 {
							be = engine.NewCPU(th)
						}
						s.run(be)
						for i, r := range s.results() {
							if !tensor.Equal(r, first[i]) {
								t.Errorf("geometry %d threads %d run %d: result %d (y, dx, dw) differs from the first run", gi, th, rep+2, i)
							}
						}
					}
				}
			}
		})
	})
}

// TestConvThreadCounts logs whether convolution results depend on the
// thread count. Nothing promises they do not (the samples are grouped into
// GEMMs per worker, and weight gradients add per-worker partial sums), so
// this only documents the behaviour; the values must agree within float32
// rounding (γ_n·Σ|terms| as in TestConv2d, with n ≤ 2·N·OH·OW).
func TestConvThreadCounts(t *testing.T) {
	gg := determinismGeoms[0]
	s := newConvStep(gg, 1)
	s.run(engine.NewCPU(1))
	ref := s.results()
	ymag := gg.Forward(gc.Abs(gc.F64(s.x.Data)), gc.Abs(gc.F64(s.w.Data)))
	for _, th := range []int{2, 3} {
		s.run(engine.NewCPU(th))
		for i, r := range s.results() {
			same := tensor.Equal(r, ref[i])
			t.Logf("threads %d: result %d bit-identical to 1 thread: %v (max diff %g)", th, i, same, tensor.MaxAbsDiff(r, ref[i]))
		}
		gc.Close(t, "y vs 1 thread", s.y.Data, gc.F64(ref[0].Data), ymag, 2*gc.Gamma(gg.C*9), 0)
	}
}
