package optim

import (
	"errors"
	"fmt"
	"math"
)

// Schedule names for [Schedule].Name.
const (
	// ScheduleConstant keeps the base learning rate (the default when the
	// name is empty).
	ScheduleConstant = "constant"
	// ScheduleStep multiplies the rate by Gamma at each milestone.
	ScheduleStep = "step"
	// ScheduleCosine anneals the rate along a half cosine from 1 to Floor
	// between the end of the warm-up and the last step.
	ScheduleCosine = "cosine"
)

// Unit names for [Schedule].Unit.
const (
	// UnitEpoch measures milestones and warm-up in epochs (the default
	// when empty); fractions of an epoch are allowed.
	UnitEpoch = "epoch"
	// UnitStep measures milestones and warm-up in optimizer steps.
	UnitStep = "step"
)

var (
	scheduleNames = []string{ScheduleConstant, ScheduleStep, ScheduleCosine}
	unitNames     = []string{UnitEpoch, UnitStep}
)

// Schedule is a learning-rate multiplier as a pure function of the step
// (see [Schedule.Factor]). The zero value is constant 1 with no warm-up.
type Schedule struct {
	// Name is "constant" (default when empty), "step" or "cosine".
	Name string `json:"name,omitempty"`
	// Unit is "epoch" (default when empty) or "step"; it applies to
	// Milestones and Warmup.
	Unit string `json:"unit,omitempty"`
	// Milestones are the strictly increasing, positive times at which the
	// "step" schedule multiplies the rate by Gamma, e.g. [30, 60, 80].
	Milestones []float64 `json:"milestones,omitempty"`
	// Gamma is the "step" schedule's factor, > 0 (e.g. 0.1).
	Gamma float64 `json:"gamma,omitempty"`
	// Floor is the "cosine" schedule's final multiplier, in [0, 1].
	Floor float64 `json:"floor,omitempty"`
	// Warmup is the length of the linear warm-up from 0, ≥ 0 (0 = none).
	Warmup float64 `json:"warmup,omitempty"`
	// Offset delays the whole schedule, ≥ 0: the factor at step t is the
	// unshifted one at max(t − Offset, 0), in the schedule's unit. The
	// official code shifts the learning-rate schedule of the task loss by
	// its delay_epochs this way (learning_rate.build_lr_schedule).
	Offset float64 `json:"offset,omitempty"`
}

// StepSchedule returns a "step" schedule in epochs: ×gamma at each
// milestone.
func StepSchedule(gamma float64, milestones ...float64) Schedule {
	return Schedule{Name: ScheduleStep, Gamma: gamma, Milestones: milestones}
}

// CosineSchedule returns a "cosine" schedule that ends at floor.
func CosineSchedule(floor float64) Schedule {
	return Schedule{Name: ScheduleCosine, Floor: floor}
}

// Factor returns the learning-rate multiplier for the update made at step
// (0-based: the first update is step 0), given the number of steps per
// epoch and of the whole run. With u = stepsPerEpoch for epoch units and 1
// for step units, w = Warmup·u, and t = step:
//
//	constant: f = 1
//	step:     f = Gamma^k, k = #{milestones m : t ≥ m·u}
//	cosine:   f = Floor + (1−Floor)·(1+cos(π·p))/2, p = clamp((t−w)/(totalSteps−w), 0, 1)
//	warm-up:  f ·= t/w while t < w
//
// with t replaced by max(t − Offset·u, 0) when Offset is set.
// So the warm-up starts from exactly 0 at step 0 (as the official
// build_lr_schedule does) and the cosine starts when the warm-up ends.
// s should be valid (see [Schedule.Validate]); Factor does not allocate.
func (s Schedule) Factor(step, stepsPerEpoch, totalSteps int64) float64 {
	t := float64(step)
	u := 1.0
	if s.Unit != UnitStep {
		u = float64(stepsPerEpoch)
	}
	if s.Offset > 0 {
		t = max(t-s.Offset*u, 0)
	}
	w := s.Warmup * u
	f := 1.0
	switch s.Name {
	case ScheduleStep:
		k := 0
		for _, m := range s.Milestones {
			if t < m*u {
				break
			}
			k++
		}
		f = math.Pow(s.Gamma, float64(k))
	case ScheduleCosine:
		p := 1.0
		if total := float64(totalSteps); total > w {
			p = min(max((t-w)/(total-w), 0), 1)
		}
		f = s.Floor + (1-s.Floor)*0.5*(1+math.Cos(math.Pi*p))
	}
	if w > 0 && t < w {
		f *= t / w
	}
	return f
}

// Validate checks s under clock c; field names in the messages start with
// "schedule".
func (s Schedule) Validate(c Clock) error {
	return errors.Join(s.check("schedule", c)...)
}

func (s Schedule) check(prefix string, c Clock) []error {
	var errs []error
	f := func(name string) string { return prefix + "." + name }
	switch s.Name {
	case "", ScheduleConstant, ScheduleStep, ScheduleCosine:
	default:
		errs = append(errs, bad(f("name"), s.Name, "must be one of "+list(scheduleNames)))
	}
	switch s.Unit {
	case "", UnitEpoch, UnitStep:
	default:
		errs = append(errs, bad(f("unit"), s.Unit, "must be one of "+list(unitNames)))
	}
	epochs := s.Unit != UnitStep
	if s.Name == ScheduleStep {
		if !(s.Gamma > 0) || math.IsInf(s.Gamma, 0) {
			errs = append(errs, bad(f("gamma"), s.Gamma, "must be a finite number > 0 (e.g. 0.1)"))
		}
		if len(s.Milestones) == 0 {
			errs = append(errs, bad(f("milestones"), s.Milestones, "must list at least one time for the step schedule (e.g. [30, 60, 80])"))
		}
		for i, m := range s.Milestones {
			if !(m > 0) || math.IsInf(m, 0) || (i > 0 && !(m > s.Milestones[i-1])) {
				errs = append(errs, bad(fmt.Sprintf("%s[%d]", f("milestones"), i), m, "must be finite, > 0 and greater than the previous milestone"))
			}
		}
		if epochs && len(s.Milestones) > 0 && c.StepsPerEpoch <= 0 {
			errs = append(errs, bad("clock.steps_per_epoch", c.StepsPerEpoch, "must be > 0 for "+f("milestones")+" in epochs (or set "+f("unit")+" to \"step\")"))
		}
	} else {
		if len(s.Milestones) > 0 {
			errs = append(errs, bad(f("milestones"), s.Milestones, "only the \"step\" schedule uses milestones; remove them or set "+f("name")+" to \"step\""))
		}
		if s.Gamma != 0 {
			errs = append(errs, bad(f("gamma"), s.Gamma, "only the \"step\" schedule uses gamma; remove it or set "+f("name")+" to \"step\""))
		}
	}
	if s.Name == ScheduleCosine {
		if !(s.Floor >= 0 && s.Floor <= 1) {
			errs = append(errs, bad(f("floor"), s.Floor, "must be in [0, 1]"))
		}
		if c.TotalSteps <= 0 {
			errs = append(errs, bad("clock.total_steps", c.TotalSteps, "must be > 0 for the cosine schedule"))
		}
	} else if s.Floor != 0 {
		errs = append(errs, bad(f("floor"), s.Floor, "only the \"cosine\" schedule uses floor; remove it or set "+f("name")+" to \"cosine\""))
	}
	if !finiteNonNeg(s.Offset) {
		errs = append(errs, bad(f("offset"), s.Offset, "must be a finite number >= 0"))
	} else if s.Offset > 0 && epochs && c.StepsPerEpoch <= 0 {
		errs = append(errs, bad("clock.steps_per_epoch", c.StepsPerEpoch, "must be > 0 for "+f("offset")+" in epochs (or set "+f("unit")+" to \"step\")"))
	}
	if !finiteNonNeg(s.Warmup) {
		errs = append(errs, bad(f("warmup"), s.Warmup, "must be a finite number >= 0"))
	} else if s.Warmup > 0 {
		if epochs && c.StepsPerEpoch <= 0 {
			errs = append(errs, bad("clock.steps_per_epoch", c.StepsPerEpoch, "must be > 0 for "+f("warmup")+" in epochs (or set "+f("unit")+" to \"step\")"))
		} else if s.Name == ScheduleCosine && c.TotalSteps > 0 {
			u := 1.0
			if epochs {
				u = float64(c.StepsPerEpoch)
			}
			if w := s.Warmup * u; w >= float64(c.TotalSteps) {
				errs = append(errs, bad(f("warmup"), s.Warmup, fmt.Sprintf("must be shorter than the run: %g steps of warm-up >= %d total steps", w, c.TotalSteps)))
			}
		}
	}
	return errs
}
