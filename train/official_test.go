package train

import (
	"slices"
	"testing"

	"github.com/asymlab/asym/optim"
)

// TestOfficialOptimOptions checks how the official code's optimizer
// choices map onto the optimizer: the global noise (every parameter, but
// only B under Kolen–Pollack) with the official default variance 1, the
// delay that shifts W's schedule, Adam as B's optimizer without W's
// momentum, and weight decay of the classifier's bias.
func TestOfficialOptimOptions(t *testing.T) {
	adam := "adam"
	cases := []struct {
		name  string
		edit  func(*Config)
		check func(t *testing.T, o optim.Config)
	}{
		{"noise on B by default", func(c *Config) { c.Rule.NoiseDist = "normal" }, func(t *testing.T, o optim.Config) {
			if o.Main.Noise.Enabled() || o.Feedback.Noise != (optim.Noise{Distribution: "normal", Variance: 1}) {
				t.Errorf("main noise %+v, feedback noise %+v; want none and normal with variance 1", o.Main.Noise, o.Feedback.Noise)
			}
		}},
		{"global noise", func(c *Config) {
			c.Rule.Name, c.Rule.NoiseDist, c.Rule.NoiseVariance, c.Rule.NoiseParams = "sa", "uniform", 0.5, "all"
		},
			func(t *testing.T, o optim.Config) {
				want := optim.Noise{Distribution: "uniform", Variance: 0.5}
				if o.Main.Noise != want || o.Feedback.Noise != want {
					t.Errorf("main noise %+v, feedback noise %+v; want both %+v", o.Main.Noise, o.Feedback.Noise, want)
				}
			}},
		{"global noise under kp is on B", func(c *Config) { c.Rule.Name, c.Rule.NoiseDist, c.Rule.NoiseParams = "kp", "normal", "all" },
			func(t *testing.T, o optim.Config) {
				if o.Main.Noise.Enabled() || !o.Feedback.Noise.Enabled() {
					t.Errorf("main noise %+v, feedback noise %+v; want B only", o.Main.Noise, o.Feedback.Noise)
				}
			}},
		{"delay shifts the schedule", func(c *Config) { c.Rule.DelayEpochs, c.Optim.ScheduleDelay = 2, true }, func(t *testing.T, o optim.Config) {
			if o.Main.Schedule.Offset != 2 || o.Feedback.Schedule.Offset != 2 {
				t.Errorf("offsets %v and %v, want 2 (B shares W's optimizer)", o.Main.Schedule.Offset, o.Feedback.Schedule.Offset)
			}
		}},
		{"delay alone does not", func(c *Config) { c.Rule.DelayEpochs = 2 }, func(t *testing.T, o optim.Config) {
			if o.Main.Schedule.Offset != 0 {
				t.Errorf("offset %v, want 0", o.Main.Schedule.Offset)
			}
		}},
		{"adam for B", func(c *Config) { c.Optim.Feedback = &FeedbackOpt{Method: &adam} }, func(t *testing.T, o optim.Config) {
			if f := o.Feedback; f.Method != "adam" || f.Momentum != 0 || f.Nesterov || o.Main.Method != "sgd" || o.Main.Momentum != 0.9 {
				t.Errorf("main %+v, feedback %+v", o.Main, *f)
			}
		}},
		{"bias decay", func(c *Config) { c.Optim.DecayKinds = []string{"weight", "bias"} }, func(t *testing.T, o optim.Config) {
			if !slices.Equal(o.Main.DecayKinds, []string{"weight", "bias"}) {
				t.Errorf("decay kinds %v", o.Main.DecayKinds)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Rule.Name = "sa"
			tc.edit(&c)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			o, err := c.optimConfig(10, 300)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}
