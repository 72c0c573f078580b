package engine_test

import (
	"fmt"
	"testing"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
)

// benchConvs are the convolutions of asym's ConvNet and CIFAR-style
// ResNet-20 on 28×28 single-channel images, at batch 128.
var benchConvs = []struct {
	name string
	g    gc.Conv
}{
	{"convnet/conv1", gc.Conv{N: 128, C: 1, H: 28, W: 28, Out: 32, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"convnet/conv2", gc.Conv{N: 128, C: 32, H: 14, W: 14, Out: 64, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"resnet20/layer1", gc.Conv{N: 128, C: 16, H: 28, W: 28, Out: 16, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"resnet20/layer2", gc.Conv{N: 128, C: 32, H: 14, W: 14, Out: 32, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"resnet20/layer3", gc.Conv{N: 128, C: 64, H: 7, W: 7, Out: 64, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"resnet20/layer2.0.conv1-s2", gc.Conv{N: 128, C: 16, H: 28, W: 28, Out: 32, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}},
	{"resnet20/downsample-1x1-s2", gc.Conv{N: 128, C: 16, H: 28, W: 28, Out: 32, KH: 1, KW: 1, SH: 2, SW: 2}},
}

// BenchmarkConv measures the forward pass, the input gradient and the
// weight gradient of each convolution on all cores with the selected BLAS
// (ASYM_BLAS, or OpenBLAS when built with -tags openblas), reporting
// GFLOP/s (2·N·Out·OH·OW·C/G·KH·KW per call).
func BenchmarkConv(b *testing.B) {
	for _, bc := range benchConvs {
		oh, ow := bc.g.OutHW()
		flops := 2 * float64(bc.g.N*bc.g.Out*oh*ow*bc.g.C/max(bc.g.G, 1)*bc.g.KH*bc.g.KW)
		s := newConvStep(bc.g, 1)
		e := engine.NewCPU(0)
		for _, op := range []struct {
			name string
			fn   func()
		}{
			{"forward", func() { e.Conv2d(s.y, s.x, s.w, &s.g) }},
			{"inputgrad", func() { e.Conv2dInputGrad(s.dx, s.dy, s.w, &s.g) }},
			{"weightgrad", func() { e.Conv2dWeightGrad(s.dw, s.x, s.dy, &s.g, 1, 0) }},
		} {
			b.Run(fmt.Sprintf("%s/%s/%s", blas.CurrentName(), bc.name, op.name), func(b *testing.B) {
				op.fn()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					op.fn()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkMatMul measures CPU.MatMul (c = a·b) on 1 and all threads.
func BenchmarkMatMul(b *testing.B) {
	for _, sz := range [][3]int{{64, 784, 288}, {128, 256, 784}, {256, 256, 256}, {1024, 1024, 1024}} {
		m, n, k := sz[0], sz[1], sz[2]
		rng := newRand(1)
		x, y := gc.Uniform(rng, m*k, -1, 1), gc.Uniform(rng, k*n, -1, 1)
		c := make([]float32, m*n)
		for _, th := range []int{1, 0} {
			e := engine.NewCPU(th)
			b.Run(fmt.Sprintf("%s/%dx%dx%d/threads=%d", blas.CurrentName(), m, n, k, e.Threads()), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					e.MatMul(false, false, m, n, k, 1, x, y, 0, c)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
