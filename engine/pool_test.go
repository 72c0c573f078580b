package engine_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

var poolCases = []gc.Pool{
	{N: 2, C: 3, H: 6, W: 6, KH: 2, KW: 2},                             // non-overlapping
	{N: 2, C: 2, H: 7, W: 7, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}, // overlapping, padded
	{N: 1, C: 3, H: 5, W: 8, KH: 3, KW: 3, SH: 1, SW: 1, PH: 1, PW: 1}, // stride 1: every input in up to 9 windows
	{N: 2, C: 2, H: 5, W: 9, KH: 2, KW: 3, SH: 1, SW: 2, PW: 1},        // non-square
	{N: 3, C: 4, H: 4, W: 5, KH: 4, KW: 5},                             // global
	{N: 2, C: 1, H: 9, W: 3, KH: 2, KW: 2},                             // floor mode drops the last row
}

func enginePool(p gc.Pool) engine.PoolGeom {
	return engine.PoolGeom{N: p.N, C: p.C, H: p.H, W: p.W, KH: p.KH, KW: p.KW,
		StrideH: p.SH, StrideW: p.SW, PadH: p.PH, PadW: p.PW}.Init()
}

// TestMaxPool2d checks max pooling and its gradient. Inputs are distinct
// multiples of 1/256, so every window has a unique maximum, a margin of at
// least 1/256 to the runner-up, and the pooled values are exact; the central
// difference with step 1/1024 never changes an arg-max and is exact. The
// forward pass must be exact; the gradient of an input is a float32 sum of
// the δy of the windows that chose it (at most ⌈K/S⌉² terms), bounded by
// γ_{9}·Σ|δy|.
func TestMaxPool2d(t *testing.T) {
	for ci, pc := range poolCases {
		t.Run(fmt.Sprintf("%+v", pc), func(t *testing.T) {
			rng := newRand(uint64(200 + ci))
			n := pc.N * pc.C * pc.H * pc.W
			x := gc.Distinct(rng, n, -float64(n)/512, 1.0/256)
			oh, ow := pc.OutHW()
			r := gc.Uniform(rng, pc.N*pc.C*oh*ow, -1, 1)
			x64, r64 := gc.F64(x), gc.F64(r)
			want, margin := pc.Max(x64)
			if margin < 1.0/256 {
				t.Fatalf("test input has a max-pool margin of %g", margin)
			}
			loss := func(a [][]float64) float64 { y, _ := pc.Max(a[0]); return gc.Dot(r64, y) }
			num := gc.Grads(loss, [][]float64{x64}, 1.0/1024)[0]
			ar := gc.Abs(r64)
			mag := gc.Grads(func(a [][]float64) float64 { y, _ := pc.Max(a[0]); return gc.Dot(ar, y) }, [][]float64{x64}, 1.0/1024)[0]
			for _, th := range threadCounts {
				e := engine.NewCPU(th)
				g := enginePool(pc)
				y := nanTensor(g.OutShape()...)
				var idx []int32
				xt := tensor.FromData(x, pc.N, pc.C, pc.H, pc.W)
				e.MaxPool2d(y, &idx, xt, &g)
				gc.Close(t, "y", y.Data, want, nil, 0, 0)
				for o, i := range idx {
					if x[i] != y.Data[o] {
						t.Fatalf("idx[%d] = %d points at %g, not the maximum %g", o, i, x[i], y.Data[o])
					}
				}
				dx := nanTensor(pc.N, pc.C, pc.H, pc.W)
				e.MaxPool2dGrad(dx, tensor.FromData(r, g.OutShape()...), idx, &g)
				gc.Close(t, "dx", dx.Data, num, mag, gc.Gamma(9), fdAbs)
			}
		})
	}
}

// TestMaxPool2dTiesAndNaN checks the arg-max convention (PyTorch's): the
// first maximum in row-major order wins a tie, so the gradient goes to one
// input only, and a NaN in a window is propagated rather than skipped.
func TestMaxPool2dTiesAndNaN(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		x       []float32
		y       float32
		idx     int32
		wantNaN bool
	}{
		{[]float32{2, 2, 2, 2}, 2, 0, false},
		{[]float32{1, 3, 0, 3}, 3, 1, false},
		{[]float32{1, nan, 3, 4}, 0, 1, true},
		{[]float32{-5, -5, -5, -4}, -4, 3, false},
	} {
		x := tensor.FromData(tc.x, 1, 1, 2, 2)
		g := engine.PoolGeom{N: 1, C: 1, H: 2, W: 2, KH: 2, KW: 2}.Init()
		var y, dx tensor.Tensor
		var idx []int32
		e := engine.NewCPU(1)
		e.MaxPool2d(&y, &idx, x, &g)
		if idx[0] != tc.idx || (tc.wantNaN != math.IsNaN(float64(y.Data[0]))) || (!tc.wantNaN && y.Data[0] != tc.y) {
			t.Errorf("max of %v = %v at %d, want %v at %d", tc.x, y.Data[0], idx[0], tc.y, tc.idx)
		}
		e.MaxPool2dGrad(&dx, tensor.FromData([]float32{1}, 1, 1, 1, 1), idx, &g)
		for i, v := range dx.Data {
			if want := float32(map[bool]int{true: 1}[int32(i) == tc.idx]); v != want {
				t.Errorf("gradient of %v: %v", tc.x, dx.Data)
				break
			}
		}
	}
}

// TestAvgPool2d checks average pooling (padding excluded from the count)
// and its gradient. A window mean is a float32 sum of at most K terms
// divided by the count, within γ_{K+1}·mean|x|; the gradient of an input
// sums at most ⌈K/S⌉² quotients δy/count, within γ_{10}·Σ|δy|/count. The
// loss is linear in x, so the central difference is exact for any step.
func TestAvgPool2d(t *testing.T) {
	for ci, pc := range poolCases {
		t.Run(fmt.Sprintf("%+v", pc), func(t *testing.T) {
			rng := newRand(uint64(300 + ci))
			n := pc.N * pc.C * pc.H * pc.W
			x := gc.Uniform(rng, n, -1, 1)
			oh, ow := pc.OutHW()
			r := gc.Uniform(rng, pc.N*pc.C*oh*ow, -1, 1)
			x64, r64 := gc.F64(x), gc.F64(r)
			want, wmag := pc.Avg(x64), pc.Avg(gc.Abs(x64))
			num := gc.Grads(func(a [][]float64) float64 { return gc.Dot(r64, pc.Avg(a[0])) }, [][]float64{x64}, 1)[0]
			ar := gc.Abs(r64)
			mag := gc.Grads(func(a [][]float64) float64 { return gc.Dot(ar, pc.Avg(a[0])) }, [][]float64{x64}, 1)[0]
			k := pc.KH * pc.KW
			for _, th := range threadCounts {
				e := engine.NewCPU(th)
				g := enginePool(pc)
				y := nanTensor(g.OutShape()...)
				e.AvgPool2d(y, tensor.FromData(x, pc.N, pc.C, pc.H, pc.W), &g)
				gc.Close(t, "y", y.Data, want, wmag, gc.Gamma(k+1), 0)
				dx := nanTensor(pc.N, pc.C, pc.H, pc.W)
				e.AvgPool2dGrad(dx, tensor.FromData(r, g.OutShape()...), &g)
				gc.Close(t, "dx", dx.Data, num, mag, gc.Gamma(10), fdAbs)
			}
		})
	}
}

// TestPoolParallelPlanes runs a pooling large enough to be split over
// workers and checks that the result does not depend on the thread count
// (every plane is pooled by one worker with the same code).
func TestPoolParallelPlanes(t *testing.T) {
	pc := gc.Pool{N: 16, C: 16, H: 12, W: 12, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}
	rng := newRand(9)
	x := tensor.FromData(gc.Uniform(rng, 16*16*144, -1, 1), 16, 16, 12, 12)
	g := enginePool(pc)
	dy := tensor.FromData(gc.Uniform(rng, tensor.Numel(g.OutShape()), -1, 1), g.OutShape()...)
	var ref []*tensor.Tensor
	for _, th := range []int{1, 2, 3} {
		e := engine.NewCPU(th)
		var ym, ya, dxm, dxa tensor.Tensor
		var idx []int32
		e.MaxPool2d(&ym, &idx, x, &g)
		e.MaxPool2dGrad(&dxm, dy, idx, &g)
		e.AvgPool2d(&ya, x, &g)
		e.AvgPool2dGrad(&dxa, dy, &g)
		got := []*tensor.Tensor{&ym, &dxm, &ya, &dxa}
		if ref == nil {
			ref = got
			continue
		}
		for i := range got {
			if !tensor.Equal(got[i], ref[i]) {
				t.Errorf("threads %d: result %d differs from 1 thread", th, i)
			}
		}
	}
}

func TestPoolGeomInit(t *testing.T) {
	g := engine.PoolGeom{N: 1, C: 1, H: 7, W: 6, KH: 3, KW: 2}.Init()
	if g.StrideH != 3 || g.StrideW != 2 || g.OH != 2 || g.OW != 3 {
		t.Errorf("Init defaults: %+v", g)
	}
	for name, bad := range map[string]engine.PoolGeom{
		"kernel":       {N: 1, C: 1, H: 4, W: 4, KH: 0, KW: 2},
		"pad too wide": {N: 1, C: 1, H: 4, W: 4, KH: 2, KW: 2, PadH: 2},
		"too small":    {N: 1, C: 1, H: 1, W: 4, KH: 2, KW: 2},
		"too small s3": {N: 1, C: 1, H: 1, W: 4, KH: 3, KW: 2, StrideH: 3}, // span −2 must not truncate to 0
		"stride":       {N: 1, C: 1, H: 4, W: 4, KH: 2, KW: 2, StrideW: -1},
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, "engine: pool", func() { bad.Init() }) })
	}
	var y tensor.Tensor
	mustPanic(t, "engine: AvgPool2d", func() {
		engine.NewCPU(1).AvgPool2d(&y, tensor.New(1, 2, 7, 6), &g)
	})
}
