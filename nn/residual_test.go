package nn_test

import (
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// plainBackend hides the CPU backend's optional fused kernels (AddReLU,
// BatchNormReLUTrain), so that layers take their unfused paths.
type plainBackend struct{ engine.Backend }

// TestFusedActivations checks that the fused paths (a residual block's
// ReLU fused with the sum, a BatchNorm fused with the ReLU after it) give
// bit-identical logits, input gradient, parameter gradients and running
// statistics to the unfused layers.
func TestFusedActivations(t *testing.T) {
	pr := newResnetProblem(newRand(31))
	run := func(e engine.Backend) []*tensor.Tensor {
		root := buildResNet(newRand(32), nil)
		c := &nn.Ctx{E: e, Train: true, Seed: 1, Step: 1}
		_, logits, dx := pr.step(c, root)
		out := []*tensor.Tensor{logits.Clone(), dx.Clone()}
		for _, p := range trainable(root) {
			out = append(out, p.Grad.Clone())
		}
		nn.Walk(root, func(l nn.Layer) {
			if bn, ok := l.(*nn.BatchNorm); ok {
				out = append(out, bn.Params()[2].Value.Clone(), bn.Params()[3].Value.Clone())
			}
		})
		return out
	}
	for _, th := range []int{1, 2} {
		fused, plain := run(engine.NewCPU(th)), run(plainBackend{engine.NewCPU(th)})
		for i := range fused {
			if !tensor.Equal(fused[i], plain[i]) {
				t.Errorf("threads %d: result %d (logits, δx, gradients, running statistics) differs between fused and unfused layers", th, i)
			}
		}
	}
}
