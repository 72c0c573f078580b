package rules_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// TestCoeffScheduleValue checks the schedules against values worked out by
// hand from the official build_alignment_coefficient_schedule, for a run
// of 10 epochs and a base value of 2.
func TestCoeffScheduleValue(t *testing.T) {
	const v, epochs = 2.0, 10.0
	cases := []struct {
		name string
		s    rules.CoeffSchedule
		e    float64
		want float64
	}{
		{"constant", rules.CoeffSchedule{}, 3, 2},
		{"before start", rules.CoeffSchedule{Start: 0.2}, 1.9, 0},
		{"at start", rules.CoeffSchedule{Start: 0.2}, 2, 2},
		{"after stop", rules.CoeffSchedule{Stop: 0.5}, 5.1, 0},
		{"at stop", rules.CoeffSchedule{Stop: 0.5}, 5, 2},
		{"linear", rules.CoeffSchedule{Type: "linear", Rate: 0.5}, 3, 2 + 0.5*3},
		{"linear from start", rules.CoeffSchedule{Type: "linear", Rate: -0.1, Start: 0.1}, 4, 2 - 0.1*3},
		{"exponential", rules.CoeffSchedule{Type: "exponential", Rate: -0.2}, 5, 2 * math.Exp(-1)},
		// Cycle 4 epochs: h = 2; at e = 1 the wave is 0.5, at e = 2 it
		// peaks at 1, at e = 4 it is back at 0; linear adds rate·pos·h.
		{"cycle quarter", rules.CoeffSchedule{Type: "linear", Rate: 1, Cycle: 4}, 1, 2 + 0.5*2},
		{"cycle peak", rules.CoeffSchedule{Type: "linear", Rate: 1, Cycle: 4}, 2, 2 + 1*2},
		{"cycle end", rules.CoeffSchedule{Type: "linear", Rate: 1, Cycle: 4}, 4, 2},
		{"cycle second peak", rules.CoeffSchedule{Type: "exponential", Rate: 0.5, Cycle: 4}, 6, 2 * math.Exp(0.5*1*2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate("alpha"); err != nil {
				t.Fatal(err)
			}
			if got := tc.s.Value(v, tc.e, epochs); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Value(%v, %v, %v) = %v, want %v", v, tc.e, epochs, got, tc.want)
			}
		})
	}
	for _, bad := range []rules.CoeffSchedule{{Type: "cyclic"}, {Start: 0.6, Stop: 0.5}, {Stop: 2}, {Cycle: -1}} {
		if bad.Validate("alpha") == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestScheduledCoefficients binds information alignment with a schedule on
// alpha and checks, step by step, that B's gradient is bit-identical to
// that of the rule built with the scheduled value, and that rules without
// a regularizer and unknown settings are refused.
func TestScheduledCoefficients(t *testing.T) {
	const stepsPerEpoch, epochs = 4, 10
	sched := map[string]rules.CoeffSchedule{"alpha": {Type: "linear", Rate: 0.1, Stop: 0.5}}
	base := map[string]float64{"alpha": 0.3, "beta": 0.2, "gamma": 0.1}
	build := func(settings map[string]float64, opts rules.Options) (*nn.Network, *rules.Bound) {
		net := mustMLP(t)
		r, err := rules.New("ia", settings)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rules.Apply(net, r, opts, newEnv(3))
		if err != nil {
			t.Fatal(err)
		}
		return net, b
	}
	net, bound := build(base, rules.Options{Schedules: sched, Settings: base})
	bound.SetClock(stepsPerEpoch, epochs)
	x, y := batch(rand.New(rand.NewPCG(1, 2)), 8, net.In, net.Classes)
	for _, step := range []uint64{0, 6, 20, 21} { // epochs 0, 1.5, 5 (stop), 5.25 (off)
		e := float64(step) / stepsPerEpoch
		alpha := 0.3 + 0.1*e
		if e > 5 {
			alpha = 0
		}
		want := map[string]float64{"alpha": alpha, "beta": 0.2, "gamma": 0.1}
		ref, _ := build(want, rules.Options{})
		c := newCtx()
		c.Step = step
		forwardBackward(c, net, x, y)
		forwardBackward(c, ref, x, y)
		for i, l := range net.WeightLayers() {
			if !tensor.Equal(l.Feedback().Grad, ref.WeightLayers()[i].Feedback().Grad) {
				t.Errorf("step %d: %s: B.Grad differs from the rule with alpha = %v", step, l.Name(), alpha)
			}
		}
		if k, _ := bound.Coeffs(step); k.Amp != alpha {
			t.Errorf("step %d: Amp coefficient %v, want %v", step, k.Amp, alpha)
		}
	}
	for _, tc := range []struct {
		rule string
		s    map[string]rules.CoeffSchedule
	}{{"fa", sched}, {"ia", map[string]rules.CoeffSchedule{"delta": {}}}} {
		r, _ := rules.New(tc.rule, nil)
		if _, err := rules.Apply(mustMLP(t), r, rules.Options{Schedules: tc.s}, newEnv(3)); err == nil {
			t.Errorf("%s with schedules %v: no error", tc.rule, tc.s)
		}
	}
}

// mustMLP builds a small MLP with the same weights every call.
func mustMLP(t *testing.T) *nn.Network {
	t.Helper()
	net, err := models.Build(models.Spec{Arch: "mlp", In: []int{1, 4, 4}, Classes: 3, Hidden: []int{6}}, tensor.NewRand(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	return net
}
