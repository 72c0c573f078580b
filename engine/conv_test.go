package engine_test

import (
	"testing"

	"github.com/asymlab/asym/engine"
	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/tensor"
)

// fdAbs bounds the float64 rounding error of a central difference of a
// reference loss (≈ n·2⁻⁵³·Σ|r⊙y|/h, below 1e-11 for these sizes), which
// is added to every float32 bound. It is four orders of magnitude below the
// smallest float32 bound in these tests, so it hides nothing.
const fdAbs = 1e-9

// convCases covers the convolution geometries the engine must support.
// Comments name the code path of engine/conv.go that each one reaches.
var convCases = []struct {
	name string
	g    gc.Conv
}{
	{"3x3 pad 1", gc.Conv{N: 2, C: 3, H: 6, W: 6, Out: 4, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"3x3 stride 2 pad 1", gc.Conv{N: 2, C: 3, H: 7, W: 7, Out: 4, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1}},
	{"dilation 2", gc.Conv{N: 2, C: 2, H: 7, W: 8, Out: 3, KH: 3, KW: 3, DH: 2, DW: 2, PH: 2, PW: 1}},
	{"groups 2", gc.Conv{N: 2, C: 4, H: 5, W: 5, Out: 6, KH: 3, KW: 3, PH: 1, PW: 1, G: 2}},
	{"depthwise", gc.Conv{N: 2, C: 4, H: 6, W: 6, Out: 4, KH: 3, KW: 3, PH: 1, PW: 1, G: 4}},
	{"depthwise x2 stride 2", gc.Conv{N: 2, C: 3, H: 7, W: 7, Out: 6, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1, G: 3}},
	{"1x1 pointwise", gc.Conv{N: 2, C: 5, H: 4, W: 6, Out: 3, KH: 1, KW: 1}},                // fast path: no im2col
	{"1x1 pointwise groups 2", gc.Conv{N: 2, C: 4, H: 3, W: 5, Out: 6, KH: 1, KW: 1, G: 2}}, // fast path per group
	{"1x1 stride 2", gc.Conv{N: 2, C: 3, H: 6, W: 6, Out: 5, KH: 1, KW: 1, SH: 2, SW: 2}},   // projection shortcut: im2col
	{"non-square", gc.Conv{N: 2, C: 2, H: 5, W: 9, Out: 3, KH: 3, KW: 2, SW: 2, PH: 1}},
	{"mixed stride pad dilation", gc.Conv{N: 2, C: 2, H: 8, W: 6, Out: 2, KH: 2, KW: 3, SH: 3, PW: 2, DW: 2}},
	{"padding wider than output", gc.Conv{N: 2, C: 2, H: 2, W: 1, Out: 2, KH: 5, KW: 5, PH: 2, PW: 2}},
	{"padding wider than output strided", gc.Conv{N: 1, C: 1, H: 2, W: 1, Out: 2, KH: 5, KW: 5, SH: 2, SW: 2, PH: 3, PW: 3}},
	// Small feature maps: several samples per GEMM (groupSize > 1), with
	// 1 thread all 7 in one product, with 3 threads shares of 3, 2 and 2.
	{"multi-sample 3x3", gc.Conv{N: 7, C: 3, H: 4, W: 4, Out: 5, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"multi-sample pointwise", gc.Conv{N: 7, C: 4, H: 3, W: 3, Out: 5, KH: 1, KW: 1}},
	{"multi-sample groups strided", gc.Conv{N: 6, C: 4, H: 5, W: 5, Out: 4, KH: 3, KW: 3, SH: 2, SW: 2, PH: 1, PW: 1, G: 2}},
	// 16×16 = 256 positions: groups of 4 samples, leaving a single-sample
	// tail (5 = 4+1 on one thread, 2+2+1 on three).
	{"multi-sample with tail", gc.Conv{N: 5, C: 1, H: 16, W: 16, Out: 2, KH: 3, KW: 3, PH: 1, PW: 1}},
	// Direct path (stride 1): no padding, padding below span − 1, a wide
	// kernel with the full span − 1 padding, channel counts that leave
	// partial register tiles (13 = 8 + 5 outputs, 5 inputs for δx; 45 taps,
	// not a multiple of 6), and conv groups.
	{"3x3 pad 0", gc.Conv{N: 2, C: 3, H: 6, W: 5, Out: 5, KH: 3, KW: 3}},
	{"5x5 pad 1", gc.Conv{N: 2, C: 2, H: 7, W: 8, Out: 3, KH: 5, KW: 5, PH: 1, PW: 1}},
	{"2x3 pad 1,2", gc.Conv{N: 3, C: 2, H: 5, W: 4, Out: 4, KH: 2, KW: 3, PH: 1, PW: 2}},
	{"13 out 5 in", gc.Conv{N: 2, C: 5, H: 4, W: 5, Out: 13, KH: 3, KW: 3, PH: 1, PW: 1}},
	{"direct groups", gc.Conv{N: 3, C: 4, H: 5, W: 6, Out: 10, KH: 3, KW: 3, PH: 1, PW: 1, G: 2}},
}

func engineGeom(g gc.Conv) engine.ConvGeom {
	return engine.ConvGeom{N: g.N, In: g.C, H: g.H, W: g.W, Out: g.Out, KH: g.KH, KW: g.KW,
		StrideH: g.SH, StrideW: g.SW, PadH: g.PH, PadW: g.PW, DilH: g.DH, DilW: g.DW, Groups: g.G}.Init()
}

// convRef holds the float64 reference results of one convolution problem.
type convRef struct {
	y, yMag        []float64 // forward and Σ|terms| of every output
	dx, dw         []float64 // central differences of L = Σ r⊙y
	dxMag, dwMag   []float64 // Σ|terms| of every gradient element
	nY, nDX, nDW   int       // number of terms of each sum
	x, w, r        []float32
	xShape, yShape []int
}

func newConvRef(t *testing.T, g gc.Conv, seed uint64) *convRef {
	t.Helper()
	rng := newRand(seed)
	eg := engineGeom(g)
	oh, ow := g.OutHW()
	if oh != eg.OH || ow != eg.OW {
		t.Fatalf("output size: engine %dx%d, reference %dx%d", eg.OH, eg.OW, oh, ow)
	}
	c := &convRef{
		x:      gc.Uniform(rng, g.N*g.C*g.H*g.W, -1, 1),
		w:      gc.Uniform(rng, g.WeightLen(), -1, 1),
		xShape: []int{g.N, g.C, g.H, g.W},
		yShape: eg.OutShape(),
	}
	c.r = gc.Uniform(rng, tensor.Numel(c.yShape), -1, 1)
	x, w, r := gc.F64(c.x), gc.F64(c.w), gc.F64(c.r)
	c.y = g.Forward(x, w)
	c.yMag = g.Forward(gc.Abs(x), gc.Abs(w))
	// L is linear in x and in w, so a central difference is exact up to
	// rounding for any step; h = 1 minimises that rounding.
	d := gc.Grads(func(a [][]float64) float64 { return gc.Dot(r, g.Forward(a[0], a[1])) }, [][]float64{x, w}, 1)
	ar := gc.Abs(r)
	m := gc.Grads(func(a [][]float64) float64 { return gc.Dot(ar, g.Forward(a[0], a[1])) }, [][]float64{gc.Abs(x), gc.Abs(w)}, 1)
	c.dx, c.dw, c.dxMag, c.dwMag = d[0], d[1], m[0], m[1]
	groups := max(g.G, 1)
	c.nY = g.C / groups * g.KH * g.KW
	c.nDX = g.Out / groups * g.KH * g.KW
	c.nDW = g.N * oh * ow
	return c
}

// TestConv2d checks the forward pass, the input gradient and the weight
// gradient of every geometry against the float64 reference and its
// central differences, on 1 and 3 threads, every registered BLAS and every
// kernel set.
//
// Bound: each output (gradient element) is a float32 sum of n products,
// so |got − exact| ≤ γₙ·Σ|terms| whatever the order of summation, the
// blocking or the use of FMA (see package gradcheck); n is C/G·KH·KW for
// y, Out/G·KH·KW for δx and N·OH·OW (plus one rounding for alpha, one for
// the beta term) for δW.
func TestConv2d(t *testing.T) {
	for i, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			ref := newConvRef(t, tc.g, uint64(100+i))
			forEachKernelSet(t, func(t *testing.T) {
				forEachBLAS(t, func(t *testing.T) {
					for _, th := range threadCounts {
						e := engine.NewCPU(th)
						g := engineGeom(tc.g)
						x := tensor.FromData(ref.x, ref.xShape...)
						w := tensor.FromData(ref.w, g.WeightShape()...)
						r := tensor.FromData(ref.r, ref.yShape...)

						y := nanTensor(ref.yShape...)
						e.Conv2d(y, x, w, &g)
						wy := gc.Close(t, "y", y.Data, ref.y, ref.yMag, gc.Gamma(ref.nY), fdAbs)

						dx := nanTensor(ref.xShape...)
						e.Conv2dInputGrad(dx, r, w, &g)
						wdx := gc.Close(t, "dx", dx.Data, ref.dx, ref.dxMag, gc.Gamma(ref.nDX), fdAbs)

						dw := nanTensor(g.WeightShape()...)
						e.Conv2dWeightGrad(dw, x, r, &g, 1, 0)
						wdw := gc.Close(t, "dw", dw.Data, ref.dw, ref.dwMag, gc.Gamma(ref.nDW), fdAbs)

						// Accumulation: dw ← beta·dw + alpha·δW.
						const alpha, beta = 0.5, 2
						acc := tensor.FromData(gc.Uniform(newRand(7), len(ref.dw), -1, 1), g.WeightShape()...)
						want := make([]float64, len(ref.dw))
						mag := make([]float64, len(ref.dw))
						for k := range want {
							want[k] = beta*float64(acc.Data[k]) + alpha*ref.dw[k]
							mag[k] = beta*abs(float64(acc.Data[k])) + alpha*ref.dwMag[k]
						}
						e.Conv2dWeightGrad(acc, x, r, &g, alpha, beta)
						gc.Close(t, "beta·dw + alpha·δW", acc.Data, want, mag, gc.Gamma(ref.nDW+2), fdAbs)

						t.Logf("threads %d: worst error/bound y %.3f dx %.3f dw %.3f", th, wy, wdx, wdw)
					}
				})
			})
		})
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestConv2dReusesBuffers runs two geometries of different sizes through
// one backend and one set of output tensors, in both orders, and checks
// the second results bit for bit against a fresh backend: stale scratch
// contents must never leak into a result.
func TestConv2dReusesBuffers(t *testing.T) {
	forEachKernelSet(t, func(t *testing.T) {
		big, small := convCases[len(convCases)-1].g, convCases[13].g
		for _, th := range threadCounts {
			shared := engine.NewCPU(th)
			var y, dx tensor.Tensor
			dw := tensor.New()
			for _, gg := range []gc.Conv{big, small, big} {
				ref := newConvRefData(gg, 3)
				g := engineGeom(gg)
				run := func(e *engine.CPU, y, dx, dw *tensor.Tensor) {
					x := tensor.FromData(ref.x, ref.xShape...)
					w := tensor.FromData(ref.w, g.WeightShape()...)
					r := tensor.FromData(ref.r, g.OutShape()...)
					e.Conv2d(y, x, w, &g)
					e.Conv2dInputGrad(dx, r, w, &g)
					dw.Resize(g.WeightShape()...)
					e.Conv2dWeightGrad(dw, x, r, &g, 1, 0)
				}
				run(shared, &y, &dx, dw)
				var fy, fdx tensor.Tensor
				fdw := tensor.New()
				run(engine.NewCPU(th), &fy, &fdx, fdw)
				if !tensor.Equal(&y, &fy) || !tensor.Equal(&dx, &fdx) || !tensor.Equal(dw, fdw) {
					t.Errorf("threads %d, geometry %+v: results with reused buffers differ from fresh ones", th, gg)
				}
			}
		}
	})
}

// newConvRefData draws the inputs of a convolution problem without
// computing reference results.
func newConvRefData(g gc.Conv, seed uint64) *convRef {
	rng := newRand(seed)
	oh, ow := g.OutHW()
	return &convRef{
		x:      gc.Uniform(rng, g.N*g.C*g.H*g.W, -1, 1),
		w:      gc.Uniform(rng, g.WeightLen(), -1, 1),
		r:      gc.Uniform(rng, g.N*g.Out*oh*ow, -1, 1),
		xShape: []int{g.N, g.C, g.H, g.W},
	}
}

func TestConvGeomInit(t *testing.T) {
	g := engine.ConvGeom{N: 2, In: 4, H: 9, W: 7, Out: 6, KH: 3, KW: 2, StrideH: 2, PadW: 1, DilH: 2, Groups: 2}.Init()
	if g.OH != 3 || g.OW != 8 || g.StrideW != 1 || g.DilW != 1 {
		t.Errorf("Init: OH %d OW %d StrideW %d DilW %d, want 3 8 1 1", g.OH, g.OW, g.StrideW, g.DilW)
	}
	if got := g.WeightShape(); !tensor.SameShape(got, []int{6, 2, 3, 2}) {
		t.Errorf("WeightShape %v", got)
	}
	for name, bad := range map[string]engine.ConvGeom{
		"groups":       {N: 1, In: 3, H: 4, W: 4, Out: 4, KH: 1, KW: 1, Groups: 2},
		"kernel":       {N: 1, In: 1, H: 4, W: 4, Out: 1, KH: 0, KW: 1},
		"negative pad": {N: 1, In: 1, H: 4, W: 4, Out: 1, KH: 1, KW: 1, PadH: -1},
		"too small":    {N: 1, In: 1, H: 2, W: 4, Out: 1, KH: 3, KW: 1},
		"too small s2": {N: 1, In: 1, H: 2, W: 4, Out: 1, KH: 3, KW: 1, StrideH: 2}, // span −1 must not truncate to 0
		"dilation":     {N: 1, In: 1, H: 4, W: 4, Out: 1, KH: 2, KW: 1, DilH: -1},
	} {
		t.Run(name, func(t *testing.T) { mustPanic(t, "engine: ", func() { bad.Init() }) })
	}
}

func TestConv2dShapePanics(t *testing.T) {
	e := engine.NewCPU(1)
	g := engine.ConvGeom{N: 2, In: 3, H: 5, W: 5, Out: 4, KH: 3, KW: 3}.Init()
	x, w, dy := tensor.New(2, 3, 5, 5), tensor.New(4, 3, 3, 3), tensor.New(2, 4, 3, 3)
	var out tensor.Tensor
	mustPanic(t, "engine: Conv2d", func() { e.Conv2d(&out, tensor.New(2, 3, 5, 4), w, &g) })
	mustPanic(t, "engine: Conv2d", func() { e.Conv2d(&out, x, tensor.New(4, 3, 3, 2), &g) })
	mustPanic(t, "engine: Conv2dInputGrad", func() { e.Conv2dInputGrad(&out, tensor.New(2, 4, 3, 2), w, &g) })
	mustPanic(t, "engine: Conv2dWeightGrad", func() { e.Conv2dWeightGrad(tensor.New(4, 3, 3, 3), x, tensor.New(1, 4, 3, 3), &g, 1, 0) })
	raw := engine.ConvGeom{N: 2, In: 3, H: 5, W: 5, Out: 4, KH: 3, KW: 3}
	mustPanic(t, "engine: Conv2d", func() { e.Conv2d(&out, x, w, &raw) })
	_ = dy
}
