package nn_test

import (
	"fmt"
	"testing"

	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// snapshot returns copies of the gradients of ps and of dx.
func snapshot(ps []*nn.Param, dx *tensor.Tensor) []*tensor.Tensor {
	out := []*tensor.Tensor{dx.Clone()}
	for _, p := range ps {
		out = append(out, p.Grad.Clone())
	}
	return out
}

// weightLayers returns the weight layers of l in forward order.
func weightLayers(l nn.Layer) []nn.WeightLayer {
	var ws []nn.WeightLayer
	nn.Walk(l, func(l nn.Layer) {
		if w, ok := l.(nn.WeightLayer); ok {
			ws = append(ws, w)
		}
	})
	return ws
}

// TestBackpropIdentity gives every weight layer of the ResNet its own
// backward weights B, an exact copy of W, and checks that the loss, the
// input gradient and every parameter gradient are bit-for-bit those of
// backprop (B ≡ W, the same *Param).
func TestBackpropIdentity(t *testing.T) {
	for _, th := range []int{1, 3} {
		pr := newResnetProblem(newRand(3))
		a, b := buildResNet(newRand(5), nil), buildResNet(newRand(5), nil)
		for _, w := range weightLayers(b) {
			w.SetFeedback(&nn.Param{Name: w.Name() + ".feedback", Kind: nn.KindFeedback, Value: w.Weight().Value.Clone()})
			if w.Feedback() == w.Weight() {
				t.Fatalf("%s: SetFeedback did not install B", w.Name())
			}
		}
		if _, err := nn.NewNetwork(b, []int{rnC, rnH, rnW}, rnClasses); err != nil {
			t.Fatal(err)
		}
		la, _, dxa := pr.step(trainCtx(th), a)
		lb, _, dxb := pr.step(trainCtx(th), b)
		ga, gb := snapshot(trainable(a), dxa), snapshot(trainable(b), dxb)
		if la != lb {
			t.Errorf("threads %d: loss %v with B = copy of W, %v with B ≡ W", th, lb, la)
		}
		if len(ga) != len(gb) {
			t.Fatalf("%d gradients with B ≡ W, %d with copies (B must not be trainable here)", len(ga), len(gb))
		}
		for i := range ga {
			if !tensor.Equal(ga[i], gb[i]) {
				t.Errorf("threads %d: gradient %d differs (max %g)", th, i, tensor.MaxAbsDiff(ga[i], gb[i]))
			}
		}
	}
}

// TestFeedbackIsUsed checks single weight layers with B ≠ W: δx must equal
// Bᵀδy, i.e. the central differences of Σ r⊙f(x; B) with respect to x
// (bound γₙ·Σ|terms| as in TestLayerGradients), and differ from Wᵀδy,
// while δW and δb stay bit-for-bit those of backprop.
func TestFeedbackIsUsed(t *testing.T) {
	rng := newRand(17)
	g := gc.Conv{N: 3, C: 4, H: 5, W: 6, Out: 6, KH: 3, KW: 3, SH: 2, SW: 1, PH: 1, PW: 1, G: 2}
	cl, _ := convLayer("conv", g, true, rng)
	ll := nn.NewLinear("fc", 7, 5, true, nn.HeNormal, rng)
	for _, tc := range []struct {
		l   nn.WeightLayer
		x   *tensor.Tensor
		ref func(x, w []float64) []float64
		n   int // terms of an input-gradient element
	}{
		{cl, randomTensor(rng, -1, 1, g.N, g.C, g.H, g.W), g.Forward, 6 / 2 * 9},
		{ll, randomTensor(rng, -1, 1, 4, 7), func(x, w []float64) []float64 { return gc.Linear(x, w, nil, 4, 7, 5) }, 5},
	} {
		t.Run(tc.l.Name(), func(t *testing.T) {
			c := trainCtx(2)
			y := tc.l.Forward(c, tc.x)
			r := randomTensor(rng, -1, 1, y.Shape...)
			bp := tc.l.Backward(c, r, true).Clone()
			wantGrads := snapshot(tc.l.Params(), bp)[1:]

			bv := randomTensor(rng, -1, 1, tc.l.Weight().Value.Shape...)
			tc.l.SetFeedback(&nn.Param{Name: "B", Kind: nn.KindFeedback, Value: bv})
			defer tc.l.SetFeedback(tc.l.Weight())
			if ps := tc.l.Params(); ps[len(ps)-1].Value != bv {
				t.Errorf("Params does not list B last")
			}
			tc.l.Forward(c, tc.x)
			dx := tc.l.Backward(c, r, true)
			for i, p := range tc.l.Params()[:len(wantGrads)] {
				if !tensor.Equal(p.Grad, wantGrads[i]) {
					t.Errorf("%s gradient changed with B ≠ W", p.Name)
				}
			}
			if tensor.Equal(dx, bp) {
				t.Fatalf("δx did not change with B ≠ W")
			}
			r64, b64, x64 := gc.F64(r.Data), gc.F64(bv.Data), gc.F64(tc.x.Data)
			want := gc.Grads(func(a [][]float64) float64 { return gc.Dot(r64, tc.ref(a[0], b64)) }, [][]float64{x64}, 1)[0]
			ar, ab := gc.Abs(r64), gc.Abs(b64)
			mag := gc.Grads(func(a [][]float64) float64 { return gc.Dot(ar, tc.ref(a[0], ab)) }, [][]float64{gc.Abs(x64)}, 1)[0]
			gc.Close(t, "δx = Bᵀδy", dx.Data, want, mag, gc.Gamma(tc.n), fdAbs)
		})
	}
}

// TestFeedbackInNetwork replaces B of one layer deep in the ResNet and
// checks that only the gradients below it change: the layers above it,
// and its own δW, are bit-for-bit those of backprop.
func TestFeedbackInNetwork(t *testing.T) {
	pr := newResnetProblem(newRand(4))
	root := buildResNet(newRand(6), nil)
	ps := trainable(root)
	_, _, dx := pr.step(trainCtx(2), root)
	want := snapshot(ps, dx)

	var target nn.WeightLayer
	for _, w := range weightLayers(root) {
		if w.Name() == "layer2.0.conv2" {
			target = w
		}
	}
	target.SetFeedback(&nn.Param{Name: "B", Kind: nn.KindFeedback,
		Value: randomTensor(newRand(1), -0.3, 0.3, target.Weight().Value.Shape...)})
	_, _, dx = pr.step(trainCtx(2), root)
	got := snapshot(ps, dx)
	// Parameters from layer2.0.conv2 on (forward order) keep their
	// gradients: layer2.0.conv2's own δW, its BN, the shortcut (it does not
	// see B's δx) and fc. Everything feeding layer2.0.conv2 changes.
	unchanged := map[string]bool{"layer2.0.conv2.weight": true, "layer2.0.bn2.weight": true, "layer2.0.bn2.bias": true,
		"layer2.0.downsample.0.weight": true, "layer2.0.downsample.1.weight": true, "layer2.0.downsample.1.bias": true,
		"fc.weight": true, "fc.bias": true}
	if tensor.Equal(got[0], want[0]) {
		t.Errorf("input gradient unchanged with B ≠ W")
	}
	for i, p := range ps {
		if eq := tensor.Equal(got[i+1], want[i+1]); eq != unchanged[p.Name] {
			t.Errorf("%s: gradient unchanged = %v, want %v", p.Name, eq, unchanged[p.Name])
		}
	}
}

// spy wraps a layer and records the needDX and δy of its Backward calls.
type spy struct {
	nn.Layer
	needs []bool
	dys   []*tensor.Tensor
}

// Children exposes the wrapped layer, so that containers see its
// parameters (Sequential asks whether a layer below trains).
func (s *spy) Children() []nn.Layer { return []nn.Layer{s.Layer} }

func (s *spy) Backward(c *nn.Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	s.needs = append(s.needs, needDX)
	if dy != nil {
		s.dys = append(s.dys, dy.Clone())
	} else {
		s.dys = append(s.dys, nil)
	}
	return s.Layer.Backward(c, dy, needDX)
}

// TestTap checks direct-feedback taps. Without an injector a tap is the
// identity in both directions: every gradient is bit-for-bit that of the
// same network without it. With one, the layer below the tap receives the
// injected gradient (so every gradient below is that of a backward pass
// started there), the layers above keep their gradients, and the layer
// above the tap is not asked for the input gradient the tap discards.
func TestTap(t *testing.T) {
	pr := newResnetProblem(newRand(8))
	plain := buildResNet(newRand(9), nil)
	_, _, dx := pr.step(trainCtx(3), plain)
	want := snapshot(trainable(plain), dx)

	tap := nn.NewTap("tap1")
	tapped := buildResNet(newRand(9), tap)
	net, err := nn.NewNetwork(tapped, []int{rnC, rnH, rnW}, rnClasses)
	if err != nil {
		t.Fatal(err)
	}
	if len(net.Taps()) != 1 || net.Taps()[0] != tap || fmt.Sprint(tap.Shape()) != "[4 6 6]" {
		t.Fatalf("taps %v, shape %v", net.Taps(), tap.Shape())
	}
	_, _, dx = pr.step(trainCtx(3), tapped)
	for i, g := range snapshot(trainable(tapped), dx) {
		if !tensor.Equal(g, want[i]) {
			t.Errorf("gradient %d changed by a tap without injector", i)
		}
	}

	// With an injector. Wrap the layers either side of the tap in spies.
	ti := -1
	for i, l := range tapped.Layers {
		if l == tap {
			ti = i
		}
	}
	byName := map[string]*nn.Param{} // before the spies hide layers from Walk
	for _, p := range trainable(tapped) {
		byName[p.Name] = p
	}
	lowerNames := map[string]bool{}
	for _, p := range trainable(nn.NewSequential("", tapped.Layers[:ti]...)) {
		lowerNames[p.Name] = true
	}
	below, above := &spy{Layer: tapped.Layers[ti-1]}, &spy{Layer: tapped.Layers[ti+1]}
	tapped.Layers[ti-1], tapped.Layers[ti+1] = below, above
	inj := randomTensor(newRand(10), -1, 1, rnN, 4, rnH, rnW)
	calls := 0
	tap.SetInjector(func(c *nn.Ctx, dst *tensor.Tensor) {
		calls++
		dst.CopyFrom(inj) // injectors size dst themselves (as rules/dfa.go does)
	})
	if !tap.DiscardsGradient() {
		t.Fatal("DiscardsGradient false with an injector")
	}
	c := trainCtx(3)
	_, _, dx = pr.step(c, tapped)
	var got []*tensor.Tensor
	for _, p := range trainable(plain) {
		got = append(got, byName[p.Name].Grad.Clone())
	}
	got = append([]*tensor.Tensor{dx.Clone()}, got...)
	if calls != 1 {
		t.Errorf("injector called %d times", calls)
	}
	if len(above.needs) != 1 || above.needs[0] {
		t.Errorf("layer above the tap asked for needDX = %v, want [false]", above.needs)
	}
	if len(below.dys) != 1 || below.dys[0] == nil || !tensor.Equal(below.dys[0], inj) {
		t.Errorf("layer below the tap did not receive the injected gradient")
	}

	// Expected gradients below the tap: the forward caches are unchanged,
	// so run the lower layers' backward passes from the injected gradient.
	var d *tensor.Tensor = inj
	for i := ti - 1; i >= 0; i-- {
		d = tapped.Layers[i].Backward(c, d, true)
	}
	if !tensor.Equal(got[0], d) {
		t.Errorf("input gradient is not the backward pass of the injected gradient")
	}
	for i, p := range trainable(plain) {
		if lowerNames[p.Name] {
			if !tensor.Equal(got[i+1], byName[p.Name].Grad) {
				t.Errorf("%s: gradient below the tap is not the backward pass of the injected gradient", p.Name)
			}
		} else if !tensor.Equal(got[i+1], want[i+1]) {
			t.Errorf("%s: gradient above the tap changed", p.Name)
		}
	}
	if len(lowerNames) != 9 { // conv1, bn1 (2), layer1.0: two convs and two BNs
		t.Errorf("%d parameters below the tap, want 9", len(lowerNames))
	}
}
