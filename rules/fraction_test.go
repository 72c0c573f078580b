package rules_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

func TestFractionRows(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		n    int
		want int
	}{
		{0, 128, 128}, {1, 128, 128}, {0.5, 128, 64}, {0.25, 128, 32}, {0.25, 29, 7}, // 7.25
		{0.5, 5, 3},              // 2.5: halves round up
		{0.5, 3, 2}, {0.1, 3, 1}, // 0.3: at least one sample
		{0.999, 3, 3}, {0.5, 1, 1},
	} {
		if got := rules.FractionRows(tc.f, tc.n); got != tc.want {
			t.Errorf("FractionRows(%v, %d) = %d, want %d", tc.f, tc.n, got, tc.want)
		}
	}
}

// TestFractionUsesFirstSamples checks that with Env.Fraction = f the
// regularizer's gradient and loss are those of the whole-batch regularizer
// on the explicit sub-batch of the first FractionRows(f, N) samples (a
// second copy of the layer run forward on that sub-batch alone), and that
// they differ from the whole batch's, for every layer geometry, the fused
// code paths of Update, and the mirror-phase noise input.
func TestFractionUsesFirstSamples(t *testing.T) {
	cases := []struct {
		rule     string
		settings map[string]float64
	}{
		{"aa", map[string]float64{"alpha": 0.6, "beta": 0.8}},
		{"ia", map[string]float64{"alpha": 0.5, "beta": 0.3, "gamma": 0.2}},
		{"wm", map[string]float64{"alpha": 0.3, "beta": 0.7}},
		{"wm", map[string]float64{"alpha": 0.3, "beta": 0.7, "noise": 0.5}},
		{"custom", map[string]float64{"decay": 0.3, "amp": 0.5, "null": 0.2, "sparse": 0.4, "self": 0.6}},
		{"custom", map[string]float64{"null": 0.3, "sparse": 0.5}},
	}
	for _, positions := range []string{rules.PositionsSum, rules.PositionsMean} {
		for _, lc := range layerCases() {
			for _, tc := range cases {
				for _, f := range []float64{0.5, 0.34} {
					t.Run(positions+"/"+lc.name+"/"+tc.rule, func(t *testing.T) {
						checkFraction(t, lc, tc.rule, tc.settings, positions, f)
					})
				}
			}
		}
	}
}

func checkFraction(t *testing.T, lc layerCase, rule string, settings map[string]float64, positions string, f float64) {
	// Two identical layers and batches.
	lf, x, _ := lc.build(rand.New(rand.NewPCG(31, 32)))
	ls, xs, _ := lc.build(rand.New(rand.NewPCG(31, 32)))
	n := x.Shape[0]
	m := rules.FractionRows(f, n)
	if m == n {
		t.Fatalf("fraction %v of %d samples is the whole batch: the case tests nothing", f, n)
	}
	xs = tensor.FromData(xs.Data[:m*xs.RowLen()], append([]int{m}, xs.Shape[1:]...)...)
	c := newCtx()
	c.Step = 2
	lf.Forward(c, x)
	ls.Forward(c, xs)
	ef, es := newEnv(7), newEnv(7)
	ef.Positions, es.Positions = positions, positions
	ef.Fraction = f
	fbf := bindOne(t, lf, rule, settings, ef)
	fbs := bindOne(t, ls, rule, settings, es)
	fbf.Update(c, lf)
	gf := lf.Feedback().Grad.Clone()
	fbs.Update(c, ls)
	gs := ls.Feedback().Grad
	// Both compute the same products on the same m samples; the layers'
	// kernels may only block the batch differently (observed: equal).
	s := maxAbs(to64(gs.Data))
	if d := maxAbsDiff(gf.Data, to64(gs.Data)); !(d <= 1e-6*s) {
		t.Errorf("fraction %v: |∇ − ∇ on the first %d of %d samples| = %g, largest entry %g", f, m, n, d, s)
	}
	lf0, fLoss := lf.Feedback(), fbf.(rules.Objective).Loss(c, lf)
	sLoss := fbs.(rules.Objective).Loss(c, ls)
	if math.Abs(fLoss-sLoss) > 1e-6*math.Abs(sLoss) {
		t.Errorf("fraction %v: Loss = %g, on the explicit sub-batch %g", f, fLoss, sLoss)
	}
	// The whole batch gives another gradient (the fraction is not ignored).
	whole, xw, _ := lc.build(rand.New(rand.NewPCG(31, 32)))
	whole.Forward(c, xw)
	ew := newEnv(7)
	ew.Positions = positions
	fbw := bindOne(t, whole, rule, settings, ew)
	fbw.Update(c, whole)
	if maxAbsDiff(whole.Feedback().Grad.Data, to64(lf0.Grad.Data)) <= 1e-3*s {
		t.Errorf("fraction %v: the gradient equals the whole batch's", f)
	}
	// The layer still runs on whole batches afterwards.
	var y tensor.Tensor
	lf.Apply(c.E, &y, lf.Weight().Value, x)
	lf.ApplyT(c.E, &y, lf.Weight().Value, lf.Forward(c, x))
	if y.Shape[0] != n {
		t.Errorf("after the fraction, ApplyT on the whole batch gives %v", y.Shape)
	}
}
