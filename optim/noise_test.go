package optim

import (
	"math"
	"testing"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// noiseRun returns the parameters after one step with zero gradients, so
// that p = lr·ε exactly as drawn (p starts at 0).
func noiseRun(t *testing.T, set Settings, seed uint64, sizes ...int) []*nn.Param {
	t.Helper()
	var ps []*nn.Param
	for i, n := range sizes {
		ps = append(ps, &nn.Param{Name: string(rune('a' + i)), Kind: nn.KindWeight, Value: tensor.New(n), Grad: tensor.New(n)})
	}
	o, err := New(ps, Config{Main: set, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	o.Step()
	return ps
}

// moments returns the mean, variance and kurtosis (4th standardised
// moment) of x/scale in float64.
func moments(x []float32, scale float64) (mean, variance, kurtosis float64) {
	n := float64(len(x))
	for _, v := range x {
		mean += float64(v) / scale
	}
	mean /= n
	var m2, m4 float64
	for _, v := range x {
		d := float64(v)/scale - mean
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= n
	m4 /= n
	return mean, m2, m4 / (m2 * m2)
}

// TestNoiseStatistics checks mean, variance, range and kurtosis of ε for
// both distributions from n = 200 000 draws with variance v = 0.25
// (σ = 0.5), scaled by lr = 0.5. Tolerances, each 5 standard errors:
//   - mean: SE = σ/√n = 1.1e-3 → 5.6e-3;
//   - variance: SE = σ²·√((κ−1)/n) with kurtosis κ = 3 (normal) or 1.8
//     (uniform) → 7.9e-4 and 5.0e-4; we use 4e-3 and 2.5e-3;
//   - kurtosis: SE ≈ √(24/n) = 0.011 for the normal (less for the
//     uniform) → 0.06.
//
// The range separates the two: uniform draws stay within √(3v) = 0.866,
// while 200 000 normal draws exceed 4σ = 2 with probability
// 1 − (1 − 6.3e-5)^n > 0.99999.
func TestNoiseStatistics(t *testing.T) {
	const n, v, lr = 200000, 0.25, 0.5
	tests := []struct {
		dist     string
		varTol   float64
		kurtosis float64
	}{
		{NoiseNormal, 4e-3, 3},
		{NoiseUniform, 2.5e-3, 1.8},
	}
	for _, tc := range tests {
		t.Run(tc.dist, func(t *testing.T) {
			ps := noiseRun(t, Settings{LR: lr, Noise: Noise{Distribution: tc.dist, Variance: v}}, 42, n)
			mean, variance, kurt := moments(ps[0].Value.Data, lr)
			if math.Abs(mean) > 5.6e-3 {
				t.Errorf("mean %g, want 0 ± 5.6e-3", mean)
			}
			if math.Abs(variance-v) > tc.varTol {
				t.Errorf("variance %g, want %g ± %g", variance, v, tc.varTol)
			}
			if math.Abs(kurt-tc.kurtosis) > 0.06 {
				t.Errorf("kurtosis %g, want %g ± 0.06", kurt, tc.kurtosis)
			}
			maxAbs := 0.0
			for _, x := range ps[0].Value.Data {
				maxAbs = max(maxAbs, math.Abs(float64(x))/lr)
			}
			bound := math.Sqrt(12*v) / 2
			if tc.dist == NoiseUniform && maxAbs > bound*(1+1e-6) { // float32 rounding
				t.Errorf("uniform draw %g beyond %g", maxAbs, bound)
			}
			if tc.dist == NoiseNormal && maxAbs < 4*math.Sqrt(v) {
				t.Errorf("largest normal draw %g, expected one beyond 4σ", maxAbs)
			}
		})
	}
}

// TestNoiseReproducible checks that the noise is the documented function
// of (seed, step, parameter index): the same seed repeats it bit for bit,
// another seed, step or parameter changes it, and it equals the draws of
// tensor.NewRand(seed, NoiseStream(step, index)).
func TestNoiseReproducible(t *testing.T) {
	for _, dist := range []string{NoiseNormal, NoiseUniform} {
		t.Run(dist, func(t *testing.T) {
			set := Settings{LR: 0.5, Noise: Noise{Distribution: dist, Variance: 2}}
			a := noiseRun(t, set, 7, 64, 64)
			b := noiseRun(t, set, 7, 64, 64)
			c := noiseRun(t, set, 8, 64, 64)
			for i := range a {
				if !tensor.Equal(a[i].Value, b[i].Value) {
					t.Errorf("param %d: same seed, different noise", i)
				}
				if tensor.Equal(a[i].Value, c[i].Value) {
					t.Errorf("param %d: seeds 7 and 8 gave the same noise", i)
				}
			}
			if tensor.Equal(a[0].Value, a[1].Value) {
				t.Error("parameters 0 and 1 got the same noise")
			}
			// Independent recomputation.
			for i, p := range a {
				rng := tensor.NewRand(7, NoiseStream(0, uint64(i)))
				for j, got := range p.Value.Data {
					var want float32
					if dist == NoiseNormal {
						want = float32(rng.NormFloat64() * (0.5 * math.Sqrt(2)))
					} else {
						want = float32((2*rng.Float64() - 1) * (0.5 * math.Sqrt(12*2) / 2))
					}
					if got != want {
						t.Fatalf("param %d element %d: %g, want %g", i, j, got, want)
					}
				}
			}
		})
	}
	if NoiseStream(0, 0) == NoiseStream(1, 0) || NoiseStream(0, 0) == NoiseStream(0, 1) {
		t.Error("NoiseStream ignores its arguments")
	}
}

// TestNoiseFollowsLR checks that noise is scaled by the scheduled learning
// rate: none during the first warm-up step (lr 0), and only in the group
// that asks for it (here B, as for Kolen-Pollack in the paper).
func TestNoiseFollowsLR(t *testing.T) {
	w := newParam("w", nn.KindWeight, make([]float32, 16), make([]float32, 16))
	b := newParam("b", nn.KindFeedback, make([]float32, 16), make([]float32, 16))
	main := Settings{LR: 0.5, Schedule: Schedule{Unit: UnitStep, Warmup: 2}}
	fb := main
	fb.Noise = Noise{Distribution: NoiseNormal, Variance: 1}
	o, err := New([]*nn.Param{w, b}, Config{Main: main, Feedback: &fb, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	zero := tensor.New(16)
	o.Step() // lr 0
	if !tensor.Equal(b.Value, zero) {
		t.Errorf("noise added at lr 0: %v", b.Value)
	}
	o.Step() // lr 0.25
	if !tensor.Equal(w.Value, zero) {
		t.Errorf("noise added to the main group: %v", w.Value)
	}
	rng := tensor.NewRand(1, NoiseStream(1, 1))
	for j, got := range b.Value.Data {
		if want := float32(rng.NormFloat64() * 0.25); got != want {
			t.Fatalf("b[%d] = %g, want %g (lr 0.25 × ε)", j, got, want)
		}
	}
}
