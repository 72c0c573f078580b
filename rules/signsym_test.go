package rules

import (
	"math"
	"testing"
)

func TestSignOf(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		w, m []float32
		s    float32
		want []float32
	}{
		{"scale", []float32{2, -3, 0, negZero, 1e-40, -inf}, nil, 0.5, []float32{0.5, -0.5, 0, 0, 0.5, -0.5}},
		{"negative scale is a magnitude", []float32{1, -1}, nil, -2, []float32{2, -2}},
		{"magnitudes", []float32{1, -1, 0, -5}, []float32{3, 4, 5, 6}, 0, []float32{3, -4, 0, -6}},
		{"negative magnitudes count by their size", []float32{1, -1}, []float32{-3, -4}, 0, []float32{3, -4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]float32, len(tc.w))
			signOf(b, tc.w, tc.m, tc.s)
			for i := range b {
				if math.Float32bits(b[i]) != math.Float32bits(tc.want[i]) {
					t.Errorf("w = %g: got %g, want %g", tc.w[i], b[i], tc.want[i])
				}
			}
		})
	}
}
