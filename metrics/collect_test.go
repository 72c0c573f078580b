package metrics_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/internal/testmain"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/metrics"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/rules/ruletest"
	"github.com/asymlab/asym/tensor"
)

func TestMain(m *testing.M) { testmain.Run(m) }

func trainCtx() *nn.Ctx {
	return &nn.Ctx{E: engine.NewCPU(2), Train: true, Seed: 1, Step: 7}
}

// handLinear returns a bias-free 2→2 Linear with W = I and B = [[1 1] [0 1]]
// (a shear), after a forward pass on x = [[0 1] [2 0]] and a backward pass
// with δy = [[3 0] [0 1]].
func handLinear(t *testing.T, c *nn.Ctx) *nn.Linear {
	t.Helper()
	l := nn.NewLinear("fc", 2, 2, false, nn.HeNormal, rand.New(rand.NewPCG(1, 1)))
	copy(l.Weight().Value.Data, []float32{1, 0, 0, 1})
	l.SetFeedback(&nn.Param{Name: "fc.backward_weight", Kind: nn.KindFeedback,
		Value: tensor.FromData([]float32{1, 1, 0, 1}, 2, 2)})
	l.Forward(c, tensor.FromData([]float32{0, 1, 2, 0}, 2, 2))
	l.Backward(c, tensor.FromData([]float32{3, 0, 0, 1}, 2, 2), true)
	return l
}

func TestMeasureHandLinear(t *testing.T) {
	c := trainCtx()
	m := metrics.Measure(c.E, handLinear(t, c))
	deg := func(cos float64) float64 { return math.Acos(cos) * 180 / math.Pi }
	// W = (1,0,0,1), B = (1,1,0,1): cos = 2/(√2·√3).
	// Wx = [[0 1] [2 0]], Bx = [[1 1] [2 0]]: cos = 5/(√5·√6).
	// Wᵀδy = δy W = [[3 0] [0 1]], Bᵀδy = δy B = [[3 3] [0 1]]: cos = 10/(√10·√19).
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"weight angle", m.WeightAngle, deg(2 / math.Sqrt(6))},
		{"norm ratio", m.NormRatio, math.Sqrt(3) / math.Sqrt(2)},
		{"projection angle", m.ProjectionAngle, deg(5 / math.Sqrt(30))},
		{"gradient angle", m.GradientAngle, deg(10 / math.Sqrt(190))},
	} {
		// Every input is a small integer, exact in float32; the only
		// rounding is float64's, so 1e-9 is generous.
		if math.Abs(tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %.12g, want %.12g", tc.name, tc.got, tc.want)
		}
	}
	if m.Name != "fc" || !math.IsNaN(m.EndToEndAngle) || m.HasRegularizer || !math.IsNaN(m.Regularizer) || m.Bound {
		t.Errorf("Measure = %+v, want name fc, NaN end-to-end angle and regularizer, unbound", m)
	}
}

// B = W, B = 2W and B = −W on dense and convolutional layers, with bias:
// every angle is exactly 0° or 180°.
func TestMeasureExactCases(t *testing.T) {
	c := trainCtx()
	rng := rand.New(rand.NewPCG(2, 2))
	mk := map[string]func() nn.WeightLayer{
		"linear": func() nn.WeightLayer { return nn.NewLinear("fc", 5, 3, true, nn.HeNormal, rng) },
		"conv": func() nn.WeightLayer {
			return nn.NewConv2d("conv", nn.ConvSpec{In: 2, Out: 3, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2, Bias: true}, nn.HeNormal, rng)
		},
	}
	in := map[string][]int{"linear": {4, 5}, "conv": {4, 2, 6, 6}}
	for _, kind := range []string{"linear", "conv"} {
		for _, tc := range []struct {
			name  string
			scale float32 // B = scale·W; 0 means B ≡ W (the same Param)
			angle float64
			ratio float64
		}{
			{"same", 0, 0, 1},
			{"copy", 1, 0, 1},
			{"double", 2, 0, 2},
			{"negated", -1, 180, 1},
			{"negated half", -0.5, 180, 0.5},
		} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				l := mk[kind]()
				if tc.scale != 0 {
					b := l.Weight().Value.Clone()
					for i := range b.Data {
						b.Data[i] *= tc.scale
					}
					l.SetFeedback(&nn.Param{Name: "b", Kind: nn.KindFeedback, Value: b})
				}
				x := tensor.New(in[kind]...)
				tensor.FillNormal(x, rng, 1)
				y := l.Forward(c, x)
				dy := tensor.New(y.Shape...)
				tensor.FillNormal(dy, rng, 1)
				l.Backward(c, dy, true)
				m := metrics.Measure(c.E, l)
				for name, got := range map[string]float64{"weight": m.WeightAngle, "projection": m.ProjectionAngle, "gradient": m.GradientAngle} {
					if got != tc.angle {
						t.Errorf("%s angle = %.17g, want exactly %v", name, got, tc.angle)
					}
				}
				if m.NormRatio != tc.ratio {
					t.Errorf("norm ratio = %.17g, want exactly %v", m.NormRatio, tc.ratio)
				}
			})
		}
	}
}

func TestMeasureMissingState(t *testing.T) {
	c := trainCtx()
	l := nn.NewLinear("fc", 3, 2, true, nn.HeNormal, rand.New(rand.NewPCG(3, 3)))
	m := metrics.Measure(c.E, l)
	if m.WeightAngle != 0 || m.NormRatio != 1 || !math.IsNaN(m.ProjectionAngle) || !math.IsNaN(m.GradientAngle) {
		t.Errorf("before any pass: %+v, want weight angle 0, ratio 1, NaN projection and gradient angles", m)
	}
	l.Forward(c, tensor.FromData([]float32{1, 2, 3}, 1, 3))
	m = metrics.Measure(c.E, l)
	if m.ProjectionAngle != 0 || !math.IsNaN(m.GradientAngle) {
		t.Errorf("after a forward pass only: %+v, want projection angle 0 and NaN gradient angle", m)
	}
}

var tinyModels = map[string]models.Spec{
	"mlp":     {Arch: "mlp", In: []int{1, 4, 4}, Classes: 3, Hidden: []int{8, 6}},
	"convnet": {Arch: "convnet", In: []int{1, 8, 8}, Classes: 3, Hidden: []int{4, 6, 8}},
	"resnet8": {Arch: "resnet", Depth: 8, Width: 0.25, In: []int{3, 8, 8}, Classes: 3},
	"gpt":     {Arch: "gpt", In: []int{6}, Classes: 5, Dim: 8, Heads: 2, Depth: 1, MLP: 12},
	"vit":     {Arch: "vit", In: []int{1, 8, 8}, Classes: 3, Dim: 8, Heads: 2, Depth: 1, MLP: 12, Patch: 4},
}

// setup builds a tiny model, binds the rule and runs one training forward
// and backward pass on a fixed batch of 6; it returns the context and
// dlogits.
func setup(t *testing.T, model, rule string, opts rules.Options) (*nn.Network, *rules.Bound, *nn.Ctx, *tensor.Tensor) {
	t.Helper()
	net, err := models.Build(tinyModels[model], tensor.NewRand(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	info, ok := rules.Lookup(rule)
	if !ok {
		t.Fatalf("rule %s not registered", rule)
	}
	r, err := rules.New(rule, ruletest.Settings(info))
	if err != nil {
		t.Fatal(err)
	}
	b, err := rules.Apply(net, r, opts, &rules.Env{Rand: tensor.NewRand(1, 2), Seed: 1, WeightDecay: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	c := trainCtx()
	x, labels := ruletest.Batch(rand.New(rand.NewPCG(9, 9)), net, 6)
	logits := net.Forward(c, x)
	dl := tensor.New(1)
	net.Head.Loss(c.E, dl, logits, labels, 0)
	net.Backward(c, dl)
	return net, b, c, dl
}

// Exact backprop, and FA with B started as a copy of W, give exactly 0°
// everywhere and a norm ratio of exactly 1.
func TestCollectSymmetricIsZero(t *testing.T) {
	for _, model := range []string{"mlp", "convnet", "resnet8", "gpt", "vit"} {
		for _, tc := range []struct {
			rule string
			opts rules.Options
		}{
			{"bp", rules.Options{}},
			{"fa", rules.Options{BInit: "copy"}},
			{"kp", rules.Options{BInit: "copy"}},
		} {
			t.Run(model+"/"+tc.rule, func(t *testing.T) {
				net, b, c, dl := setup(t, model, tc.rule, tc.opts)
				s := metrics.Collect(c, net, b, dl)
				if s.Rule != tc.rule || s.Step != 7 || len(s.Layers) != len(net.WeightLayers()) {
					t.Fatalf("snapshot rule %q step %d with %d layers, want %s, 7, %d", s.Rule, s.Step, len(s.Layers), tc.rule, len(net.WeightLayers()))
				}
				for i, l := range s.Layers {
					// Embedding tables are bound only when named (their B
					// changes no gradient); they keep B ≡ W.
					_, lookup := net.WeightLayers()[i].(nn.Lookup)
					if l.Bound == lookup || l.WeightAngle != 0 || l.NormRatio != 1 || l.ProjectionAngle != 0 || l.GradientAngle != 0 || l.EndToEndAngle != 0 {
						t.Errorf("%+v, want bound (unless a lookup) with every angle exactly 0 and ratio 1", l)
					}
				}
			})
		}
	}
}

func TestCollectFeedbackAlignment(t *testing.T) {
	net, b, c, dl := setup(t, "mlp", "fa", rules.Options{})
	var local []metrics.Layer
	for _, l := range net.WeightLayers() {
		local = append(local, metrics.Measure(c.E, l))
	}
	s := metrics.Collect(c, net, b, dl)
	last := len(s.Layers) - 1
	for i, l := range s.Layers {
		// The layer-local angle is the one for the rule's δy, taken before
		// the exact pass replaces it.
		if l.GradientAngle != local[i].GradientAngle {
			t.Errorf("%s: gradient angle %v, measured before Collect %v", l.Name, l.GradientAngle, local[i].GradientAngle)
		}
		if !l.Bound {
			t.Errorf("%s: not bound", l.Name)
		}
		// Independent random B: far from W in every layer.
		if l.WeightAngle < 45 || l.GradientAngle < 10 || math.Abs(l.NormRatio-1) > 0.9 {
			t.Errorf("%s: %+v, want weight angle > 45°, gradient angle > 10°, ratio within (0.1, 1.9)", l.Name, l)
		}
		if i == last {
			// The output layer's δy is the loss gradient and its x the
			// forward activation, both unaffected by B: its update is
			// exact, bit for bit.
			if l.EndToEndAngle != 0 {
				t.Errorf("output layer %s: end-to-end angle %g, want exactly 0", l.Name, l.EndToEndAngle)
			}
		} else if !(l.EndToEndAngle > 1) {
			t.Errorf("hidden layer %s: end-to-end angle %g, want > 1°", l.Name, l.EndToEndAngle)
		}
	}
}

// With layers = hidden the output layer is left to exact backprop: it
// reports 0° and ratio 1 and is marked unbound.
func TestCollectUnboundLayer(t *testing.T) {
	for _, model := range []string{"mlp", "convnet"} {
		net, b, c, dl := setup(t, model, "fa", rules.Options{Layers: "hidden"})
		s := metrics.Collect(c, net, b, dl)
		out := s.Layers[len(s.Layers)-1]
		if out.Bound || out.WeightAngle != 0 || out.NormRatio != 1 || out.ProjectionAngle != 0 || out.GradientAngle != 0 || out.EndToEndAngle != 0 {
			t.Errorf("%s: unbound output layer %+v, want unbound, 0° and ratio 1", model, out)
		}
		if !s.Layers[0].Bound || !(s.Layers[0].WeightAngle > 45) {
			t.Errorf("%s: first layer %+v, want bound with a large weight angle", model, s.Layers[0])
		}
	}
	// No rule at all: every layer unbound and exact.
	net, _, c, dl := setup(t, "mlp", "bp", rules.Options{})
	s := metrics.Collect(c, net, nil, dl)
	for _, l := range s.Layers {
		if l.Bound || l.EndToEndAngle != 0 || l.WeightAngle != 0 {
			t.Errorf("no rule: %+v", l)
		}
	}
	if s.Rule != "" {
		t.Errorf("no rule: Rule = %q", s.Rule)
	}
}

// Direct feedback alignment has no backward weights (it keeps B ≡ W but
// sends no error through it): the metrics of B are NaN and NoB is set, so
// that reports show "no B" rather than a perfect 0°. Its hidden updates
// differ from backprop's; the output layer's is exact.
func TestCollectDFA(t *testing.T) {
	for _, model := range []string{"mlp", "resnet8"} {
		t.Run(model, func(t *testing.T) {
			net, b, c, dl := setup(t, model, "dfa", rules.Options{})
			before := grads(net)
			s := metrics.Collect(c, net, b, dl)
			sameGrads(t, net, before)
			last := len(s.Layers) - 1
			hiddenOff := 0
			for i, l := range s.Layers {
				if !l.NoB || !math.IsNaN(l.WeightAngle) || !math.IsNaN(l.GradientAngle) || !math.IsNaN(l.ProjectionAngle) || !math.IsNaN(l.NormRatio) {
					t.Errorf("%s: %+v, want NoB and NaN metrics of B", l.Name, l)
				}
				switch {
				case i == last && l.EndToEndAngle != 0:
					t.Errorf("output layer %s: end-to-end angle %g, want exactly 0", l.Name, l.EndToEndAngle)
				case i < last && l.EndToEndAngle > 1:
					hiddenOff++
				}
			}
			if hiddenOff == 0 {
				t.Errorf("no hidden layer has an end-to-end angle > 1°: %+v", s.Layers)
			}
			// The injectors are back: a second backward pass gives the
			// rule's gradients again, not the exact ones.
			net.Backward(c, dl)
			sameGrads(t, net, before)
		})
	}
}

func grads(net *nn.Network) map[*nn.Param]*tensor.Tensor {
	m := map[*nn.Param]*tensor.Tensor{}
	for _, p := range net.Params() {
		if p.Grad != nil {
			m[p] = p.Grad.Clone()
		}
	}
	return m
}

func sameGrads(t *testing.T, net *nn.Network, before map[*nn.Param]*tensor.Tensor) {
	t.Helper()
	for _, p := range net.Params() {
		if p.Grad == nil {
			continue
		}
		if !tensor.Equal(p.Grad, before[p]) {
			t.Errorf("gradient of %s changed (max |Δ| = %g)", p.Name, tensor.MaxAbsDiff(p.Grad, before[p]))
		}
	}
}

// For every registered rule, Collect leaves every gradient bit-identical,
// reports each regularizer such that their sum is the rule's loss, and
// gives the same snapshot when repeated.
func TestCollectEveryRule(t *testing.T) {
	for _, rule := range rules.Names() {
		for _, model := range []string{"mlp", "resnet8"} {
			t.Run(rule+"/"+model, func(t *testing.T) {
				net, b, c, dl := setup(t, model, rule, rules.Options{})
				before := grads(net)
				wantLoss := b.Loss(c)
				var k metrics.Collector
				s := k.Collect(c, net, b, dl)
				sameGrads(t, net, before)
				sum, hasReg := 0.0, false
				info, _ := rules.Lookup(rule)
				for _, l := range s.Layers {
					if l.NoB != info.NoB {
						t.Errorf("%s: NoB = %v, the rule's info says %v", l.Name, l.NoB, info.NoB)
					}
					for name, v := range map[string]float64{"weight": l.WeightAngle, "projection": l.ProjectionAngle,
						"gradient": l.GradientAngle, "end-to-end": l.EndToEndAngle} {
						if info.NoB && name != "end-to-end" {
							// A rule without B (dfa) has no metrics of B:
							// NaN, not the 0° of B ≡ W.
							if !math.IsNaN(v) {
								t.Errorf("%s: %s angle %v for a rule without B, want NaN", l.Name, name, v)
							}
							continue
						}
						if !(v >= 0 && v <= 180) {
							t.Errorf("%s: %s angle %v not in [0, 180]", l.Name, name, v)
						}
					}
					if info.NoB && !math.IsNaN(l.NormRatio) {
						t.Errorf("%s: norm ratio %v for a rule without B, want NaN", l.Name, l.NormRatio)
					}
					if l.HasRegularizer {
						sum += l.Regularizer
						hasReg = true
					} else if !math.IsNaN(l.Regularizer) {
						t.Errorf("%s: no regularizer but Regularizer = %v", l.Name, l.Regularizer)
					}
				}
				// Bound.Loss sums the same per-layer values in the same order.
				if sum != wantLoss {
					t.Errorf("sum of per-layer regularizers %.17g, rule loss %.17g", sum, wantLoss)
				}
				if _, isObj := b.Feedbacks[0].(rules.Objective); hasReg != isObj {
					t.Errorf("HasRegularizer = %v, but the feedback implements Objective: %v", hasReg, isObj)
				}
				// The exact pass changed the δy buffers; the layer-local
				// angles of a second call would differ, so compare only
				// what does not depend on δy.
				again := k.Collect(c, net, b, dl)
				for i, l := range again.Layers {
					p := s.Layers[i]
					same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
					if !same(l.WeightAngle, p.WeightAngle) || !same(l.NormRatio, p.NormRatio) || !same(l.ProjectionAngle, p.ProjectionAngle) ||
						!same(l.EndToEndAngle, p.EndToEndAngle) {
						t.Errorf("%s: second Collect %+v, first %+v", l.Name, l, p)
					}
				}
			})
		}
	}
}

func TestCollectWithoutDlogits(t *testing.T) {
	net, b, c, _ := setup(t, "mlp", "fa", rules.Options{})
	s := metrics.Collect(c, net, b, nil)
	for _, l := range s.Layers {
		if !math.IsNaN(l.EndToEndAngle) || math.IsNaN(l.GradientAngle) {
			t.Errorf("%+v: want NaN end-to-end angle and a gradient angle", l)
		}
	}
}

func TestSnapshotMean(t *testing.T) {
	nan := math.NaN()
	s := metrics.Snapshot{Layers: []metrics.Layer{
		{Name: "a", Bound: true, WeightAngle: 10, NormRatio: 1, ProjectionAngle: 20, GradientAngle: nan, EndToEndAngle: 0, Regularizer: 1.5, HasRegularizer: true},
		{Name: "b", WeightAngle: 30, NormRatio: 3, ProjectionAngle: nan, GradientAngle: nan, EndToEndAngle: 6, Regularizer: nan},
		{Name: "c", Bound: true, WeightAngle: 50, NormRatio: 2, ProjectionAngle: 40, GradientAngle: nan, EndToEndAngle: 3, Regularizer: 2, HasRegularizer: true},
	}}
	m := s.Mean()
	if m.Name != "mean" || !m.Bound || m.WeightAngle != 30 || m.NormRatio != 2 || m.ProjectionAngle != 30 ||
		!math.IsNaN(m.GradientAngle) || m.EndToEndAngle != 3 || !m.HasRegularizer || m.Regularizer != 3.5 {
		t.Errorf("Mean = %+v", m)
	}
}
