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
// accumulated in float64. Each worker owns a range of channels and walks
// them sample by sample, so that it streams through contiguous memory.
func (c *CPU) BatchNormTrain(y, x *tensor.Tensor, gamma, beta []float32, mean, variance, invStd []float32, eps float32) {
	c.batchNormTrain("BatchNormTrain", y, x, gamma, beta, mean, variance, invStd, eps, affineSlice)
}

// BatchNormReLUTrain is BatchNormTrain followed by ReLU (y = max(BN(x), 0)),
// bit for bit, in one pass over memory. It is not part of [Backend];
// layers use it when the backend has it.
func (c *CPU) BatchNormReLUTrain(y, x *tensor.Tensor, gamma, beta []float32, mean, variance, invStd []float32, eps float32) {
	c.batchNormTrain("BatchNormReLUTrain", y, x, gamma, beta, mean, variance, invStd, eps, affineReLUSlice)
}

func (c *CPU) batchNormTrain(op string, y, x *tensor.Tensor, gamma, beta []float32, mean, variance, invStd []float32, eps float32, apply func(y, x []float32, a, b float32)) {
	C := len(gamma)
	N, S := bnDims(op, x, C)
	y.ResizeLike(x)
	m := float64(N * S)
	c.parallel(C, max(1, minPlaneWork/max(N*S, 1)), func(wk, lo, hi int) {
		sum, sq, coef := c.scratch[wk].bnBuffers(hi - lo)
		// One pass: Σx and Σx² in float64 (exact enough for float32 data
		// unless |mean|/std exceeds ~1e6), summed over n in order.
		for n := 0; n < N; n++ {
			for ch := lo; ch < hi; ch++ {
				a, b := sums(x.Data[(n*C+ch)*S : (n*C+ch+1)*S])
				sum[ch-lo] += a
				sq[ch-lo] += b
			}
		}
		for ch := lo; ch < hi; ch++ {
			mu := sum[ch-lo] / m
			vr := max(sq[ch-lo]/m-mu*mu, 0)
			is := 1 / math.Sqrt(vr+float64(eps))
			mean[ch], variance[ch], invStd[ch] = float32(mu), float32(vr), float32(is)
			a := float32(float64(gamma[ch]) * is)
			coef[2*(ch-lo)], coef[2*(ch-lo)+1] = a, beta[ch]-a*float32(mu)
		}
		for n := 0; n < N; n++ {
			for ch := lo; ch < hi; ch++ {
				apply(y.Data[(n*C+ch)*S:(n*C+ch+1)*S], x.Data[(n*C+ch)*S:(n*C+ch+1)*S], coef[2*(ch-lo)], coef[2*(ch-lo)+1])
			}
		}
	})
}

// bnBuffers returns zeroed per-channel float64 accumulators and a float32
// coefficient buffer (two per channel) for n channels.
func (s *workerScratch) bnBuffers(n int) (a, b []float64, coef []float32) {
	if cap(s.bnAcc) < 2*n {
		s.bnAcc = make([]float64, 2*n)
	}
	acc := s.bnAcc[:2*n]
	clear(acc)
	s.bnCoef = grow(s.bnCoef, 4*n)
	return acc[:n], acc[n:], s.bnCoef
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
				affineSlice(y.Data[(n*C+ch)*S:(n*C+ch+1)*S], x.Data[(n*C+ch)*S:(n*C+ch+1)*S], a, b)
			}
		}
	})
}

// BatchNormGrad computes the training-mode gradients:
// dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd·(dy − dβ/M − x̂·dγ/M).
func (c *CPU) BatchNormGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, x *tensor.Tensor, gamma, mean, invStd []float32) {
	c.batchNormGrad("BatchNormGrad", dx, dgamma, dbeta, dy, nil, x, gamma, mean, invStd)
}

// BatchNormReLUGrad is ReLUGrad (through the ReLU whose output is y)
// followed by BatchNormGrad, bit for bit, without writing the ReLU's input
// gradient: dx, dgamma and dbeta are those of BatchNormGrad with
// dy·[y > 0]. It is not part of [Backend]; layers use it when the backend
// has it.
func (c *CPU) BatchNormReLUGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, y, x *tensor.Tensor, gamma, mean, invStd []float32) {
	tensor.MustSameShape("BatchNormReLUGrad", dy, y)
	c.batchNormGrad("BatchNormReLUGrad", dx, dgamma, dbeta, dy, y, x, gamma, mean, invStd)
}

// batchNormGrad is BatchNormGrad of dy·[y > 0], or of dy if y is nil.
func (c *CPU) batchNormGrad(op string, dx *tensor.Tensor, dgamma, dbeta []float32, dy, y, x *tensor.Tensor, gamma, mean, invStd []float32) {
	C := len(gamma)
	N, S := bnDims(op, x, C)
	tensor.MustSameShape(op, x, dy)
	dx.ResizeLike(x)
	m := float64(N * S)
	c.parallel(C, max(1, minPlaneWork/max(N*S, 1)), func(wk, lo, hi int) {
		sdy, sdyx, coef := c.scratch[wk].bnBuffers(hi - lo)
		for n := 0; n < N; n++ {
			for ch := lo; ch < hi; ch++ {
				off := (n*C + ch) * S
				var a, b float64
				if y == nil {
					a, b = centeredDot(dy.Data[off:off+S], x.Data[off:off+S], float64(mean[ch]))
				} else {
					a, b = centeredDotMasked(dy.Data[off:off+S], y.Data[off:off+S], x.Data[off:off+S], float64(mean[ch]))
				}
				sdy[ch-lo] += a
				sdyx[ch-lo] += b
			}
		}
		for ch := lo; ch < hi; ch++ {
			is := float64(invStd[ch])
			sx := sdyx[ch-lo] * is
			dbeta[ch], dgamma[ch] = float32(sdy[ch-lo]), float32(sx)
			coef[4*(ch-lo)] = float32(float64(gamma[ch]) * is)
			coef[4*(ch-lo)+1] = float32(sdy[ch-lo] / m)
			coef[4*(ch-lo)+2] = float32(sx / m)
			coef[4*(ch-lo)+3] = float32(is)
		}
		for n := 0; n < N; n++ {
			for ch := lo; ch < hi; ch++ {
				off := (n*C + ch) * S
				k := coef[4*(ch-lo):]
				if y == nil {
					bnGradSlice(dx.Data[off:off+S], x.Data[off:off+S], dy.Data[off:off+S], k[0], k[1], k[2], mean[ch], k[3])
				} else {
					bnGradMaskedSlice(dx.Data[off:off+S], x.Data[off:off+S], dy.Data[off:off+S], y.Data[off:off+S], k[0], k[1], k[2], mean[ch], k[3])
				}
			}
		}
	})
}

// sums returns Σx and Σx² in float64, with four independent accumulators
// so that the loop is limited by memory, not by the latency of one chain
// of additions.
func sums(x []float32) (s, sq float64) {
	if n := vecPart(len(x), vec.sums != nil); n > 0 {
		s, sq = vec.sums(x[:n])
		x = x[n:]
	}
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
	return s + ((s0 + s1) + (s2 + s3)), sq + ((q0 + q1) + (q2 + q3))
}

// centeredDotMasked is centeredDot of d·[y > 0], bit for bit as
// reluGradSlice followed by centeredDot.
func centeredDotMasked(d, y, x []float32, mu float64) (sd, sdx float64) {
	x, y = x[:len(d)], y[:len(d)]
	if n := vecPart(len(d), vec.centeredDotMasked != nil && vec.centeredDot != nil); n > 0 {
		sd, sdx = vec.centeredDotMasked(d[:n], y[:n], x[:n], mu)
		d, x, y = d[n:], x[n:], y[n:]
	}
	var s0, s1, s2, s3, p0, p1, p2, p3 float64
	i := 0
	for ; i+4 <= len(d); i += 4 {
		a, b, c, e := float64(reluMask(d[i], y[i])), float64(reluMask(d[i+1], y[i+1])), float64(reluMask(d[i+2], y[i+2])), float64(reluMask(d[i+3], y[i+3]))
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
		a := float64(reluMask(d[i], y[i]))
		s0 += a
		p0 += a * (float64(x[i]) - mu)
	}
	return sd + ((s0 + s1) + (s2 + s3)), sdx + ((p0 + p1) + (p2 + p3))
}

// centeredDot returns Σd and Σd·(x − mu) in float64 (four accumulators
// each).
func centeredDot(d, x []float32, mu float64) (sd, sdx float64) {
	x = x[:len(d)]
	if n := vecPart(len(d), vec.centeredDot != nil); n > 0 {
		sd, sdx = vec.centeredDot(d[:n], x[:n], mu)
		d, x = d[n:], x[n:]
	}
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
	return sd + ((s0 + s1) + (s2 + s3)), sdx + ((p0 + p1) + (p2 + p3))
}
