package metrics_test

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/metrics"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

func ExampleAngle() {
	w := []float32{1, 0, 0, 1}
	fmt.Println(metrics.Angle(w, w))
	fmt.Println(metrics.Angle(w, []float32{-1, 0, 0, -1}))
	fmt.Println(metrics.Angle(w, []float32{0, 1, 1, 0}))
	fmt.Printf("%.4f\n", metrics.Angle(w, []float32{1, 1, 0, 1}))
	fmt.Println(math.IsNaN(metrics.Angle(w, []float32{0, 0, 0, 0})))
	// Output:
	// 0
	// 180
	// 90
	// 35.2644
	// true
}

func ExampleNormRatio() {
	w := []float32{3, 4}
	b := []float32{6, 8}
	fmt.Println(metrics.NormRatio(b, w))
	// Output: 2
}

// Collect on a logging step: after the training backward pass, before the
// optimizer step.
func ExampleCollector_Collect() {
	net, _ := models.Build(models.Spec{Arch: "mlp", In: []int{1, 4, 4}, Classes: 3, Hidden: []int{16}}, tensor.NewRand(1, 1))
	fa, _ := rules.New("fa", nil)
	bound, _ := rules.Apply(net, fa, rules.Options{}, &rules.Env{Rand: tensor.NewRand(1, 2), Seed: 1})

	c := &nn.Ctx{E: engine.NewCPU(1), Train: true, Seed: 1, Step: 100}
	x := tensor.New(8, 1, 4, 4)
	tensor.FillNormal(x, tensor.NewRand(1, 3), 1)
	labels := []int32{0, 1, 2, 0, 1, 2, 0, 1}
	var dlogits tensor.Tensor
	c.E.SoftmaxCrossEntropy(&dlogits, net.Forward(c, x), labels, 0)
	net.Backward(c, &dlogits)

	var col metrics.Collector
	snap := col.Collect(c, net, bound, &dlogits)
	for _, l := range snap.Layers {
		// The output layer's update is exact under FA; the hidden one's is not.
		fmt.Printf("%s end-to-end angle > 1°: %v\n", l.Name, l.EndToEndAngle > 1)
	}
	line, _ := json.Marshal(snap.Lines()[1])
	fmt.Println(string(line)[:58])
	// Output:
	// fc1 end-to-end angle > 1°: true
	// fc2 end-to-end angle > 1°: false
	// {"kind":"align","step":100,"rule":"fa","layer":"fc2","boun
}
