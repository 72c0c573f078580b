package engine_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// bnFDStep is the central-difference step for batch normalisation, which
// is nonlinear in x. The truncation error h²/6·|L”'| is about 1e-9·|L”'|
// and the rounding error 2⁻⁵³·|L|/h about 1e-11·|L|, both below bnFDAbs
// for these sizes (|L| < 50, |L”'| < 10).
const (
	bnFDStep = 3e-5
	bnFDAbs  = 1e-8
)

// TestBatchNormTrain checks the training-mode normalisation of (N, C) and
// (N, C, H, W) inputs, the saved statistics and the gradients with respect
// to x, γ and β against the float64 reference and its central differences.
//
// Bounds: γ₆, γ₁, γ₂ and γ₈ times the magnitudes of gc.BatchNormMags
// (a first-order rounding analysis of engine/bn.go).
func TestBatchNormTrain(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		for ci, shape := range [][]int{{6, 3}, {3, 2, 3, 4}, {1, 2, 5, 1}, {40, 4}, {3, 2, 5, 7}} {
			t.Run(fmt.Sprint(shape), func(t *testing.T) {
				n, c := shape[0], shape[1]
				s := tensor.Numel(shape) / (n * c)
				rng := newRand(uint64(400 + ci))
				x := gc.Uniform(rng, tensor.Numel(shape), -1, 2) // mean ≈ 0.5: μ enters the bounds
				gamma := gc.Uniform(rng, c, 0.5, 1.5)
				beta := gc.Uniform(rng, c, -0.5, 0.5)
				r := gc.Uniform(rng, len(x), -1, 1)
				const eps32 = float32(1e-5)
				eps := float64(eps32) // the kernel adds the float32 eps
				x64, g64, b64, r64 := gc.F64(x), gc.F64(gamma), gc.F64(beta), gc.F64(r)
				want, mu, vr := gc.BatchNorm(x64, g64, b64, n, c, s, eps)
				num := gc.Grads(func(a [][]float64) float64 {
					y, _, _ := gc.BatchNorm(a[0], a[1], a[2], n, c, s, eps)
					return gc.Dot(r64, y)
				}, [][]float64{x64, g64, b64}, bnFDStep)

				yMag, dxMag, dgMag, dbMag := gc.BatchNormMags(x64, g64, b64, r64, n, c, s, eps)
				for _, th := range threadCounts {
					e := engine.NewCPU(th)
					xt := tensor.FromData(x, shape...)
					y := nanTensor(shape...)
					mean, variance, invStd := make([]float32, c), make([]float32, c), make([]float32, c)
					e.BatchNormTrain(y, xt, gamma, beta, mean, variance, invStd, eps32)
					gc.Close(t, "y", y.Data, want, yMag, gc.Gamma(6), 0)
					gc.Close(t, "mean", mean, mu, nil, gc.Gamma(1), 1e-15)
					gc.Close(t, "variance", variance, vr, nil, gc.Gamma(1), 1e-15)
					wantIS := make([]float64, c)
					for ch := range wantIS {
						wantIS[ch] = 1 / math.Sqrt(vr[ch]+eps)
					}
					gc.Close(t, "invStd", invStd, wantIS, nil, gc.Gamma(1), 0)

					dx := nanTensor(shape...)
					dg, db := make([]float32, c), make([]float32, c)
					e.BatchNormGrad(dx, dg, db, tensor.FromData(r, shape...), xt, gamma, mean, invStd)
					wdx := gc.Close(t, "dx", dx.Data, num[0], dxMag, gc.Gamma(8), bnFDAbs)
					gc.Close(t, "dgamma", dg, num[1], dgMag, gc.Gamma(2), bnFDAbs)
					gc.Close(t, "dbeta", db, num[2], dbMag, gc.Gamma(1), bnFDAbs)
					t.Logf("threads %d: worst dx error/bound %.3f", th, wdx)
				}
			})
		}
	})
}

// TestBatchNormInfer checks evaluation-mode normalisation with given
// statistics: y = a·x + b with a = γ/√(var+eps), b = β − a·mean, within
// γ₆·(|γ|σ⁻¹(|x|+|mean|) + |β|) as for training.
func TestBatchNormInfer(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		rng := newRand(11)
		shape := []int{3, 4, 2, 9} // 18 per plane: one vector of 16 and a tail
		n, c, s := 3, 4, 18
		x := gc.Uniform(rng, tensor.Numel(shape), -2, 2)
		gamma, beta := gc.Uniform(rng, c, -1.5, 1.5), gc.Uniform(rng, c, -1, 1)
		mean, variance := gc.Uniform(rng, c, -1, 1), gc.Uniform(rng, c, 0.1, 3)
		const eps32 = float32(1e-3)
		want := gc.BatchNormInfer(gc.F64(x), gc.F64(gamma), gc.F64(beta), gc.F64(mean), gc.F64(variance), n, c, s, float64(eps32))
		mag := make([]float64, len(want))
		for i := range mag {
			ch := i / s % c
			is := 1 / math.Sqrt(float64(variance[ch])+float64(eps32))
			mag[i] = math.Abs(float64(gamma[ch]))*is*(math.Abs(float64(x[i]))+math.Abs(float64(mean[ch]))) + math.Abs(float64(beta[ch]))
		}
		for _, th := range threadCounts {
			y := nanTensor(shape...)
			engine.NewCPU(th).BatchNormInfer(y, tensor.FromData(x, shape...), gamma, beta, mean, variance, eps32)
			gc.Close(t, "y", y.Data, want, mag, gc.Gamma(6), 0)
		}
	})
}

func TestBatchNormPanics(t *testing.T) {
	e := engine.NewCPU(1)
	var y tensor.Tensor
	c := make([]float32, 3)
	mustPanic(t, "engine: BatchNormTrain", func() { e.BatchNormTrain(&y, tensor.New(2, 4), c, c, c, c, c, 1e-5) })
	mustPanic(t, "engine: BatchNormInfer", func() { e.BatchNormInfer(&y, tensor.New(6), c, c, c, c, 1e-5) })
	mustPanic(t, "tensor: BatchNormGrad", func() { e.BatchNormGrad(&y, c, c, tensor.New(2, 3), tensor.New(2, 3, 1), c, c, c) })
}

// TestBatchNormReLU checks that the fused BatchNormReLUTrain is bit for
// bit BatchNormTrain followed by ReLU, statistics included, and that
// BatchNormReLUGrad is ReLUGrad followed by BatchNormGrad.
func TestBatchNormReLU(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		for _, shape := range [][]int{{6, 3}, {3, 2, 5, 7}, {4, 3, 8, 8}} {
			n, c := shape[0], shape[1]
			rng := newRand(uint64(n*c) + 3)
			x := gc.Uniform(rng, tensor.Numel(shape), -1, 2)
			gamma, beta := gc.Uniform(rng, c, -1.5, 1.5), gc.Uniform(rng, c, -0.5, 0.5)
			for _, th := range threadCounts {
				e := engine.NewCPU(th)
				xt := tensor.FromData(x, shape...)
				st := [2][3][]float32{}
				for i := range st {
					for j := range st[i] {
						st[i][j] = make([]float32, c)
					}
				}
				want, got := nanTensor(shape...), nanTensor(shape...)
				e.BatchNormTrain(want, xt, gamma, beta, st[0][0], st[0][1], st[0][2], 1e-5)
				e.ReLU(want, want)
				e.BatchNormReLUTrain(got, xt, gamma, beta, st[1][0], st[1][1], st[1][2], 1e-5)
				if !tensor.Equal(got, want) {
					t.Errorf("%v threads %d: fused output differs from BatchNormTrain + ReLU", shape, th)
				}
				for j := range st[0] {
					if !tensor.Equal(tensor.FromData(st[1][j], c), tensor.FromData(st[0][j], c)) {
						t.Errorf("%v threads %d: statistic %d differs", shape, th, j)
					}
				}

				dy := tensor.FromData(gc.Uniform(rng, len(x), -1, 1), shape...)
				dr, wantDX, gotDX := nanTensor(shape...), nanTensor(shape...), nanTensor(shape...)
				g := [4][]float32{make([]float32, c), make([]float32, c), make([]float32, c), make([]float32, c)}
				e.ReLUGrad(dr, dy, want)
				e.BatchNormGrad(wantDX, g[0], g[1], dr, xt, gamma, st[0][0], st[0][2])
				e.BatchNormReLUGrad(gotDX, g[2], g[3], dy, want, xt, gamma, st[0][0], st[0][2])
				if !tensor.Equal(gotDX, wantDX) || !tensor.Equal(tensor.FromData(g[2], c), tensor.FromData(g[0], c)) || !tensor.Equal(tensor.FromData(g[3], c), tensor.FromData(g[1], c)) {
					t.Errorf("%v threads %d: fused gradients differ from ReLUGrad + BatchNormGrad", shape, th)
				}
			}
		}
	})
}
