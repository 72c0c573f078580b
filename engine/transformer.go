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

// MatLayout places matrix i = n·H + h of a batch of N·H matrices
// (n < N, h < H) in its slice: it starts at element n·Sample + h·Head and
// its rows are LD elements apart. Attention's heads are read in place
// this way: head h of sample n of a (N, T, D) projection starts at
// n·T·D + h·D/H with rows D apart.
type MatLayout struct{ Sample, Head, LD int }

// Packed returns the layout of N·H matrices of rows×cols stored one after
// another.
func Packed(H, rows, cols int) MatLayout {
	return MatLayout{Sample: H * rows * cols, Head: rows * cols, LD: cols}
}

// Tri is the triangular structure a batched product may exploit: causal
// attention's score matrices are lower triangular. The products work by
// blocks of triBlock rows, and skip the blocks that the structure makes
// zero or not needed; every element they compute is the same as in the
// full product (bit for bit with asym's SGEMM kernels, which sum in the
// order of k whatever the length; OpenBLAS, or gonum's portable Sgemm of
// the purego build, may round a shorter sum differently).
type Tri uint8

const (
	// Full is a plain product.
	Full Tri = iota
	// LowerC computes only the lower triangle (column ≤ row) of the square
	// c_i, block row by block row: elements above the diagonal are computed
	// inside the diagonal blocks and set to 0 (times beta: beta·c) in the
	// blocks wholly above it.
	LowerC
	// LowerA says op(a_i) (m×m) is lower triangular: its zeros above the
	// diagonal blocks are not read.
	LowerA
	// UpperA says op(a_i) (m×m) is upper triangular: its zeros below the
	// diagonal blocks are not read.
	UpperA
)

// triBlock is the row block of the triangular products.
const triBlock = 32

// Batch describes the operands of a batched product: N·H matrices of each
// of A, B and C, placed by their layouts, and the triangular structure.
type Batch struct {
	N, H    int
	A, B, C MatLayout
	Tri     Tri
}

// extent returns the number of elements the layout spans for N·H
// matrices of rows×cols.
func (l MatLayout) extent(N, H, rows, cols int) int {
	if N == 0 || H == 0 || rows == 0 || cols == 0 {
		return 0
	}
	return (N-1)*l.Sample + (H-1)*l.Head + (rows-1)*l.LD + cols
}

// BatchedMatMul computes c_i = alpha·op(a_i)·op(b_i) + beta·c_i for the
// N·H products of bt (a_i m×k or k×m, b_i k×n or n×k, c_i m×n, row-major
// in their layouts). The products are split over workers; each runs on
// one, so the result does not depend on the thread count.
func (c *CPU) BatchedMatMul(bt Batch, transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, cm []float32) {
	ar, ac, br, bc := m, k, k, n
	if transA {
		ar, ac = k, m
	}
	if transB {
		br, bc = n, k
	}
	if bt.N < 0 || bt.H < 0 || bt.A.LD < ac || bt.B.LD < bc || bt.C.LD < n ||
		len(a) < bt.A.extent(bt.N, bt.H, ar, ac) || len(b) < bt.B.extent(bt.N, bt.H, br, bc) ||
		len(cm) < bt.C.extent(bt.N, bt.H, m, n) || (bt.Tri == LowerC && m != n) || ((bt.Tri == LowerA || bt.Tri == UpperA) && m != k) {
		panic(fmt.Sprintf("engine: BatchedMatMul: %d×%d×(%d×%d·%d×%d) tri %d, layouts %+v %+v %+v, lengths %d, %d, %d",
			bt.N, bt.H, m, k, k, n, bt.Tri, bt.A, bt.B, bt.C, len(a), len(b), len(cm)))
	}
	per := max(1, minGemmWork/max(m*n*max(k, 1), 1))
	c.parallel(bt.N*bt.H, per, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			ni, hh := i/bt.H, i%bt.H
			ao := ni*bt.A.Sample + hh*bt.A.Head
			bo := ni*bt.B.Sample + hh*bt.B.Head
			co := ni*bt.C.Sample + hh*bt.C.Head
			triGemm(bt.Tri, transA, transB, m, n, k, alpha, a[ao:], bt.A.LD, b[bo:], bt.B.LD, beta, cm[co:], bt.C.LD)
		}
	})
}

// triGemm runs one product of BatchedMatMul with its triangular structure.
func triGemm(tri Tri, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if tri == Full || m <= triBlock {
		gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	// aRows returns op(a) from row r (and column col), bRows op(b) from row r.
	aAt := func(r, col int) []float32 {
		if tA {
			return a[col*lda+r:]
		}
		return a[r*lda+col:]
	}
	bRows := func(r int) []float32 {
		if tB {
			return b[r:]
		}
		return b[r*ldb:]
	}
	for r0 := 0; r0 < m; r0 += triBlock {
		r1 := min(r0+triBlock, m)
		rows := r1 - r0
		cr := c[r0*ldc:]
		switch tri {
		case LowerC: // columns [0, r1) of rows [r0, r1)
			gemm(tA, tB, rows, r1, k, alpha, aAt(r0, 0), lda, b, ldb, beta, cr, ldc)
			for r := 0; r < rows; r++ {
				rest := cr[r*ldc+r1 : r*ldc+n]
				if beta == 0 {
					clear(rest)
				} else {
					for j := range rest {
						rest[j] *= beta
					}
				}
			}
		case LowerA: // op(a)[r0:r1, 0:r1]·op(b)[0:r1, :]
			gemm(tA, tB, rows, n, r1, alpha, aAt(r0, 0), lda, b, ldb, beta, cr, ldc)
		case UpperA: // op(a)[r0:r1, r0:k]·op(b)[r0:k, :]
			gemm(tA, tB, rows, n, k-r0, alpha, aAt(r0, r0), lda, bRows(r0), ldb, beta, cr, ldc)
		}
	}
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
	if d == 1 { // a transpose of each b×cc matrix, element by element
		c.rows(a*cc, b, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				i, k := r/cc, r%cc
				out := dst.Data[r*b : (r+1)*b]
				src := src.Data[i*b*cc+k:]
				for j := range out {
					out[j] = src[j*cc]
				}
			}
		})
		return
	}
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
