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
				a, b := sums(x.Data[(n*C+ch)*S : (n*C+ch+1)*S])
				sum += a
				sq += b
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
				a, b := centeredDot(dy.Data[off:off+S], x.Data[off:off+S], mu)
				sdy += a
				sdyx += b
			}
			sdyx *= is
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

// sums returns Σx and Σx² in float64, with four independent accumulators
// so that the loop is limited by memory, not by the latency of one chain
// of additions.
func sums(x []float32) (s, sq float64) {
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		s0 += a
		s1 += b
		s2 += c
		s3 += d
		q0 += a * a
		q1 += b * b
		q2 += c * c
		q3 += d * d
	}
	for ; i < len(x); i++ {
		a := float64(x[i])
		s0 += a
		q0 += a * a
	}
	return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)
}

// centeredDot returns Σd and Σd·(x − mu) in float64 (four accumulators
// each).
func centeredDot(d, x []float32, mu float64) (sd, sdx float64) {
	x = x[:len(d)]
	var s0, s1, s2, s3, p0, p1, p2, p3 float64
	i := 0
	for ; i+4 <= len(d); i += 4 {
		a, b, c, e := float64(d[i]), float64(d[i+1]), float64(d[i+2]), float64(d[i+3])
		s0 += a
		s1 += b
		s2 += c
		s3 += e
		p0 += a * (float64(x[i]) - mu)
		p1 += b * (float64(x[i+1]) - mu)
		p2 += c * (float64(x[i+2]) - mu)
		p3 += e * (float64(x[i+3]) - mu)
	}
	for ; i < len(d); i++ {
		a := float64(d[i])
		s0 += a
		p0 += a * (float64(x[i]) - mu)
	}
	return (s0 + s1) + (s2 + s3), (p0 + p1) + (p2 + p3)
}
