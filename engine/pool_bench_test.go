package engine

import (
	"testing"

	"github.com/asymlab/asym/tensor"
)

// BenchmarkMaxPool2x2 measures the 2×2/2 fast path on a ConvNet-sized
// activation (128×32×28×28).
func BenchmarkMaxPool2x2(b *testing.B) {
	for _, th := range []int{1, 2} {
		b.Run(map[int]string{1: "threads1", 2: "threads2"}[th], func(b *testing.B) {
			c := NewCPU(th)
			x := tensor.New(128, 32, 28, 28)
			tensor.FillNormal(x, tensor.NewRand(1, 1), 1)
			g := PoolGeom{N: 128, C: 32, H: 28, W: 28, KH: 2, KW: 2}.Init()
			var y tensor.Tensor
			var idx []int32
			b.SetBytes(int64(4 * x.Len()))
			b.ReportAllocs()
			for b.Loop() {
				c.MaxPool2d(&y, &idx, x, &g)
			}
		})
	}
}
