package nn_test

import (
	"runtime"
	"testing"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// TestNetworkDeterminism checks that a training step of the ResNet gives
// bit-identical logits, loss and gradients when repeated on the same
// thread count: with the same backend, with a fresh backend and with a
// fresh network built from the same seed.
func TestNetworkDeterminism(t *testing.T) {
	pr := newResnetProblem(newRand(11))
	for _, th := range []int{1, 2, 3} {
		root := buildResNet(newRand(12), nil)
		c := trainCtx(th)
		loss, logits, dx := pr.step(c, root)
		first := append(snapshot(trainable(root), dx), logits.Clone())
		for rep, run := range []func() (float64, *tensor.Tensor, *tensor.Tensor, nn.Layer){
			func() (float64, *tensor.Tensor, *tensor.Tensor, nn.Layer) {
				l, y, d := pr.step(c, root)
				return l, y, d, root
			},
			func() (float64, *tensor.Tensor, *tensor.Tensor, nn.Layer) {
				l, y, d := pr.step(trainCtx(th), root)
				return l, y, d, root
			},
			func() (float64, *tensor.Tensor, *tensor.Tensor, nn.Layer) {
				r := buildResNet(newRand(12), nil)
				l, y, d := pr.step(trainCtx(th), r)
				return l, y, d, r
			},
		} {
			l, y, d, r := run()
			got := append(snapshot(trainable(r), d), y.Clone())
			if l != loss {
				t.Errorf("threads %d, repetition %d: loss %v, first %v", th, rep, l, loss)
			}
			for i := range got {
				if !tensor.Equal(got[i], first[i]) {
					t.Errorf("threads %d, repetition %d: result %d differs from the first run", th, rep, i)
				}
			}
		}
	}
}

// TestConvLayerAllocs checks that a steady-state Forward + Backward of a
// Conv2d layer (with bias) at a fixed batch size reuses every buffer:
// besides the few small allocations per kernel call measured in
// engine/alloc_test.go (and gonum's per-block goroutines with the pure-Go
// BLAS) nothing is allocated, in particular no tensor.
func TestConvLayerAllocs(t *testing.T) {
	rng := newRand(13)
	l := nn.NewConv2d("conv", nn.ConvSpec{In: 8, Out: 16, KH: 3, KW: 3, PadH: 1, PadW: 1, Bias: true}, nn.HeNormal, rng)
	x := randomTensor(rng, -1, 1, 16, 8, 14, 14)
	dy := randomTensor(rng, -1, 1, 16, 16, 14, 14)
	for _, th := range []int{1, 2} {
		c := &nn.Ctx{E: engine.NewCPU(th), Train: true}
		step := func() {
			l.Forward(c, x)
			l.Backward(c, dy, true)
		}
		step()
		allocs := testing.AllocsPerRun(5, step)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 5 {
			step()
		}
		runtime.ReadMemStats(&after)
		bytes := float64(after.TotalAlloc-before.TotalAlloc) / 5
		t.Logf("%s, %d threads: %.0f allocations, %.0f bytes per Forward + Backward", blas.CurrentName(), th, allocs, bytes)
		// Five kernel calls (conv, bias, bias grad, weight grad, input
		// grad), each a closure plus, with several workers, a WaitGroup and
		// a goroutine closure per extra worker.
		if limit := float64(5*(th+1) + 2); blas.CurrentName() != "go" && allocs > limit {
			t.Errorf("%.0f allocations per step, want at most %v", allocs, limit)
		}
		if bytes > 64<<10 {
			t.Errorf("%.0f bytes allocated per step: a buffer is not reused", bytes)
		}
	}
}
