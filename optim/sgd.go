package optim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// Group indices of an optimizer built by [New].
const (
	// MainGroup is the index of the "main" group (everything but B).
	MainGroup = 0
	// FeedbackGroup is the index of the "feedback" group (trainable B).
	FeedbackGroup = 1
)

// noiseStream tags the noise generators' streams ("optnoise"), so that
// they differ from every other use of the run seed.
const noiseStream = 0x6f70746e6f697365

// Group is a set of parameters updated with the same settings.
type Group struct {
	// Name names the group in error messages ("main", "feedback").
	Name string
	// Params are the group's parameters; those with a nil Grad are skipped.
	Params []*nn.Param
	// Settings are the group's hyperparameters.
	Settings Settings
}

// SGD is stochastic gradient descent with momentum, Nesterov momentum,
// weight decay, schedules and noisy updates over parameter groups (see the
// package documentation for the update). It is not safe for concurrent
// use.
type SGD struct {
	groups []group
	params []*nn.Param
	clock  Clock
	seed   uint64
	step   int64

	pcg *rand.PCG
	rng *rand.Rand
}

type group struct {
	name    string
	set     Settings
	entries []entry
	norm    float64 // global gradient norm before clipping, at the last step (ClipNorm > 0)
}

type entry struct {
	p     *nn.Param
	buf   *tensor.Tensor // momentum buffer (Adam: first moment); nil without
	sq    *tensor.Tensor // second moment (Adam, RMSProp); nil for sgd and gd
	wd    float32        // weight decay for this parameter (0 if its kind is not decayed)
	index uint64         // position in SGD.params, for the noise stream
}

// New returns an optimizer for params laid out as in the paper's official
// code: group [MainGroup] "main" holds every parameter with a non-nil Grad
// whose kind is not nn.KindFeedback, with cfg.Main; group [FeedbackGroup]
// "feedback" holds the trainable backward weights (kind nn.KindFeedback,
// non-nil Grad), with *cfg.Feedback, or cfg.Main when cfg.Feedback is nil.
// Both groups exist even when empty. Parameters with a nil Grad are
// skipped. It returns an error wrapping [ErrConfig] if cfg is invalid or if
// a parameter appears twice or two share a name.
func New(params []*nn.Param, cfg Config) (*SGD, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fb := cfg.Main
	if cfg.Feedback != nil {
		fb = *cfg.Feedback
	}
	main := Group{Name: "main", Settings: cfg.Main}
	feedback := Group{Name: "feedback", Settings: fb}
	for _, p := range params {
		if p == nil || !p.Trainable() {
			continue
		}
		if p.Kind == nn.KindFeedback {
			feedback.Params = append(feedback.Params, p)
		} else {
			main.Params = append(main.Params, p)
		}
	}
	return NewGroups([]Group{main, feedback}, cfg.Clock, cfg.Seed)
}

// NewGroups returns an optimizer over the given groups, in order, with the
// clock for their schedules and the seed for their noise. Parameters with a
// nil Grad are skipped. It returns an error wrapping [ErrConfig] if a
// group's settings are invalid, if a parameter appears twice (in one group
// or two), or if two parameters share a name (the state is keyed by name).
func NewGroups(groups []Group, clock Clock, seed uint64) (*SGD, error) {
	errs := clock.check()
	for i, g := range groups {
		name := g.Name
		if name == "" {
			name = fmt.Sprintf("group%d", i)
		}
		errs = append(errs, g.Settings.check(name, clock)...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o := &SGD{clock: clock, seed: seed, pcg: rand.NewPCG(0, 0)}
	o.rng = rand.New(o.pcg)
	seen := map[*nn.Param]string{}
	names := map[string]bool{}
	for i, g := range groups {
		name := g.Name
		if name == "" {
			name = fmt.Sprintf("group%d", i)
		}
		set := g.Settings.clone()
		gr := group{name: name, set: set}
		mask := set.decayMask()
		for _, p := range g.Params {
			if p == nil || !p.Trainable() {
				continue
			}
			if prev, ok := seen[p]; ok {
				errs = append(errs, fmt.Errorf("%w: parameter %q is in group %q and again in group %q; list each parameter once", ErrConfig, p.Name, prev, name))
				continue
			}
			seen[p] = name
			if names[p.Name] {
				errs = append(errs, fmt.Errorf("%w: two parameters are named %q; names must be unique (they key the optimizer state)", ErrConfig, p.Name))
			}
			names[p.Name] = true
			if p.Value == nil || !p.Value.SameShape(p.Grad) {
				errs = append(errs, fmt.Errorf("%w: parameter %q: gradient shape differs from the value's", ErrConfig, p.Name))
				continue
			}
			e := entry{p: p, index: uint64(len(o.params))}
			if mask&(1<<uint(p.Kind)) != 0 {
				e.wd = float32(set.WeightDecay)
			}
			switch set.Method {
			case MethodAdam, MethodAdamW:
				e.buf, e.sq = tensor.New(p.Value.Shape...), tensor.New(p.Value.Shape...)
			case MethodRMSProp:
				e.buf, e.sq = tensor.New(p.Value.Shape...), tensor.New(p.Value.Shape...)
				e.sq.Fill(1) // TensorFlow 1 starts the mean square at 1
			default:
				if set.Momentum != 0 {
					e.buf = tensor.New(p.Value.Shape...)
				}
			}
			gr.entries = append(gr.entries, e)
			o.params = append(o.params, p)
		}
		o.groups = append(o.groups, gr)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// Step applies one update to every parameter from its current Grad, using
// the learning rate of step [SGD.Steps], and then advances the step
// counter. Grad is not modified. Step does not allocate. It panics if a
// gradient's size no longer matches its parameter's.
func (o *SGD) Step() { o.step1(nil) }

// StepGroups is Step restricted to the groups whose indices are given
// (e.g. [FeedbackGroup] while the task loss is delayed and only B learns):
// the other groups keep their values and momentum. The step counter
// advances as for Step.
func (o *SGD) StepGroups(groups ...int) {
	for _, g := range groups {
		if g < 0 || g >= len(o.groups) {
			panic(fmt.Sprintf("optim: StepGroups: no group %d", g))
		}
	}
	o.step1(groups)
}

func (o *SGD) step1(only []int) {
	t := o.step
	for gi := range o.groups {
		if only != nil && !slices.Contains(only, gi) {
			continue
		}
		g := &o.groups[gi]
		lr := o.lr(g)
		lr32 := float32(lr)
		mu := float32(g.set.Momentum)
		g.norm = 0
		if g.set.ClipNorm > 0 {
			g.norm = clipGroup(g.entries, g.set.ClipNorm)
		}
		aw := g.set.adamWStep(lr, t)
		b1, b2, eps := g.set.adaptive()
		// Adam's bias correction folded into its rate (t = step + 1).
		adamLR := float32(lr * math.Sqrt(1-math.Pow(b2, float64(t+1))) / (1 - math.Pow(b1, float64(t+1))))
		for _, e := range g.entries {
			p, d := e.p.Value.Data, e.p.Grad.Data
			if len(d) != len(p) {
				panic(fmt.Sprintf("optim: %s: gradient has %d elements, value %d", e.p.Name, len(d), len(p)))
			}
			switch {
			case g.set.Method == MethodAdamW:
				updateAdamW(p, d, e.buf.Data, e.sq.Data, e.wd, aw)
			case g.set.Method == MethodAdam:
				updateAdam(p, d, e.buf.Data, e.sq.Data, adamLR, e.wd, float32(b1), float32(b2), float32(eps))
			case g.set.Method == MethodRMSProp:
				updateRMSProp(p, d, e.buf.Data, e.sq.Data, lr32, e.wd, mu, float32(b2), float32(eps))
			case e.buf == nil:
				updatePlain(p, d, lr32, e.wd)
			case g.set.Nesterov:
				updateNesterov(p, d, e.buf.Data, lr32, e.wd, mu)
			default:
				updateMomentum(p, d, e.buf.Data, lr32, e.wd, mu)
			}
			if g.set.Noise.Enabled() && lr != 0 {
				o.addNoise(p, g.set.Noise, lr, t, e.index)
			}
		}
	}
	o.step++
}

// updatePlain does p -= lr·(g + wd·p).
func updatePlain(p, g []float32, lr, wd float32) {
	g = g[:len(p)]
	for i := range p {
		p[i] -= lr * (g[i] + wd*p[i])
	}
}

// updateMomentum does d = g + wd·p; b = μ·b + d; p -= lr·b.
func updateMomentum(p, g, b []float32, lr, wd, mu float32) {
	g = g[:len(p)]
	b = b[:len(p)]
	for i := range p {
		v := mu*b[i] + (g[i] + wd*p[i])
		b[i] = v
		p[i] -= lr * v
	}
}

// updateNesterov does d = g + wd·p; b = μ·b + d; p -= lr·(d + μ·b).
func updateNesterov(p, g, b []float32, lr, wd, mu float32) {
	g = g[:len(p)]
	b = b[:len(p)]
	for i := range p {
		d := g[i] + wd*p[i]
		v := mu*b[i] + d
		b[i] = v
		p[i] -= lr * (d + mu*v)
	}
}

// updateAdam does d = g + wd·p; m = β1·m + (1−β1)·d; v = β2·v + (1−β2)·d²;
// p −= lr·m/(√v + ε) (lr includes the bias correction).
func updateAdam(p, g, m, v []float32, lr, wd, b1, b2, eps float32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		d := g[i] + wd*p[i]
		m[i] = b1*m[i] + (1-b1)*d
		v[i] = b2*v[i] + (1-b2)*d*d
		p[i] -= lr * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
	}
}

// updateRMSProp does d = g + wd·p; ms = ρ·ms + (1−ρ)·d²; b = μ·b +
// lr·d/√(ms + ε); p −= b.
func updateRMSProp(p, g, b, ms []float32, lr, wd, mu, rho, eps float32) {
	g, b, ms = g[:len(p)], b[:len(p)], ms[:len(p)]
	for i := range p {
		d := g[i] + wd*p[i]
		ms[i] = rho*ms[i] + (1-rho)*d*d
		b[i] = mu*b[i] + lr*d/float32(math.Sqrt(float64(ms[i]+eps)))
		p[i] -= b[i]
	}
}

// addNoise does p += lr·ε with ε from the generator of (seed, step, index):
// the same draws as tensor.NewRand(seed, tensor.Mix(noiseStream, step,
// index)), without allocating one.
func (o *SGD) addNoise(p []float32, n Noise, lr float64, step int64, index uint64) {
	o.pcg.Seed(o.seed, tensor.Mix(NoiseStream(step, index)))
	r := o.rng
	switch n.Distribution {
	case NoiseUniform:
		a := lr * math.Sqrt(12*n.Variance) / 2
		for i := range p {
			p[i] += float32((2*r.Float64() - 1) * a)
		}
	default:
		s := lr * math.Sqrt(n.Variance)
		for i := range p {
			p[i] += float32(r.NormFloat64() * s)
		}
	}
}

// NoiseStream returns the stream id of the noise added at step to the
// parameter at index in [SGD.Params]: the noise is drawn from
// tensor.NewRand(seed, NoiseStream(step, index)), element by element in
// order, as ε = √v·NormFloat64() (normal) or ε = (2·Float64()−1)·√(12v)/2
// (uniform).
func NoiseStream(step int64, index uint64) uint64 {
	return tensor.Mix(noiseStream, uint64(step), index)
}

func (o *SGD) lr(g *group) float64 {
	return g.set.LR * g.set.Schedule.Factor(o.step, o.clock.StepsPerEpoch, o.clock.TotalSteps)
}

// LR returns the learning rate the next [SGD.Step] will use for group i
// (base rate times schedule).
func (o *SGD) LR(i int) float64 { return o.lr(&o.groups[i]) }

// Steps returns the number of steps taken (restored by [SGD.SetState]).
func (o *SGD) Steps() int64 { return o.step }

// Params returns the parameters the optimizer updates, group after group;
// a parameter's position is its index in [NoiseStream]. The slice must not
// be modified.
func (o *SGD) Params() []*nn.Param { return o.params }

// Groups returns the groups as built: names, the parameters updated (nil
// Grad ones left out) and a copy of the settings.
func (o *SGD) Groups() []Group {
	gs := make([]Group, len(o.groups))
	for i, g := range o.groups {
		gs[i] = Group{Name: g.name, Settings: g.set.clone()}
		for _, e := range g.entries {
			gs[i].Params = append(gs[i].Params, e.p)
		}
	}
	return gs
}
