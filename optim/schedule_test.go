package optim

import (
	"math"
	"testing"
)

// TestScheduleFactor checks each schedule at and around its boundaries.
// Tolerance 1e-12: the factors are a few float64 operations (pow, cos,
// one division) on exact inputs, accurate to a few ulps (~1e-16).
func TestScheduleFactor(t *testing.T) {
	goyal := Schedule{Name: ScheduleStep, Gamma: 0.1, Milestones: []float64{30, 60, 80}}
	goyalWarm := goyal
	goyalWarm.Warmup = 5
	goyalDelayed := goyalWarm
	goyalDelayed.Offset = 2 // the official delay_epochs = 2 shifts the whole schedule
	cos := CosineSchedule(0)
	cosFloor := CosineSchedule(0.1)
	cosWarm := Schedule{Name: ScheduleCosine, Unit: UnitStep, Warmup: 10}
	tests := []struct {
		name       string
		s          Schedule
		step       int64
		spe, total int64
		want       float64
	}{
		{"constant", Schedule{}, 0, 0, 0, 1},
		{"constant named", Schedule{Name: ScheduleConstant}, 12345, 0, 0, 1},
		{"constant warm-up start", Schedule{Warmup: 2}, 0, 10, 0, 0},
		{"constant warm-up mid", Schedule{Warmup: 2}, 5, 10, 0, 0.25},
		{"constant warm-up end", Schedule{Warmup: 2}, 20, 10, 0, 1},
		{"step before first", goyal, 299, 10, 0, 1},
		{"step at first", goyal, 300, 10, 0, 0.1},
		{"step before second", goyal, 599, 10, 0, 0.1},
		{"step at second", goyal, 600, 10, 0, 0.01},
		{"step at third", goyal, 800, 10, 0, 0.001},
		{"step past the end", goyal, 5000, 10, 0, 0.001},
		{"step unit step", Schedule{Name: ScheduleStep, Unit: UnitStep, Gamma: 0.5, Milestones: []float64{2}}, 1, 0, 0, 1},
		{"step unit step at", Schedule{Name: ScheduleStep, Unit: UnitStep, Gamma: 0.5, Milestones: []float64{2}}, 2, 0, 0, 0.5},
		// Milestone 0.5 epoch of 3 steps = step 1.5: steps 0, 1 before, step 2 after.
		{"step fractional epoch before", Schedule{Name: ScheduleStep, Gamma: 0.5, Milestones: []float64{0.5}}, 1, 3, 0, 1},
		{"step fractional epoch after", Schedule{Name: ScheduleStep, Gamma: 0.5, Milestones: []float64{0.5}}, 2, 3, 0, 0.5},
		{"goyal warm-up step 0", goyalWarm, 0, 10, 0, 0},
		{"goyal warm-up step 25", goyalWarm, 25, 10, 0, 0.5},
		{"goyal warm-up last", goyalWarm, 49, 10, 0, 0.98},
		{"goyal warm-up done", goyalWarm, 50, 10, 0, 1},
		{"goyal warm-up then drop", goyalWarm, 300, 10, 0, 0.1},
		{"delayed during the delay", goyalDelayed, 15, 10, 0, 0},
		{"delayed warm-up start", goyalDelayed, 20, 10, 0, 0},
		{"delayed warm-up mid", goyalDelayed, 45, 10, 0, 0.5},
		{"delayed before the drop", goyalDelayed, 319, 10, 0, 1},
		{"delayed drop", goyalDelayed, 320, 10, 0, 0.1},
		{"cosine start", cos, 0, 0, 100, 1},
		{"cosine quarter", cos, 25, 0, 100, (1 + math.Sqrt2/2) / 2},
		{"cosine middle", cos, 50, 0, 100, 0.5},
		{"cosine end", cos, 100, 0, 100, 0},
		{"cosine past the end", cos, 150, 0, 100, 0},
		{"cosine floor middle", cosFloor, 50, 0, 100, 0.55},
		{"cosine floor end", cosFloor, 100, 0, 100, 0.1},
		{"cosine warm-up mid", cosWarm, 5, 0, 110, 0.5},
		{"cosine warm-up end", cosWarm, 10, 0, 110, 1},
		{"cosine after warm-up middle", cosWarm, 60, 0, 110, 0.5},
		{"cosine after warm-up end", cosWarm, 110, 0, 110, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(Clock{StepsPerEpoch: tc.spe, TotalSteps: tc.total}); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got := tc.s.Factor(tc.step, tc.spe, tc.total)
			if math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Factor(%d, %d, %d) = %.17g, want %.17g", tc.step, tc.spe, tc.total, got, tc.want)
			}
		})
	}
}

// TestScheduleMonotone checks over whole runs that the warm-up rises and
// that step and cosine never rise after it, and that cosine is continuous
// where the warm-up hands over (no jump above one step's worth).
func TestScheduleMonotone(t *testing.T) {
	const spe, total = 7, 700
	for _, s := range []Schedule{
		{Name: ScheduleStep, Gamma: 0.1, Milestones: []float64{30, 60, 80}, Warmup: 5},
		{Name: ScheduleCosine, Floor: 0.05, Warmup: 5},
	} {
		w := int64(s.Warmup * spe)
		prev := -1.0
		for step := int64(0); step <= total; step++ {
			f := s.Factor(step, spe, total)
			if step < w && !(f > prev) || step > w && f > prev {
				t.Fatalf("%s: factor %g at step %d after %g", s.Name, f, step, prev)
			}
			// Largest jump of the cosine: its slope π/2/(total−w) per step;
			// of the warm-up: 1/w per step.
			if s.Name == ScheduleCosine && step > 0 && math.Abs(f-prev) > 1.0/float64(w)+1e-12 {
				t.Fatalf("cosine jumps from %g to %g at step %d", prev, f, step)
			}
			prev = f
		}
	}
}
