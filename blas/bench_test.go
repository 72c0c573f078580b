package blas_test

import (
	"fmt"
	"testing"

	gblas "gonum.org/v1/gonum/blas"

	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// gemmBenchSizes are (m, n, k) typical of asym's networks: a ConvNet
// convolution as a GEMM (64 filters × 28·28 positions × 32·3·3), a dense
// layer's weight gradient, a square mid-size product and a large one.
var gemmBenchSizes = [][3]int{{64, 784, 288}, {128, 256, 784}, {256, 256, 256}, {1024, 1024, 1024}}

// BenchmarkSgemmGo measures the pure-Go Sgemm (c = a·b, row-major, no
// transposes) and reports GFLOP/s (2·m·n·k per product).
func BenchmarkSgemmGo(b *testing.B) {
	impl := goImpl(b).Float32
	for _, sz := range gemmBenchSizes {
		m, n, k := sz[0], sz[1], sz[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			benchSgemm(b, impl, m, n, k)
		})
	}
}

func benchSgemm(b *testing.B, impl gblas.Float32, m, n, k int) {
	rng := tensor.NewRand(1, 2)
	x, y := gc.Uniform(rng, m*k, -1, 1), gc.Uniform(rng, k*n, -1, 1)
	c := make([]float32, m*n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		impl.Sgemm(gblas.NoTrans, gblas.NoTrans, m, n, k, 1, x, k, y, n, 0, c, n)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
