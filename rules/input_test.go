package rules_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/rules"
)

// refStandardize applies the official AlignmentBase input options to x
// (n samples) in float64, written out from Alignments/alignment.py: per
// sample centring (center_input), per-sample centring and L2 normalisation
// (normalize_input), and it returns the forward input xf (used in y = Wx)
// and the backward input xb (used in Bx), which batch_center_backward_input
// centres over the batch.
func refStandardize(x []float64, n int, in rules.InputOptions) (xf, xb []float64) {
	per := len(x) / n
	xf = append([]float64(nil), x...)
	for i := 0; i < n; i++ {
		row := xf[i*per : (i+1)*per]
		if in.Center || in.Normalize {
			m := 0.0
			for _, v := range row {
				m += v
			}
			m /= float64(per)
			for j := range row {
				row[j] -= m
			}
		}
		if in.Normalize {
			s := math.Sqrt(math.Max(dot64(row, row), 1e-12))
			for j := range row {
				row[j] /= s
			}
		}
	}
	xb = xf
	if in.BatchCenter {
		xb = refBatchCenter(xf, n)
	}
	return xf, xb
}

// refBatchCenter returns x (n samples) minus its batch mean, entry by
// entry.
func refBatchCenter(x []float64, n int) []float64 {
	per := len(x) / n
	out := append([]float64(nil), x...)
	for j := 0; j < per; j++ {
		m := 0.0
		for i := 0; i < n; i++ {
			m += x[i*per+j]
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			out[i*per+j] -= m
		}
	}
	return out
}

// TestInputOptionsMatchFiniteDifferences checks every input option (and
// all of them together) on every layer geometry and every regularizer:
// the gradient Update writes equals the finite differences of R computed
// in float64 with the forward projection y = W·xf and the backward
// projection B·xb of the reference above (y centred over the batch with
// BatchCenterOutput), and Loss reports R plus the
// official constants on the same inputs.
func TestInputOptionsMatchFiniteDifferences(t *testing.T) {
	opts := []struct {
		name string
		in   rules.InputOptions
	}{
		{"center", rules.InputOptions{Center: true}},
		{"normalize", rules.InputOptions{Normalize: true}},
		{"batch-center", rules.InputOptions{BatchCenter: true}},
		{"batch-center-output", rules.InputOptions{BatchCenterOutput: true}},
		{"all", rules.InputOptions{Center: true, Normalize: true, BatchCenter: true, BatchCenterOutput: true}},
	}
	for _, o := range opts {
		for _, lc := range layerCases() {
			for _, rc := range regCases() {
				t.Run(o.name+"/"+lc.name+"/"+rc.name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(31, 32))
					l, x, op := lc.build(rng)
					// A common offset, as after a ReLU, so that centring
					// changes the result.
					for i := range x.Data {
						x.Data[i] += 0.7
					}
					c := newCtx()
					l.Forward(c, x)
					env := newEnv(5)
					env.Input = o.in
					env.Positions = rules.PositionsSum // the reference sums over positions
					fb := bindOne(t, l, rc.rule, rc.settings, env)
					b := l.Feedback()
					b.Grad.Fill(float32(math.NaN()))
					fb.Update(c, l)

					n := x.Shape[0]
					xf, xb := refStandardize(to64(x.Data), n, o.in)
					w64 := to64(l.Weight().Value.Data)
					k := rc.want
					y0 := op.apply(w64, xf)
					if o.in.BatchCenterOutput {
						y0 = refBatchCenter(y0, n)
					}
					R := func(bb []float64) float64 {
						y := y0
						bx := op.apply(bb, xb)
						bty := op.applyT(bb, y)
						fn := float64(n)
						return k.Decay*dot64(bb, bb) - k.Amp*dot64(y, bx)/fn + k.Null*dot64(bty, bty)/fn +
							k.Sparse*dot64(bx, bx)/fn - k.Self*dot64(w64, bb)
					}
					b64 := to64(b.Value.Data)
					fd := centralDiff(R, b64, 1)
					scale := maxAbs(fd)
					if scale == 0 {
						t.Fatal("reference gradient is zero: the case tests nothing")
					}
					// The same float32 rounding as in
					// TestGradientMatchesFiniteDifferences, plus that of the
					// standardisation (a few float32 operations per entry);
					// a missing or misplaced centring is an O(1) error.
					d := maxAbsDiff(b.Grad.Data, fd)
					if !(d <= 1e-5*scale) {
						t.Errorf("max |∇_B R − finite differences| = %g, largest entry %g", d, scale)
					}
					y := y0
					want := R(b64) + k.Decay*dot64(w64, w64) + k.Sparse*dot64(y, y)/float64(n)
					got := fb.(rules.Objective).Loss(c, l)
					if !(math.Abs(got-want) <= 1e-5*(math.Abs(want)+scale)) {
						t.Errorf("Loss = %.9g, want %.9g", got, want)
					}
				})
			}
		}
	}
}
