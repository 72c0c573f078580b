package rules_test

import (
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/rules/ruletest"
	"github.com/asymlab/asym/tensor"
)

// BenchmarkRuleStep measures one training step of every registered rule on
// the ConvNet (1×28×28 inputs, batch 128): forward, cross-entropy and the
// network's backward pass with the rule's Prepare and Update, without the
// optimizer, on the BLAS TestMain selects (OpenBLAS with -tags openblas).
// Compare each rule's time with bp's.
func BenchmarkRuleStep(b *testing.B) {
	for _, name := range rules.Names() {
		b.Run(name, func(b *testing.B) {
			info, _ := rules.Lookup(name)
			net, err := models.Build(models.Spec{Arch: "convnet", In: []int{1, 28, 28}, Classes: 10}, tensor.NewRand(1, 0))
			if err != nil {
				b.Fatal(err)
			}
			r, err := rules.New(name, ruletest.Settings(info))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rules.Apply(net, r, rules.Options{}, &rules.Env{Rand: tensor.NewRand(1, 1), Seed: 1, WeightDecay: 1e-4}); err != nil {
				b.Fatal(err)
			}
			x, y := batch(rand.New(rand.NewPCG(1, 2)), 128, net.In, net.Classes)
			c := &nn.Ctx{E: engine.NewCPU(0), Train: true, Seed: 1}
			forwardBackward(c, net, x, y) // grow the buffers
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.Step = uint64(i)
				forwardBackward(c, net, x, y)
			}
		})
	}
}
