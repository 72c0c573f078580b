package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// U is the unit roundoff of float32 (round to nearest): 2⁻²⁴.
const U = 0x1p-24

// Gamma returns γₙ = n·u/(1−n·u), the bound on the relative error (with
// respect to the sum of absolute terms) of a float32 sum of n products
// computed in any order. It panics if n·u ≥ 1.
func Gamma(n int) float64 {
	nu := float64(n) * U
	if nu >= 1 {
		panic(fmt.Sprintf("gradcheck: Gamma(%d): n·u ≥ 1", n))
	}
	return nu / (1 - nu)
}

// Grads returns the central-difference gradients, with step h, of loss
// with respect to each of args (computed by gonum's fd.Gradient). loss must
// not keep or modify its argument slices; it is called concurrently.
func Grads(loss func(args [][]float64) float64, args [][]float64, h float64) [][]float64 {
	out := make([][]float64, len(args))
	for k := range args {
		out[k] = fd.Gradient(nil, func(v []float64) float64 {
			a := make([][]float64, len(args))
			copy(a, args)
			a[k] = v
			return loss(a)
		}, args[k], &fd.Settings{Formula: fd.Central, Step: h, Concurrent: true})
	}
	return out
}

// KinkFreeGrads returns loss(args) and its central differences with step
// h (see [Grads]) for a piecewise-smooth loss that records, in pattern,
// the branch each of its kinks took (a ReLU's sign, say). It fails the
// test if a difference crossed a kink, which would make it meaningless:
// choose another seed or a smaller step then.
func KinkFreeGrads(tb testing.TB, loss func(args [][]float64, pattern *[]bool) float64, args [][]float64, h float64) (float64, [][]float64) {
	tb.Helper()
	var base []bool
	want := loss(args, &base)
	var crossed atomic.Int64
	num := Grads(func(a [][]float64) float64 {
		var pat []bool
		l := loss(a, &pat)
		if !slices.Equal(pat, base) {
			crossed.Add(1)
		}
		return l
	}, args, h)
	if crossed.Load() > 0 {
		tb.Fatalf("%d central differences crossed a kink: choose another seed or a smaller step", crossed.Load())
	}
	return want, num
}

// Close checks |got_i − want_i| ≤ rel·mag_i + abs for every i (mag nil
// means |want_i|), reporting the first few violations through tb as errors
// that name what. It returns the largest ratio of error to bound, which
// tests log to document how much headroom a bound leaves.
func Close(tb testing.TB, what string, got []float32, want, mag []float64, rel, abs float64) float64 {
	tb.Helper()
	if len(got) != len(want) || (mag != nil && len(mag) != len(want)) {
		tb.Fatalf("%s: lengths got %d, want %d, mag %d", what, len(got), len(want), len(mag))
	}
	worst := 0.0
	var bad []string
	nbad := 0
	for i, g := range got {
		m := math.Abs(want[i])
		if mag != nil {
			m = mag[i]
		}
		bound := rel*m + abs
		err := math.Abs(float64(g) - want[i])
		if err != err || err > bound {
			nbad++
			if len(bad) < 5 {
				bad = append(bad, fmt.Sprintf("[%d] got %.9g want %.9g (err %.3g > bound %.3g)", i, g, want[i], err, bound))
			}
		}
		if bound > 0 {
			worst = max(worst, err/bound)
		} else if err > 0 {
			worst = math.Inf(1)
		}
	}
	if nbad > 0 {
		tb.Errorf("%s: %d of %d elements outside the bound:\n\t%s", what, nbad, len(got), strings.Join(bad, "\n\t"))
	}
	return worst
}

// RelErr returns max_i |got_i − want_i| / max_i |want_i| (0 when both are
// zero), the normalised error used where no per-element bound is derived.
func RelErr(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		panic("gradcheck: RelErr: lengths differ")
	}
	var e, s float64
	for i, g := range got {
		e = max(e, math.Abs(float64(g)-want[i]))
		s = max(s, math.Abs(want[i]))
	}
	if s == 0 {
		return e
	}
	return e / s
}

// F64 converts float32 values to float64 (exactly).
func F64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// F32 rounds float64 values to float32.
func F32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// Abs returns the element-wise absolute values of x.
func Abs(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Abs(v)
	}
	return y
}

// Uniform returns n float32 values drawn from U(lo, hi).
func Uniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return x
}

// AwayFromZero returns n float32 values with magnitudes in [gap, 1] and
// random signs, so that a ReLU's kink at 0 lies at least gap from each.
func AwayFromZero(rng *rand.Rand, n int, gap float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		v := gap + (1-gap)*rng.Float64()
		if rng.IntN(2) == 0 {
			v = -v
		}
		x[i] = float32(v)
	}
	return x
}

// Distinct returns n float32 values that are a random permutation of
// lo, lo+step, ..., so that any two differ by at least step (max pooling
// without ties or near-ties).
func Distinct(rng *rand.Rand, n int, lo, step float64) []float32 {
	x := make([]float32, n)
	for i, p := range rng.Perm(n) {
		x[i] = float32(lo + step*float64(p))
	}
	return x
}
