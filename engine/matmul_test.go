package engine_test

import (
	"fmt"
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
)

// refProduct returns P = A·B in float64 for row-major A (m×k) and B
// (k×n), and the sum of the absolute values of the terms of every element.
func refProduct(m, n, k int, a, b []float32) (p, mag []float64) {
	p, mag = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for l := 0; l < k; l++ {
			av := float64(a[i*k+l])
			for j := 0; j < n; j++ {
				t := av * float64(b[l*n+j])
				p[i*n+j] += t
				mag[i*n+j] += abs(t)
			}
		}
	}
	return p, mag
}

// transpose returns the column-major copy (the transpose, row-major) of
// the r×c row-major matrix x.
func transpose(x []float32, r, c int) []float32 {
	y := make([]float32, len(x))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			y[j*r+i] = x[i*c+j]
		}
	}
	return y
}

// matMulSizes includes products below the splitting threshold, products
// split by rows (m large) and by columns (m smaller than 4·threads and n).
var matMulSizes = [][3]int{
	{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {1, 40, 9}, {4, 0, 3}, {5, 3, 0},
	{70, 130, 150}, // rows split
	{5, 300, 100},  // columns split
	{128, 100, 200},
	{2, 700, 64},
	{400, 400, 0}, {3, 50000, 0}, // k = 0: c = beta·c
}

// TestMatMul checks every transpose combination, alpha and beta, against
// the float64 reference with the γ_{k+2}·Σ|terms| bound of a float32 sum
// of k products plus the alpha scaling and the beta term.
func TestMatMul(t *testing.T) {
	forEachBLAS(t, func(t *testing.T) {
		for si, sz := range matMulSizes {
			m, n, k := sz[0], sz[1], sz[2]
			rng := newRand(uint64(si))
			opA := gc.Uniform(rng, m*k, -1, 1) // op(a), m×k
			opB := gc.Uniform(rng, k*n, -1, 1) // op(b), k×n
			c0 := gc.Uniform(rng, m*n, -1, 1)
			p, pmag := refProduct(m, n, k, opA, opB)
			for _, tA := range []bool{false, true} {
				a := opA
				if tA {
					a = transpose(opA, m, k)
				}
				for _, tB := range []bool{false, true} {
					b := opB
					if tB {
						b = transpose(opB, k, n)
					}
					for _, ab := range [][2]float32{{1, 0}, {-0.75, 1}, {2, -0.5}} {
						alpha, beta := float64(ab[0]), float64(ab[1])
						want, mag := make([]float64, m*n), make([]float64, m*n)
						for i := range want {
							want[i] = alpha*p[i] + beta*float64(c0[i])
							mag[i] = abs(alpha)*pmag[i] + abs(beta*float64(c0[i]))
						}
						for _, th := range []int{1, 2, 3} {
							c := append([]float32(nil), c0...)
							engine.NewCPU(th).MatMul(tA, tB, m, n, k, ab[0], a, b, ab[1], c)
							gc.Close(t, fmt.Sprintf("%dx%dx%d tA=%v tB=%v alpha=%v beta=%v threads %d", m, n, k, tA, tB, ab[0], ab[1], th),
								c, want, mag, gc.Gamma(k+2), 0)
						}
					}
				}
			}
		}
	})
}

// TestMatMulReproducible checks that MatMul gives bit-identical results
// when repeated on the same thread count (with the same and with a fresh
// backend). Across thread counts the results may differ in the last bits
// (see CPU.MatMul; TestMatMul bounds every thread count's error); the test
// logs where they do.
func TestMatMulReproducible(t *testing.T) {
	forEachBLAS(t, func(t *testing.T) {
		differ := 0
		for si, sz := range matMulSizes {
			m, n, k := sz[0], sz[1], sz[2]
			rng := newRand(uint64(50 + si))
			a := gc.Uniform(rng, m*k, -1, 1)
			b := gc.Uniform(rng, k*n, -1, 1)
			c0 := gc.Uniform(rng, m*n, -1, 1)
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					var one []float32
					for _, th := range []int{1, 2, 3} {
						e := engine.NewCPU(th)
						var first []float32
						for rep := 0; rep < 3; rep++ {
							if rep == 2 {
								e = engine.NewCPU(th)
							}
							c := append([]float32(nil), c0...)
							e.MatMul(tA, tB, m, n, k, 1.5, a, b, 0.5, c)
							if first == nil {
								first = c
							} else if d := firstDiff(first, c); d >= 0 {
								t.Errorf("%dx%dx%d tA=%v tB=%v threads %d: run %d differs at %d: %g vs %g",
									m, n, k, tA, tB, th, rep+1, d, c[d], first[d])
							}
						}
						if one == nil {
							one = first
						} else if firstDiff(one, first) >= 0 {
							differ++
						}
					}
				}
			}
		}
		t.Logf("%d of %d (size, transposes, 2 or 3 threads) products differ in the last bits from 1 thread", differ, 2*4*len(matMulSizes))
	})
}

// firstDiff returns the first index where a and b differ bitwise, or -1.
func firstDiff(a, b []float32) int {
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return i
		}
	}
	return -1
}

func TestMatMulPanics(t *testing.T) {
	mustPanic(t, "engine: MatMul", func() {
		engine.NewCPU(1).MatMul(false, false, 2, 3, 4, 1, make([]float32, 8), make([]float32, 12), 0, make([]float32, 5))
	})
}
