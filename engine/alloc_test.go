package engine_test

import (
	"runtime"
	"testing"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
)

// allocsPerRun returns the mean number of allocations and of allocated
// bytes of fn, after one warm-up call.
func allocsPerRun(runs int, fn func()) (allocs, bytes float64) {
	fn()
	allocs = testing.AllocsPerRun(runs, fn)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		fn()
	}
	runtime.ReadMemStats(&after)
	return allocs, float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// TestConvAllocs checks that a steady-state forward pass plus both
// gradients of a convolution at a fixed batch size reuses its buffers.
// The engine's own cost is a few small allocations per kernel call (the
// closure handed to the workers, and one per extra worker goroutine),
// independent of the sizes; with the pure-Go BLAS, gonum's Sgemm adds a
// channel and a goroutine closure per 64×64 block of every product large
// enough for its parallel path, which the engine cannot avoid. The
// allocated bytes must stay far below the size of any buffer (the im2col
// columns alone are 16·8·9·196 floats ≈ 900 KiB).
func TestConvAllocs(t *testing.T) {
	forEachBLAS(t, func(t *testing.T) {
		for _, th := range []int{1, 2} {
			s := newConvStep(gc.Conv{N: 16, C: 8, H: 14, W: 14, Out: 16, KH: 3, KW: 3, PH: 1, PW: 1}, 1)
			e := engine.NewCPU(th)
			allocs, bytes := allocsPerRun(5, func() { s.run(e) })
			t.Logf("%s, %d threads: %.0f allocations, %.0f bytes per forward + input grad + weight grad", blas.CurrentName(), th, allocs, bytes)
			// Per kernel call: the closure, and with several workers a
			// WaitGroup and one goroutine closure per extra worker; two
			// more for slack.
			if limit := float64(3*(th+1) + 2); blas.CurrentName() != "go" && allocs > limit {
				t.Errorf("%.0f allocations per step, want at most %v", allocs, limit)
			}
			if bytes > 64<<10 {
				t.Errorf("%.0f bytes allocated per step: a buffer is not reused", bytes)
			}
		}
	})
}
