package nn_test

import (
	"math"
	"strings"
	"testing"

	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// recorder is a Feedback that logs the calls it gets.
type recorder struct {
	log *[]string
	err **tensor.Tensor
}

func (r recorder) Prepare(c *nn.Ctx, l nn.WeightLayer) {
	*r.log = append(*r.log, "prepare "+l.Name())
	*r.err = c.Err
}

func (r recorder) Update(c *nn.Ctx, l nn.WeightLayer) {
	// W's gradient must already be written.
	ok := !math.IsNaN(float64(l.Weight().Grad.Data[0]))
	*r.log = append(*r.log, "update "+l.Name()+map[bool]string{true: "", false: " (no δW)"}[ok])
}

func TestNetwork(t *testing.T) {
	rng := newRand(1)
	root := buildResNet(rng, nn.NewTap("tap"))
	net, err := nn.NewNetwork(root, []int{rnC, rnH, rnW}, rnClasses)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range net.WeightLayers() {
		names = append(names, w.Name())
	}
	want := "conv1 layer1.0.conv1 layer1.0.conv2 layer2.0.conv1 layer2.0.conv2 layer2.0.downsample.0 fc"
	if strings.Join(names, " ") != want {
		t.Errorf("weight layers %v, want %s", names, want)
	}
	if net.WeightLayer("fc") == nil || net.WeightLayer("nope") != nil {
		t.Errorf("WeightLayer lookup")
	}
	if n := len(net.Params()); n != 7+1+6*4 {
		t.Errorf("%d params, want 32 (7 weights, fc bias, 6 BNs × 4)", n)
	}
	if err := net.CheckInput([]int{5, rnC, rnH, rnW}); err != nil {
		t.Errorf("CheckInput: %v", err)
	}
	if err := net.CheckInput([]int{5, rnC, rnH, rnW + 1}); err == nil {
		t.Errorf("CheckInput accepted a wrong shape")
	}

	// Bindings: Prepare before and Update after the backward pass, with
	// c.Err set to the output gradient.
	var log []string
	var seen *tensor.Tensor
	net.Bind(net.WeightLayer("fc"), recorder{&log, &seen})
	net.Bind(net.WeightLayer("conv1"), recorder{&log, &seen})
	net.Bind(net.WeightLayer("conv1"), nil) // unbind
	net.Bind(net.WeightLayer("layer1.0.conv1"), recorder{&log, &seen})
	for _, p := range net.Params() {
		if p.Grad != nil {
			p.Grad.Fill(float32(math.NaN()))
		}
	}
	c := trainCtx(2)
	pr := newResnetProblem(rng)
	logits := net.Forward(c, pr.x)
	var dl tensor.Tensor
	c.E.SoftmaxCrossEntropy(&dl, logits, pr.labels, 0)
	net.Backward(c, &dl)
	if got := strings.Join(log, ", "); got != "prepare fc, prepare layer1.0.conv1, update fc, update layer1.0.conv1" {
		t.Errorf("feedback calls: %s", got)
	}
	if seen != &dl {
		t.Errorf("c.Err was not the output gradient during Prepare")
	}
	for _, p := range net.Params() {
		if p.Grad != nil && p.Grad.HasNaNOrInf() {
			t.Errorf("%s: gradient not written by Network.Backward", p.Name)
		}
	}
	log = log[:0]
	net.UpdateFeedback(c)
	if strings.Join(log, ", ") != "update fc, update layer1.0.conv1" {
		t.Errorf("UpdateFeedback calls: %v", log)
	}
	// KeepFeedback: the rules prepare B but do not update it.
	log = log[:0]
	c.KeepFeedback = true
	net.Forward(c, pr.x)
	net.Backward(c, &dl)
	if got := strings.Join(log, ", "); got != "prepare fc, prepare layer1.0.conv1" {
		t.Errorf("feedback calls with KeepFeedback: %s", got)
	}
}

func TestNewNetworkErrors(t *testing.T) {
	rng := newRand(2)
	fc := func(name string, in, out int) *nn.Linear { return nn.NewLinear(name, in, out, true, nn.HeNormal, rng) }
	for name, tc := range map[string]struct {
		root nn.Layer
		in   []int
		want string
	}{
		"classes":   {nn.NewSequential("", nn.NewFlatten("f"), fc("fc", 12, 4)), []int{3, 4}, "is not (N, 3)"},
		"shape":     {nn.NewSequential("", fc("fc", 12, 3)), []int{3, 4}, "Linear expects input (N, …, 12)"},
		"duplicate": {nn.NewSequential("", nn.NewFlatten("f"), fc("fc", 12, 12), fc("fc", 12, 3)), []int{12}, `duplicate parameter name "fc.weight"`},
		"residual": {nn.NewResidual("res", nn.NewSequential("b", fc("a", 4, 3)), nil, nil), []int{4},
			"does not match shortcut"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := nn.NewNetwork(tc.root, tc.in, 3)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "nn: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestConvBatchChange runs a Conv2d layer on batches of different sizes
// (the geometry is rederived from the input) and checks every output
// against the float64 reference within γ_{C·9+1}·Σ|terms|.
func TestConvBatchChange(t *testing.T) {
	rng := newRand(3)
	g := gc.Conv{C: 3, H: 5, W: 4, Out: 2, KH: 3, KW: 3, SH: 2, PW: 1}
	l, ps := convLayer("conv", g, true, rng)
	fillParams(l, rng, -1, 1)
	c := trainCtx(2)
	for _, n := range []int{4, 1, 7, 4} {
		g.N = n
		x := randomTensor(rng, -1, 1, n, 3, 5, 4)
		y := l.Forward(c, x)
		args := [][]float64{gc.F64(ps[0].Value.Data), gc.F64(ps[1].Value.Data)}
		ref := convRef(g, true)
		gc.Close(t, "y", y.Data, ref(gc.F64(x.Data), args), ref(gc.Abs(gc.F64(x.Data)), [][]float64{gc.Abs(args[0]), gc.Abs(args[1])}), gc.Gamma(3*9+1), 0)
		if dx := l.Backward(c, y, true); !tensor.SameShape(dx.Shape, x.Shape) {
			t.Errorf("batch %d: dx shape %v", n, dx.Shape)
		}
	}
	if _, err := l.OutShape([]int{1, 3, 1, 4}); err == nil {
		t.Errorf("OutShape accepted a 1-row input for a 3-row kernel")
	}
	// Stride 2 leaves a span of −1 on 2 rows: too small, not 1 output row.
	if _, err := l.OutShape([]int{1, 3, 2, 4}); err == nil {
		t.Errorf("OutShape accepted a 2-row input for a 3-row kernel")
	}
	mustPanic(t, "nn: conv", func() { l.Forward(c, tensor.New(2, 3, 2, 4)) })
	mustPanic(t, "nn: Conv2d", func() { nn.NewConv2d("c", nn.ConvSpec{In: 3, Out: 2, KH: 0, KW: 3}, nn.HeNormal, rng) })
	mustPanic(t, "engine: conv", func() { nn.NewConv2d("c", nn.ConvSpec{In: 3, Out: 2, KH: 1, KW: 1, Groups: 2}, nn.HeNormal, rng) })
}

// TestBatchNormStatistics checks the running statistics (momentum 0.1,
// unbiased variance) and evaluation mode, which must use them.
func TestBatchNormStatistics(t *testing.T) {
	rng := newRand(4)
	bn := nn.NewBatchNorm("bn", 3, false)
	ps := bn.Params()
	x := randomTensor(rng, -1, 3, 4, 3, 2, 2)
	n, c, s := 4, 3, 4
	c1 := trainCtx(1)
	bn.Forward(c1, x)
	bn.Forward(c1, x)
	_, mu, vr := gc.BatchNorm(gc.F64(x.Data), []float64{1, 1, 1}, []float64{0, 0, 0}, n, c, s, 1e-5)
	wantMean, wantVar := make([]float64, c), make([]float64, c)
	for ch := range wantMean {
		m, v := 0.0, 1.0
		for range 2 {
			m = 0.9*m + 0.1*mu[ch]
			v = 0.9*v + 0.1*vr[ch]*16/15
		}
		wantMean[ch], wantVar[ch] = m, v
	}
	// A handful of float32 roundings per update: 16u relative.
	gc.Close(t, "running mean", ps[2].Value.Data, wantMean, nil, 16*gc.U, 1e-7)
	gc.Close(t, "running var", ps[3].Value.Data, wantVar, nil, 16*gc.U, 0)
	if ps[2].Trainable() || ps[3].Trainable() || ps[2].Kind != nn.KindBuffer {
		t.Errorf("running statistics must be untrained buffers")
	}

	ev := &nn.Ctx{E: c1.E}
	y := bn.Forward(ev, x)
	want := gc.BatchNormInfer(gc.F64(x.Data), gc.F64(bn.Gamma().Value.Data), gc.F64(ps[1].Value.Data),
		gc.F64(ps[2].Value.Data), gc.F64(ps[3].Value.Data), n, c, s, float64(bn.Eps))
	if e := gc.RelErr(y.Data, want); e > 8*gc.U*4 {
		t.Errorf("evaluation mode relative error %.3g", e)
	}
	zero := nn.NewBatchNorm("z", 2, true)
	if zero.Gamma().Value.Data[0] != 0 {
		t.Errorf("zeroGamma did not zero γ")
	}
	if _, err := bn.OutShape([]int{2, 4}); err == nil {
		t.Errorf("OutShape accepted 4 channels")
	}
}

// TestDropout checks the mask: reproducible for a (Seed, Step), different
// for another step, a drop rate near P, values 0 or 1/(1−P), and the
// identity in evaluation and with P = 0.
func TestDropout(t *testing.T) {
	d := nn.NewDropout("drop", 0.25)
	ones := tensor.New(100, 100)
	ones.Fill(1)
	c := trainCtx(1)
	m1 := d.Forward(c, ones).Clone()
	m2 := d.Forward(c, ones).Clone()
	c.Step++
	m3 := d.Forward(c, ones).Clone()
	if !tensor.Equal(m1, m2) || tensor.Equal(m1, m3) {
		t.Errorf("masks: same step equal %v, next step equal %v", tensor.Equal(m1, m2), tensor.Equal(m1, m3))
	}
	zeros := 0
	for _, v := range m1.Data {
		switch v {
		case 0:
			zeros++
		case float32(1 / 0.75):
		default:
			t.Fatalf("mask value %v", v)
		}
	}
	// 10⁴ Bernoulli(0.25) draws: standard deviation 43; allow 5σ.
	if zeros < 2500-215 || zeros > 2500+215 {
		t.Errorf("%d of 10000 dropped, want about 2500", zeros)
	}
	ev := &nn.Ctx{E: c.E}
	if y := d.Forward(ev, ones); y != ones {
		t.Errorf("evaluation mode is not the identity")
	}
	if dx := d.Backward(ev, ones, true); dx != ones {
		t.Errorf("backward after evaluation is not the identity")
	}
	if y := nn.NewDropout("d0", 0).Forward(c, ones); y != ones {
		t.Errorf("P = 0 is not the identity")
	}
	mustPanic(t, "nn: Dropout", func() { nn.NewDropout("bad", 1) })
}

func TestInitializers(t *testing.T) {
	names := nn.InitializerNames()
	if strings.Join(names, " ") != "he lecun torch" {
		t.Errorf("initializers %v", names)
	}
	rng := newRand(5)
	for _, name := range names {
		init, err := nn.InitializerByName(name)
		if err != nil {
			t.Fatal(err)
		}
		w := tensor.New(200, 100)
		init(w, rng, 100)
		var ss float64
		for _, v := range w.Data {
			ss += float64(v) * float64(v)
		}
		std := math.Sqrt(ss / float64(w.Len()))
		want := map[string]float64{"he": math.Sqrt(2.0 / 100), "lecun": math.Sqrt(1.0 / 100), "torch": 0.1 / math.Sqrt(3)}[name]
		// 2·10⁴ draws: the sample std is within 2% of σ with overwhelming
		// probability (its relative standard error is about 0.5%).
		if math.Abs(std/want-1) > 0.02 {
			t.Errorf("%s: std %.4f, want %.4f", name, std, want)
		}
	}
	if _, err := nn.InitializerByName("glorot"); err == nil || !strings.Contains(err.Error(), "he, lecun, torch") {
		t.Errorf("unknown initializer error: %v", err)
	}
	if nn.KindFeedback.String() != "feedback" || nn.Kind(99).String() != "unknown" {
		t.Errorf("Kind strings")
	}
}

// TestFlattenIsView checks that Flatten neither copies its input nor its
// gradient.
func TestFlattenIsView(t *testing.T) {
	f := nn.NewFlatten("flat")
	x := tensor.New(2, 3, 4)
	c := trainCtx(1)
	y := f.Forward(c, x)
	dx := f.Backward(c, y, true)
	if &y.Data[0] != &x.Data[0] || &dx.Data[0] != &x.Data[0] || !tensor.SameShape(y.Shape, []int{2, 12}) || !tensor.SameShape(dx.Shape, x.Shape) {
		t.Errorf("Flatten: y %v, dx %v", y.Shape, dx.Shape)
	}
	if f.Backward(c, y, false) != nil {
		t.Errorf("Backward(needDX=false) returned a gradient")
	}
}
