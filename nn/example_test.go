package nn_test

import (
	"fmt"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// A dense layer's backward pass computes δx = Bᵀδy with its backward
// weights B (W itself under backprop) and the true local gradient δW.
func ExampleLinear_SetFeedback() {
	l := nn.NewLinear("fc", 2, 2, false, nn.HeNormal, newRand(1))
	copy(l.Weight().Value.Data, []float32{1, 2, 3, 4})
	c := &nn.Ctx{E: engine.NewCPU(1), Train: true}
	x := tensor.FromData([]float32{1, 1}, 1, 2)
	dy := tensor.FromData([]float32{1, 0}, 1, 2)

	l.Forward(c, x)
	fmt.Println("backprop δx:", l.Backward(c, dy, true).Data, "δW:", l.Weight().Grad.Data)

	b := &nn.Param{Name: "fc.feedback", Kind: nn.KindFeedback, Value: tensor.FromData([]float32{-1, 0, 0, 1}, 2, 2)}
	l.SetFeedback(b)
	l.Forward(c, x)
	fmt.Println("with B δx:", l.Backward(c, dy, true).Data, "δW:", l.Weight().Grad.Data)
	// Output:
	// backprop δx: [1 2] δW: [1 1 0 0]
	// with B δx: [-1 0] δW: [1 1 0 0]
}
