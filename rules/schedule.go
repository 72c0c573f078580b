package rules

import (
	"fmt"
	"math"
	"sort"
)

// Coefficient schedule types for [CoeffSchedule].Type.
const (
	ScheduleLinear      = "linear"
	ScheduleExponential = "exponential"
)

// CoeffSchedule varies one setting of a rule (alpha, beta, gamma) over the
// run, as the official code's rate_scheduler.build_alignment_coefficient_schedule
// does (flags alpha_schedule_type, alpha_schedule_rate, alpha_start,
// alpha_stop, alpha_cycle; the same for beta and gamma). With v the
// setting's value, e the epoch (fractional), E the run's epochs, s = Start·E:
//
//	value = 0                              if e < Start·E or e > Stop·E
//	value = v + Rate·pos·h                  (linear)
//	value = v·exp(Rate·pos·h)               (exponential)
//	value = v                               (no type)
//
// where pos = e − s and h = 1, or, with a Cycle of c epochs, h = c/2 and
// pos is the triangular wave max(0, 1 − |(e−s)/h − 2⌊1 + (e−s)/(2h)⌋ + 1|).
type CoeffSchedule struct {
	// Type is "" (constant), "linear" or "exponential".
	Type string
	// Rate is the growth (or, negative, decay) per epoch.
	Rate float64
	// Start and Stop are the fractions of the run during which the
	// setting is non-zero (defaults 0 and 1: a zero Stop means 1).
	Start, Stop float64
	// Cycle is the period in epochs of a triangular cycle (0: none).
	Cycle float64
}

// Value returns the scheduled value of a setting whose base value is v, at
// epoch e of a run of epochs epochs.
func (s CoeffSchedule) Value(v, e, epochs float64) float64 {
	stop := s.Stop
	if stop == 0 {
		stop = 1
	}
	start := s.Start * epochs
	if e < start || e > stop*epochs {
		return 0
	}
	if s.Type == "" {
		return v
	}
	pos, h := e-start, 1.0
	if s.Cycle > 0 {
		h = 0.5 * s.Cycle
		cycle := math.Floor(1 + pos/(2*h))
		pos = math.Max(0, 1-math.Abs(pos/h-2*cycle+1))
	}
	if s.Type == ScheduleExponential {
		return v * math.Exp(s.Rate*pos*h)
	}
	return v + s.Rate*pos*h
}

// Validate checks the schedule of the setting called name.
func (s CoeffSchedule) Validate(name string) error {
	switch s.Type {
	case "", ScheduleLinear, ScheduleExponential:
	default:
		return fmt.Errorf("rules: schedule of %s: type %q; valid: %s, %s (or empty)", name, s.Type, ScheduleLinear, ScheduleExponential)
	}
	stop := s.Stop
	if stop == 0 {
		stop = 1
	}
	if !(s.Start >= 0 && s.Start <= stop && stop <= 1) {
		return fmt.Errorf("rules: schedule of %s: start %v and stop %v must satisfy 0 ≤ start ≤ stop ≤ 1", name, s.Start, s.Stop)
	}
	if !(s.Cycle >= 0) || math.IsInf(s.Cycle, 0) || math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0) {
		return fmt.Errorf("rules: schedule of %s: cycle %v must be ≥ 0 and rate %v finite", name, s.Cycle, s.Rate)
	}
	return nil
}

// coeffer is implemented by rules defined by a regularizer.
type coeffer interface{ Coeffs() Coeffs }

// scheduler re-evaluates a rule's coefficients from its scheduled settings
// once per step; every regularizer of the binding reads them.
type scheduler struct {
	info          Info
	base          map[string]float64
	sched         map[string]CoeffSchedule
	stepsPerEpoch float64
	epochs        float64
	step          uint64
	valid         bool
	k             Coeffs
	vals          map[string]float64
}

func newScheduler(info Info, settings map[string]float64, sched map[string]CoeffSchedule) (*scheduler, error) {
	base, err := info.Resolve(settings)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(sched))
	for n := range sched {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := base[n]; !ok {
			return nil, fmt.Errorf("rules: schedule of %q: %s has no such setting", n, info.Name)
		}
		if err := sched[n].Validate(n); err != nil {
			return nil, err
		}
	}
	return &scheduler{info: info, base: base, sched: sched, vals: map[string]float64{}}, nil
}

// at returns the coefficients of step.
func (s *scheduler) at(step uint64) Coeffs {
	if s.valid && s.step == step {
		return s.k
	}
	e := 0.0
	if s.stepsPerEpoch > 0 {
		e = float64(step) / s.stepsPerEpoch
	}
	for n, v := range s.base {
		if sc, ok := s.sched[n]; ok {
			v = sc.Value(v, e, s.epochs)
		}
		s.vals[n] = v
	}
	r, err := s.info.New(s.vals)
	if err != nil {
		panic("rules: scheduled settings rejected: " + err.Error())
	}
	s.k, s.step, s.valid = r.(coeffer).Coeffs(), step, true
	return s.k
}

// SetClock tells the coefficient schedules how many steps an epoch has and
// how many epochs the run has (the trainer calls it once the data are
// loaded). It does nothing when no setting is scheduled.
func (b *Bound) SetClock(stepsPerEpoch int, epochs float64) {
	if b.sched != nil {
		b.sched.stepsPerEpoch, b.sched.epochs, b.sched.valid = float64(stepsPerEpoch), epochs, false
	}
}

// Coeffs returns the coefficients the rule's regularizers use at step (its
// fixed ones without schedules); ok is false for rules without a
// regularizer.
func (b *Bound) Coeffs(step uint64) (k Coeffs, ok bool) {
	if b.sched != nil {
		return b.sched.at(step), true
	}
	c, ok := b.Rule.(coeffer)
	if !ok {
		return Coeffs{}, false
	}
	return c.Coeffs(), true
}
