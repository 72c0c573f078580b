package rules_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
)

// biasOp adds a per-output-channel bias to apply (y = M ⋆ x + b), as the
// official code's use_bias_forward / use_bias_backward do for the
// projections Wx and Bx; applyT (the reconstruction) has no bias.
type biasOp struct {
	refOp
	bias []float64
	per  int // output positions per channel (1 for a dense layer)
}

func (o biasOp) apply(m, x []float64) []float64 {
	y := o.refOp.apply(m, x)
	for i := range y {
		y[i] += o.bias[(i/o.per)%len(o.bias)]
	}
	return y
}

// padded returns x (N, C, H, W) zero-padded by ph, pw on each side.
func padded(x []float64, n, c, h, w, ph, pw int) []float64 {
	H, W := h+2*ph, w+2*pw
	out := make([]float64, n*c*H*W)
	for p := 0; p < n*c; p++ {
		for i := 0; i < h; i++ {
			copy(out[(p*H+i+ph)*W+pw:], x[(p*h+i)*w:(p*h+i)*w+w])
		}
	}
	return out
}

// TestOfficialProjectionOptions checks the official code's choices that
// asym offers as options, against independent float64 references:
//
//   - bias: the layer's bias enters y = Wx + b and Bx + b (reference: the
//     same R with a biased forward map);
//   - border: on a strided, padded convolution Null sums ‖Bᵀy‖² over the
//     padded input, border included (reference: the same R on the
//     explicitly zero-padded input with an unpadded convolution, as the
//     official code's fixed padding computes it).
//
// For each, Update's ∇_B R equals the central finite differences of the
// reference, and Loss equals the reference plus its constants.
func TestOfficialProjectionOptions(t *testing.T) {
	layers := []layerCase{
		linearCase("linear-bias", 5, 7, 4, true),
		convCase("conv-stride2-pad1-bias", 3, 7, 6,
			nn.ConvSpec{In: 4, Out: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Bias: true}),
		convCase("conv-stride2-pad3-7x7", 2, 8, 7, nn.ConvSpec{In: 2, Out: 3, KH: 7, KW: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3}),
		convCase("conv-stride1-pad1", 2, 5, 5, nn.ConvSpec{In: 3, Out: 4, KH: 3, KW: 3, PadH: 1, PadW: 1}),
	}
	regs := []regCase{
		{"ia", "ia", map[string]float64{"alpha": 0.5, "beta": 0.3, "gamma": 0.2}, rules.Coeffs{Amp: 0.5, Null: 0.3, Decay: 0.2}},
		{"aa", "aa", map[string]float64{"alpha": 0.6, "beta": 0.8}, rules.Coeffs{Sparse: 0.6, Amp: 0.8}},
		{"all-five", "custom", map[string]float64{"decay": 0.3, "amp": 0.5, "null": 0.2, "sparse": 0.4, "self": 0.6},
			rules.Coeffs{Decay: 0.3, Amp: 0.5, Null: 0.2, Sparse: 0.4, Self: 0.6}},
	}
	for _, opt := range []struct {
		name         string
		bias, border bool
	}{{"bias", true, false}, {"border", false, true}, {"bias+border", true, true}} {
		for _, lc := range layers {
			for _, rc := range regs {
				t.Run(opt.name+"/"+lc.name+"/"+rc.name, func(t *testing.T) {
					rng := rand.New(rand.NewPCG(31, 32))
					l, x, op := lc.build(rng)
					c := newCtx()
					l.Forward(c, x)
					env := newEnv(5)
					env.Bias, env.NullBorder = opt.bias, opt.border
					env.Positions = rules.PositionsSum // the reference sums over positions
					fb := bindOne(t, l, rc.rule, rc.settings, env)
					b := l.Feedback()
					fb.Update(c, l)

					x64, n := to64(x.Data), x.Shape[0]
					changed := false
					if cv, ok := l.(*nn.Conv2d); ok && opt.border && cv.StridedPadded() {
						s := cv.Spec
						op = convRefOf(n, x.Shape[2]+2*s.PadH, x.Shape[3]+2*s.PadW,
							nn.ConvSpec{In: s.In, Out: s.Out, KH: s.KH, KW: s.KW, StrideH: s.StrideH, StrideW: s.StrideW})
						x64 = padded(x64, n, x.Shape[1], x.Shape[2], x.Shape[3], s.PadH, s.PadW)
						changed = rc.want.Null != 0 // only Null sees the border
					}
					if bias := l.Bias(); bias != nil && opt.bias {
						per := len(l.Preactivation(c.E).Data) / (n * len(bias.Value.Data))
						op = biasOp{refOp: op, bias: to64(bias.Value.Data), per: per}
						changed = true
					}
					w64 := to64(l.Weight().Value.Data)
					R := func(bb []float64) float64 { return refR(rc.want, op, bb, w64, x64, n) }
					fd := centralDiff(R, to64(b.Value.Data), 1)
					scale := maxAbs(fd)
					// Same float32 rounding bound as
					// TestGradientMatchesFiniteDifferences; leaving the bias or
					// the border out is an O(1) relative error in these cases.
					d := maxAbsDiff(b.Grad.Data, fd)
					if !(d <= 1e-5*scale) {
						t.Errorf("max |∇_B R − finite differences| = %g, largest entry %g", d, scale)
					}
					b64 := to64(b.Value.Data)
					want := R(b64) + refConstants(rc.want, op, w64, x64, n)
					mag := termScale(rc.want, op, b64, w64, x64, n)
					if got := fb.(rules.Objective).Loss(c, l); !(math.Abs(got-want) <= 1e-6*mag) {
						t.Errorf("Loss = %.9g, want %.9g (terms of size %g)", got, want, mag)
					}
					if !changed {
						return
					}
					// The option changes the gradient: the reference without it
					// differs, so the check above is not vacuous.
					_, _, plain := lc.build(rand.New(rand.NewPCG(31, 32)))
					x0 := to64(x.Data)
					fd0 := centralDiff(func(bb []float64) float64 { return refR(rc.want, plain, bb, w64, x0, n) }, b64, 1)
					if maxAbsDiff(b.Grad.Data, fd0) <= 1e-3*scale {
						t.Errorf("the option did not change ∇_B R")
					}
				})
			}
		}
	}
}
