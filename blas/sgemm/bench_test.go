package sgemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BenchmarkSgemm measures c = op(a)·op(b) with every kernel the machine
// supports and with gonum's Sgemm, single-threaded, at shapes of asym's
// models (see asym bench --gemm for the comparison with OpenBLAS), and
// reports GFLOP/s (2·m·n·k per product).
func BenchmarkSgemm(b *testing.B) {
	shapes := []struct {
		tA, tB  gblas.Transpose
		m, n, k int
	}{
		{gblas.NoTrans, gblas.Trans, 128, 256, 784},
		{gblas.Trans, gblas.NoTrans, 256, 784, 128},
		{gblas.NoTrans, gblas.NoTrans, 64, 1176, 288},
		{gblas.NoTrans, gblas.Trans, 1024, 128, 512},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prev := active
	defer func() { active = prev }()
	for _, sh := range shapes {
		x, y, c := make([]float32, sh.m*sh.k), make([]float32, sh.k*sh.n), make([]float32, sh.m*sh.n)
		for i := range x {
			x[i] = rng.Float32()
		}
		for i := range y {
			y[i] = rng.Float32()
		}
		lda, ldb := sh.k, sh.n
		if sh.tA != gblas.NoTrans {
			lda = sh.m
		}
		if sh.tB != gblas.NoTrans {
			ldb = sh.k
		}
		impls := map[string]gblas.Float32{}
		var names []string
		for _, k := range kernels() {
			if k.micros != nil {
				names = append(names, k.name)
			}
		}
		names = append(names, "gonum")
		for _, name := range names {
			var impl gblas.Float32 = Implementation{}
			if name == "gonum" {
				impl = gonum.Implementation{}
			}
			impls[name] = impl
			b.Run(fmt.Sprintf("%c%c/%dx%dx%d/%s", sh.tA, sh.tB, sh.m, sh.n, sh.k, name), func(b *testing.B) {
				for _, k := range kernels() {
					if k.name == name {
						active = &k
					}
				}
				for b.Loop() {
					impl.Sgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, x, lda, y, ldb, 0, c, sh.n)
				}
				b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
