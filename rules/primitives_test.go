package rules_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// regCase is a rule defined by a regularizer, with the primitive weights
// it must use, written out here from the paper (not read from the rule).
type regCase struct {
	name     string
	rule     string
	settings map[string]float64
	want     rules.Coeffs
}

func regCases() []regCase {
	return []regCase{
		// Each primitive alone, with a weight ≠ 1 so a dropped factor shows.
		{"decay", "custom", map[string]float64{"decay": 0.7}, rules.Coeffs{Decay: 0.7}},
		{"amp", "custom", map[string]float64{"amp": 0.7}, rules.Coeffs{Amp: 0.7}},
		{"null", "custom", map[string]float64{"null": 0.7}, rules.Coeffs{Null: 0.7}},
		{"sparse", "custom", map[string]float64{"sparse": 0.7}, rules.Coeffs{Sparse: 0.7}},
		{"self", "custom", map[string]float64{"self": 0.7}, rules.Coeffs{Self: 0.7}},
		// The named rules with their defaults and with distinct weights (a
		// swapped coefficient shows).
		// (wm on the data: its default is the mirror phase on noise, checked
		// by TestNoiseGradientMatchesLoss.)
		{"wm-default", "wm", map[string]float64{"noise": 0}, rules.Coeffs{Decay: 1e-3, Amp: 1e-3}},
		{"wm", "wm", map[string]float64{"alpha": 0.3, "beta": 0.7, "noise": 0}, rules.Coeffs{Decay: 0.3, Amp: 0.7}},
		{"ia-default", "ia", nil, rules.Coeffs{Amp: 2e-3, Null: 1e-3, Decay: 1e-3}},
		{"ia", "ia", map[string]float64{"alpha": 0.5, "beta": 0.3, "gamma": 0.2}, rules.Coeffs{Amp: 0.5, Null: 0.3, Decay: 0.2}},
		{"sa-default", "sa", nil, rules.Coeffs{Decay: 1e-3, Self: 2e-3}},
		{"sa", "sa", map[string]float64{"alpha": 0.4, "beta": 0.9}, rules.Coeffs{Decay: 0.4, Self: 0.9}},
		{"aa-default", "aa", nil, rules.Coeffs{Sparse: 1e-3, Amp: 2e-3}},
		{"aa", "aa", map[string]float64{"alpha": 0.6, "beta": 0.8}, rules.Coeffs{Sparse: 0.6, Amp: 0.8}},
		// Mixes that take each of the fused code paths of Update.
		{"all-five", "custom", map[string]float64{"decay": 0.3, "amp": 0.5, "null": 0.2, "sparse": 0.4, "self": 0.6},
			rules.Coeffs{Decay: 0.3, Amp: 0.5, Null: 0.2, Sparse: 0.4, Self: 0.6}},
		{"null+sparse", "custom", map[string]float64{"null": 0.3, "sparse": 0.5}, rules.Coeffs{Null: 0.3, Sparse: 0.5}},
		{"amp+null", "custom", map[string]float64{"amp": 0.9, "null": 0.4}, rules.Coeffs{Amp: 0.9, Null: 0.4}},
		{"negative-weights", "custom", map[string]float64{"amp": -0.5, "sparse": 0.2, "self": -0.3},
			rules.Coeffs{Amp: -0.5, Sparse: 0.2, Self: -0.3}},
	}
}

// TestGradientMatchesFiniteDifferences checks, for every layer geometry and
// every regularizer, that the ∇_B R that Update writes into B.Grad equals
// the central finite differences of R computed in float64 from its
// definition. R is quadratic in B, so the central difference is exact
// whatever the step: the only error is float32 rounding in Update.
//
// With positions = "mean" the data terms (Amp, Null, Sparse) are divided by
// the number of output positions P: the reference is R with those three
// coefficients divided by P.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, positions := range []string{rules.PositionsSum, rules.PositionsMean} {
		for _, lc := range layerCases() {
			for _, rc := range regCases() {
				t.Run(positions+"/"+lc.name+"/"+rc.name, func(t *testing.T) {
					checkRegularizer(t, lc, rc, positions)
				})
			}
		}
	}
}

func checkRegularizer(t *testing.T, lc layerCase, rc regCase, positions string) {
	rng := rand.New(rand.NewPCG(11, 12))
	l, x, op := lc.build(rng)
	c := newCtx()
	l.Forward(c, x)
	env := newEnv(5)
	env.Positions = positions
	fb := bindOne(t, l, rc.rule, rc.settings, env)
	if positions == rules.PositionsMean {
		p := float64(len(op.apply(to64(l.Weight().Value.Data), to64(x.Data)))) /
			float64(x.Shape[0]*l.Weight().Value.Shape[0])
		rc.want.Amp, rc.want.Null, rc.want.Sparse = rc.want.Amp/p, rc.want.Null/p, rc.want.Sparse/p
	}
	b := l.Feedback()
	if b == l.Weight() || b.Grad == nil {
		t.Fatalf("%s did not give the layer a trained B of its own", rc.rule)
	}
	b.Grad.Fill(float32(math.NaN())) // Update must overwrite it
	fb.Update(c, l)

	w64, x64, n := to64(l.Weight().Value.Data), to64(x.Data), x.Shape[0]
	R := func(bb []float64) float64 { return refR(rc.want, op, bb, w64, x64, n) }
	fd := centralDiff(R, to64(b.Value.Data), 1)
	// Update sums at most a few hundred float32 products of
	// O(1) numbers per entry (observed: ≤ 2.2e-7 of the largest
	// entry over all cases); a wrong factor, sign, transpose or
	// batch mean is an O(1) relative error. 1e-5 separates them
	// with a 40× margin over the rounding.
	scale := maxAbs(fd)
	if scale == 0 {
		t.Fatal("reference gradient is zero: the case tests nothing")
	}
	d := maxAbsDiff(b.Grad.Data, fd)
	t.Logf("gradient: relative error %.2g", d/scale)
	if !(d <= 1e-5*scale) {
		t.Errorf("max |∇_B R − finite differences| = %g, largest entry %g", d, scale)
	}

	// Loss reports R with the official code's constants.
	obj, ok := fb.(rules.Objective)
	if !ok {
		t.Fatalf("%s's feedback does not report its objective", rc.rule)
	}
	b64 := to64(b.Value.Data)
	want := R(b64) + refConstants(rc.want, op, w64, x64, n)
	// Loss accumulates float32 products in float64: its error is
	// a float32 rounding of each term (observed: ≤ 7e-8 of the
	// sum of the terms' magnitudes); a missing constant or
	// factor is O(1).
	mag := termScale(rc.want, op, b64, w64, x64, n)
	got := obj.Loss(c, l)
	t.Logf("loss: relative error %.2g", math.Abs(got-want)/mag)
	if !(math.Abs(got-want) <= 1e-6*mag) {
		t.Errorf("Loss = %.9g, want R + constants = %.9g (terms of size %g)", got, want, mag)
	}
}

// termScale is the sum of the magnitudes of the terms of R and of its
// constants, the scale of their rounding error.
func termScale(k rules.Coeffs, op refOp, b, w, x []float64, n int) float64 {
	abs := rules.Coeffs{Decay: math.Abs(k.Decay), Amp: math.Abs(k.Amp), Null: math.Abs(k.Null),
		Sparse: math.Abs(k.Sparse), Self: math.Abs(k.Self)}
	y := op.apply(w, x)
	bx := op.apply(b, x)
	ay, abx := make([]float64, len(y)), make([]float64, len(bx))
	for i := range y {
		ay[i], abx[i] = math.Abs(y[i]), math.Abs(bx[i])
	}
	aw, ab := make([]float64, len(w)), make([]float64, len(b))
	for i := range w {
		aw[i], ab[i] = math.Abs(w[i]), math.Abs(b[i])
	}
	return abs.Decay*(dot64(b, b)+dot64(w, w)) + abs.Amp*dot64(ay, abx)/float64(n) +
		abs.Null*func() float64 { z := op.applyT(b, y); return dot64(z, z) }()/float64(n) +
		abs.Sparse*(dot64(bx, bx)+dot64(y, y))/float64(n) + abs.Self*dot64(aw, ab)
}

// TestNoiseGradientMatchesLoss checks the mirror-phase variant (x replaced
// by white noise inside R): Update's gradient equals the finite differences
// of Loss at the same step (both see the same noise), the noise changes
// from step to step, and it is not the data.
func TestNoiseGradientMatchesLoss(t *testing.T) {
	cases := []struct {
		rule     string
		settings map[string]float64
	}{
		{"wm", map[string]float64{"alpha": 0.3, "beta": 0.7, "noise": 0.5}},
		{"custom", map[string]float64{"decay": 0.3, "amp": 0.5, "null": 0.2, "sparse": 0.4, "self": 0.6, "noise": 2}},
	}
	for _, lc := range layerCases() {
		for _, tc := range cases {
			t.Run(lc.name+"/"+tc.rule, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(21, 22))
				l, x, _ := lc.build(rng)
				c := newCtx()
				c.Step = 3
				l.Forward(c, x)
				fb := bindOne(t, l, tc.rule, tc.settings, newEnv(9))
				obj := fb.(rules.Objective)
				b := l.Feedback()
				fb.Update(c, l)
				loss := func(bb []float64) float64 {
					for i, v := range bb {
						b.Value.Data[i] = float32(v)
					}
					return obj.Loss(c, l)
				}
				b0 := to64(b.Value.Data)
				// Loss is quadratic in B and computed in float32 (summed in
				// float64): with step 1 the difference quotient carries a
				// float32 rounding of the loss's terms (observed: ≤ 2e-7 of
				// the largest gradient entry); a gradient taken on other
				// noise than Loss's is off by O(1).
				fd := centralDiff(loss, b0, 1)
				loss(b0)
				d, s := maxAbsDiff(b.Grad.Data, fd), maxAbs(fd)
				t.Logf("relative error %.2g", d/s)
				if !(d <= 1e-5*s) {
					t.Errorf("max |∇_B R − finite differences of Loss| = %g, largest entry %g", d, s)
				}
				g1 := b.Grad.Clone()
				c.Step = 4
				fb.Update(c, l)
				if tensor.Equal(g1, b.Grad) {
					t.Error("the noise did not change between steps 3 and 4")
				}
				c.Step = 3
				fb.Update(c, l)
				if !tensor.Equal(g1, b.Grad) {
					t.Error("step 3 did not repeat its noise")
				}
			})
		}
	}
}
