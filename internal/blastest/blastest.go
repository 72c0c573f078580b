package blastest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	gc "github.com/asymlab/asym/internal/gradcheck"
)

// sentinel marks the elements of C outside the m×n matrix (between rows,
// when ldc > n); an implementation must leave them alone.
const sentinel = -12345.5

var transposes = []gblas.Transpose{gblas.NoTrans, gblas.Trans, gblas.ConjTrans}

// gemmSizes are (m, n, k): degenerate, odd, just around the 64 blocking of
// gonum and the register tiles of OpenBLAS, and rectangular.
var gemmSizes = [][3]int{
	{0, 3, 2}, {3, 0, 2}, {2, 3, 0}, {1, 1, 1}, {3, 5, 7}, {17, 13, 1}, {1, 33, 65},
	{33, 65, 70}, {64, 64, 65}, {5, 130, 200}, {129, 7, 31},
}

// Sgemm checks impl.Sgemm on every transpose combination, sizes from
// degenerate to a few blocks, tight and padded leading dimensions and
// several (alpha, beta), against a float64 reference with the bound
// γ_{k+2}·(|alpha|·Σ|a·b| + |beta·c|). With beta = 0, C is filled with NaN
// first: BLAS must not read it. Elements outside the m×n matrix must be
// left untouched.
func Sgemm(t *testing.T, impl gblas.Float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range gemmSizes {
		m, n, k := sz[0], sz[1], sz[2]
		opA := gc.Uniform(rng, m*k, -1, 1)
		opB := gc.Uniform(rng, k*n, -1, 1)
		c0 := gc.Uniform(rng, m*n, -1, 1)
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, pad := range []int{0, 3} {
					a, lda := layout(opA, m, k, tA != gblas.NoTrans, pad)
					b, ldb := layout(opB, k, n, tB != gblas.NoTrans, pad)
					for _, ab := range [][2]float32{{1, 0}, {-0.5, 1.5}, {2, 1}, {0, 0.25}} {
						alpha, beta := ab[0], ab[1]
						ldc := max(n, 1) + pad
						c := make([]float32, max(0, (m-1)*ldc+n))
						for i := range c {
							c[i] = sentinel
						}
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								c[i*ldc+j] = c0[i*n+j]
								if beta == 0 {
									c[i*ldc+j] = float32(math.NaN())
								}
							}
						}
						name := fmt.Sprintf("m=%d n=%d k=%d tA=%c tB=%c pad=%d alpha=%v beta=%v", m, n, k, tA, tB, pad, alpha, beta)
						impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						got := make([]float32, 0, m*n)
						want, mag := make([]float64, 0, m*n), make([]float64, 0, m*n)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								var s, sa float64
								for l := 0; l < k; l++ {
									p := float64(opA[i*k+l]) * float64(opB[l*n+j])
									s += p
									sa += math.Abs(p)
								}
								cv := float64(c0[i*n+j])
								if beta == 0 {
									cv = 0
								}
								got = append(got, c[i*ldc+j])
								want = append(want, float64(alpha)*s+float64(beta)*cv)
								mag = append(mag, math.Abs(float64(alpha))*sa+math.Abs(float64(beta)*cv))
							}
							for j := n; j < ldc && i < m-1; j++ {
								if c[i*ldc+j] != sentinel {
									t.Errorf("%s: wrote C[%d] outside the matrix", name, i*ldc+j)
								}
							}
						}
						gc.Close(t, name, got, want, mag, gc.Gamma(k+2), 0)
					}
				}
			}
		}
	}
}

// layout stores the r×c row-major matrix x as a BLAS operand: transposed
// (c×r) when trans, with pad extra elements per row. It returns the data
// and the leading dimension.
func layout(x []float32, r, c int, trans bool, pad int) ([]float32, int) {
	rows, cols := r, c
	if trans {
		rows, cols = c, r
	}
	ld := max(cols, 1) + pad
	out := make([]float32, max(0, (rows-1)*ld+cols))
	for i := range out {
		out[i] = float32(math.NaN()) // padding must never be read
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if trans {
				out[j*ld+i] = x[i*c+j]
			} else {
				out[i*ld+j] = x[i*c+j]
			}
		}
	}
	return out, ld
}

// Level12 checks the level-1 and level-2 routines that asym's OpenBLAS
// binding overrides (Sgemv, Sdot, Saxpy, Sscal, Snrm2), with unit, strided
// and negative increments, against gonum's pure-Go implementation: Sscal
// and Saxpy round each element once or twice (γ₁·|result|, γ₂·(|y|+|αx|)), Sdot
// and Sgemv sum n products (γ_{n+2}), Snrm2 is within 2n·u relative.
func Level12(t *testing.T, impl gblas.Float32) {
	t.Helper()
	ref := gonum.Implementation{}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 64, 100} {
		for _, inc := range [][2]int{{1, 1}, {2, 3}, {-1, 1}, {-2, -3}} {
			ix, iy := inc[0], inc[1]
			ax, ay := abs(ix), abs(iy)
			x := gc.Uniform(rng, (n-1)*ax+1, -1, 1)
			y := gc.Uniform(rng, (n-1)*ay+1, -1, 1)
			name := fmt.Sprintf("n=%d incX=%d incY=%d", n, ix, iy)

			var mag float64
			for i := 0; i < n; i++ {
				mag += math.Abs(float64(x[i*ax]) * float64(y[i*ay]))
			}
			if got, want := impl.Sdot(n, x, ix, y, iy), ref.Sdot(n, x, ix, y, iy); math.Abs(float64(got-want)) > 2*gc.Gamma(n+2)*mag {
				t.Errorf("Sdot %s: %v, gonum %v", name, got, want)
			}

			y1, y2 := append([]float32(nil), y...), append([]float32(nil), y...)
			impl.Saxpy(n, -0.75, x, ix, y1, iy)
			ref.Saxpy(n, -0.75, x, ix, y2, iy)
			// |y| ≤ 1 and |0.75·x| ≤ 0.75: each result within γ₂·1.75.
			closeAbs(t, "Saxpy "+name, y1, y2, 2*gc.Gamma(2)*1.75)

			if ix > 0 {
				x1, x2 := append([]float32(nil), x...), append([]float32(nil), x...)
				impl.Sscal(n, 1.3, x1, ix)
				ref.Sscal(n, 1.3, x2, ix)
				closeTo(t, "Sscal "+name, x1, x2, 2*gc.U)
				got, want := impl.Snrm2(n, x, ix), ref.Snrm2(n, x, ix)
				if math.Abs(float64(got-want)) > 4*float64(n)*gc.U*float64(want) {
					t.Errorf("Snrm2 %s: %v, gonum %v", name, got, want)
				}
			}
		}
	}
	for _, tA := range transposes {
		for _, sz := range [][2]int{{1, 1}, {3, 5}, {70, 33}} {
			m, n := sz[0], sz[1]
			lda := n + 2
			a := gc.Uniform(rng, (m-1)*lda+n, -1, 1)
			lx, ly := n, m
			if tA != gblas.NoTrans {
				lx, ly = m, n
			}
			for _, inc := range [][2]int{{1, 1}, {2, -3}} {
				x := gc.Uniform(rng, (lx-1)*abs(inc[0])+1, -1, 1)
				y := gc.Uniform(rng, (ly-1)*abs(inc[1])+1, -1, 1)
				y1, y2 := append([]float32(nil), y...), append([]float32(nil), y...)
				impl.Sgemv(tA, m, n, 0.5, a, lda, x, inc[0], -2, y1, inc[1])
				ref.Sgemv(tA, m, n, 0.5, a, lda, x, inc[0], -2, y2, inc[1])
				// Every |a·x| ≤ 1 and |y| ≤ 1: magnitudes at most 0.5·lx + 2.
				closeAbs(t, fmt.Sprintf("Sgemv tA=%c m=%d n=%d inc=%v", tA, m, n, inc), y1, y2, 2*gc.Gamma(lx+2)*(0.5*float64(lx)+2))
			}
		}
	}
}

// Agree checks that impl and ref agree on random products of the sizes
// asym's networks use, within twice the float32 bound of either.
func Agree(t *testing.T, impl, ref gblas.Float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{64, 784, 288}, {128, 256, 784}, {32, 196, 1152}, {10, 128, 256}, {300, 17, 5}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]gblas.Transpose{{gblas.NoTrans, gblas.NoTrans}, {gblas.Trans, gblas.NoTrans}, {gblas.NoTrans, gblas.Trans}} {
			a := gc.Uniform(rng, m*k, -1, 1)
			b := gc.Uniform(rng, k*n, -1, 1)
			lda, ldb := k, n
			if tr[0] != gblas.NoTrans {
				lda = m
			}
			if tr[1] != gblas.NoTrans {
				ldb = k
			}
			c1, c2 := make([]float32, m*n), make([]float32, m*n)
			impl.Sgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c1, n)
			ref.Sgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c2, n)
			// |a·b| ≤ 1, so Σ|terms| ≤ k: each result is within γ_k·k of
			// the exact value, and the two within twice that.
			closeAbs(t, fmt.Sprintf("Sgemm %dx%dx%d %c%c", m, n, k, tr[0], tr[1]), c1, c2, 2*gc.Gamma(k)*float64(k))
		}
	}
}

// Panics checks that every invalid call panics with exactly gonum's message
// (a "blas: " prefix), also when the short slice has spare capacity that C
// code could read without faulting, and that the legal corner cases
// gonum accepts (empty sizes, negative increments of Sscal and Snrm2) are
// accepted with gonum's results.
func Panics(t *testing.T, impl gblas.Float32) {
	t.Helper()
	ref := gonum.Implementation{}
	short := func(n int) []float32 { return make([]float32, n+64)[:n] } // spare capacity beyond len
	N, T := gblas.NoTrans, gblas.Trans
	cases := []struct {
		name string
		call func(b gblas.Float32) any
	}{
		{"gemm m<0", func(b gblas.Float32) any {
			b.Sgemm(N, N, -1, 2, 2, 1, short(4), 2, short(4), 2, 0, short(4), 2)
			return nil
		}},
		{"gemm k<0", func(b gblas.Float32) any {
			b.Sgemm(N, N, 2, 2, -1, 1, short(4), 2, short(4), 2, 0, short(4), 2)
			return nil
		}},
		{"gemm bad transpose", func(b gblas.Float32) any {
			b.Sgemm('x', N, 2, 2, 2, 1, short(4), 2, short(4), 2, 0, short(4), 2)
			return nil
		}},
		{"gemm lda", func(b gblas.Float32) any {
			b.Sgemm(N, N, 2, 3, 4, 1, short(8), 3, short(12), 3, 0, short(6), 3)
			return nil
		}},
		{"gemm lda trans", func(b gblas.Float32) any {
			b.Sgemm(T, N, 3, 2, 4, 1, short(12), 2, short(8), 2, 0, short(6), 2)
			return nil
		}},
		{"gemm ldb", func(b gblas.Float32) any {
			b.Sgemm(N, T, 2, 3, 4, 1, short(8), 4, short(12), 3, 0, short(6), 3)
			return nil
		}},
		{"gemm ldc", func(b gblas.Float32) any {
			b.Sgemm(N, N, 2, 3, 4, 1, short(8), 4, short(12), 3, 0, short(6), 2)
			return nil
		}},
		{"gemm short a", func(b gblas.Float32) any {
			b.Sgemm(N, N, 2, 3, 4, 1, short(7), 4, short(12), 3, 0, short(6), 3)
			return nil
		}},
		{"gemm short a trans", func(b gblas.Float32) any {
			b.Sgemm(T, N, 2, 3, 4, 1, short(7), 2, short(12), 3, 0, short(6), 3)
			return nil
		}},
		{"gemm short b", func(b gblas.Float32) any {
			b.Sgemm(N, N, 2, 3, 4, 1, short(8), 4, short(11), 3, 0, short(6), 3)
			return nil
		}},
		{"gemm short b trans", func(b gblas.Float32) any {
			b.Sgemm(N, T, 2, 3, 4, 1, short(8), 4, short(11), 4, 0, short(6), 3)
			return nil
		}},
		{"gemm short c", func(b gblas.Float32) any {
			b.Sgemm(N, N, 2, 3, 4, 1, short(8), 4, short(12), 3, 0, short(5), 3)
			return nil
		}},
		{"gemm short c padded", func(b gblas.Float32) any {
			b.Sgemm(N, N, 2, 3, 4, 1, short(8), 4, short(12), 3, 0, short(7), 5)
			return nil
		}},
		{"gemm m=0", func(b gblas.Float32) any { b.Sgemm(N, N, 0, 3, 4, 1, nil, 4, short(12), 3, 0, nil, 3); return nil }},
		{"gemm k=0", func(b gblas.Float32) any {
			c := []float32{1, 2, 3, 4}
			b.Sgemm(N, N, 2, 2, 0, 1, nil, 1, nil, 2, 0.5, c, 2)
			return c
		}},
		{"gemv short x", func(b gblas.Float32) any { b.Sgemv(N, 2, 3, 1, short(6), 3, short(2), 1, 0, short(2), 1); return nil }},
		{"gemv short y trans", func(b gblas.Float32) any { b.Sgemv(T, 2, 3, 1, short(6), 3, short(2), 1, 0, short(2), 1); return nil }},
		{"gemv short a", func(b gblas.Float32) any { b.Sgemv(N, 2, 3, 1, short(5), 3, short(3), 1, 0, short(2), 1); return nil }},
		{"gemv lda", func(b gblas.Float32) any { b.Sgemv(N, 2, 3, 1, short(6), 2, short(3), 1, 0, short(2), 1); return nil }},
		{"gemv zero incx", func(b gblas.Float32) any { b.Sgemv(N, 2, 3, 1, short(6), 3, short(3), 0, 0, short(2), 1); return nil }},
		{"gemv strided short y", func(b gblas.Float32) any { b.Sgemv(N, 2, 3, 1, short(6), 3, short(3), 1, 0, short(3), -3); return nil }},
		{"dot n<0", func(b gblas.Float32) any { return b.Sdot(-1, short(2), 1, short(2), 1) }},
		{"dot short y", func(b gblas.Float32) any { return b.Sdot(3, short(3), 1, short(2), 1) }},
		{"dot short x strided", func(b gblas.Float32) any { return b.Sdot(3, short(4), 2, short(3), 1) }},
		{"dot short x negative", func(b gblas.Float32) any { return b.Sdot(3, short(4), -2, short(3), 1) }},
		{"dot zero incy", func(b gblas.Float32) any { return b.Sdot(3, short(3), 1, short(3), 0) }},
		{"dot n=0", func(b gblas.Float32) any { return b.Sdot(0, nil, 1, nil, 1) }},
		{"axpy short y", func(b gblas.Float32) any { b.Saxpy(3, 1, short(3), 1, short(4), 2); return nil }},
		{"axpy zero incx", func(b gblas.Float32) any { b.Saxpy(3, 1, short(3), 0, short(3), 1); return nil }},
		{"axpy n<0", func(b gblas.Float32) any { b.Saxpy(-2, 1, short(3), 1, short(3), 1); return nil }},
		{"scal short", func(b gblas.Float32) any { b.Sscal(3, 2, short(4), 2); return nil }},
		{"scal zero inc", func(b gblas.Float32) any { b.Sscal(3, 2, short(4), 0); return nil }},
		{"scal n<0", func(b gblas.Float32) any { b.Sscal(-1, 2, short(4), 1); return nil }},
		{"scal negative inc", func(b gblas.Float32) any { x := []float32{1, 2, 3}; b.Sscal(3, 2, x, -1); return x }},
		{"nrm2 short", func(b gblas.Float32) any { return b.Snrm2(3, short(2), 1) }},
		{"nrm2 zero inc", func(b gblas.Float32) any { return b.Snrm2(3, short(3), 0) }},
		{"nrm2 negative inc", func(b gblas.Float32) any { return b.Snrm2(3, []float32{3, 4, 0}, -1) }},
	}
	for _, tc := range cases {
		wantRes, wantMsg := call(ref, tc.call)
		gotRes, gotMsg := call(impl, tc.call)
		if gotMsg != wantMsg || fmt.Sprint(gotRes) != fmt.Sprint(wantRes) {
			t.Errorf("%s: got (%v, panic %q), gonum (%v, panic %q)", tc.name, gotRes, gotMsg, wantRes, wantMsg)
		}
		if wantMsg != "" && !strings.HasPrefix(wantMsg, "blas: ") {
			t.Errorf("%s: gonum's panic %q lacks the blas prefix", tc.name, wantMsg)
		}
	}
}

func call(b gblas.Float32, fn func(gblas.Float32) any) (res any, msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	return fn(b), ""
}

func closeTo(t *testing.T, name string, got, want []float32, rel float64) {
	t.Helper()
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > rel*math.Abs(float64(want[i])) {
			t.Errorf("%s: [%d] %v, gonum %v", name, i, got[i], want[i])
			return
		}
	}
}

func closeAbs(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); d > tol || d != d {
			t.Errorf("%s: [%d] %v vs %v (tolerance %.3g)", name, i, got[i], want[i], tol)
			return
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
