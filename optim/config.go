package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/asymlab/asym/nn"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("optim: invalid config")

// Method names for [Settings].Method.
const (
	// MethodSGD is stochastic gradient descent with optional (Nesterov)
	// momentum. It is the default.
	MethodSGD = "sgd"
	// MethodGD is plain gradient descent: momentum must be 0.
	MethodGD = "gd"
	// MethodAdam is Adam as TensorFlow 1's AdamOptimizer computes it (the
	// official code's --optimizer / --alignment_optimizer adam): with
	// d = g + wd·p, m = β1·m + (1−β1)·d, v = β2·v + (1−β2)·d², and
	// p −= lr·√(1−β2ᵗ)/(1−β1ᵗ) · m/(√v + ε), t the 1-based step.
	MethodAdam = "adam"
	// MethodRMSProp is RMSProp as TensorFlow 1's RMSPropOptimizer computes
	// it: ms starts at 1, ms = ρ·ms + (1−ρ)·d², b = μ·b + lr·d/√(ms + ε),
	// p −= b.
	MethodRMSProp = "rmsprop"
)

// Noise distribution names for [Noise].Distribution, as in the official
// code's --noisy_opt_distribution flag.
const (
	// NoiseNormal draws ε ~ N(0, variance).
	NoiseNormal = "normal"
	// NoiseUniform draws ε ~ U(±√(12·variance)/2), which has the same
	// variance.
	NoiseUniform = "uniform"
)

var (
	methodNames = []string{MethodSGD, MethodGD, MethodAdam, MethodRMSProp, MethodAdamW}
	noiseNames  = []string{NoiseNormal, NoiseUniform}
	kindNames   = []string{nn.KindWeight.String(), nn.KindBias.String(), nn.KindNorm.String(), nn.KindFeedback.String()}
)

// Settings are the hyperparameters of one parameter group. The zero value
// is plain SGD with learning rate 0; set LR.
type Settings struct {
	// Method is "sgd" (the default when empty), "gd" (no momentum),
	// "adam", "rmsprop" or "adamw" (PyTorch's AdamW, see [MethodAdamW]).
	Method string `json:"method,omitempty"`
	// LR is the base learning rate, ≥ 0; the schedule multiplies it.
	LR float64 `json:"lr"`
	// Momentum is μ in [0, 1); 0 keeps no buffer.
	Momentum float64 `json:"momentum,omitempty"`
	// Nesterov selects Nesterov momentum (needs Momentum > 0; sgd only).
	Nesterov bool `json:"nesterov,omitempty"`
	// Beta1 and Beta2 are Adam's and AdamW's moment decays (0 means the
	// defaults 0.9 and 0.999); Beta2 is RMSProp's ρ (0 means 0.9).
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`
	// Eps is Adam's, AdamW's or RMSProp's ε (0 means the defaults 1e-8
	// and 1e-10).
	Eps float64 `json:"eps,omitempty"`
	// WeightDecay is the L2 coefficient wd ≥ 0 added as wd·p to the
	// gradient of the parameters whose kind is in DecayKinds. The paper's
	// l2_regularizer(1e-4) corresponds to 1e-4.
	WeightDecay float64 `json:"weight_decay,omitempty"`
	// DecayKinds names the parameter kinds ([nn.Kind.String]: "weight",
	// "bias", "norm", "feedback") that get weight decay. Nil means
	// ["weight"]; an empty non-nil list means none. (The official code also
	// decays the final layer's bias: add "bias" to match it.)
	DecayKinds []string `json:"decay_kinds,omitempty"`
	// Schedule shapes the learning rate over the run.
	Schedule Schedule `json:"schedule"`
	// Noise adds noisy updates when Noise.Distribution is set.
	Noise Noise `json:"noise"`
	// ClipNorm, if > 0, clips the group's gradients before each update to
	// a global L2 norm of at most ClipNorm, in place, as PyTorch's
	// clip_grad_norm_ does (see [ClipGlobalNorm]).
	ClipNorm float64 `json:"clip_norm,omitempty"`
}

// Noise configures the paper's noisy updates: after the group's update,
// p += lr_t·ε for every parameter of the group.
type Noise struct {
	// Distribution is "" (no noise), "normal" or "uniform".
	Distribution string `json:"distribution,omitempty"`
	// Variance is the variance of ε, > 0 when Distribution is set (the
	// official default is 1).
	Variance float64 `json:"variance,omitempty"`
}

// Enabled reports whether n adds noise.
func (n Noise) Enabled() bool { return n.Distribution != "" }

// Clock says how steps map to epochs and how long the run is. Schedules
// with epoch units need StepsPerEpoch; the cosine schedule needs
// TotalSteps.
type Clock struct {
	// StepsPerEpoch is the number of optimizer steps per epoch (0 if
	// unknown).
	StepsPerEpoch int64 `json:"steps_per_epoch,omitempty"`
	// TotalSteps is the number of steps of the whole run (0 if unknown).
	TotalSteps int64 `json:"total_steps,omitempty"`
}

// Config configures [New]: the main group's settings, optional settings of
// the feedback group, the clock for the schedules and the noise seed.
type Config struct {
	// Main applies to every trainable parameter that is not a backward
	// weight (kind feedback).
	Main Settings `json:"main"`
	// Feedback, if non-nil, applies to the trainable backward weights B;
	// nil means B shares Main (the official code's default: one optimizer
	// for W and B). Copy Main and change what differs.
	Feedback *Settings `json:"feedback,omitempty"`
	// Clock maps steps to epochs for the schedules.
	Clock Clock `json:"clock"`
	// Seed seeds the noisy updates.
	Seed uint64 `json:"seed,omitempty"`
}

// Validate checks every field and returns all problems joined, each
// wrapping [ErrConfig] and naming the field and its valid range.
func (c Config) Validate() error {
	errs := c.Clock.check()
	errs = append(errs, c.Main.check("main", c.Clock)...)
	if c.Feedback != nil {
		errs = append(errs, c.Feedback.check("feedback", c.Clock)...)
	}
	return errors.Join(errs...)
}

// Validate checks s as the settings of a group called name (used in the
// messages) under clock c.
func (s Settings) Validate(name string, c Clock) error {
	return errors.Join(s.check(name, c)...)
}

func (c Clock) check() []error {
	var errs []error
	if c.StepsPerEpoch < 0 {
		errs = append(errs, bad("clock.steps_per_epoch", c.StepsPerEpoch, "must be >= 0 (0 = unknown)"))
	}
	if c.TotalSteps < 0 {
		errs = append(errs, bad("clock.total_steps", c.TotalSteps, "must be >= 0 (0 = unknown)"))
	}
	return errs
}

func (s Settings) check(prefix string, c Clock) []error {
	var errs []error
	f := func(name string) string { return prefix + "." + name }
	switch s.Method {
	case "", MethodSGD:
	case MethodGD:
		if s.Momentum != 0 || s.Nesterov {
			errs = append(errs, bad(f("method"), s.Method, "has no momentum: set momentum to 0 and nesterov to false, or use method \"sgd\""))
		}
	case MethodAdamW:
		if s.Momentum != 0 || s.Nesterov {
			errs = append(errs, bad(f("method"), s.Method, "has no momentum (set beta1): set momentum to 0 and nesterov to false"))
		}
	case MethodAdam, MethodRMSProp:
		if s.Nesterov {
			errs = append(errs, bad(f("nesterov"), true, "only method \"sgd\" has Nesterov momentum"))
		}
		if s.Method == MethodAdam && s.Momentum != 0 {
			errs = append(errs, bad(f("momentum"), s.Momentum, "adam has no momentum (set beta1); use 0"))
		}
	default:
		errs = append(errs, bad(f("method"), s.Method, "must be one of "+list(methodNames)))
	}
	if !finiteNonNeg(s.LR) {
		errs = append(errs, bad(f("lr"), s.LR, "must be a finite number >= 0"))
	}
	if !(s.Momentum >= 0 && s.Momentum < 1) {
		errs = append(errs, bad(f("momentum"), s.Momentum, "must be in [0, 1)"))
	} else if s.Nesterov && s.Momentum == 0 {
		errs = append(errs, bad(f("nesterov"), true, "needs momentum in (0, 1)"))
	}
	if !(s.Beta1 >= 0 && s.Beta1 < 1) {
		errs = append(errs, bad(f("beta1"), s.Beta1, "must be in [0, 1) (0: 0.9)"))
	}
	if !(s.Beta2 >= 0 && s.Beta2 < 1) {
		errs = append(errs, bad(f("beta2"), s.Beta2, "must be in [0, 1) (0: the method's default)"))
	}
	if !finiteNonNeg(s.Eps) {
		errs = append(errs, bad(f("eps"), s.Eps, "must be a finite number >= 0 (0: the method's default)"))
	}
	if (s.Beta1 != 0 || s.Beta2 != 0 || s.Eps != 0) && s.Method != MethodAdam && s.Method != MethodRMSProp && s.Method != MethodAdamW {
		errs = append(errs, bad(f("method"), s.Method, "beta1, beta2 and eps are settings of \"adam\", \"adamw\" and \"rmsprop\""))
	}
	if !finiteNonNeg(s.ClipNorm) {
		errs = append(errs, bad(f("clip_norm"), s.ClipNorm, "must be a finite number >= 0 (0 = no clipping)"))
	}
	if s.Method == MethodRMSProp && s.Beta1 != 0 {
		errs = append(errs, bad(f("beta1"), s.Beta1, "rmsprop has no beta1 (its decay ρ is beta2)"))
	}
	if !finiteNonNeg(s.WeightDecay) {
		errs = append(errs, bad(f("weight_decay"), s.WeightDecay, "must be a finite number >= 0"))
	}
	for i, k := range s.DecayKinds {
		if !slices.Contains(kindNames, k) {
			errs = append(errs, bad(fmt.Sprintf("%s[%d]", f("decay_kinds"), i), k, "must be one of "+list(kindNames)))
		}
	}
	errs = append(errs, s.Schedule.check(f("schedule"), c)...)
	switch s.Noise.Distribution {
	case "":
		if s.Noise.Variance != 0 {
			errs = append(errs, bad(f("noise.distribution"), "", "must be one of "+list(noiseNames)+" when noise.variance is set"))
		}
	case NoiseNormal, NoiseUniform:
		if !(s.Noise.Variance > 0) || math.IsInf(s.Noise.Variance, 0) {
			errs = append(errs, bad(f("noise.variance"), s.Noise.Variance, "must be a finite number > 0 (the official default is 1)"))
		}
	default:
		errs = append(errs, bad(f("noise.distribution"), s.Noise.Distribution, "must be one of "+list(noiseNames)+" (or empty for no noise)"))
	}
	return errs
}

// adaptive returns the method's β1, β2 (ρ for RMSProp) and ε with the
// TensorFlow 1 defaults filled in.
func (s Settings) adaptive() (b1, b2, eps float64) {
	b1, b2, eps = s.Beta1, s.Beta2, s.Eps
	switch s.Method {
	case MethodAdam, MethodAdamW:
		if b1 == 0 {
			b1 = 0.9
		}
		if b2 == 0 {
			b2 = 0.999
		}
		if eps == 0 {
			eps = 1e-8
		}
	case MethodRMSProp:
		if b2 == 0 {
			b2 = 0.9
		}
		if eps == 0 {
			eps = 1e-10
		}
	}
	return b1, b2, eps
}

// decayMask returns the bit set of kinds that get weight decay.
func (s Settings) decayMask() uint32 {
	if s.DecayKinds == nil {
		return 1 << uint(nn.KindWeight)
	}
	var m uint32
	for _, name := range s.DecayKinds {
		for k := nn.KindWeight; k <= nn.KindBuffer; k++ {
			if k.String() == name {
				m |= 1 << uint(k)
			}
		}
	}
	return m
}

// clone returns a deep copy of s (the slices are copied).
func (s Settings) clone() Settings {
	s.DecayKinds = slices.Clone(s.DecayKinds)
	s.Schedule.Milestones = slices.Clone(s.Schedule.Milestones)
	return s
}

func finiteNonNeg(x float64) bool { return x >= 0 && !math.IsInf(x, 1) }

func bad(field string, value any, rule string) error {
	if s, ok := value.(string); ok {
		value = fmt.Sprintf("%q", s)
	}
	return fmt.Errorf("%w: %s = %v: %s", ErrConfig, field, value, rule)
}

func list(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
