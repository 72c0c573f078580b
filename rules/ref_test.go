package rules_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// This file holds the float64 references the tests compare the rules with:
// the forward map of a dense or convolutional layer, its adjoint, and the
// regularizer R(B; x, W) written from its definition in the package
// documentation.

// newCtx returns a training context on a two-thread CPU backend.
func newCtx() *nn.Ctx { return &nn.Ctx{E: engine.NewCPU(2), Train: true} }

// refOp is a linear map M ⋆ x of a weight layer, in float64.
type refOp interface {
	// apply returns M ⋆ x (output space).
	apply(m, x []float64) []float64
	// applyT returns Mᵀ ⋆ v (input space), the adjoint of apply in x.
	applyT(m, v []float64) []float64
}

// linearRef is y = x Mᵀ on (N, In) inputs; M is (Out, In).
type linearRef struct{ n, in, out int }

func (r linearRef) apply(m, x []float64) []float64 {
	y := make([]float64, r.n*r.out)
	for s := 0; s < r.n; s++ {
		for o := 0; o < r.out; o++ {
			var a float64
			for i := 0; i < r.in; i++ {
				a += m[o*r.in+i] * x[s*r.in+i]
			}
			y[s*r.out+o] = a
		}
	}
	return y
}

func (r linearRef) applyT(m, v []float64) []float64 {
	x := make([]float64, r.n*r.in)
	for s := 0; s < r.n; s++ {
		for o := 0; o < r.out; o++ {
			for i := 0; i < r.in; i++ {
				x[s*r.in+i] += m[o*r.in+i] * v[s*r.out+o]
			}
		}
	}
	return x
}

// convRef is PyTorch's Conv2d (cross-correlation) over (N, C, H, W) inputs
// with weights (Out, C/G, KH, KW), by direct summation.
type convRef struct {
	n, c, h, w, out, kh, kw, sh, sw, ph, pw, dh, dw, g int
}

func convRefOf(n, h, w int, s nn.ConvSpec) convRef {
	one := func(v int) int { return max(v, 1) }
	return convRef{n: n, c: s.In, h: h, w: w, out: s.Out, kh: s.KH, kw: s.KW, sh: one(s.StrideH), sw: one(s.StrideW),
		ph: s.PadH, pw: s.PadW, dh: one(s.DilH), dw: one(s.DilW), g: one(s.Groups)}
}

func (r convRef) outHW() (int, int) {
	return (r.h+2*r.ph-r.dh*(r.kh-1)-1)/r.sh + 1, (r.w+2*r.pw-r.dw*(r.kw-1)-1)/r.sw + 1
}

// each calls fn(xi, mi, yi) for every product x[xi]·m[mi] that enters y[yi].
func (r convRef) each(fn func(xi, mi, yi int)) {
	oh, ow := r.outHW()
	cg, og := r.c/r.g, r.out/r.g
	for s := 0; s < r.n; s++ {
		for o := 0; o < r.out; o++ {
			grp := o / og
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					yi := ((s*r.out+o)*oh+i)*ow + j
					for ci := 0; ci < cg; ci++ {
						ch := grp*cg + ci
						for a := 0; a < r.kh; a++ {
							ih := i*r.sh - r.ph + a*r.dh
							if ih < 0 || ih >= r.h {
								continue
							}
							for b := 0; b < r.kw; b++ {
								iw := j*r.sw - r.pw + b*r.dw
								if iw < 0 || iw >= r.w {
									continue
								}
								fn(((s*r.c+ch)*r.h+ih)*r.w+iw, ((o*cg+ci)*r.kh+a)*r.kw+b, yi)
							}
						}
					}
				}
			}
		}
	}
}

func (r convRef) apply(m, x []float64) []float64 {
	oh, ow := r.outHW()
	y := make([]float64, r.n*r.out*oh*ow)
	r.each(func(xi, mi, yi int) { y[yi] += m[mi] * x[xi] })
	return y
}

func (r convRef) applyT(m, v []float64) []float64 {
	x := make([]float64, r.n*r.c*r.h*r.w)
	r.each(func(xi, mi, yi int) { x[xi] += m[mi] * v[yi] })
	return x
}

func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// refR is the regularizer of the package documentation, without the
// constants of the official code:
//
//	R = decay‖B‖² − amp·E[yᵀBx] + null·E‖Bᵀy‖² + sparse·E‖Bx‖² − self·ΣW⊙B
//
// with y = W ⋆ x and E the mean over the n samples.
func refR(k rules.Coeffs, op refOp, b, w, x []float64, n int) float64 {
	y := op.apply(w, x)
	bx := op.apply(b, x)
	bty := op.applyT(b, y)
	fn := float64(n)
	return k.Decay*dot64(b, b) - k.Amp*dot64(y, bx)/fn + k.Null*dot64(bty, bty)/fn +
		k.Sparse*dot64(bx, bx)/fn - k.Self*dot64(w, b)
}

// refConstants are the terms the official code adds to R that do not
// depend on B: decay·‖W‖² and sparse·E‖Wx‖².
func refConstants(k rules.Coeffs, op refOp, w, x []float64, n int) float64 {
	y := op.apply(w, x)
	return k.Decay*dot64(w, w) + k.Sparse*dot64(y, y)/float64(n)
}

// centralDiff returns the central finite differences of f at b with step
// h, entry by entry (b is restored).
func centralDiff(f func([]float64) float64, b []float64, h float64) []float64 {
	g := make([]float64, len(b))
	for i := range b {
		v := b[i]
		b[i] = v + h
		fp := f(b)
		b[i] = v - h
		fm := f(b)
		b[i] = v
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// maxAbs returns max |x_i|.
func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// maxAbsDiff returns max |a_i − b_i|.
func maxAbsDiff(a []float32, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-b[i]))
	}
	return m
}

// normal returns a tensor of the given shape with N(0, std²) entries.
func normal(rng *rand.Rand, std float64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	tensor.FillNormal(t, rng, std)
	return t
}

// newEnv returns a rule environment with a seeded generator.
func newEnv(seed uint64) *rules.Env {
	return &rules.Env{Rand: tensor.NewRand(seed, 1), Seed: seed}
}

// bindOne builds rule name with settings and binds it to l alone.
func bindOne(t *testing.T, l nn.WeightLayer, name string, settings map[string]float64, env *rules.Env) nn.Feedback {
	t.Helper()
	r, err := rules.New(name, settings)
	if err != nil {
		t.Fatalf("rules.New(%q, %v): %v", name, settings, err)
	}
	fb, err := r.Bind(l, env)
	if err != nil {
		t.Fatalf("%s.Bind: %v", name, err)
	}
	return fb
}

// TestConvRefMatchesEngine checks the float64 reference maps against the
// layers' own (float32) operators, so that a mismatch in the gradient tests
// below cannot come from a wrong reference.
func TestConvRefMatchesEngine(t *testing.T) {
	for _, lc := range layerCases() {
		t.Run(lc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			l, x, op := lc.build(rng)
			c := newCtx()
			l.Forward(c, x)
			m := normal(rng, 1, l.Weight().Value.Shape...)
			var got, gotT tensor.Tensor
			l.Apply(c.E, &got, m, x)
			want := op.apply(to64(m.Data), to64(x.Data))
			v := normal(rng, 1, got.Shape...)
			l.ApplyT(c.E, &gotT, m, v)
			wantT := op.applyT(to64(m.Data), to64(v.Data))
			// Both are sums of at most a few dozen float32 products of
			// unit-scale numbers: 1e-5 absolute is ~100 ulps of the result.
			if d := maxAbsDiff(got.Data, want); len(got.Data) != len(want) || d > 1e-5 {
				t.Errorf("Apply: %d values, max diff %g from the reference (%d values)", len(got.Data), d, len(want))
			}
			if d := maxAbsDiff(gotT.Data, wantT); len(gotT.Data) != len(wantT) || d > 1e-5 {
				t.Errorf("ApplyT: %d values, max diff %g from the reference (%d values)", len(gotT.Data), d, len(wantT))
			}
		})
	}
}

// layerCase builds a weight layer, an input batch and the layer's float64
// reference map.
type layerCase struct {
	name  string
	build func(rng *rand.Rand) (nn.WeightLayer, *tensor.Tensor, refOp)
}

func linearCase(name string, n, in, out int, bias bool) layerCase {
	return layerCase{name, func(rng *rand.Rand) (nn.WeightLayer, *tensor.Tensor, refOp) {
		l := nn.NewLinear("fc", in, out, bias, nn.HeNormal, rng)
		return l, normal(rng, 1, n, in), linearRef{n, in, out}
	}}
}

func convCase(name string, n, h, w int, s nn.ConvSpec) layerCase {
	return layerCase{name, func(rng *rand.Rand) (nn.WeightLayer, *tensor.Tensor, refOp) {
		l := nn.NewConv2d("conv", s, nn.HeNormal, rng)
		return l, normal(rng, 1, n, s.In, h, w), convRefOf(n, h, w, s)
	}}
}

// layerCases covers a dense layer and convolutions with stride, padding,
// groups, dilation, non-square kernels, a bias and the 1×1 fast path.
func layerCases() []layerCase {
	return []layerCase{
		linearCase("linear", 5, 7, 4, true),
		convCase("conv-stride2-pad1-groups2", 3, 7, 6,
			nn.ConvSpec{In: 4, Out: 6, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1, Groups: 2}),
		convCase("conv-3x2-dilation2-stride1x2-pad2x0", 2, 6, 7,
			nn.ConvSpec{In: 3, Out: 4, KH: 3, KW: 2, StrideH: 1, StrideW: 2, PadH: 2, PadW: 0, DilH: 2, DilW: 1}),
		convCase("conv-depthwise-bias", 2, 5, 5,
			nn.ConvSpec{In: 4, Out: 4, KH: 3, KW: 3, PadH: 1, PadW: 1, Groups: 4, Bias: true}),
		convCase("conv-1x1", 3, 4, 3, nn.ConvSpec{In: 5, Out: 3, KH: 1, KW: 1}),
	}
}
