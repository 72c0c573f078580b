package engine

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/tensor"
)

// bnDims returns N, C and the spatial size S of a (N, C, S...) tensor.
func bnDims(op string, x *tensor.Tensor, c int) (n, s int) {
	if x.Rank() < 2 || x.Shape[1] != c {
		panic(fmt.Sprintf("engine: %s: input shape %v, want (N, %d, ...)", op, x.Shape, c))
	}
	n = x.Shape[0]
	return n, x.Len() / max(n*c, 1)
}

// BatchNormTrain normalises with batch statistics. Means and variances are
// accumulated in float64, one channel per worker.
func (c *CPU) BatchNormTrain(y, x *tensor.Tensor, gamma, beta []float32, mean, variance, invStd []float32, eps float32) {
	C := len(gamma)
	N, S := bnDims("BatchNormTrain", x, C)
	y.ResizeLike(x)
	m := float64(N * S)
	c.parallel(C, max(1, minPlaneWork/max(N*S, 1)), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			// One pass: Σx and Σx² in float64 (exact enough for float32
			// data unless |mean|/std exceeds ~1e6).
			var sum, sq float64
			for n := 0; n < N; n++ {
				for _, v := range x.Data[(n*C+ch)*S : (n*C+ch+1)*S] {
					f := float64(v)
					sum += f
					sq += f * f
				}
			}
			mu := sum / m
			vr := max(sq/m-mu*mu, 0)
			is := 1 / math.Sqrt(vr+float64(eps))
			mean[ch], variance[ch], invStd[ch] = float32(mu), float32(vr), float32(is)
			a := float32(float64(gamma[ch]) * is)
			b := beta[ch] - a*float32(mu)
			for n := 0; n < N; n++ {
				xs := x.Data[(n*C+ch)*S : (n*C+ch+1)*S]
				ys := y.Data[(n*C+ch)*S : (n*C+ch+1)*S]
				for i, v := range xs {
					ys[i] = a*v + b
				}
			}
		}
	})
}

// BatchNormInfer normalises with given statistics.
func (c *CPU) BatchNormInfer(y, x *tensor.Tensor, gamma, beta, mean, variance []float32, eps float32) {
	C := len(gamma)
	N, S := bnDims("BatchNormInfer", x, C)
	y.ResizeLike(x)
	c.parallel(C, max(1, minPlaneWork/max(N*S, 1)), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			is := 1 / math.Sqrt(float64(variance[ch])+float64(eps))
			a := float32(float64(gamma[ch]) * is)
			b := beta[ch] - a*mean[ch]
			for n := 0; n < N; n++ {
				xs := x.Data[(n*C+ch)*S : (n*C+ch+1)*S]
				ys := y.Data[(n*C+ch)*S : (n*C+ch+1)*S]
				for i, v := range xs {
					ys[i] = a*v + b
				}
			}
		}
	})
}

// BatchNormGrad computes the training-mode gradients:
// dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd·(dy − dβ/M − x̂·dγ/M).
func (c *CPU) BatchNormGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, x *tensor.Tensor, gamma, mean, invStd []float32) {
	C := len(gamma)
	N, S := bnDims("BatchNormGrad", x, C)
	tensor.MustSameShape("BatchNormGrad", x, dy)
	dx.ResizeLike(x)
	m := float64(N * S)
	c.parallel(C, max(1, minPlaneWork/max(N*S, 1)), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			mu, is := float64(mean[ch]), float64(invStd[ch])
			var sdy, sdyx float64
			for n := 0; n < N; n++ {
				off := (n*C + ch) * S
				xs, ds := x.Data[off:off+S], dy.Data[off:off+S]
				for i, d := range ds {
					sdy += float64(d)
					sdyx += float64(d) * (float64(xs[i]) - mu) * is
				}
			}
			dbeta[ch], dgamma[ch] = float32(sdy), float32(sdyx)
			k := float32(float64(gamma[ch]) * is)
			mdy, mdyx := float32(sdy/m), float32(sdyx/m)
			fmu, fis := float32(mu), float32(is)
			for n := 0; n < N; n++ {
				off := (n*C + ch) * S
				xs, ds, out := x.Data[off:off+S], dy.Data[off:off+S], dx.Data[off:off+S]
				for i, d := range ds {
					xh := (xs[i] - fmu) * fis
					out[i] = k * (d - mdy - xh*mdyx)
				}
			}
		}
	})
}
