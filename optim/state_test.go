package optim

import (
	"errors"
	"strings"
	"testing"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// resumeConfig exercises everything that carries state or depends on the
// step: Nesterov momentum, weight decay, warm-up + cosine, a feedback
// group with its own momentum, step schedule and uniform noise, and a main
// group with normal noise.
func resumeConfig() Config {
	main := Settings{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3,
		Schedule: Schedule{Name: ScheduleCosine, Floor: 0.01, Warmup: 1},
		Noise:    Noise{Distribution: NoiseNormal, Variance: 0.01}}
	fb := Settings{LR: 0.05, Momentum: 0.5,
		Schedule: Schedule{Name: ScheduleStep, Gamma: 0.5, Milestones: []float64{1.5, 3}},
		Noise:    Noise{Distribution: NoiseUniform, Variance: 0.1}}
	return Config{Main: main, Feedback: &fb, Clock: Clock{StepsPerEpoch: 4, TotalSteps: 20}, Seed: 11}
}

// resumeParams returns fresh parameters drawn from seed.
func resumeParams(seed uint64) []*nn.Param {
	ps := []*nn.Param{
		{Name: "l1.weight", Kind: nn.KindWeight, Value: tensor.New(3, 4), Grad: tensor.New(3, 4)},
		{Name: "l1.bias", Kind: nn.KindBias, Value: tensor.New(3), Grad: tensor.New(3)},
		{Name: "l1.backward", Kind: nn.KindFeedback, Value: tensor.New(3, 4), Grad: tensor.New(3, 4)},
		{Name: "bn.running_mean", Kind: nn.KindBuffer, Value: tensor.New(3)},
	}
	for i, p := range ps {
		tensor.FillNormal(p.Value, tensor.NewRand(seed, uint64(i)), 1)
	}
	return ps
}

// setGrads writes gradients that depend on the step and on the current
// values (as real ones do): g = 0.5·p + N(0, 1) noise of (step, param).
func setGrads(ps []*nn.Param, step int64) {
	for i, p := range ps {
		if p.Grad == nil {
			continue
		}
		tensor.FillNormal(p.Grad, tensor.NewRand(99, tensor.Mix(uint64(step), uint64(i))), 1)
		for j, v := range p.Value.Data {
			p.Grad.Data[j] += 0.5 * v
		}
	}
}

func train(t *testing.T, o *SGD, ps []*nn.Param, steps int) {
	t.Helper()
	for range steps {
		setGrads(ps, o.Steps())
		o.Step()
	}
}

// TestStateResumeBitIdentical runs 20 steps straight, and 8 steps, then a
// state export, fresh parameters and optimizer, import and 12 more steps:
// the two must end bit-identical. Without the import the resumed run
// differs, which shows that the comparison can fail.
func TestStateResumeBitIdentical(t *testing.T) {
	adam := resumeConfig()
	adam.Feedback.Method, adam.Feedback.Momentum = MethodAdam, 0
	rms := resumeConfig()
	rms.Feedback.Method, rms.Feedback.Beta2 = MethodRMSProp, 0.8
	for name, cfg := range map[string]Config{"sgd": resumeConfig(), "adam": adam, "rmsprop": rms} {
		t.Run(name, func(t *testing.T) { checkResume(t, cfg) })
	}
}

func checkResume(t *testing.T, cfg Config) {
	straight := resumeParams(1)
	oa, err := New(straight, cfg)
	if err != nil {
		t.Fatal(err)
	}
	train(t, oa, straight, 20)

	for _, restore := range []bool{true, false} {
		first := resumeParams(1)
		ob, err := New(first, cfg)
		if err != nil {
			t.Fatal(err)
		}
		train(t, ob, first, 8)
		st := ob.State()

		resumed := resumeParams(2) // different values, overwritten below
		for i := range resumed {
			resumed[i].Value.CopyFrom(first[i].Value)
		}
		oc, err := New(resumed, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if restore {
			if err := oc.SetState(st); err != nil {
				t.Fatal(err)
			}
		} else {
			// Only the step counter: the momentum is lost.
			if err := oc.SetState(State{Step: st.Step, Tensors: oc.State().Tensors}); err != nil {
				t.Fatal(err)
			}
		}
		train(t, oc, resumed, 12)

		same := oc.Steps() == oa.Steps()
		for i := range straight {
			same = same && tensor.Equal(straight[i].Value, resumed[i].Value)
		}
		sa, sc := oa.State(), oc.State()
		for i := range sa.Tensors {
			same = same && sa.Tensors[i].Name == sc.Tensors[i].Name && tensor.Equal(sa.Tensors[i].Value, sc.Tensors[i].Value)
		}
		if same != restore {
			t.Errorf("restore=%v: resumed run bit-identical = %v", restore, same)
		}
	}
}

func TestStateContents(t *testing.T) {
	ps := resumeParams(1)
	o, err := New(ps, resumeConfig())
	if err != nil {
		t.Fatal(err)
	}
	train(t, o, ps, 3)
	st := o.State()
	if st.Step != 3 {
		t.Errorf("Step = %d, want 3", st.Step)
	}
	want := []string{"optim.momentum.l1.weight", "optim.momentum.l1.bias", "optim.momentum.l1.backward"}
	if len(st.Tensors) != len(want) {
		t.Fatalf("%d tensors, want %d", len(st.Tensors), len(want))
	}
	for i, n := range want {
		if st.Tensors[i].Name != n {
			t.Errorf("tensor %d is %q, want %q", i, st.Tensors[i].Name, n)
		}
	}
	// A deep copy: changing it does not change the optimizer.
	st.Tensors[0].Value.Data[0] += 1
	if tensor.Equal(st.Tensors[0].Value, o.State().Tensors[0].Value) {
		t.Error("State shares the momentum buffers")
	}
	// Without momentum there is nothing but the step.
	o2, err := New(resumeParams(1), Config{Main: Settings{LR: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if st := o2.State(); len(st.Tensors) != 0 {
		t.Errorf("momentum-free optimizer exports %d tensors", len(st.Tensors))
	}
}

func TestSetStateErrors(t *testing.T) {
	good := func() State {
		ps := resumeParams(1)
		o, err := New(ps, resumeConfig())
		if err != nil {
			t.Fatal(err)
		}
		train(t, o, ps, 2)
		return o.State()
	}
	tests := []struct {
		name   string
		mutate func(*State)
		want   []string
	}{
		{"negative step", func(s *State) { s.Step = -1 }, []string{"step -1 is negative"}},
		{"missing", func(s *State) { s.Tensors = s.Tensors[1:] }, []string{`missing tensor "optim.momentum.l1.weight" (group "main": method "", momentum 0.9)`}},
		{"unexpected", func(s *State) {
			s.Tensors = append(s.Tensors, StateTensor{Name: "optim.momentum.l9.weight", Value: tensor.New(1)})
		}, []string{`unexpected tensor "optim.momentum.l9.weight"`}},
		{"renamed", func(s *State) { s.Tensors[1].Name = "optim.momentum.l1.beta" }, []string{
			`missing tensor "optim.momentum.l1.bias"`, `unexpected tensor "optim.momentum.l1.beta"`}},
		{"shape", func(s *State) { s.Tensors[2].Value = tensor.New(4, 3) }, []string{
			`tensor "optim.momentum.l1.backward" has shape [4 3], parameter "l1.backward" has shape [3 4]`}},
		{"nil", func(s *State) { s.Tensors[0].Value = nil }, []string{`tensor "optim.momentum.l1.weight" is nil`}},
		{"duplicate", func(s *State) { s.Tensors = append(s.Tensors, s.Tensors[0]) }, []string{`tensor "optim.momentum.l1.weight" appears twice`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := resumeParams(1)
			o, err := New(ps, resumeConfig())
			if err != nil {
				t.Fatal(err)
			}
			before := o.State()
			s := good()
			tc.mutate(&s)
			err = o.SetState(s)
			if !errors.Is(err, ErrState) {
				t.Fatalf("err = %v, want ErrState", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// Nothing changed.
			after := o.State()
			if after.Step != before.Step {
				t.Errorf("step changed to %d", after.Step)
			}
			for i := range before.Tensors {
				if !tensor.Equal(before.Tensors[i].Value, after.Tensors[i].Value) {
					t.Errorf("buffer %s changed", before.Tensors[i].Name)
				}
			}
		})
	}
}
