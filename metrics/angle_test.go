package metrics_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/metrics"
)

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func scaled(v []float32, s float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = s * x
	}
	return out
}

func TestAngleExactCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := randVec(rng, 257)
	for _, tc := range []struct {
		name string
		a, b []float32
		want float64
	}{
		{"equal", w, w, 0},
		{"copy", w, scaled(w, 1), 0},
		{"negated", w, scaled(w, -1), 180},
		{"power-of-two scale", w, scaled(w, 4), 0},
		{"negative power-of-two scale", w, scaled(w, -0.5), 180},
		{"orthogonal unit", []float32{1, 0}, []float32{0, 1}, 90},
		{"orthogonal", []float32{3, 4, 0}, []float32{-4, 3, 0}, 90},
		{"orthogonal 4-d", []float32{1, 1, 1, 1}, []float32{1, -1, 1, -1}, 90},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := metrics.Angle(tc.a, tc.b); got != tc.want {
				t.Errorf("Angle = %.17g°, want exactly %v°", got, tc.want)
			}
		})
	}
}

// Hand-computed angles: arccos of a cosine worked out on paper.
func TestAngleHandComputed(t *testing.T) {
	deg := func(cos float64) float64 { return math.Acos(cos) * 180 / math.Pi }
	for _, tc := range []struct {
		name string
		a, b []float32
		want float64
	}{
		{"45°", []float32{1, 0}, []float32{1, 1}, 45},
		{"60°", []float32{1, 0}, []float32{1, float32(math.Sqrt(3))}, 60},
		{"135°", []float32{1, 0}, []float32{-1, 1}, 135},
		{"shear", []float32{1, 0, 0, 1}, []float32{1, 1, 0, 1}, deg(2 / math.Sqrt(6))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The inputs are float32 (√3 is rounded to 24 bits, a relative
			// error of 6e-8 that moves 60° by about 3e-6°); the rest is
			// float64, so 1e-5° is ample and still catches any real error.
			if got := metrics.Angle(tc.a, tc.b); math.Abs(got-tc.want) > 1e-5 {
				t.Errorf("Angle = %.10g°, want %.10g°", got, tc.want)
			}
		})
	}
}

func TestAngleScaledIsZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := randVec(rng, 1000)
	for _, s := range []float32{3, 0.1, 1e3} {
		// A non-power-of-two scale rounds each product to float32 (relative
		// error ≤ 6e-8 per entry), so the angle is of that order in radians:
		// below 1e-5°, against 0.6° for a single entry off by 1%.
		if got := metrics.Angle(w, scaled(w, s)); got > 1e-5 || got < 0 {
			t.Errorf("Angle(w, %v·w) = %g°, want ≈ 0", s, got)
		}
		if got := metrics.NormRatio(scaled(w, s), w); math.Abs(got/float64(s)-1) > 1e-6 {
			// Same float32 rounding: relative 6e-8 per entry.
			t.Errorf("NormRatio(%v·w, w) = %.9g, want %v", s, got, s)
		}
	}
	if got := metrics.NormRatio(scaled(w, 2), w); got != 2 {
		t.Errorf("NormRatio(2w, w) = %.17g, want exactly 2", got)
	}
	if got := metrics.NormRatio(w, w); got != 1 {
		t.Errorf("NormRatio(w, w) = %.17g, want exactly 1", got)
	}
}

// Angle agrees with the textbook arccos of the clipped cosine wherever the
// latter is accurate (away from 0° and 180°).
func TestAngleMatchesArccos(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 200 {
		n := 1 + rng.IntN(64)
		a, b := randVec(rng, n), randVec(rng, n)
		var dot, na, nb float64
		for j := range a {
			dot += float64(a[j]) * float64(b[j])
			na += float64(a[j]) * float64(a[j])
			nb += float64(b[j]) * float64(b[j])
		}
		cos := max(-1, min(1, dot/math.Sqrt(na*nb)))
		want := math.Acos(cos) * 180 / math.Pi
		if want < 1 || want > 179 {
			continue
		}
		// Both are float64 computations of the same quantity; arccos's
		// condition number away from ±1 keeps their difference near 1e-13°.
		if got := metrics.Angle(a, b); math.Abs(got-want) > 1e-9 {
			t.Fatalf("case %d (n=%d): Angle = %.15g°, arccos gives %.15g°", i, n, got, want)
		}
	}
}

func TestAngleUndefined(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		a, b []float32
	}{
		{"empty", nil, nil},
		{"a zero", []float32{0, 0}, []float32{1, 2}},
		{"b zero", []float32{1, 2}, []float32{0, 0}},
		{"both zero", []float32{0, 0}, []float32{0, 0}},
		{"NaN", []float32{nan, 1}, []float32{1, 2}},
		{"Inf", []float32{1, 2}, []float32{inf, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := metrics.Angle(tc.a, tc.b); !math.IsNaN(got) {
				t.Errorf("Angle = %v, want NaN", got)
			}
		})
	}
	if got := metrics.NormRatio([]float32{0}, []float32{0}); !math.IsNaN(got) {
		t.Errorf("NormRatio(0, 0) = %v, want NaN", got)
	}
	if got := metrics.NormRatio([]float32{1}, []float32{0}); !math.IsInf(got, 1) {
		t.Errorf("NormRatio(1, 0) = %v, want +Inf", got)
	}
}

func TestAnglePanicsOnLengthMismatch(t *testing.T) {
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || len(s) < 9 || s[:9] != "metrics: " {
			t.Errorf("recovered %v, want a panic message starting with \"metrics: \"", r)
		}
	}()
	metrics.Angle([]float32{1, 2}, []float32{1})
}

func FuzzAngle(f *testing.F) {
	f.Add(float32(1), float32(0), float32(0), float32(1))
	f.Add(float32(1), float32(2), float32(-1), float32(-2))
	f.Add(float32(0), float32(0), float32(1), float32(1))
	f.Add(float32(3e38), float32(3e38), float32(1e-38), float32(1e-45))
	f.Fuzz(func(t *testing.T, a0, a1, b0, b1 float32) {
		a, b := []float32{a0, a1}, []float32{b0, b1}
		got := metrics.Angle(a, b)
		if math.IsNaN(got) {
			return
		}
		if got < 0 || got > 180 {
			t.Fatalf("Angle(%v, %v) = %v out of [0, 180]", a, b, got)
		}
		if back := metrics.Angle(b, a); back != got {
			t.Fatalf("Angle is not symmetric: %v vs %v", got, back)
		}
		if self := metrics.Angle(a, a); self != 0 {
			t.Fatalf("Angle(a, a) = %v for a = %v", self, a)
		}
	})
}
