package train

import (
	"fmt"
	"testing"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// bUpdateModels are the models of the rule.b_every / rule.b_fraction tests:
// dense layers, and convolutions with batch normalisation.
func bUpdateConfigs(rule string) map[string]Config {
	mlp := small(rule)
	res := small(rule)
	res.Model = ModelConfig{Arch: "resnet", Depth: 8, Width: 0.25}
	return map[string]Config{"mlp": mlp, "resnet8": res}
}

// TestBEveryOneFractionOneIsExact checks that b_every = 1 and b_fraction =
// 1 train exactly as the plain training step did before these options
// existed: forward, loss, backward with every rule's update of B, one
// optimizer step over every parameter, written out here, bit for bit.
func TestBEveryOneFractionOneIsExact(t *testing.T) {
	for _, rule := range []string{"aa", "ia"} {
		for name, c := range bUpdateConfigs(rule) {
			t.Run(rule+"/"+name, func(t *testing.T) {
				ref := build(t, c)
				c.Rule.BEvery, c.Rule.BFraction = 1, 1
				tr := build(t, c)
				steps := 0
				for b, err := range tr.loader.Epoch(0, 0) {
					if err != nil {
						t.Fatal(err)
					}
					if _, _, err := tr.TrainStep(b.X, b.Labels); err != nil {
						t.Fatal(err)
					}
					ctx := &nn.Ctx{E: ref.E, Train: true, Seed: c.Run.Seed, Step: uint64(steps)}
					logits := ref.Net.Forward(ctx, b.X)
					ref.E.SoftmaxCrossEntropy(&ref.dl, logits, b.Labels, 0)
					ref.Net.Backward(ctx, &ref.dl)
					ref.Opt.Step()
					if steps++; steps == 6 {
						break
					}
				}
				stateEqual(t, ref, tr)
			})
		}
	}
}

// TestBEveryUpdatesBOnlyOnEveryKthStep checks that with b_every = K the
// backward weights (and only they) change on steps 0, K, 2K, … alone,
// that W changes on every step, and that the first step is that of K = 1.
func TestBEveryUpdatesBOnlyOnEveryKthStep(t *testing.T) {
	const k = 3
	for _, rule := range []string{"aa", "ia", "kp"} {
		for name, c := range bUpdateConfigs(rule) {
			t.Run(rule+"/"+name, func(t *testing.T) {
				every := build(t, c)
				c.Rule.BEvery = k
				tr := build(t, c)
				trainSteps(t, tr, 2*k+2, func(step int, b *data.Batch, before, after []wb) {
					for i, l := range tr.Net.WeightLayers() {
						if tensor.Equal(before[i].w, after[i].w) {
							t.Errorf("step %d: %s: W did not change", step, l.Name())
						}
						changed := !tensor.Equal(before[i].b, after[i].b)
						if want := step%k == 0; changed != want {
							t.Errorf("step %d: %s: B changed = %v, want %v", step, l.Name(), changed, want)
						}
					}
					if step == 0 {
						if _, _, err := every.TrainStep(b.X, b.Labels); err != nil {
							t.Fatal(err)
						}
						stateEqual(t, every, tr)
					}
				})
			})
		}
	}
}

// TestBFractionReachesTheRule checks that rule.b_fraction changes the
// update of B (the rules' own tests check which samples it uses).
func TestBFractionReachesTheRule(t *testing.T) {
	c := small("aa")
	whole := build(t, c)
	c.Rule.BFraction = 0.5
	half := build(t, c)
	for b, err := range half.loader.Epoch(0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range []*Trainer{whole, half} {
			if _, _, err := tr.TrainStep(b.X, b.Labels); err != nil {
				t.Fatal(err)
			}
		}
		break
	}
	lw, lh := whole.Net.WeightLayers()[0], half.Net.WeightLayers()[0]
	if !tensor.Equal(lw.Weight().Value, lh.Weight().Value) {
		t.Error("b_fraction changed the update of W")
	}
	if tensor.Equal(lw.Feedback().Value, lh.Feedback().Value) {
		t.Error("b_fraction = 0.5 gave the same B as the whole batch")
	}
}

type wb struct{ w, b *tensor.Tensor }

func snapshot(ls []nn.WeightLayer) []wb {
	s := make([]wb, len(ls))
	for i, l := range ls {
		if l.Feedback() == l.Weight() {
			panic(fmt.Sprintf("%s has no B of its own", l.Name()))
		}
		s[i] = wb{l.Weight().Value.Clone(), l.Feedback().Value.Clone()}
	}
	return s
}

// trainSteps runs n training steps of tr on its first epoch's batches and
// calls check after each with the step, its batch and snapshots of the
// weight layers before and after it.
func trainSteps(t *testing.T, tr *Trainer, n int, check func(step int, b *data.Batch, before, after []wb)) {
	t.Helper()
	layers := tr.Net.WeightLayers()
	step := 0
	for b, err := range tr.loader.Epoch(0, 0) {
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot(layers)
		if _, _, err := tr.TrainStep(b.X, b.Labels); err != nil {
			t.Fatal(err)
		}
		check(step, b, before, snapshot(layers))
		if step++; step == n {
			return
		}
	}
	t.Fatalf("the epoch ended after %d of %d steps", step, n)
}

// TestBCoast checks rule.b_coast: between two updates of B its optimizer
// steps with a zero gradient, so B keeps moving under momentum, and stays
// put without momentum (and without weight decay on B, the default).
func TestBCoast(t *testing.T) {
	const k = 3
	for _, momentum := range []float64{0.9, 0} {
		t.Run(fmt.Sprint("momentum=", momentum), func(t *testing.T) {
			c := small("aa")
			c.Rule.BEvery, c.Rule.BCoast = k, true
			nesterov := momentum != 0
			c.Optim.Feedback = &FeedbackOpt{Momentum: &momentum, Nesterov: &nesterov}
			tr := build(t, c)
			trainSteps(t, tr, 2*k+1, func(step int, _ *data.Batch, before, after []wb) {
				for i, l := range tr.Net.WeightLayers() {
					changed := !tensor.Equal(before[i].b, after[i].b)
					if want := step%k == 0 || momentum != 0; changed != want {
						t.Errorf("step %d: %s: B changed = %v, want %v", step, l.Name(), changed, want)
					}
				}
			})
		})
	}
}
