//go:build cgo && openblas

package openblas_test

import (
	"fmt"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/blas/openblas"
	"github.com/asymlab/asym/blas/sgemm"
	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/internal/blastest"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// gemmBenchSizes are (m, n, k) typical of asym's networks: a ConvNet
// convolution as a GEMM (64 filters × 28·28 positions × 32·3·3), a dense
// layer's weight gradient, a square mid-size product and a large one.
var gemmBenchSizes = [][3]int{{64, 784, 288}, {128, 256, 784}, {256, 256, 256}, {1024, 1024, 1024}}

// BenchmarkSgemm compares, for c = a·b (row-major, no transposes), gonum's
// Sgemm, asym's pure-Go one (package sgemm), OpenBLAS through asym's
// wrapper, OpenBLAS called directly through cgo (cblas_sgemm, no wrapper)
// and the engine's MatMul path on OpenBLAS, single-threaded and on 2 threads (the engine splitting the
// product over its workers; the raw call letting OpenBLAS use 2 threads).
// It reports GFLOP/s (2·m·n·k per product).
func BenchmarkSgemm(b *testing.B) {
	if err := blas.Use("openblas"); err != nil {
		b.Fatal(err)
	}
	defer blas.Use("go")
	for _, sz := range gemmBenchSizes {
		m, n, k := sz[0], sz[1], sz[2]
		rng := tensor.NewRand(1, 2)
		x, y := gc.Uniform(rng, m*k, -1, 1), gc.Uniform(rng, k*n, -1, 1)
		c := make([]float32, m*n)
		e1, e2 := engine.NewCPU(1), engine.NewCPU(2)
		for _, v := range []struct {
			name string
			fn   func()
		}{
			{"gonum", func() { gonum.Implementation{}.Sgemm(gblas.NoTrans, gblas.NoTrans, m, n, k, 1, x, k, y, n, 0, c, n) }},
			{"go", func() { sgemm.Implementation{}.Sgemm(gblas.NoTrans, gblas.NoTrans, m, n, k, 1, x, k, y, n, 0, c, n) }},
			{"openblas-wrapper/1t", func() {
				openblas.Implementation{}.Sgemm(gblas.NoTrans, gblas.NoTrans, m, n, k, 1, x, k, y, n, 0, c, n)
			}},
			{"raw-cblas/1t", func() { blastest.RawSgemm(m, n, k, x, y, c) }},
			{"engine-matmul/1t", func() { e1.MatMul(false, false, m, n, k, 1, x, y, 0, c) }},
			{"raw-cblas/2t", func() { blastest.RawSgemm(m, n, k, x, y, c) }},
			{"engine-matmul/2t", func() { e2.MatMul(false, false, m, n, k, 1, x, y, 0, c) }},
		} {
			if v.name == "gonum" && m*n*k > 1<<26 && testing.Short() {
				continue
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, v.name), func(b *testing.B) {
				openblas.SetThreads(1)
				if v.name == "raw-cblas/2t" {
					openblas.SetThreads(2)
				}
				defer openblas.SetThreads(1)
				v.fn()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					v.fn()
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
