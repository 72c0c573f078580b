package optim_test

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/tensor"
)

// AdamW on W with decoupled weight decay (not on the bias), a warm-up of
// 2 steps into a cosine over 10, and clipping of the gradients to a global
// norm of 1; plain SGD on the backward weights B.
func ExampleMethodAdamW() {
	param := func(name string, kind nn.Kind, v, g float32) *nn.Param {
		return &nn.Param{Name: name, Kind: kind,
			Value: tensor.FromData([]float32{v}, 1), Grad: tensor.FromData([]float32{g}, 1)}
	}
	w := param("fc.weight", nn.KindWeight, 1, 3)
	b := param("fc.bias", nn.KindBias, 1, 4)
	bw := param("fc.backward", nn.KindFeedback, 1, 0.5)
	main := optim.Settings{Method: optim.MethodAdamW, LR: 0.01, WeightDecay: 0.1, ClipNorm: 1,
		Schedule: optim.Schedule{Name: optim.ScheduleCosine, Unit: optim.UnitStep, Warmup: 2}}
	sgd := optim.Settings{LR: 0.1}
	o, err := optim.New([]*nn.Param{w, b, bw}, optim.Config{Main: main, Feedback: &sgd, Clock: optim.Clock{TotalSteps: 10}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		fmt.Printf("lr %.4f: ", o.LR(optim.MainGroup))
		o.Step()
		fmt.Printf("gradient norm %.0f, clipped to %.2f; W %.4f, bias %.4f, B %.2f\n",
			o.GradNorm(optim.MainGroup), math.Hypot(float64(w.Grad.Data[0]), float64(b.Grad.Data[0])), w.Value.Data[0], b.Value.Data[0], bw.Value.Data[0])
		w.Grad.Data[0], b.Grad.Data[0] = 3, 4 // the next gradients
	}
	// Output:
	// lr 0.0000: gradient norm 5, clipped to 1.00; W 1.0000, bias 1.0000, B 0.95
	// lr 0.0050: gradient norm 5, clipped to 1.00; W 0.9945, bias 0.9950, B 0.90
	// lr 0.0100: gradient norm 5, clipped to 1.00; W 0.9835, bias 0.9850, B 0.85
}
