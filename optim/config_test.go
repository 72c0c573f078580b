package optim

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		return Config{Main: Settings{LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4}, Clock: Clock{StepsPerEpoch: 100, TotalSteps: 9000}}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"valid goyal", func(c *Config) {
			c.Main.Schedule = Schedule{Name: ScheduleStep, Gamma: 0.1, Milestones: []float64{30, 60, 80}, Warmup: 5}
		}, ""},
		{"valid cosine", func(c *Config) { c.Main.Schedule = Schedule{Name: ScheduleCosine, Floor: 0.01, Warmup: 5} }, ""},
		{"valid gd", func(c *Config) { c.Main = Settings{Method: MethodGD, LR: 1e-3} }, ""},
		{"valid noise", func(c *Config) { c.Main.Noise = Noise{Distribution: NoiseUniform, Variance: 1} }, ""},
		{"valid feedback", func(c *Config) { c.Feedback = &Settings{LR: 0.01, DecayKinds: []string{"feedback"}, WeightDecay: 1e-4} }, ""},
		{"step units need no clock", func(c *Config) {
			c.Clock = Clock{}
			c.Main.Schedule = Schedule{Name: ScheduleStep, Unit: UnitStep, Gamma: 0.1, Milestones: []float64{100}, Warmup: 10}
		}, ""},

		{"method", func(c *Config) { c.Main.Method = "adagrad" }, `main.method = "adagrad": must be one of "sgd", "gd", "adam", "rmsprop"`},
		{"adam-nesterov", func(c *Config) { c.Main.Method, c.Main.Momentum = "adam", 0 }, `main.nesterov = true: only method "sgd" has Nesterov momentum`},
		{"adam-momentum", func(c *Config) { c.Main.Method, c.Main.Nesterov = "adam", false }, `main.momentum = 0.9: adam has no momentum`},
		{"beta1", func(c *Config) { c.Main.Method, c.Main.Nesterov, c.Main.Momentum, c.Main.Beta1 = "adam", false, 0, 1 }, `main.beta1 = 1: must be in [0, 1)`},
		{"rmsprop-beta1", func(c *Config) { c.Main.Method, c.Main.Nesterov, c.Main.Beta1 = "rmsprop", false, 0.5 }, `main.beta1 = 0.5: rmsprop has no beta1`},
		{"eps-sgd", func(c *Config) { c.Main.Eps = 1e-3 }, `beta1, beta2 and eps are settings of "adam", "adamw" and "rmsprop"`},
		{"gd with momentum", func(c *Config) { c.Main.Method = MethodGD }, `main.method = "gd": has no momentum`},
		{"negative lr", func(c *Config) { c.Main.LR = -1 }, "main.lr = -1: must be a finite number >= 0"},
		{"NaN lr", func(c *Config) { c.Main.LR = math.NaN() }, "main.lr = NaN: must be a finite number >= 0"},
		{"infinite lr", func(c *Config) { c.Main.LR = math.Inf(1) }, "main.lr = +Inf: must be a finite number >= 0"},
		{"momentum 1", func(c *Config) { c.Main.Momentum = 1 }, "main.momentum = 1: must be in [0, 1)"},
		{"negative momentum", func(c *Config) { c.Main.Momentum = -0.5 }, "main.momentum = -0.5: must be in [0, 1)"},
		{"nesterov without momentum", func(c *Config) { c.Main.Momentum = 0 }, "main.nesterov = true: needs momentum in (0, 1)"},
		{"weight decay", func(c *Config) { c.Main.WeightDecay = -1e-4 }, "main.weight_decay = -0.0001: must be a finite number >= 0"},
		{"decay kind", func(c *Config) { c.Main.DecayKinds = []string{"weight", "biases"} },
			`main.decay_kinds[1] = "biases": must be one of "weight", "bias", "norm", "feedback"`},
		{"schedule name", func(c *Config) { c.Main.Schedule.Name = "linear" }, `main.schedule.name = "linear": must be one of "constant", "step", "cosine"`},
		{"schedule unit", func(c *Config) { c.Main.Schedule.Unit = "hour" }, `main.schedule.unit = "hour": must be one of "epoch", "step"`},
		{"step gamma", func(c *Config) { c.Main.Schedule = Schedule{Name: ScheduleStep, Milestones: []float64{30}} },
			"main.schedule.gamma = 0: must be a finite number > 0 (e.g. 0.1)"},
		{"step milestones", func(c *Config) { c.Main.Schedule = Schedule{Name: ScheduleStep, Gamma: 0.1} },
			"main.schedule.milestones = []: must list at least one time"},
		{"milestones order", func(c *Config) { c.Main.Schedule = StepSchedule(0.1, 30, 80, 60) },
			"main.schedule.milestones[2] = 60: must be finite, > 0 and greater than the previous milestone"},
		{"milestones need steps per epoch", func(c *Config) { c.Main.Schedule = StepSchedule(0.1, 30); c.Clock.StepsPerEpoch = 0 },
			"clock.steps_per_epoch = 0: must be > 0 for main.schedule.milestones in epochs"},
		{"milestones for cosine", func(c *Config) { c.Main.Schedule = Schedule{Name: ScheduleCosine, Milestones: []float64{3}} },
			`main.schedule.milestones = [3]: only the "step" schedule uses milestones`},
		{"gamma for constant", func(c *Config) { c.Main.Schedule.Gamma = 0.1 }, `main.schedule.gamma = 0.1: only the "step" schedule uses gamma`},
		{"floor for step", func(c *Config) { c.Main.Schedule = StepSchedule(0.1, 30); c.Main.Schedule.Floor = 0.1 },
			`main.schedule.floor = 0.1: only the "cosine" schedule uses floor`},
		{"cosine floor", func(c *Config) { c.Main.Schedule = CosineSchedule(1.5) }, "main.schedule.floor = 1.5: must be in [0, 1]"},
		{"cosine total", func(c *Config) { c.Main.Schedule = CosineSchedule(0); c.Clock.TotalSteps = 0 },
			"clock.total_steps = 0: must be > 0 for the cosine schedule"},
		{"warmup negative", func(c *Config) { c.Main.Schedule.Warmup = -1 }, "main.schedule.warmup = -1: must be a finite number >= 0"},
		{"warmup needs steps per epoch", func(c *Config) { c.Main.Schedule.Warmup = 5; c.Clock.StepsPerEpoch = 0 },
			"clock.steps_per_epoch = 0: must be > 0 for main.schedule.warmup in epochs"},
		{"warmup longer than cosine", func(c *Config) { c.Main.Schedule = Schedule{Name: ScheduleCosine, Warmup: 90} },
			"main.schedule.warmup = 90: must be shorter than the run: 9000 steps of warm-up >= 9000 total steps"},
		{"noise name", func(c *Config) { c.Main.Noise = Noise{Distribution: "gaussian", Variance: 1} },
			`main.noise.distribution = "gaussian": must be one of "normal", "uniform" (or empty for no noise)`},
		{"noise variance", func(c *Config) { c.Main.Noise = Noise{Distribution: NoiseNormal} },
			"main.noise.variance = 0: must be a finite number > 0"},
		{"noise variance alone", func(c *Config) { c.Main.Noise = Noise{Variance: 1} },
			`main.noise.distribution = "": must be one of "normal", "uniform" when noise.variance is set`},
		{"feedback prefix", func(c *Config) { c.Feedback = &Settings{LR: 0.1, Momentum: 2} }, "feedback.momentum = 2: must be in [0, 1)"},
		{"clock", func(c *Config) { c.Clock.TotalSteps = -5 }, "clock.total_steps = -5: must be >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
			if _, err := New(nil, c); !errors.Is(err, ErrConfig) {
				t.Errorf("New accepted the config: %v", err)
			}
		})
	}
}

// TestConfigReportsAll checks that every problem is reported at once.
func TestConfigReportsAll(t *testing.T) {
	c := Config{Main: Settings{LR: -1, Momentum: 3}, Feedback: &Settings{Method: "adagrad"}}
	err := c.Validate()
	for _, w := range []string{"main.lr", "main.momentum", "feedback.method"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not mention %s", err, w)
		}
	}
}
