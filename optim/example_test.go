package optim_test

import (
	"errors"
	"fmt"
	"math"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/tensor"
)

// A layer's forward weights W, bias and trainable backward weights B: W
// and the bias follow the main settings (Nesterov momentum, weight decay on
// W only), B gets its own learning rate, plain gradient descent and noisy
// updates.
func ExampleNew() {
	param := func(name string, kind nn.Kind, v, g float32) *nn.Param {
		return &nn.Param{Name: name, Kind: kind,
			Value: tensor.FromData([]float32{v}, 1), Grad: tensor.FromData([]float32{g}, 1)}
	}
	w := param("fc.weight", nn.KindWeight, 1, 0.5)
	b := param("fc.bias", nn.KindBias, 1, 0.5)
	bw := param("fc.backward", nn.KindFeedback, 1, 0.5)

	main := optim.Settings{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4}
	feedback := main // start from the main settings, change what differs
	feedback.Method, feedback.Momentum, feedback.Nesterov = optim.MethodGD, 0, false
	feedback.LR = 0.01
	feedback.Noise = optim.Noise{Distribution: optim.NoiseNormal, Variance: 1}

	o, err := optim.New([]*nn.Param{w, b, bw}, optim.Config{Main: main, Feedback: &feedback, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range o.Groups() {
		fmt.Printf("%s: %d params, lr %g\n", g.Name, len(g.Params), g.Settings.LR)
	}
	o.Step()
	// W: d = 0.5 + 1e-4·1, buf = d, p = 1 − 0.1·(d + 0.9·d).
	fmt.Printf("W %.6f, bias %.6f\n", w.Value.Data[0], b.Value.Data[0])
	// B: 1 − 0.01·0.5 plus 0.01·ε.
	fmt.Printf("B moved by noise: %v\n", math.Abs(float64(bw.Value.Data[0])-0.995) > 1e-6)
	// Checkpoint state: the step and the momentum buffers of W and the bias.
	st := o.State()
	fmt.Println(st.Step, st.Tensors[0].Name, st.Tensors[1].Name, len(st.Tensors))
	// Output:
	// main: 2 params, lr 0.1
	// feedback: 1 params, lr 0.01
	// W 0.904981, bias 0.905000
	// B moved by noise: true
	// 1 optim.momentum.fc.weight optim.momentum.fc.bias 2
}

// A cosine schedule to 1% of the base rate over 10 epochs of 100 steps,
// after a linear warm-up from 0 over the first 2 epochs.
func ExampleSchedule_cosineWarmup() {
	s := optim.Schedule{Name: optim.ScheduleCosine, Floor: 0.01, Warmup: 2}
	clock := optim.Clock{StepsPerEpoch: 100, TotalSteps: 1000}
	if err := s.Validate(clock); err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []int64{0, 50, 100, 200, 600, 1000} {
		fmt.Printf("step %4d: ×%.4f\n", step, s.Factor(step, clock.StepsPerEpoch, clock.TotalSteps))
	}
	// Output:
	// step    0: ×0.0000
	// step   50: ×0.2500
	// step  100: ×0.5000
	// step  200: ×1.0000
	// step  600: ×0.5050
	// step 1000: ×0.0100
}

// The step schedule of Goyal et al.: ×0.1 at epochs 30, 60 and 80.
func ExampleStepSchedule() {
	s := optim.StepSchedule(0.1, 30, 60, 80)
	for _, epoch := range []int64{0, 29, 30, 60, 89} {
		fmt.Printf("epoch %2d: ×%.4g\n", epoch, s.Factor(epoch*100, 100, 0))
	}
	// Output:
	// epoch  0: ×1
	// epoch 29: ×1
	// epoch 30: ×0.1
	// epoch 60: ×0.01
	// epoch 89: ×0.001
}

func ExampleConfig_Validate() {
	cfg := optim.Config{Main: optim.Settings{LR: 0.1, Momentum: 1.2, Schedule: optim.Schedule{Name: "linear"}}}
	err := cfg.Validate()
	fmt.Println(errors.Is(err, optim.ErrConfig))
	fmt.Println(err)
	// Output:
	// true
	// optim: invalid config: main.momentum = 1.2: must be in [0, 1)
	// optim: invalid config: main.schedule.name = "linear": must be one of "constant", "step", "cosine"
}

func ExampleCheckFinite() {
	p := &nn.Param{Name: "layer1.0.conv1.weight", Kind: nn.KindWeight,
		Value: tensor.New(3), Grad: tensor.FromData([]float32{0, float32(math.NaN()), 1}, 3)}
	err := optim.CheckFinite(1234, []*nn.Param{p})
	fmt.Println(err)
	fmt.Println(errors.Is(err, optim.ErrDiverged))
	// Output:
	// step 1234: gradient of layer1.0.conv1.weight contains NaN (first at element 1)
	// true
}
