package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// fdAbs bounds the float64 rounding and truncation error of the central
// differences of the reference losses below (see each step's comment); it
// is orders of magnitude below every float32 bound it is added to.
const fdAbs = 1e-9

// layerCase is a gradient check of one layer against a float64 reference
// of its forward pass: the layer's output must match the reference, and its
// Backward must match the central differences of L = Σ r⊙ref(x, params)
// with respect to x and every parameter in params.
type layerCase struct {
	name   string
	layer  nn.Layer
	x      *tensor.Tensor
	params []*nn.Param
	ref    func(x []float64, p [][]float64) []float64
	h      float64 // central-difference step
	// mags returns, for the error bounds, a magnitude for every output and
	// for every gradient element (x first, then params); rels are the
	// matching relative factors (γₙ of the longest float32 sum).
	mags func(lc *layerCase, args [][]float64, r []float64) (yMag []float64, gMags [][]float64)
	relY float64
	relG []float64
}

func refArgs(x []float64, p [][]float64) [][]float64 { return append([][]float64{x}, p...) }

// bilinearMags serves layers that are linear in x and in each parameter
// (convolution, dense layer, and compositions of them and sums): the sum of
// the absolute terms of every output is ref(|x|, |p|), and that of every
// gradient element is the gradient of Σ|r|⊙ref(|x|, |p|).
func bilinearMags(lc *layerCase, args [][]float64, r []float64) ([]float64, [][]float64) {
	abs := make([][]float64, len(args))
	for i, a := range args {
		abs[i] = gc.Abs(a)
	}
	ar := gc.Abs(r)
	g := gc.Grads(func(a [][]float64) float64 { return gc.Dot(ar, lc.ref(a[0], a[1:])) }, abs, 1)
	return lc.ref(abs[0], abs[1:]), g
}

// positiveMags serves layers without parameters whose Jacobian is
// non-negative (pools, ReLU, dropout): |y| ≤ ref(|x|), and the sum of the
// absolute terms of an input gradient is the gradient of Σ|r|⊙ref(x).
func positiveMags(lc *layerCase, args [][]float64, r []float64) ([]float64, [][]float64) {
	ar := gc.Abs(r)
	g := gc.Grads(func(a [][]float64) float64 { return gc.Dot(ar, lc.ref(a[0], a[1:])) }, args, lc.h)
	return lc.ref(gc.Abs(args[0]), args[1:]), g
}

func (lc *layerCase) check(t *testing.T) {
	t.Helper()
	rng := newRand(uint64(len(lc.name)))
	args := refArgs(gc.F64(lc.x.Data), nil)
	for _, p := range lc.params {
		args = append(args, gc.F64(p.Value.Data))
	}
	want := lc.ref(args[0], args[1:])
	r := gc.Uniform(rng, len(want), -1, 1)
	r64 := gc.F64(r)
	num := gc.Grads(func(a [][]float64) float64 { return gc.Dot(r64, lc.ref(a[0], a[1:])) }, args, lc.h)
	yMag, gMags := lc.mags(lc, args, r64)
	for _, th := range []int{1, 3} {
		c := trainCtx(th)
		y := lc.layer.Forward(c, lc.x)
		gc.Close(t, lc.name+" y", y.Data, want, yMag, lc.relY, 0)
		for _, p := range lc.params {
			p.Grad.Fill(float32(math.NaN())) // Backward must overwrite
		}
		dy := tensor.FromData(r, y.Shape...)
		dx := lc.layer.Backward(c, dy, true)
		if !tensor.SameShape(dx.Shape, lc.x.Shape) {
			t.Fatalf("%s: dx shape %v, x shape %v", lc.name, dx.Shape, lc.x.Shape)
		}
		gc.Close(t, lc.name+" dx", dx.Data, num[0], gMags[0], lc.relG[0], fdAbs)
		for i, p := range lc.params {
			gc.Close(t, lc.name+" d"+p.Name, p.Grad.Data, num[i+1], gMags[i+1], lc.relG[i+1], fdAbs)
		}
		// needDX = false must still write the parameter gradients.
		for _, p := range lc.params {
			p.Grad.Fill(float32(math.NaN()))
		}
		y = lc.layer.Forward(c, lc.x)
		if got := lc.layer.Backward(c, tensor.FromData(r, y.Shape...), false); got != nil && len(lc.params) > 0 {
			t.Logf("%s: Backward(needDX=false) returned a gradient", lc.name)
		}
		for i, p := range lc.params {
			gc.Close(t, lc.name+" d"+p.Name+" (needDX=false)", p.Grad.Data, num[i+1], gMags[i+1], lc.relG[i+1], fdAbs)
		}
	}
}

func convRef(g gc.Conv, bias bool) func(x []float64, p [][]float64) []float64 {
	return func(x []float64, p [][]float64) []float64 {
		y := g.Forward(x, p[0])
		if bias {
			oh, ow := g.OutHW()
			y = gc.AddBias(y, p[1], g.N, g.Out, oh*ow)
		}
		return y
	}
}

func convLayer(name string, g gc.Conv, bias bool, rng *rand.Rand) (*nn.Conv2d, []*nn.Param) {
	l := nn.NewConv2d(name, nn.ConvSpec{In: g.C, Out: g.Out, KH: g.KH, KW: g.KW, StrideH: g.SH, StrideW: g.SW,
		PadH: g.PH, PadW: g.PW, DilH: g.DH, DilW: g.DW, Groups: g.G, Bias: bias}, nn.HeNormal, rng)
	ps := []*nn.Param{l.Weight()}
	if bias {
		ps = append(ps, l.Bias())
	}
	return l, ps
}

// TestLayerGradients checks every layer's forward and backward against a
// float64 reference and its central differences, on 1 and 3 threads.
// Bounds: γₙ·Σ|terms| with n the length of the longest float32 sum that
// forms an element (see package gradcheck); for batch normalisation the
// magnitudes of gc.BatchNormMags.
func TestLayerGradients(t *testing.T) {
	rng := newRand(42)
	var cases []*layerCase

	// Dense layers: y = x Wᵀ + b sums In products and the bias; δx sums Out
	// products, δW and δb sum N.
	for _, tc := range []struct {
		n, in, out int
		bias       bool
	}{{5, 7, 4, true}, {1, 3, 6, false}, {9, 33, 10, true}} {
		l := nn.NewLinear("fc", tc.in, tc.out, tc.bias, nn.HeNormal, rng)
		ps := []*nn.Param{l.Weight()}
		relG := []float64{gc.Gamma(tc.out), gc.Gamma(tc.n)}
		if tc.bias {
			ps = append(ps, l.Bias())
			relG = append(relG, gc.Gamma(tc.n))
		}
		fillParams(l, rng, -1, 1)
		n, in, out, bias := tc.n, tc.in, tc.out, tc.bias
		cases = append(cases, &layerCase{
			name: fmt.Sprintf("linear %d×%d→%d bias=%v", n, in, out, bias), layer: l, x: randomTensor(rng, -1, 1, n, in), params: ps,
			ref: func(x []float64, p [][]float64) []float64 {
				var b []float64
				if bias {
					b = p[1]
				}
				return gc.Linear(x, p[0], b, n, in, out)
			},
			h: 1, mags: bilinearMags, relY: gc.Gamma(in + 1), relG: relG,
		})
	}

	// Convolutions (the engine tests cover the geometries; these check the
	// layer: bias, geometry from the input, spec defaults).
	for _, tc := range []struct {
		g    gc.Conv
		bias bool
	}{
		{gc.Conv{N: 3, C: 2, H: 7, W: 5, Out: 4, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}, true},
		{gc.Conv{N: 2, C: 4, H: 6, W: 6, Out: 2, KH: 3, KW: 3, DH: 2, DW: 2, PH: 1, PW: 2, G: 2}, false},
		{gc.Conv{N: 4, C: 3, H: 3, W: 4, Out: 5, KH: 1, KW: 1}, true},
	} {
		l, ps := convLayer("conv", tc.g, tc.bias, rng)
		fillParams(l, rng, -1, 1)
		oh, ow := tc.g.OutHW()
		grp := max(tc.g.G, 1)
		relG := []float64{gc.Gamma(tc.g.Out / grp * tc.g.KH * tc.g.KW), gc.Gamma(tc.g.N * oh * ow)}
		if tc.bias {
			relG = append(relG, gc.Gamma(tc.g.N*oh*ow))
		}
		cases = append(cases, &layerCase{
			name: fmt.Sprintf("conv %+v bias=%v", tc.g, tc.bias), layer: l, x: randomTensor(rng, -1, 1, tc.g.N, tc.g.C, tc.g.H, tc.g.W), params: ps,
			ref: convRef(tc.g, tc.bias), h: 1, mags: bilinearMags,
			relY: gc.Gamma(tc.g.C/grp*tc.g.KH*tc.g.KW + 1), relG: relG,
		})
	}

	// ReLU: exact, inputs at least 0.05 from the kink, step 0.01.
	cases = append(cases, &layerCase{
		name: "relu", layer: nn.NewReLU("relu"), x: tensor.FromData(gc.AwayFromZero(rng, 60, 0.05), 3, 4, 5),
		ref: func(x []float64, _ [][]float64) []float64 { y, _ := gc.ReLU(x); return y },
		h:   0.01, mags: positiveMags, relY: 0, relG: []float64{0},
	})

	// Max pooling: distinct inputs 1/256 apart, step 1/1024 (exact); an
	// input's gradient sums the δy of at most 4 windows.
	mp := gc.Pool{N: 2, C: 3, H: 7, W: 6, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}
	cases = append(cases, &layerCase{
		name: "maxpool", layer: nn.NewMaxPool2d("pool", 3, 2, 1),
		x:   tensor.FromData(gc.Distinct(rng, 2*3*7*6, -0.5, 1.0/256), 2, 3, 7, 6),
		ref: func(x []float64, _ [][]float64) []float64 { y, _ := mp.Max(x); return y },
		h:   1.0 / 1024, mags: positiveMags, relY: 0, relG: []float64{gc.Gamma(4)},
	})

	// Max pooling with TensorFlow's "SAME" padding, 3×3/2 on 8×7: rows
	// 0 before and 1 after (8 is even), columns 1 and 1 (7 is odd), as TF
	// computes them: total = (⌈n/2⌉−1)·2 + 3 − n, the smaller half first.
	mps := gc.Pool{N: 2, C: 2, H: 8, W: 7, KH: 3, KW: 3, SH: 2, SW: 2, PH: 0, EH: 1, PW: 1, EW: 0}
	cases = append(cases, &layerCase{
		name: "maxpool-same", layer: nn.NewMaxPool2dSame("pool", 3, 2),
		x:   tensor.FromData(gc.Distinct(rng, 2*2*8*7, -0.5, 1.0/256), 2, 2, 8, 7),
		ref: func(x []float64, _ [][]float64) []float64 { y, _ := mps.Max(x); return y },
		h:   1.0 / 1024, mags: positiveMags, relY: 0, relG: []float64{gc.Gamma(4)},
	})

	// Average pooling (padding excluded): y sums ≤ 9 inputs and divides;
	// an input's gradient sums ≤ 4 quotients.
	ap := gc.Pool{N: 2, C: 2, H: 5, W: 7, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}
	cases = append(cases, &layerCase{
		name: "avgpool", layer: nn.NewAvgPool2d("pool", 3, 2, 1), x: randomTensor(rng, -1, 1, 2, 2, 5, 7),
		ref: func(x []float64, _ [][]float64) []float64 { return ap.Avg(x) },
		h:   1, mags: positiveMags, relY: gc.Gamma(10), relG: []float64{gc.Gamma(5)},
	})

	// Global average pooling of 3×5 planes: 15 terms, then one division.
	cases = append(cases, &layerCase{
		name: "globalavg", layer: nn.NewGlobalAvgPool("gap"), x: randomTensor(rng, -1, 1, 3, 4, 3, 5),
		ref: func(x []float64, _ [][]float64) []float64 { return gc.GlobalAvg(x, 3, 4, 15) },
		h:   1, mags: positiveMags, relY: gc.Gamma(16), relG: []float64{gc.Gamma(1)},
	})

	// Flatten: a view, exact.
	cases = append(cases, &layerCase{
		name: "flatten", layer: nn.NewFlatten("flat"), x: randomTensor(rng, -1, 1, 3, 2, 2, 3),
		ref: func(x []float64, _ [][]float64) []float64 { return x },
		h:   1, mags: positiveMags, relY: 0, relG: []float64{0},
	})

	// Dropout with the mask fixed by (Seed, Step): y = x·mask rounds once.
	drop := nn.NewDropout("drop", 0.3)
	ones := tensor.New(4, 30)
	ones.Fill(1)
	mask := gc.F64(drop.Forward(trainCtx(1), ones).Data)
	cases = append(cases, &layerCase{
		name: "dropout", layer: drop, x: randomTensor(rng, -1, 1, 4, 30),
		ref: func(x []float64, _ [][]float64) []float64 { return gc.Mul(x, mask) },
		h:   1, mags: positiveMags, relY: gc.Gamma(1), relG: []float64{gc.Gamma(1)},
	})

	// Residual block without activation: conv 3×3 branch plus a 1×1
	// stride-2 projection, summed (one more rounding): linear in x and in
	// each weight.
	bg := gc.Conv{N: 2, C: 3, H: 6, W: 5, Out: 4, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}
	sg := gc.Conv{N: 2, C: 3, H: 6, W: 5, Out: 4, KH: 1, KW: 1, SH: 2, SW: 2}
	bconv, bps := convLayer("branch", bg, false, rng)
	sconv, sps := convLayer("short", sg, false, rng)
	oh, ow := bg.OutHW()
	cases = append(cases, &layerCase{
		name:  "residual",
		layer: nn.NewResidual("res", nn.NewSequential("branch", bconv), nn.NewSequential("short", sconv), nil),
		x:     randomTensor(rng, -1, 1, 2, 3, 6, 5), params: append(bps, sps...),
		ref: func(x []float64, p [][]float64) []float64 {
			return gc.Add(bg.Forward(x, p[0]), sg.Forward(x, p[1]))
		},
		h: 1, mags: bilinearMags, relY: gc.Gamma(3*9 + 3 + 1),
		relG: []float64{gc.Gamma(4*9 + 4 + 1), gc.Gamma(2 * oh * ow), gc.Gamma(2 * oh * ow)},
	})

	// Batch normalisation, (N, C) and (N, C, H, W), training mode.
	for _, shape := range [][]int{{8, 3}, {3, 2, 3, 4}} {
		bn := nn.NewBatchNorm("bn", shape[1], false)
		copy(bn.Gamma().Value.Data, gc.Uniform(rng, shape[1], 0.5, 1.5))
		beta := bn.Params()[1]
		copy(beta.Value.Data, gc.Uniform(rng, shape[1], -0.5, 0.5))
		n, c := shape[0], shape[1]
		s := tensor.Numel(shape) / (n * c)
		eps := float64(bn.Eps)
		cases = append(cases, &layerCase{
			name: fmt.Sprintf("batchnorm %v", shape), layer: bn, x: randomTensor(rng, -1, 2, shape...), params: []*nn.Param{bn.Gamma(), beta},
			ref: func(x []float64, p [][]float64) []float64 {
				y, _, _ := gc.BatchNorm(x, p[0], p[1], n, c, s, eps)
				return y
			},
			// BN is nonlinear in x: step 3e-5 keeps the truncation error
			// h²/6·|L'''| near 1e-9 (see engine/bn_test.go).
			h: 3e-5,
			mags: func(_ *layerCase, a [][]float64, r []float64) ([]float64, [][]float64) {
				y, dx, dg, db := gc.BatchNormMags(a[0], a[1], a[2], r, n, c, s, eps)
				return y, [][]float64{dx, dg, db}
			},
			relY: gc.Gamma(6), relG: []float64{gc.Gamma(8), gc.Gamma(2), gc.Gamma(1)},
		})
	}

	for _, lc := range cases {
		t.Run(lc.name, lc.check)
	}
}
