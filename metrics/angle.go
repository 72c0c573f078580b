package metrics

import (
	"fmt"
	"math"
)

// Angle returns the angle in degrees, in [0, 180], between a and b taken
// as flat vectors, accumulated in float64.
//
// It equals arccos(clip(a·b / (‖a‖‖b‖), −1, 1)) but is computed as
// 2·atan2(‖â − b̂‖, ‖â + b̂‖) with â = a/‖a‖ and b̂ = b/‖b‖, which stays
// accurate near 0° and 180° where arccos loses half the digits: equal
// vectors (b = a) give exactly 0, b = −a exactly 180, and b = 2ᵏ·a exactly
// 0.
//
// If ‖a‖ or ‖b‖ is 0 (an empty, all-zero or missing tensor) the angle is
// undefined and Angle returns NaN; it also returns NaN if a value is NaN or
// infinite. It panics if the lengths differ (a programmer error).
func Angle(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("metrics: Angle of vectors of lengths %d and %d", len(a), len(b)))
	}
	na, nb := norm(a), norm(b)
	if na == 0 || nb == 0 || math.IsNaN(na) || math.IsNaN(nb) || math.IsInf(na, 0) || math.IsInf(nb, 0) {
		return math.NaN()
	}
	var d, s float64
	for i := range a {
		u, v := float64(a[i])/na, float64(b[i])/nb
		d += (u - v) * (u - v)
		s += (u + v) * (u + v)
	}
	return degrees(2 * math.Atan2(math.Sqrt(d), math.Sqrt(s)))
}

// degrees converts radians to degrees so that π gives exactly 180 and π/2
// exactly 90.
func degrees(rad float64) float64 {
	return rad / math.Pi * 180
}

// NormRatio returns ‖a‖/‖b‖ (Euclidean norms of the flat vectors,
// accumulated in float64); for a layer, NormRatio(B, W) is ‖B‖/‖W‖. It
// follows IEEE division when ‖b‖ = 0: +Inf if ‖a‖ > 0, NaN if ‖a‖ = 0 too.
func NormRatio(a, b []float32) float64 {
	return norm(a) / norm(b)
}

// norm returns the Euclidean norm of x accumulated in float64 (a float32
// value squared cannot overflow a float64).
func norm(x []float32) float64 {
	var s float64
	for _, v := range x {
		f := float64(v)
		s += f * f
	}
	return math.Sqrt(s)
}
