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
