package engine_test

import (
	"fmt"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// A 2×2 averaging filter over a 3×3 image, as a convolution, and the
// adjoint passes that backpropagation uses.
func ExampleCPU_Conv2d() {
	e := engine.NewCPU(1)
	g := engine.ConvGeom{N: 1, In: 1, H: 3, W: 3, Out: 1, KH: 2, KW: 2}.Init()
	x := tensor.FromData([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	w := tensor.FromData([]float32{0.25, 0.25, 0.25, 0.25}, g.WeightShape()...)
	var y, dx tensor.Tensor
	e.Conv2d(&y, x, w, &g)
	fmt.Println("y:", y.Shape, y.Data)

	dy := tensor.FromData([]float32{1, 0, 0, 0}, g.OutShape()...) // gradient of y[0,0]
	e.Conv2dInputGrad(&dx, dy, w, &g)
	fmt.Println("dx:", dx.Data)
	dw := tensor.New(g.WeightShape()...)
	e.Conv2dWeightGrad(dw, x, dy, &g, 1, 0)
	fmt.Println("dw:", dw.Data)
	// Output:
	// y: [1 1 2 2] [3 4 6 7]
	// dx: [0.25 0.25 0 0.25 0.25 0 0 0 0]
	// dw: [1 2 4 5]
}

// MatMul multiplies row-major matrices, transposed on request.
func ExampleCPU_MatMul() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	b := []float32{1, 0, 0, 1, 1, 1} // 2×3, used transposed: c = a·bᵀ
	c := make([]float32, 4)
	engine.NewCPU(2).MatMul(false, true, 2, 2, 3, 1, a, b, 0, c)
	fmt.Println(c)
	// Output: [1 6 4 15]
}

// Attention scores Q Kᵀ of two heads read in place from (N, T, D)
// projections (head h is columns h·D/H … of every token), with the causal
// structure: the products skip what lies above the diagonal (here, with
// T = 3 below the 32-row block, they compute it and the causal softmax
// ignores it).
func ExampleCPU_BatchedMatMul() {
	e := engine.NewCPU(1)
	const N, T, H, dh = 1, 3, 2, 1
	D := H * dh
	q := []float32{1, 10, 2, 20, 3, 30} // tokens × (head 0, head 1)
	k := []float32{1, 1, 1, 2, 1, 3}
	heads := engine.MatLayout{Sample: T * D, Head: dh, LD: D}
	s := make([]float32, N*H*T*T)
	e.BatchedMatMul(engine.Batch{N: N, H: H, A: heads, B: heads, C: engine.Packed(H, T, T), Tri: engine.LowerC},
		false, true, T, T, dh, 1, q, k, 0, s)
	fmt.Println("head 0:", s[:T*T])
	fmt.Println("head 1:", s[T*T:])
	// Output:
	// head 0: [1 1 1 2 2 2 3 3 3]
	// head 1: [10 20 30 20 40 60 30 60 90]
}
