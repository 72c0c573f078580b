package engine

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/tensor"
)

// This file holds the kernels of Transformer layers: batched matrix
// products (attention scores and their weighted sums), the softmax over
// the last dimension with an optional causal mask, layer normalisation and
// the GELU activation. Each splits its rows over workers; every element is
// computed by one worker in a fixed order, so results do not depend on the
// thread count.

// minRowWork is the number of elements below which a row-wise kernel runs
// on one goroutine.
const minRowWork = 1 << 14

// rows runs fn over the r rows of length d, split over workers.
func (c *CPU) rows(r, d int, fn func(lo, hi int)) {
	c.parallel(r, max(1, minRowWork/max(d, 1)), func(_, lo, hi int) { fn(lo, hi) })
}

// BatchedMatMul computes c_i = alpha·op(a_i)·op(b_i) + beta·c_i for
// i < batch, the matrices being stored one after another (a_i m×k or k×m,
// b_i k×n or n×k, c_i m×n, all row-major and contiguous). The batch is
// split over workers; each product runs on one.
func (c *CPU) BatchedMatMul(transA, transB bool, batch, m, n, k int, alpha float32, a, b []float32, beta float32, cm []float32) {
	if len(a) < batch*m*k || len(b) < batch*k*n || len(cm) < batch*m*n {
		panic(fmt.Sprintf("engine: BatchedMatMul: %d×(%d×%d·%d×%d) with lengths %d, %d, %d", batch, m, k, k, n, len(a), len(b), len(cm)))
	}
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	per := max(1, minGemmWork/max(m*n*max(k, 1), 1))
	c.parallel(batch, per, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			gemm(transA, transB, m, n, k, alpha, a[i*m*k:(i+1)*m*k], lda, b[i*k*n:(i+1)*k*n], ldb, beta, cm[i*m*n:(i+1)*m*n], n)
		}
	})
}

// Softmax computes y = softmax(x) over the last dimension of x (…, T, S).
// With causal set (which needs T = S), element (t, s) with s > t is
// masked: it gets probability exactly 0, as with a −∞ score. The
// exponentials are single precision (expf) and each row's sum is reduced
// in a fixed order.
func (c *CPU) Softmax(y, x *tensor.Tensor, causal bool) {
	if x.Rank() < 2 {
		panic(fmt.Sprintf("engine: Softmax: input %v", x.Shape))
	}
	T, S := x.Shape[x.Rank()-2], x.Shape[x.Rank()-1]
	if causal && T != S {
		panic(fmt.Sprintf("engine: Softmax: causal mask on a %d×%d score matrix", T, S))
	}
	y.ResizeLike(x)
	c.rows(len(x.Data)/S, S, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs, ys := x.Data[r*S:(r+1)*S], y.Data[r*S:(r+1)*S]
			n := S
			if causal {
				n = r%T + 1
			}
			sum := expShiftSlice(ys[:n], xs[:n], maxSlice(xs[:n]))
			scaleSlice(ys[:n], ys[:n], 1/sum)
			clear(ys[n:])
		}
	})
}

// SoftmaxGrad computes dx = y ⊙ (dy − Σ_s dy⊙y), the input gradient of
// [CPU.Softmax] over the last dimension from its output y (masked entries
// have y = 0 and get dx = 0).
func (c *CPU) SoftmaxGrad(dx, dy, y *tensor.Tensor) {
	tensor.MustSameShape("SoftmaxGrad", dy, y)
	S := y.Shape[y.Rank()-1]
	dx.ResizeLike(y)
	c.rows(len(y.Data)/S, S, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ys, ds, xs := y.Data[r*S:(r+1)*S], dy.Data[r*S:(r+1)*S], dx.Data[r*S:(r+1)*S]
			mulSubSlice(xs, ys, ds, dotSlice(ys, ds))
		}
	})
}

// LayerNorm normalises every vector along the last dimension D of x:
// y = γ⊙(x − μ)/√(σ² + eps) + β with the vector's mean μ and biased
// variance σ² (sums in float64), and writes μ and 1/√(σ² + eps) of every
// row into mean and invStd (length len(x)/D).
func (c *CPU) LayerNorm(y, x *tensor.Tensor, gamma, beta, mean, invStd []float32, eps float32) {
	D := x.Shape[x.Rank()-1]
	R := len(x.Data) / D
	if len(gamma) != D || len(beta) != D || len(mean) != R || len(invStd) != R {
		panic(fmt.Sprintf("engine: LayerNorm: input %v with %d γ, %d β, %d rows of statistics", x.Shape, len(gamma), len(beta), len(mean)))
	}
	y.ResizeLike(x)
	c.rows(R, D, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs := x.Data[r*D : (r+1)*D]
			s, sq := sums(xs)
			mu := s / float64(D)
			v := max(sq/float64(D)-mu*mu, 0)
			mean[r], invStd[r] = float32(mu), float32(1/math.Sqrt(v+float64(eps)))
			normAffineSlice(y.Data[r*D:(r+1)*D], xs, gamma, beta, mean[r], invStd[r])
		}
	})
}

// LayerNormGrad computes the gradients of [CPU.LayerNorm] from dy, x and
// the saved statistics: dγ = Σ_rows dy⊙x̂ and dβ = Σ_rows dy (overwritten;
// summed in float64 row by row, the columns split over workers), and
// dx = invStd·(g − mean(g) − x̂·mean(g⊙x̂)) with g = γ⊙dy, per row. dx may
// be nil to skip it.
func (c *CPU) LayerNormGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, x *tensor.Tensor, gamma, mean, invStd []float32) {
	tensor.MustSameShape("LayerNormGrad", dy, x)
	D := x.Shape[x.Rank()-1]
	R := len(x.Data) / D
	if cap(c.lnAcc) < 2*D {
		c.lnAcc = make([]float64, 2*D)
	}
	acc := c.lnAcc[:2*D]
	clear(acc)
	c.parallel(D, max(1, minRowWork/max(R, 1)), func(_, lo, hi int) {
		for r := 0; r < R; r++ {
			lnAccSlice(acc[lo:hi], acc[D+lo:D+hi], x.Data[r*D+lo:r*D+hi], dy.Data[r*D+lo:r*D+hi], mean[r], invStd[r])
		}
	})
	for j := 0; j < D; j++ {
		dgamma[j], dbeta[j] = float32(acc[j]), float32(acc[D+j])
	}
	if dx == nil {
		return
	}
	dx.ResizeLike(x)
	c.rows(R, D, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs, ds := x.Data[r*D:(r+1)*D], dy.Data[r*D:(r+1)*D]
			sg, sgx := lnDotsSlice(xs, ds, gamma, mean[r], invStd[r])
			lnGradSlice(dx.Data[r*D:(r+1)*D], xs, ds, gamma, mean[r], invStd[r], sg/float32(D), sgx/float32(D))
		}
	})
}

// GELU computes y = x·Φ(x) with Φ the standard normal distribution
// function (the exact, erf-based GELU of PyTorch's nn.GELU()), in single
// precision (see phif).
func (c *CPU) GELU(y, x *tensor.Tensor) {
	y.ResizeLike(x)
	c.each(len(x.Data), func(lo, hi int) { geluSlice(y.Data[lo:hi], x.Data[lo:hi]) })
}

// GELUGrad computes dx = dy·(Φ(x) + x·φ(x)), the input gradient of
// [CPU.GELU] (φ the standard normal density).
func (c *CPU) GELUGrad(dx, dy, x *tensor.Tensor) {
	tensor.MustSameShape("GELUGrad", dy, x)
	dx.ResizeLike(x)
	c.each(len(x.Data), func(lo, hi int) { geluGradSlice(dx.Data[lo:hi], dy.Data[lo:hi], x.Data[lo:hi]) })
}

// SwapAxes copies src, viewed as (a, b, c, d), into dst as (a, c, b, d)
// (dst takes the shape (a, c, b, d) unless it already has that many
// elements and the caller reshapes it): it splits attention heads,
// (N, T, H, dh) → (N, H, T, dh), merges them back, and turns image
// channels into tokens.
func (c *CPU) SwapAxes(dst, src *tensor.Tensor, a, b, cc, d int) {
	if len(src.Data) != a*b*cc*d {
		panic(fmt.Sprintf("engine: SwapAxes: %v is not %d×%d×%d×%d", src.Shape, a, b, cc, d))
	}
	dst.Resize(a, cc, b, d)
	c.rows(a*cc, b*d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i, k := r/cc, r%cc
			out := dst.Data[r*b*d : (r+1)*b*d]
			for j := 0; j < b; j++ {
				off := ((i*b+j)*cc + k) * d
				copy(out[j*d:(j+1)*d], src.Data[off:off+d])
			}
		}
	})
}

// checkIDs panics unless every id is an integer in [0, rows).
func checkIDs(op string, ids []float32, rows int) {
	for _, v := range ids {
		if v < 0 || int(v) >= rows || float32(int(v)) != v {
			panic(fmt.Sprintf("engine: %s: index %v outside [0, %d)", op, v, rows))
		}
	}
}

// Embedding writes row ids[r] of table (rows of length d) into row r of y,
// which must have len(ids)·d elements: the lookup of an embedding layer.
// The ids are float32 integers (token ids or positions).
func (c *CPU) Embedding(y *tensor.Tensor, table []float32, d int, ids []float32) {
	if len(y.Data) != len(ids)*d || len(table)%d != 0 {
		panic(fmt.Sprintf("engine: Embedding: output %v for %d ids of width %d", y.Shape, len(ids), d))
	}
	checkIDs("Embedding", ids, len(table)/d)
	c.rows(len(ids), d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			i := int(ids[r])
			copy(y.Data[r*d:(r+1)*d], table[i*d:(i+1)*d])
		}
	})
}

// EmbeddingGrad computes dtable = beta·dtable + Σ_r e_{ids[r]} ⊗ dy_r, the
// gradient of the lookup: row r of dy (length d) is added to row ids[r].
// Columns are split over workers and rows summed in order, so the result
// does not depend on the thread count.
func (c *CPU) EmbeddingGrad(dtable []float32, d int, ids, dy []float32, beta float32) {
	if len(dy) != len(ids)*d || len(dtable)%d != 0 {
		panic(fmt.Sprintf("engine: EmbeddingGrad: %d gradients for %d ids of width %d", len(dy), len(ids), d))
	}
	checkIDs("EmbeddingGrad", ids, len(dtable)/d)
	c.parallel(d, max(1, minRowWork/max(len(ids), 1)), func(_, lo, hi int) {
		for r := 0; r < len(dtable)/d; r++ {
			row := dtable[r*d+lo : r*d+hi]
			if beta == 0 {
				clear(row)
			} else if beta != 1 {
				for j := range row {
					row[j] *= beta
				}
			}
		}
		for r, v := range ids {
			row := dtable[int(v)*d+lo : int(v)*d+hi]
			for j, g := range dy[r*d+lo : r*d+hi] {
				row[j] += g
			}
		}
	})
}
