package optim

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// refAdamW is a float64 transcription of torch.optim.AdamW's single-tensor
// update (torch/optim/adamw.py, _single_tensor_adamw, amsgrad off) at the
// 1-based step t, with PyTorch's clip_grad_norm_ applied first to the
// whole group when maxNorm > 0. wd[i] is the decay of parameter i (0 for
// undecayed kinds).
type refAdamW struct {
	p, m, v [][]float64
}

func newRefAdamW(ps []*nn.Param) *refAdamW {
	r := &refAdamW{}
	for _, q := range ps {
		pv := make([]float64, len(q.Value.Data))
		for j, x := range q.Value.Data {
			pv[j] = float64(x)
		}
		r.p = append(r.p, pv)
		r.m = append(r.m, make([]float64, len(pv)))
		r.v = append(r.v, make([]float64, len(pv)))
	}
	return r
}

func (r *refAdamW) step(grads [][]float64, lr float64, wd []float64, b1, b2, eps, maxNorm float64, t int) {
	if maxNorm > 0 {
		var sq float64
		for _, g := range grads {
			for _, x := range g {
				sq += x * x
			}
		}
		coef := math.Min(maxNorm/(math.Sqrt(sq)+1e-6), 1) // clip_coef_clamped
		for _, g := range grads {
			for j := range g {
				g[j] *= coef
			}
		}
	}
	bc1 := 1 - math.Pow(b1, float64(t))
	bc2 := 1 - math.Pow(b2, float64(t))
	for i, g := range grads {
		p, m, v := r.p[i], r.m[i], r.v[i]
		for j := range p {
			p[j] *= 1 - lr*wd[i]
			m[j] = b1*m[j] + (1-b1)*g[j]
			v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
			p[j] -= lr / bc1 * m[j] / (math.Sqrt(v[j])/math.Sqrt(bc2) + eps)
		}
	}
}

// TestAdamWMatchesReference runs 30 steps of AdamW on a weight, a bias and
// a LayerNorm gain (only the weight decayed), with warm-up + cosine in
// steps and, in some cases, clipping, against the float64 reference. The
// gradients are N(0, 1) draws plus 0.5·p; float32 arithmetic keeps the
// values within a relative 1e-5 (plus 1e-6 absolute) of the reference over
// 30 steps.
func TestAdamWMatchesReference(t *testing.T) {
	tests := []struct {
		name string
		set  Settings
	}{
		{"defaults", Settings{Method: MethodAdamW, LR: 1e-2, WeightDecay: 0.1}},
		{"adam (no decay)", Settings{Method: MethodAdamW, LR: 3e-3}},
		{"betas eps", Settings{Method: MethodAdamW, LR: 1e-2, WeightDecay: 0.05, Beta1: 0.8, Beta2: 0.95, Eps: 1e-6}},
		{"warmup cosine", Settings{Method: MethodAdamW, LR: 1e-2, WeightDecay: 0.1,
			Schedule: Schedule{Name: ScheduleCosine, Unit: UnitStep, Warmup: 5, Floor: 0.1}}},
		// The gradient norms are about 4; 1 clips every step, 100 never.
		{"clip", Settings{Method: MethodAdamW, LR: 1e-2, WeightDecay: 0.1, ClipNorm: 1}},
		{"clip inactive", Settings{Method: MethodAdamW, LR: 1e-2, WeightDecay: 0.1, ClipNorm: 100}},
	}
	const steps = 30
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := []*nn.Param{
				{Name: "w", Kind: nn.KindWeight, Value: tensor.New(3, 4), Grad: tensor.New(3, 4)},
				{Name: "b", Kind: nn.KindBias, Value: tensor.New(3), Grad: tensor.New(3)},
				{Name: "ln.weight", Kind: nn.KindNorm, Value: tensor.New(4), Grad: tensor.New(4)},
			}
			for i, p := range ps {
				tensor.FillNormal(p.Value, tensor.NewRand(5, uint64(i)), 1)
			}
			clock := Clock{StepsPerEpoch: 10, TotalSteps: steps}
			o, err := NewGroups([]Group{{Name: "main", Params: ps, Settings: tc.set}}, clock, 0)
			if err != nil {
				t.Fatal(err)
			}
			ref := newRefAdamW(ps)
			b1, b2, eps := tc.set.AdamWParams()
			wd := []float64{tc.set.WeightDecay, 0, 0} // weights only by default
			for s := range steps {
				setGrads(ps, int64(s))
				grads := make([][]float64, len(ps))
				var sq float64
				for i, p := range ps {
					for _, x := range p.Grad.Data {
						grads[i] = append(grads[i], float64(x))
						sq += float64(x) * float64(x)
					}
				}
				lr := tc.set.LR * tc.set.Schedule.Factor(int64(s), clock.StepsPerEpoch, clock.TotalSteps)
				if got := o.LR(0); got != lr {
					t.Fatalf("step %d: LR = %v, want %v", s, got, lr)
				}
				o.Step()
				ref.step(grads, lr, wd, b1, b2, eps, tc.set.ClipNorm, s+1)
				if tc.set.ClipNorm > 0 {
					if got, want := o.GradNorm(0), math.Sqrt(sq); math.Abs(got-want) > 1e-9*want {
						t.Fatalf("step %d: GradNorm = %v, want %v", s, got, want)
					}
				}
			}
			for i, p := range ps {
				for j, got := range p.Value.Data {
					want := ref.p[i][j]
					if math.Abs(float64(got)-want) > 1e-6+1e-5*math.Abs(want) {
						t.Errorf("%s[%d] = %v, reference %v", p.Name, j, got, want)
					}
				}
			}
		})
	}
}

// TestAdamWHandComputed checks the first step exactly: with zero moments,
// the bias-corrected update is lr·g/(|g| + ε') for every element, i.e.
// −lr·sign(g) up to ε, after the decoupled decay p·(1 − lr·wd).
func TestAdamWHandComputed(t *testing.T) {
	w := newParam("w", nn.KindWeight, []float32{1, -2}, []float32{0.5, -4})
	b := newParam("b", nn.KindBias, []float32{1, -2}, []float32{0.5, -4})
	o, err := New([]*nn.Param{w, b}, Config{Main: Settings{Method: MethodAdamW, LR: 0.5, WeightDecay: 0.5, Eps: 1e-30}})
	if err != nil {
		t.Fatal(err)
	}
	o.Step()
	// w: decay ×(1 − 0.25) = [0.75 −1.5], then ∓0.5.
	// b: no decay: [1 −2] ∓ 0.5.
	for _, tc := range []struct {
		p    *nn.Param
		want []float32
	}{{w, []float32{0.25, -1}}, {b, []float32{0.5, -1.5}}} {
		for j, want := range tc.want {
			if got := tc.p.Value.Data[j]; math.Abs(float64(got-want)) > 1e-6 {
				t.Errorf("%s[%d] = %v, want %v", tc.p.Name, j, got, want)
			}
		}
	}
}

// TestAdamWGroups: the layout of [New] with AdamW on W and plain SGD on B
// updates each group with its own method, and B keeps no moments.
func TestAdamWGroups(t *testing.T) {
	w := newParam("w", nn.KindWeight, []float32{1}, []float32{2})
	b := newParam("l.backward", nn.KindFeedback, []float32{1}, []float32{2})
	sgd := Settings{LR: 0.25}
	o, err := New([]*nn.Param{w, b}, Config{Main: Settings{Method: MethodAdamW, LR: 0.5}, Feedback: &sgd})
	if err != nil {
		t.Fatal(err)
	}
	o.Step()
	if got := b.Value.Data[0]; got != 0.5 { // 1 − 0.25·2
		t.Errorf("B = %v, want 0.5 (SGD)", got)
	}
	if got := w.Value.Data[0]; math.Abs(float64(got)-0.5) > 1e-6 { // 1 − 0.5·sign(2)
		t.Errorf("W = %v, want 0.5 (AdamW)", got)
	}
	var names []string
	for _, st := range o.State().Tensors {
		names = append(names, st.Name)
	}
	if want := "optim.momentum.w optim.second_moment.w"; strings.Join(names, " ") != want {
		t.Errorf("state tensors %v, want %s", names, want)
	}
}

func TestClipGlobalNorm(t *testing.T) {
	tests := []struct {
		name     string
		max      float64
		want     []float32 // both gradients, concatenated
		wantNorm float64
	}{
		// [3] and [4] have global norm 5.
		{"clips", 1, []float32{float32(3 / (5 + 1e-6)), float32(4 / (5 + 1e-6))}, 5},
		{"below", 10, []float32{3, 4}, 5},
		{"measure only", 0, []float32{3, 4}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newParam("a", nn.KindWeight, []float32{0}, []float32{3})
			b := newParam("b", nn.KindBias, []float32{0}, []float32{4})
			buf := newParam("buf", nn.KindBuffer, []float32{7}, nil)
			if got := ClipGlobalNorm([]*nn.Param{a, b, buf, nil}, tc.max); got != tc.wantNorm {
				t.Errorf("norm = %v, want %v", got, tc.wantNorm)
			}
			if got := []float32{a.Grad.Data[0], b.Grad.Data[0]}; got[0] != tc.want[0] || got[1] != tc.want[1] {
				t.Errorf("gradients %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("non-finite", func(t *testing.T) {
		a := newParam("a", nn.KindWeight, []float32{0, 0}, []float32{float32(math.Inf(1)), 1})
		if got := ClipGlobalNorm([]*nn.Param{a}, 1); !math.IsInf(got, 1) {
			t.Errorf("norm = %v, want +Inf", got)
		}
		if a.Grad.Data[1] != 1 {
			t.Errorf("gradient scaled to %v on a non-finite norm", a.Grad.Data[1])
		}
	})
}

// TestAdamWResumeBitIdentical: 8 steps, state export, fresh optimizer,
// import, 12 steps equals 20 steps straight, bit for bit, for AdamW with
// clipping and warm-up + cosine on W and Adam on B; without the moments
// it differs.
func TestAdamWResumeBitIdentical(t *testing.T) {
	fb := Settings{Method: MethodAdamW, LR: 1e-3, Beta2: 0.99}
	cfg := Config{Main: Settings{Method: MethodAdamW, LR: 1e-2, WeightDecay: 0.1, ClipNorm: 2,
		Schedule: Schedule{Name: ScheduleCosine, Unit: UnitStep, Warmup: 3}},
		Feedback: &fb, Clock: Clock{StepsPerEpoch: 4, TotalSteps: 20}}
	ps := resumeParams(1)
	o, err := New(ps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	train(t, o, ps, 2)
	if n := len(o.State().Tensors); n != 6 { // m and v of l1.weight, l1.bias, l1.backward
		t.Fatalf("%d state tensors, want 6", n)
	}
	checkResume(t, cfg)
}

func TestAdamWConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		set   Settings
		field string
	}{
		{"momentum", Settings{Method: MethodAdamW, LR: 1, Momentum: 0.9}, "main.method"},
		{"beta1", Settings{Method: MethodAdamW, LR: 1, Beta1: 1}, "main.beta1"},
		{"beta2", Settings{Method: MethodAdamW, LR: 1, Beta2: -0.1}, "main.beta2"},
		{"eps", Settings{Method: MethodAdamW, LR: 1, Eps: math.Inf(1)}, "main.eps"},
		{"betas on sgd", Settings{LR: 1, Beta1: 0.9}, "main.method"},
		{"clip", Settings{Method: MethodAdamW, LR: 1, ClipNorm: -1}, "main.clip_norm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Config{Main: tc.set}.Validate()
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.field+" = ") {
				t.Errorf("error %v, want one naming %s", err, tc.field)
			}
		})
	}
	if err := (Config{Main: Settings{Method: MethodAdamW, LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, ClipNorm: 1, WeightDecay: 0.1}}).Validate(); err != nil {
		t.Errorf("valid settings: %v", err)
	}
}
