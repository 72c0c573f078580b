package engine_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/blas/sgemm"
	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// The Transformer kernels are checked normwise against their float64
// references (gradcheck's MaxAbs): they compute in single precision (expf
// and the erfc fit of mathf.go, within a few u = 2⁻²⁴; row sums of at most
// a few hundred terms), with the LayerNorm statistics and parameter
// gradients summed in float64, so a relative error of a few u of the
// largest element is expected; trRel = 64u leaves headroom, and any
// missing or misplaced term is orders of magnitude larger. Gradients are
// checked against central differences of the references with step trStep
// (truncation h²/6·|f”'| ≈ 1e-11, rounding 2⁻⁵³·|L|/h ≈ 1e-10, below
// trAbs). Every kernel must give bit-identical results for every thread
// count.
const (
	trRel  = 64 * gc.U
	trStep = 1e-5
	trAbs  = 1e-8
)

// same fails unless every result is bit-identical to the first.
func same(t *testing.T, what string, ts []*tensor.Tensor) {
	t.Helper()
	for i := 1; i < len(ts); i++ {
		if !tensor.Equal(ts[0], ts[i]) {
			t.Errorf("%s: result %d differs from result 0 (thread counts)", what, i)
		}
	}
}

func TestBatchedMatMul(t *testing.T) {
	for _, tc := range []struct{ batch, m, n, k int }{{1, 3, 4, 5}, {6, 7, 7, 4}, {12, 33, 17, 16}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				rng := newRand(uint64(tc.m + tc.n))
				a := gc.Uniform(rng, tc.batch*tc.m*tc.k, -1, 1)
				b := gc.Uniform(rng, tc.batch*tc.k*tc.n, -1, 1)
				want := gc.BatchedMatMul(ta, tb, tc.batch, tc.m, tc.n, tc.k, gc.F64(a), gc.F64(b))
				mag := gc.BatchedMatMul(ta, tb, tc.batch, tc.m, tc.n, tc.k, gc.Abs(gc.F64(a)), gc.Abs(gc.F64(b)))
				var outs []*tensor.Tensor
				for _, th := range threadCounts {
					c := nanTensor(tc.batch * tc.m * tc.n)
					engine.NewCPU(th).BatchedMatMul(packed(tc.batch, ta, tb, tc.m, tc.n, tc.k, engine.Full), ta, tb, tc.m, tc.n, tc.k, 1, a, b, 0, c.Data)
					gc.Close(t, fmt.Sprintf("%+v ta %v tb %v", tc, ta, tb), c.Data, want, mag, gc.Gamma(tc.k), 0)
					outs = append(outs, c)
				}
				same(t, "BatchedMatMul", outs)
			}
		}
	}
	mustPanic(t, "engine: BatchedMatMul", func() {
		engine.NewCPU(1).BatchedMatMul(packed(2, false, false, 2, 2, 2, engine.Full), false, false, 2, 2, 2, 1, make([]float32, 7), make([]float32, 8), 0, make([]float32, 8))
	})
	mustPanic(t, "engine: BatchedMatMul", func() { // LowerC needs square products
		engine.NewCPU(1).BatchedMatMul(packed(1, false, false, 2, 3, 2, engine.LowerC), false, false, 2, 3, 2, 1, make([]float32, 4), make([]float32, 6), 0, make([]float32, 6))
	})
}

// sameSums fails unless got equals want (sums of k products) bit for bit
// where the BLAS is asym's SGEMM with an assembly kernel, which sums in the
// order of k whatever the length, offset or alignment of the operands, and
// within rounding elsewhere (OpenBLAS, and gonum's portable Sgemm of the
// purego build, whose vector dot products depend on alignment).
func sameSums(t *testing.T, what string, want, got *tensor.Tensor, k int) {
	t.Helper()
	if blas.CurrentName() == "go" && sgemm.Kernel() != "generic" {
		same(t, what, []*tensor.Tensor{want, got})
		return
	}
	gc.Close(t, what, got.Data, gc.F64(want.Data), gc.Abs(gc.F64(want.Data)), gc.Gamma(2*k), 1e-6)
}

// packed returns the Batch of batch contiguous products.
func packed(batch int, ta, tb bool, m, n, k int, tri engine.Tri) engine.Batch {
	ar, ac, br, bc := m, k, k, n
	if ta {
		ar, ac = k, m
	}
	if tb {
		br, bc = n, k
	}
	return engine.Batch{N: batch, H: 1, A: engine.Packed(1, ar, ac), B: engine.Packed(1, br, bc), C: engine.Packed(1, m, n), Tri: tri}
}

// TestBatchedMatMulHeads checks products that read and write attention
// heads in place ((N, T, D) tensors, head h in columns h·dh…) against the
// same products on heads copied out into packed matrices (bit for bit
// with asym's SGEMM, see sameSums).
func TestBatchedMatMulHeads(t *testing.T) {
	const N, H, T, dh = 3, 4, 9, 5
	D := H * dh
	rng := newRand(5)
	q, k := gc.Uniform(rng, N*T*D, -1, 1), gc.Uniform(rng, N*T*D, -1, 1)
	heads := func(x []float32) []float32 { // (N, T, H, dh) → (N, H, T, dh)
		out := make([]float32, len(x))
		for n := 0; n < N; n++ {
			for tt := 0; tt < T; tt++ {
				for h := 0; h < H; h++ {
					copy(out[((n*H+h)*T+tt)*dh:][:dh], x[(n*T+tt)*D+h*dh:][:dh])
				}
			}
		}
		return out
	}
	inPlace := engine.MatLayout{Sample: T * D, Head: dh, LD: D}
	for _, th := range threadCounts {
		e := engine.NewCPU(th)
		// scores Q Kᵀ per head, then P V back into (N, T, D)
		s1, s2 := nanTensor(N*H*T*T), nanTensor(N*H*T*T)
		e.BatchedMatMul(engine.Batch{N: N, H: H, A: inPlace, B: inPlace, C: engine.Packed(H, T, T)}, false, true, T, T, dh, 0.5, q, k, 0, s1.Data)
		e.BatchedMatMul(packed(N*H, false, true, T, T, dh, engine.Full), false, true, T, T, dh, 0.5, heads(q), heads(k), 0, s2.Data)
		sameSums(t, "scores in place", s2, s1, dh)
		o1, o2 := nanTensor(N*T*D), nanTensor(N*H*T*dh)
		e.BatchedMatMul(engine.Batch{N: N, H: H, A: engine.Packed(H, T, T), B: inPlace, C: inPlace}, false, false, T, dh, T, 1, s1.Data, k, 0, o1.Data)
		e.BatchedMatMul(packed(N*H, false, false, T, dh, T, engine.Full), false, false, T, dh, T, 1, s2.Data, heads(k), 0, o2.Data)
		sameSums(t, "outputs in place", o2, tensor.FromData(heads(o1.Data), len(o1.Data)), T)
	}
}

// TestBatchedMatMulTri checks the triangular products against full ones
// (bit for bit with asym's SGEMM, see sameSums), with T spanning several row
// blocks and a partial one: a
// triangular operand carries NaN outside its diagonal blocks, where it is
// structurally zero and must not be read, the full product reads zeros
// there; LowerC must match
// the full product on and below the diagonal, and elsewhere either match
// it or hold beta times the old value.
func TestBatchedMatMulTri(t *testing.T) {
	const batch, T, n = 3, 75, 6
	nan := float32(math.NaN())
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			rng := newRand(9)
			for _, tri := range []engine.Tri{engine.LowerA, engine.UpperA} {
				a := gc.Uniform(rng, batch*T*T, -1, 1)
				b := gc.Uniform(rng, batch*T*n, -1, 1)
				zeros, nans := append([]float32(nil), a...), append([]float32(nil), a...)
				for p := 0; p < batch; p++ {
					for i := 0; i < T; i++ { // element (i, j) of op(a)
						for j := 0; j < T; j++ {
							at := p*T*T + i*T + j
							if ta {
								at = p*T*T + j*T + i
							}
							blk := i / 32 * 32 // first row of i's block
							if (tri == engine.LowerA && j > i) || (tri == engine.UpperA && j < i) {
								zeros[at], nans[at] = 0, 0
							}
							if (tri == engine.LowerA && j >= blk+32) || (tri == engine.UpperA && j < blk) {
								nans[at] = nan
							}
						}
					}
				}
				for _, th := range threadCounts {
					e := engine.NewCPU(th)
					full, part := nanTensor(batch*T*n), nanTensor(batch*T*n)
					e.BatchedMatMul(packed(batch, ta, tb, T, n, T, engine.Full), ta, tb, T, n, T, 1, zeros, b, 0, full.Data)
					e.BatchedMatMul(packed(batch, ta, tb, T, n, T, tri), ta, tb, T, n, T, 1, nans, b, 0, part.Data)
					sameSums(t, fmt.Sprintf("tri %d ta %v tb %v", tri, ta, tb), full, part, T)
				}
			}
			a := gc.Uniform(rng, batch*T*n, -1, 1)
			b := gc.Uniform(rng, batch*T*n, -1, 1)
			old := gc.Uniform(rng, batch*T*T, -1, 1)
			for _, beta := range []float32{0, 0.5} {
				for _, th := range threadCounts {
					e := engine.NewCPU(th)
					full := tensor.FromData(append([]float32(nil), old...), batch*T*T)
					part := tensor.FromData(append([]float32(nil), old...), batch*T*T)
					e.BatchedMatMul(packed(batch, ta, tb, T, T, n, engine.Full), ta, tb, T, T, n, 1, a, b, beta, full.Data)
					e.BatchedMatMul(packed(batch, ta, tb, T, T, n, engine.LowerC), ta, tb, T, T, n, 1, a, b, beta, part.Data)
					for i, v := range part.Data {
						r, c := i/T%T, i%T
						f := full.Data[i]
						ok := math.Float32bits(v) == math.Float32bits(f)
						if c > r && !ok {
							ok = v == beta*old[i] && c >= (r/32+1)*32
						}
						if !ok {
							t.Fatalf("LowerC ta %v tb %v beta %v: (%d, %d) = %v, full product %v, old %v", ta, tb, beta, r, c, v, f, old[i])
						}
					}
				}
			}
		}
	}
}

func TestSoftmax(t *testing.T) { forEachKernelSet(t, testSoftmax) }

func testSoftmax(t *testing.T) {
	for _, causal := range []bool{false, true} {
		const B, T = 6, 9
		rng := newRand(77)
		x := gc.Uniform(rng, B*T*T, -4, 4)
		r := gc.Uniform(rng, len(x), -1, 1)
		x64, r64 := gc.F64(x), gc.F64(r)
		want := gc.Softmax(x64, T, T, causal)
		num := gc.Grads(func(a [][]float64) float64 { return gc.Dot(r64, gc.Softmax(a[0], T, T, causal)) }, [][]float64{x64}, trStep)[0]
		var ys, dxs []*tensor.Tensor
		for _, th := range threadCounts {
			e := engine.NewCPU(th)
			y, dx := nanTensor(B, T, T), nanTensor(B, T, T)
			e.Softmax(y, tensor.FromData(x, B, T, T), causal)
			gc.Close(t, fmt.Sprintf("causal %v y", causal), y.Data, want, gc.MaxAbs(want), trRel, 0)
			if causal {
				for i, v := range y.Data {
					if row, col := i/T%T, i%T; col > row && v != 0 {
						t.Fatalf("masked entry (%d, %d) = %g", row, col, v)
					}
				}
			}
			e.SoftmaxGrad(dx, tensor.FromData(r, B, T, T), y)
			gc.Close(t, fmt.Sprintf("causal %v dx", causal), dx.Data, num, gc.MaxAbs(num), trRel, trAbs)
			ys, dxs = append(ys, y), append(dxs, dx)
		}
		same(t, "Softmax", ys)
		same(t, "SoftmaxGrad", dxs)
	}
	mustPanic(t, "engine: Softmax", func() { engine.NewCPU(1).Softmax(new(tensor.Tensor), tensor.New(2, 3, 4), true) })
}

func TestLayerNorm(t *testing.T) { forEachKernelSet(t, testLayerNorm) }

func testLayerNorm(t *testing.T) {
	for _, shape := range [][]int{{5, 8}, {3, 7, 16}, {2, 600, 32}} {
		D := shape[len(shape)-1]
		R := tensor.Numel(shape) / D
		rng := newRand(uint64(R))
		x := gc.Uniform(rng, R*D, -1, 2)
		gamma := gc.Uniform(rng, D, 0.5, 1.5)
		beta := gc.Uniform(rng, D, -0.5, 0.5)
		r := gc.Uniform(rng, len(x), -1, 1)
		const eps32 = float32(1e-5)
		eps := float64(eps32)
		args := [][]float64{gc.F64(x), gc.F64(gamma), gc.F64(beta)}
		r64 := gc.F64(r)
		want := gc.LayerNorm(args[0], args[1], args[2], D, eps)
		var num [][]float64
		if R*D < 2000 { // the large shape (parallel rows) checks y and thread invariance only
			num = gc.Grads(func(a [][]float64) float64 { return gc.Dot(r64, gc.LayerNorm(a[0], a[1], a[2], D, eps)) }, args, trStep)
		}
		var outs []*tensor.Tensor
		for _, th := range threadCounts {
			e := engine.NewCPU(th)
			y, dx := nanTensor(shape...), nanTensor(shape...)
			mean, invStd := make([]float32, R), make([]float32, R)
			xt := tensor.FromData(x, shape...)
			e.LayerNorm(y, xt, gamma, beta, mean, invStd, eps32)
			gc.Close(t, fmt.Sprint(shape, " y"), y.Data, want, gc.MaxAbs(want), trRel, 0)
			dg, db := make([]float32, D), make([]float32, D)
			e.LayerNormGrad(dx, dg, db, tensor.FromData(r, shape...), xt, gamma, mean, invStd)
			for i, got := range [][]float32{dx.Data, dg, db} {
				if num == nil {
					break
				}
				gc.Close(t, fmt.Sprint(shape, " grad ", i), got, num[i], gc.MaxAbs(num[i]), trRel, trAbs)
			}
			outs = append(outs, y, dx, tensor.FromData(dg, D), tensor.FromData(db, D))
		}
		for i := 0; i < 4; i++ {
			var s []*tensor.Tensor
			for j := i; j < len(outs); j += 4 {
				s = append(s, outs[j])
			}
			same(t, fmt.Sprint("LayerNorm output ", i), s)
		}
	}
}

func TestGELU(t *testing.T) { forEachKernelSet(t, testGELU) }

func testGELU(t *testing.T) {
	for _, n := range elemSizes {
		rng := newRand(uint64(n) + 5)
		x := gc.Uniform(rng, n, -5, 5)
		r := gc.Uniform(rng, n, -1, 1)
		r64 := gc.F64(r)
		want := gc.GELU(gc.F64(x))
		var num []float64
		if n < 1000 {
			num = gc.Grads(func(a [][]float64) float64 { return gc.Dot(r64, gc.GELU(a[0])) }, [][]float64{gc.F64(x)}, trStep)[0]
		}
		var outs []*tensor.Tensor
		for _, th := range threadCounts {
			e := engine.NewCPU(th)
			y, dx := nanTensor(n), nanTensor(n)
			e.GELU(y, tensor.FromData(x, n))
			gc.Close(t, fmt.Sprint(n, " y"), y.Data, want, gc.MaxAbs(want), trRel, 0)
			e.GELUGrad(dx, tensor.FromData(r, n), tensor.FromData(x, n))
			if num != nil {
				gc.Close(t, fmt.Sprint(n, " dx"), dx.Data, num, gc.MaxAbs(num), trRel, trAbs)
			}
			outs = append(outs, y, dx)
		}
		same(t, "GELU", []*tensor.Tensor{outs[0], outs[2]})
		same(t, "GELUGrad", []*tensor.Tensor{outs[1], outs[3]})
	}
}

// TestSwapAxesAndEmbedding checks the data-movement kernels exactly
// against index arithmetic, and the embedding gradient against the
// gathered sums (exact: small integers).
func TestSwapAxesAndEmbedding(t *testing.T) {
	const a, b, c = 3, 4, 5
	for _, d := range []int{6, 1} { // rows of d, and the transpose of d = 1
		src := tensor.New(a, b, c, d)
		for i := range src.Data {
			src.Data[i] = float32(i)
		}
		for _, th := range threadCounts {
			dst := nanTensor(1)
			engine.NewCPU(th).SwapAxes(dst, src, a, b, c, d)
			if !tensor.SameShape(dst.Shape, []int{a, c, b, d}) {
				t.Fatalf("SwapAxes shape %v", dst.Shape)
			}
			for i := 0; i < a; i++ {
				for j := 0; j < b; j++ {
					for k := 0; k < c; k++ {
						for l := 0; l < d; l++ {
							if got, want := dst.Data[((i*c+k)*b+j)*d+l], src.Data[((i*b+j)*c+k)*d+l]; got != want {
								t.Fatalf("SwapAxes (%d %d %d %d) = %g, want %g", i, j, k, l, got, want)
							}
						}
					}
				}
			}
			back := nanTensor(1)
			engine.NewCPU(th).SwapAxes(back, dst, a, c, b, d)
			if !tensor.Equal(back, src) {
				t.Error("SwapAxes twice is not the identity")
			}
		}
	}
	for _, th := range threadCounts {
		e := engine.NewCPU(th)
		const rows, w = 7, 5
		table := make([]float32, rows*w)
		for i := range table {
			table[i] = float32(i)
		}
		ids := []float32{3, 0, 6, 3, 3, 1}
		y := nanTensor(len(ids), w)
		e.Embedding(y, table, w, ids)
		dy := make([]float32, len(ids)*w)
		for i := range dy {
			dy[i] = float32(i % 11)
		}
		dt := make([]float32, rows*w)
		for i := range dt {
			dt[i] = 1
		}
		e.EmbeddingGrad(dt, w, ids, dy, 2)
		want := make([]float32, rows*w)
		for i := range want {
			want[i] = 2
		}
		for r, id := range ids {
			for j := 0; j < w; j++ {
				if y.Data[r*w+j] != table[int(id)*w+j] {
					t.Fatalf("Embedding row %d col %d = %g", r, j, y.Data[r*w+j])
				}
				want[int(id)*w+j] += dy[r*w+j]
			}
		}
		for i := range want {
			if dt[i] != want[i] {
				t.Fatalf("EmbeddingGrad [%d] = %g, want %g", i, dt[i], want[i])
			}
		}
		mustPanic(t, "engine: Embedding", func() { e.Embedding(y, table, w, []float32{0, 1, 2, 7, 0, 0}) })
		mustPanic(t, "engine: Embedding", func() { e.Embedding(y, table, w, []float32{0, 1.5, 2, 3, 0, 0}) })
	}
}
