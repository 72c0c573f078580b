package rules

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path"
	"sort"
	"strings"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// Rule is a learning rule for backward weights.
type Rule interface {
	// Name returns the registered name of the rule.
	Name() string
	// Bind attaches the rule to one weight layer: it gives the layer the
	// backward weights the rule needs (see [Env.NewFeedbackParam]) and
	// returns the per-layer [nn.Feedback] the network calls every step.
	Bind(l nn.WeightLayer, env *Env) (nn.Feedback, error)
}

// NetworkRule is implemented by rules that also act on the network as a
// whole (direct feedback alignment installs injectors at the taps).
type NetworkRule interface {
	Rule
	// BindNetwork is called once, after Bind has been called for every
	// selected layer.
	BindNetwork(net *nn.Network, env *Env) error
}

// Objective is implemented by per-layer feedbacks that minimise a
// regularizer: Loss returns R(B; x, W, y) on the last training batch.
type Objective interface {
	Loss(c *nn.Ctx, l nn.WeightLayer) float64
}

// Env is what a rule may use when binding.
type Env struct {
	// Rand draws initial backward weights and fixed random matrices.
	Rand *rand.Rand
	// Seed is the run seed (per-step randomness uses tensor.NewRand(Seed,
	// tensor.Mix(step, ...))).
	Seed uint64
	// WeightDecay is the weight decay applied to W by the optimizer.
	WeightDecay float64
	// BInit is how B starts: "independent" (a fresh draw from W's
	// initializer, the default) or "copy" (B = W).
	BInit string
	// BScale multiplies the initial B (default 1).
	BScale float64
	// Positions is how the data terms of a regularizer (Amp, Null, Sparse)
	// reduce over the output positions of a convolution: "mean" (the
	// default: divided by the number of output positions, so that their
	// step does not grow with the image size) or "sum" (the official code).
	// Dense layers have one position: the two agree there.
	//
	// Mean is the default because the sum is not stable with a shared
	// optimizer: activation alignment's step on B is 2ηα(B − W)Σ with Σ the
	// input second moment summed over positions, whose largest eigenvalue
	// is 5·10³–6·10⁵ in a CIFAR-style ResNet-20 on 28×28 images, so at
	// η = 0.05 and α = 1e-3 it leaves the stable range of Nesterov momentum
	// 0.9 (ηλ < 1.36) in almost every layer and diverges within 20 steps;
	// weight mirror's fixed point (β/2α)WΣ grows with it as well. The
	// empty string means the default.
	Positions string
	// Input standardises the x the regularizers see (the input options of
	// the official code's AlignmentBase); the zero value leaves x as it is.
	Input InputOptions
	// Fraction is the fraction f of each batch on which a regularizer's
	// data terms (Amp, Null, Sparse) are computed: the first
	// [FractionRows](f, N) samples of an N-sample batch (batches are
	// shuffled, so they are a random subset of the data). 0 and 1 use the
	// whole batch.
	Fraction float64
	// Bias adds the layer's bias to the regularizers' projections: y = Wx + b
	// and Bx + b, as the official code does with use_bias_forward and
	// use_bias_backward (both true by its flags). Only layers with a bias
	// (the classifier) are affected. Default false: y = Wx.
	Bias bool
	// NullBorder makes the Null primitive of strided, padded convolutions
	// sum the padded border of the reconstruction Bᵀy too, as the official
	// code's explicit "fixed padding" does. Default false: the border is
	// cropped (the adjoint of the layer's own map).
	NullBorder bool
	// sched, when set, gives the regularizers their coefficients step by
	// step ([Options].Schedules).
	sched *scheduler
	// state collects the tensors rules keep besides B.
	state []*nn.Param
	// scratch is shared by the regularizers of one binding.
	scratch *regScratch
}

// NewFeedbackParam returns a new backward-weight parameter for l,
// initialised as Env says; trainable makes the optimizer update it.
func (e *Env) NewFeedbackParam(l nn.WeightLayer, trainable bool) *nn.Param {
	w := l.Weight()
	p := &nn.Param{Name: strings.TrimSuffix(w.Name, "weight") + "backward_weight", Kind: nn.KindFeedback,
		Value: tensor.New(w.Value.Shape...), Init: w.Init, FanIn: w.FanIn}
	if trainable {
		p.Grad = tensor.New(w.Value.Shape...)
	}
	switch {
	case e.BInit == "copy" || w.Init == nil:
		copy(p.Value.Data, w.Value.Data)
	default:
		w.Init(p.Value, e.Rand)
	}
	if e.BScale != 0 && e.BScale != 1 {
		for i := range p.Value.Data {
			p.Value.Data[i] *= float32(e.BScale)
		}
	}
	return p
}

// AddState records a tensor the rule keeps (fixed random matrices,
// scales): it is saved in checkpoints and synchronised across processes.
func (e *Env) AddState(p *nn.Param) { e.state = append(e.state, p) }

// The reductions of a regularizer's data terms over a convolution's output
// positions ([Env.Positions]).
const (
	PositionsSum  = "sum"
	PositionsMean = "mean"
)

// Options select where a rule applies and how B starts.
type Options struct {
	// Layers selects weight layers: "all" (default), "hidden" (all but the
	// last weight layer, which then stays exact backprop), or a
	// comma-separated list of layer names or path.Match globs. Embedding
	// tables ([nn.Lookup]) are left out of "all" and "hidden": they are
	// bound only when a name or glob selects them.
	Layers string
	// Exclude is a comma-separated list of names or globs to leave exact.
	Exclude string
	// BInit is "independent" (default) or "copy".
	BInit string
	// BScale multiplies the initial B (default 1).
	BScale float64
	// Positions is "mean" (default) or "sum"; see [Env.Positions].
	Positions string
	// Fraction is the fraction of each batch the regularizers' data terms
	// use (0: all of it); see [Env.Fraction].
	Fraction float64
	// Bias and NullBorder: see [Env.Bias] and [Env.NullBorder].
	Bias, NullBorder bool
	// Schedules vary settings of a rule defined by a regularizer over the
	// run (the official alpha/beta/gamma schedules), keyed by setting name;
	// Settings must then be the settings the rule was built with. Call
	// [Bound.SetClock] before training.
	Schedules map[string]CoeffSchedule
	Settings  map[string]float64
	// Input standardises the regularizers' x; see [InputOptions].
	Input InputOptions
}

// InputOptions are the input-standardisation options of the official
// code's AlignmentBase (Alignments/alignment.py), all off by default there
// and here. They change the x a regularizer sees (never the layer's own
// forward pass), in this order:
//
//   - Center (center_input): x ← x − mean(x) per sample, the mean taken
//     over all of the sample's entries (C·H·W for an image);
//   - Normalize (normalize_input): x ← (x − mean(x)) / ‖x − mean(x)‖ per
//     sample, so that every sample has unit norm;
//   - BatchCenter (batch_center_backward_input): the backward projection
//     Bx uses x − E[x] (the batch mean, per entry) while the forward
//     projection y = Wx keeps x;
//   - BatchCenterOutput (batch_center_forward_output): the forward
//     projection y and the reconstruction By are centred over the batch,
//     i.e. y ← y − E[y] (the official code centres both after computing
//     By from the uncentred y; by linearity that is B(y − E[y])).
//
// With Center or Normalize the forward projection is recomputed as
// y = W·x on the standardised x. BatchCenter turns the second moment
// E[xxᵀ] in the gradients of Amp and Sparse into the covariance: activation
// alignment's update becomes 2α(B − W)·Cov(x), whose largest eigenvalue,
// and hence the step that stays stable, no longer contains the squared
// mean of the (non-negative, post-ReLU) inputs. BatchCenterOutput does the
// same for the E[yyᵀ] of information alignment's Null term. Under
// data-parallel training the batch means are those of each process's shard,
// as the official code's are those of each GPU tower.
type InputOptions struct {
	Center, Normalize, BatchCenter, BatchCenterOutput bool
}

// Bound is the result of [Apply].
type Bound struct {
	// Rule is the rule applied.
	Rule Rule
	// Layers are the layers the rule was bound to, with their feedbacks.
	Layers []nn.WeightLayer
	// Feedbacks[i] belongs to Layers[i].
	Feedbacks []nn.Feedback
	// State lists the rule's tensors besides the B's (already part of the
	// network's parameters).
	State []*nn.Param
	sched *scheduler
}

// FractionRows returns the number of samples of an n-sample batch that a
// fraction f of it uses: round(f·n), halves rounded up, and at least 1;
// n itself when f is 0 or at least 1.
func FractionRows(f float64, n int) int {
	if f <= 0 || f >= 1 {
		return n
	}
	return min(n, max(1, int(math.Floor(f*float64(n)+0.5))))
}

// Select returns the weight layers of net chosen by opts.
func Select(net *nn.Network, opts Options) ([]nn.WeightLayer, error) {
	all := net.WeightLayers()
	// Lookups (embedding tables) are bound only when named: their B
	// changes no gradient (see nn.Lookup).
	var dense []nn.WeightLayer
	for _, l := range all {
		if lk, ok := l.(nn.Lookup); !ok || !lk.IsLookup() {
			dense = append(dense, l)
		}
	}
	sel := strings.TrimSpace(opts.Layers)
	var out []nn.WeightLayer
	switch sel {
	case "", "all":
		out = append(out, dense...)
	case "hidden":
		if len(dense) > 0 {
			out = append(out, dense[:len(dense)-1]...)
		}
	default:
		pats, err := patterns(sel)
		if err != nil {
			return nil, err
		}
		used := make([]bool, len(pats))
		for _, l := range all {
			for i, p := range pats {
				if ok, _ := path.Match(p, l.Name()); ok {
					out = append(out, l)
					used[i] = true
					break
				}
			}
		}
		for i, u := range used {
			if !u {
				return nil, fmt.Errorf("rules: layers: %q matches no weight layer; the model's weight layers are: %s", pats[i], layerNames(all))
			}
		}
	}
	if opts.Exclude != "" {
		pats, err := patterns(opts.Exclude)
		if err != nil {
			return nil, err
		}
		kept := out[:0]
		for _, l := range out {
			skip := false
			for _, p := range pats {
				if ok, _ := path.Match(p, l.Name()); ok {
					skip = true
				}
			}
			if !skip {
				kept = append(kept, l)
			}
		}
		out = kept
	}
	return out, nil
}

func patterns(s string) ([]string, error) {
	var ps []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("rules: layers: bad pattern %q: %w", p, err)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("rules: layers: empty selection %q", s)
	}
	return ps, nil
}

func layerNames(ls []nn.WeightLayer) string {
	var n []string
	for _, l := range ls {
		n = append(n, l.Name())
	}
	return strings.Join(n, ", ")
}

// Apply binds r to the layers of net selected by opts. env supplies the
// randomness and the optimizer's weight decay; its BInit and BScale are
// taken from opts.
func Apply(net *nn.Network, r Rule, opts Options, env *Env) (*Bound, error) {
	switch opts.BInit {
	case "", "independent", "copy":
	default:
		return nil, fmt.Errorf("rules: b_init %q; valid: independent, copy", opts.BInit)
	}
	if !(opts.BScale >= 0) || math.IsInf(opts.BScale, 1) {
		return nil, fmt.Errorf("rules: b_scale %v, want a finite number ≥ 0", opts.BScale)
	}
	switch opts.Positions {
	case "", PositionsSum, PositionsMean:
	default:
		return nil, fmt.Errorf("rules: positions %q; valid: %s, %s", opts.Positions, PositionsSum, PositionsMean)
	}
	if !(opts.Fraction >= 0 && opts.Fraction <= 1) {
		return nil, fmt.Errorf("rules: b_fraction %v, want in (0, 1] (0: the whole batch)", opts.Fraction)
	}
	env.BInit, env.BScale, env.Positions, env.Fraction = opts.BInit, opts.BScale, opts.Positions, opts.Fraction
	env.Input = opts.Input
	env.Bias, env.NullBorder = opts.Bias, opts.NullBorder
	env.sched = nil
	if len(opts.Schedules) > 0 {
		if _, ok := r.(coeffer); !ok {
			return nil, fmt.Errorf("rules: %s is not defined by a regularizer: its settings cannot be scheduled", r.Name())
		}
		info, _ := Lookup(r.Name())
		s, err := newScheduler(info, opts.Settings, opts.Schedules)
		if err != nil {
			return nil, err
		}
		env.sched = s
	}
	if _, ok := r.(NetworkRule); ok {
		switch strings.TrimSpace(opts.Layers) {
		case "", "all", "hidden":
		default:
			return nil, fmt.Errorf("rules: %s acts on every hidden block of the model; layers = %q is not supported (use all or hidden)", r.Name(), opts.Layers)
		}
		if strings.TrimSpace(opts.Exclude) != "" {
			return nil, fmt.Errorf("rules: %s acts on every hidden block of the model; exclude = %q is not supported (leave it empty)", r.Name(), opts.Exclude)
		}
	}
	layers, err := Select(net, opts)
	if err != nil {
		return nil, err
	}
	b := &Bound{Rule: r, sched: env.sched}
	for _, l := range layers {
		fb, err := r.Bind(l, env)
		if err != nil {
			return nil, fmt.Errorf("rules: %s on %s: %w", r.Name(), l.Name(), err)
		}
		if fb != nil {
			net.Bind(l, fb)
		}
		b.Layers = append(b.Layers, l)
		b.Feedbacks = append(b.Feedbacks, fb)
	}
	if nr, ok := r.(NetworkRule); ok {
		if err := nr.BindNetwork(net, env); err != nil {
			return nil, fmt.Errorf("rules: %s: %w", r.Name(), err)
		}
	}
	b.State = env.state
	return b, nil
}

// Loss returns the sum over bound layers of the rule's regularizer on the
// last training batch (0 for rules without one).
func (b *Bound) Loss(c *nn.Ctx) float64 {
	s := 0.0
	for i, fb := range b.Feedbacks {
		if o, ok := fb.(Objective); ok {
			s += o.Loss(c, b.Layers[i])
		}
	}
	return s
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
