package optim

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// TestStepHandComputed checks three (or two) steps of each update against
// values worked out by hand. p0 = [1, −2], the gradient is held at
// [0.5, 1], lr = 0.5, μ = 0.5, wd = 0.25: every intermediate value is a
// short dyadic fraction, exact in float32, so the comparison is exact.
func TestStepHandComputed(t *testing.T) {
	p0 := []float32{1, -2}
	g := []float32{0.5, 1}
	tests := []struct {
		name string
		kind nn.Kind
		set  Settings
		want [][]float32 // values after each step
	}{
		{"sgd", nn.KindWeight, Settings{LR: 0.5}, [][]float32{
			{0.75, -2.5}, {0.5, -3}, {0.25, -3.5}}},
		{"gd", nn.KindWeight, Settings{Method: MethodGD, LR: 0.5}, [][]float32{
			{0.75, -2.5}, {0.5, -3}, {0.25, -3.5}}},
		// d = g + 0.25·p; p -= 0.5·d.
		{"sgd+wd", nn.KindWeight, Settings{LR: 0.5, WeightDecay: 0.25}, [][]float32{
			{0.625, -2.25}, {0.296875, -2.46875}, {0.009765625, -2.66015625}}},
		// Biases get no decay by default: same as plain sgd.
		{"sgd+wd bias", nn.KindBias, Settings{LR: 0.5, WeightDecay: 0.25}, [][]float32{
			{0.75, -2.5}, {0.5, -3}, {0.25, -3.5}}},
		// Unless asked for.
		{"sgd+wd bias decayed", nn.KindBias, Settings{LR: 0.5, WeightDecay: 0.25, DecayKinds: []string{"weight", "bias"}}, [][]float32{
			{0.625, -2.25}, {0.296875, -2.46875}, {0.009765625, -2.66015625}}},
		// An empty list switches decay off for every kind.
		{"sgd+wd none", nn.KindWeight, Settings{LR: 0.5, WeightDecay: 0.25, DecayKinds: []string{}}, [][]float32{
			{0.75, -2.5}, {0.5, -3}, {0.25, -3.5}}},
		// b = [0.5 1], [0.75 1.5], [0.875 1.75]; p -= 0.5·b.
		{"momentum", nn.KindWeight, Settings{LR: 0.5, Momentum: 0.5}, [][]float32{
			{0.75, -2.5}, {0.375, -3.25}, {-0.0625, -4.125}}},
		// Same b; p -= 0.5·(g + 0.5·b) = 0.5·[0.75 1.5], [0.875 1.75], [0.9375 1.875].
		{"nesterov", nn.KindWeight, Settings{LR: 0.5, Momentum: 0.5, Nesterov: true}, [][]float32{
			{0.625, -2.75}, {0.1875, -3.625}, {-0.28125, -4.5625}}},
		// Step 1: d = [0.75 0.5], b = d, d' = [1.125 0.75].
		// Step 2: d = [0.609375 0.40625], b = [0.984375 0.65625], d' = [1.1015625 0.734375].
		{"nesterov+wd", nn.KindWeight, Settings{LR: 0.5, Momentum: 0.5, Nesterov: true, WeightDecay: 0.25}, [][]float32{
			{0.4375, -2.375}, {-0.11328125, -2.7421875}}},
		// Decay is not applied to B by default.
		{"nesterov+wd feedback", nn.KindFeedback, Settings{LR: 0.5, Momentum: 0.5, Nesterov: true, WeightDecay: 0.25}, [][]float32{
			{0.625, -2.75}, {0.1875, -3.625}, {-0.28125, -4.5625}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newParam("p", tc.kind, p0, g)
			o, err := New([]*nn.Param{p}, Config{Main: tc.set})
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				o.Step()
				if !slices.Equal(p.Value.Data, want) {
					t.Fatalf("after step %d: p = %v, want %v", i+1, p.Value.Data, want)
				}
			}
			if !slices.Equal(p.Grad.Data, g) {
				t.Errorf("Step modified the gradient: %v", p.Grad.Data)
			}
			if o.Steps() != int64(len(tc.want)) {
				t.Errorf("Steps() = %d, want %d", o.Steps(), len(tc.want))
			}
		})
	}
}

// networkParams returns one parameter of each kind, value 1 and gradient 1
// where trainable, in a network's order.
func networkParams() []*nn.Param {
	one := []float32{1, 1}
	return []*nn.Param{
		newParam("conv.weight", nn.KindWeight, one, one),
		newParam("conv.backward", nn.KindFeedback, one, one),
		newParam("bn.weight", nn.KindNorm, one, one),
		newParam("bn.bias", nn.KindNorm, one, one),
		newParam("bn.running_mean", nn.KindBuffer, one, nil),
		newParam("fc.weight", nn.KindWeight, one, one),
		newParam("fc.bias", nn.KindBias, one, one),
		newParam("fc.backward", nn.KindFeedback, one, nil), // fixed B (FA)
	}
}

func names(ps []*nn.Param) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name)
	}
	return s
}

// TestNewLayout checks the split into main and feedback groups, the
// skipping of untrained parameters, decay on weights only, and the
// feedback group's default and overridden settings, after one step with
// value = gradient = 1 (so p = 1 − lr·(1 + wd) exactly for the dyadic
// settings used).
func TestNewLayout(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		want     map[string]float32 // value after one step
		lrMain   float64
		lrFeedbk float64
	}{
		{
			name: "shared settings",
			cfg:  Config{Main: Settings{LR: 0.5, WeightDecay: 0.5}},
			want: map[string]float32{
				"conv.weight": 0.25, "fc.weight": 0.25, // 1 − 0.5·1.5
				"conv.backward": 0.5, "bn.weight": 0.5, "bn.bias": 0.5, "fc.bias": 0.5,
				"bn.running_mean": 1, "fc.backward": 1,
			},
			lrMain: 0.5, lrFeedbk: 0.5,
		},
		{
			name: "feedback override",
			cfg: Config{
				Main:     Settings{LR: 0.5, WeightDecay: 0.5},
				Feedback: &Settings{Method: MethodGD, LR: 0.25, WeightDecay: 1, DecayKinds: []string{"feedback"}},
			},
			want: map[string]float32{
				"conv.weight": 0.25, "fc.weight": 0.25,
				"conv.backward": 0.5, // 1 − 0.25·(1 + 1)
				"bn.weight":     0.5, "bn.bias": 0.5, "fc.bias": 0.5,
				"bn.running_mean": 1, "fc.backward": 1,
			},
			lrMain: 0.5, lrFeedbk: 0.25,
		},
		{
			name: "frozen main, learning B",
			cfg:  Config{Main: Settings{LR: 0}, Feedback: &Settings{LR: 0.125}},
			want: map[string]float32{
				"conv.weight": 1, "fc.weight": 1, "bn.weight": 1, "bn.bias": 1, "fc.bias": 1,
				"conv.backward": 0.875, "bn.running_mean": 1, "fc.backward": 1,
			},
			lrMain: 0, lrFeedbk: 0.125,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := networkParams()
			o, err := New(ps, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			gs := o.Groups()
			if len(gs) != 2 || gs[MainGroup].Name != "main" || gs[FeedbackGroup].Name != "feedback" {
				t.Fatalf("groups %+v", gs)
			}
			if got, want := names(gs[MainGroup].Params), []string{"conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias"}; !slices.Equal(got, want) {
				t.Errorf("main group %v, want %v", got, want)
			}
			if got, want := names(gs[FeedbackGroup].Params), []string{"conv.backward"}; !slices.Equal(got, want) {
				t.Errorf("feedback group %v, want %v", got, want)
			}
			if got, want := names(o.Params()), []string{"conv.weight", "bn.weight", "bn.bias", "fc.weight", "fc.bias", "conv.backward"}; !slices.Equal(got, want) {
				t.Errorf("Params() %v, want %v", got, want)
			}
			if o.LR(MainGroup) != tc.lrMain || o.LR(FeedbackGroup) != tc.lrFeedbk {
				t.Errorf("LR = %g, %g, want %g, %g", o.LR(MainGroup), o.LR(FeedbackGroup), tc.lrMain, tc.lrFeedbk)
			}
			o.Step()
			for _, p := range ps {
				for _, v := range p.Value.Data {
					if v != tc.want[p.Name] {
						t.Errorf("%s = %v, want %v", p.Name, p.Value.Data, tc.want[p.Name])
						break
					}
				}
			}
		})
	}
}

// TestNewGroups checks groups with different momentum, learning rate and
// schedule side by side: gradient 1 held, value 0.
func TestNewGroups(t *testing.T) {
	a := newParam("a", nn.KindWeight, []float32{0}, []float32{1})
	b := newParam("b", nn.KindWeight, []float32{0}, []float32{1})
	c := newParam("c", nn.KindWeight, []float32{0}, []float32{1})
	o, err := NewGroups([]Group{
		{Name: "plain", Params: []*nn.Param{a}, Settings: Settings{LR: 1}},
		{Name: "heavy", Params: []*nn.Param{b}, Settings: Settings{LR: 0.5, Momentum: 0.5}},
		// Halved after step 1 (milestone at step 1, counted in steps).
		{Name: "halved", Params: []*nn.Param{c}, Settings: Settings{LR: 1, Schedule: Schedule{Name: ScheduleStep, Unit: UnitStep, Gamma: 0.5, Milestones: []float64{1}}}},
	}, Clock{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// a: −1, −2, −3. b: buf 1, 1.5, 1.75 → −0.5, −1.25, −2.125. c: −1, −1.5, −2.
	want := [][3]float32{{-1, -0.5, -1}, {-2, -1.25, -1.5}, {-3, -2.125, -2}}
	for i, w := range want {
		o.Step()
		got := [3]float32{a.Value.Data[0], b.Value.Data[0], c.Value.Data[0]}
		if got != w {
			t.Fatalf("after step %d: %v, want %v", i+1, got, w)
		}
	}
	if gs := o.Groups(); len(gs) != 3 || gs[2].Name != "halved" || gs[2].Settings.Schedule.Milestones[0] != 1 {
		t.Errorf("Groups() = %+v", gs)
	}
}

// TestLRFollowsSchedule checks that the optimizer uses LR·Factor(step) at
// every step of a run, including across a milestone and the warm-up.
func TestLRFollowsSchedule(t *testing.T) {
	s := Settings{LR: 0.4, Schedule: Schedule{Name: ScheduleStep, Gamma: 0.1, Milestones: []float64{2, 3}, Warmup: 1}}
	clock := Clock{StepsPerEpoch: 4, TotalSteps: 20}
	p := newParam("w", nn.KindWeight, []float32{0}, []float32{1})
	o, err := New([]*nn.Param{p}, Config{Main: s, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(0); step < clock.TotalSteps; step++ {
		want := s.LR * s.Schedule.Factor(step, clock.StepsPerEpoch, clock.TotalSteps)
		if got := o.LR(MainGroup); got != want {
			t.Fatalf("step %d: LR = %g, want %g", step, got, want)
		}
		before := p.Value.Data[0]
		o.Step()
		// The update is exactly −float32(lr)·1 up to the float32 rounding of
		// the subtraction.
		if got, want := p.Value.Data[0], before-float32(want); got != want {
			t.Fatalf("step %d: p = %g, want %g", step, got, want)
		}
	}
}

func TestNewRejectsBadParams(t *testing.T) {
	w := newParam("w", nn.KindWeight, []float32{1}, []float32{1})
	tests := []struct {
		name   string
		params []*nn.Param
		want   string
	}{
		{"duplicate pointer", []*nn.Param{w, w}, `parameter "w" is in group "main" and again in group "main"`},
		{"duplicate name", []*nn.Param{w, newParam("w", nn.KindFeedback, []float32{1}, []float32{1})}, `two parameters are named "w"`},
		{"grad shape", []*nn.Param{newParam("x", nn.KindWeight, []float32{1}, []float32{1, 2})}, `parameter "x": gradient shape differs`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.params, Config{Main: constant(0.1)})
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrConfig containing %q", err, tc.want)
			}
		})
	}
}

func TestStepPanicsOnResizedGrad(t *testing.T) {
	p := newParam("w", nn.KindWeight, []float32{1, 2}, []float32{1, 2})
	o, err := New([]*nn.Param{p}, Config{Main: constant(0.1)})
	if err != nil {
		t.Fatal(err)
	}
	p.Grad.Resize(1)
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "optim: w: ") {
			t.Fatalf("recover() = %v, want an optim: panic naming w", r)
		}
	}()
	o.Step()
}

// TestStepAllocs checks that Step does not allocate in steady state, with
// momentum, Nesterov, noise and every schedule.
func TestStepAllocs(t *testing.T) {
	sched := []Schedule{
		{},
		{Name: ScheduleStep, Gamma: 0.1, Milestones: []float64{1, 2}, Warmup: 1},
		{Name: ScheduleCosine, Floor: 0.01, Warmup: 1},
	}
	for _, s := range sched {
		for _, noise := range []string{"", NoiseNormal, NoiseUniform} {
			set := Settings{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4, Schedule: s}
			if noise != "" {
				set.Noise = Noise{Distribution: noise, Variance: 1}
			}
			fb := set
			fb.Nesterov = false
			ps := networkParams()
			o, err := New(ps, Config{Main: set, Feedback: &fb, Clock: Clock{StepsPerEpoch: 10, TotalSteps: 1000}, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(50, o.Step); n != 0 {
				t.Errorf("schedule %q noise %q: %v allocations per Step", s.Name, noise, n)
			}
		}
	}
}

func BenchmarkStep(b *testing.B) {
	const n = 1 << 20
	for _, bc := range []struct {
		name string
		set  Settings
	}{
		{"sgd", Settings{LR: 0.1}},
		{"momentum+wd", Settings{LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4}},
		{"nesterov+wd", Settings{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4}},
		{"nesterov+noise", Settings{LR: 0.1, Momentum: 0.9, Nesterov: true, Noise: Noise{Distribution: NoiseNormal, Variance: 1}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := &nn.Param{Name: "w", Value: tensor.New(n), Grad: tensor.New(n)}
			tensor.FillNormal(p.Grad, tensor.NewRand(1, 1), 1)
			o, err := New([]*nn.Param{p}, Config{Main: bc.set})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(4 * n)
			for b.Loop() {
				o.Step()
			}
			if math.IsNaN(float64(p.Value.Data[0])) {
				b.Fatal("NaN")
			}
		})
	}
}

func TestStepGroupsLeavesOtherGroups(t *testing.T) {
	w := &nn.Param{Name: "w", Kind: nn.KindWeight, Value: tensor.FromData([]float32{1, 2}, 2), Grad: tensor.FromData([]float32{0.5, 0.5}, 2)}
	b := &nn.Param{Name: "b", Kind: nn.KindFeedback, Value: tensor.FromData([]float32{1, 2}, 2), Grad: tensor.FromData([]float32{0.5, 0.5}, 2)}
	o, err := New([]*nn.Param{w, b}, Config{Main: Settings{LR: 0.5, Momentum: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	o.StepGroups(FeedbackGroup)
	if w.Value.Data[0] != 1 || w.Value.Data[1] != 2 {
		t.Errorf("main group moved: %v", w.Value.Data)
	}
	// b -= 0.5·0.5 (first momentum step: buf = g).
	if b.Value.Data[0] != 0.75 || b.Value.Data[1] != 1.75 {
		t.Errorf("feedback group: got %v, want [0.75 1.75]", b.Value.Data)
	}
	if o.Steps() != 1 {
		t.Errorf("steps = %d, want 1", o.Steps())
	}
	st := o.State()
	for _, s := range st.Tensors {
		if s.Name == MomentumPrefix+"w" {
			for _, v := range s.Value.Data {
				if v != 0 {
					t.Errorf("main momentum changed: %v", s.Value.Data)
				}
			}
		}
	}
}
