package train

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/tensor"
)

// small returns a fast config on the embedded digits.
func small(rule string) Config {
	c := Default()
	c.Model = ModelConfig{Arch: "mlp", Hidden: []int{32, 16}, Dropout: 0.2, Init: "he"}
	c.Data.Batch = 64
	c.Data.CropPad = 1
	c.Data.Flip = true
	c.Run.Epochs = 2
	c.Run.Threads = 2
	c.Rule.Name = rule
	return c
}

func build(t *testing.T, c Config) *Trainer {
	t.Helper()
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func run(t *testing.T, tr *Trainer, dir string) *Summary {
	t.Helper()
	s, err := tr.Run(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stateEqual compares every saved tensor and the optimizer state bitwise.
func stateEqual(t *testing.T, a, b *Trainer) {
	t.Helper()
	if len(a.state) != len(b.state) {
		t.Fatalf("state sizes %d vs %d", len(a.state), len(b.state))
	}
	for i := range a.state {
		if !tensor.Equal(a.state[i].Value, b.state[i].Value) {
			t.Errorf("%s differs (max |Δ| = %g)", a.state[i].Name, tensor.MaxAbsDiff(a.state[i].Value, b.state[i].Value))
		}
	}
	sa, sb := a.Opt.State(), b.Opt.State()
	if sa.Step != sb.Step || len(sa.Tensors) != len(sb.Tensors) {
		t.Fatalf("optimizer state: step %d vs %d, %d vs %d tensors", sa.Step, sb.Step, len(sa.Tensors), len(sb.Tensors))
	}
	for i := range sa.Tensors {
		if !tensor.Equal(sa.Tensors[i].Value, sb.Tensors[i].Value) {
			t.Errorf("%s differs", sa.Tensors[i].Name)
		}
	}
}

// Rules chosen to exercise every source of randomness: dropout, crops and
// flips (all), per-step magnitudes (brsf), noise inputs (wm), fixed random
// matrices (dfa, frsf), noisy updates (sa).
var resumeCases = []struct {
	rule   string
	params map[string]float64
	noise  bool
}{
	{"bp", nil, false},
	{"brsf", nil, false},
	{"frsf", nil, false},
	{"wm", map[string]float64{"noise": 0.5}, false},
	{"dfa", nil, false},
	{"sa", nil, true},
	{"kp", nil, false},
}

func TestDeterministic(t *testing.T) {
	for _, tc := range resumeCases[:4] {
		t.Run(tc.rule, func(t *testing.T) {
			c := small(tc.rule)
			c.Rule.Params = tc.params
			c.Run.Epochs = 1
			a, b := build(t, c), build(t, c)
			run(t, a, t.TempDir())
			run(t, b, t.TempDir())
			stateEqual(t, a, b)
		})
	}
}

func TestResumeIsExact(t *testing.T) {
	for _, tc := range resumeCases {
		t.Run(tc.rule, func(t *testing.T) {
			c := small(tc.rule)
			c.Rule.Params = tc.params
			if tc.noise {
				c.Rule.NoiseDist, c.Rule.NoiseVariance = "normal", 0.01
			}
			full := build(t, c)
			sFull := run(t, full, t.TempDir())

			// Interrupt mid-epoch (step 30 of 2×23), then resume in a new
			// trainer from the checkpoint.
			dir := t.TempDir()
			c1 := c
			c1.Run.MaxSteps = 30
			part := build(t, c1)
			run(t, part, dir)
			resumed := build(t, c)
			if err := resumed.Restore(filepath.Join(dir, LatestName)); err != nil {
				t.Fatal(err)
			}
			if resumed.Step() != 30 {
				t.Fatalf("resumed at step %d, want 30", resumed.Step())
			}
			sRes := run(t, resumed, dir)
			stateEqual(t, full, resumed)
			if sFull.TestAcc != sRes.TestAcc || sFull.TrainLoss != sRes.TrainLoss {
				t.Errorf("summaries differ: %+v vs %+v", sFull, sRes)
			}
		})
	}
}

func TestInterruptSavesAndResumes(t *testing.T) {
	c := small("fa")
	dir := t.TempDir()
	tr := build(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	tr.Reporter = cancelAt{step: 17, cancel: cancel, tr: tr}
	_, err := tr.Run(ctx, dir)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("got %v, want ErrInterrupted", err)
	}
	resumed := build(t, c)
	if err := resumed.Restore(filepath.Join(dir, LatestName)); err != nil {
		t.Fatal(err)
	}
	if resumed.Step() != 17 {
		t.Fatalf("checkpoint at step %d, want 17", resumed.Step())
	}
	run(t, resumed, dir)
	full := build(t, c)
	run(t, full, t.TempDir())
	stateEqual(t, full, resumed)
}

type cancelAt struct {
	step   int64
	cancel func()
	tr     *Trainer
}

func (c cancelAt) Step(p Progress) {
	if p.Step == c.step {
		c.cancel()
	}
}
func (c cancelAt) Epoch(EpochMetrics) {}

func TestDivergenceIsCaught(t *testing.T) {
	c := small("bp")
	c.Optim.LR = 1e6
	c.Optim.Schedule = "constant"
	c.Run.CheckpointEvery = 1
	dir := t.TempDir()
	tr := build(t, c)
	_, err := tr.Run(context.Background(), dir)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("got %v, want ErrDiverged", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "step ") || !strings.Contains(msg, "layer ") {
		t.Errorf("message does not name the step and the layer: %s", msg)
	}
	var de *optim.DivergenceError
	if errors.As(err, &de) {
		t.Logf("diverged at step %d in %s", de.Step, de.Param)
	}
	// The latest checkpoint is the last good one: loadable and finite.
	if _, err := os.Stat(filepath.Join(dir, LatestName)); err == nil {
		good := build(t, c)
		if err := good.Restore(filepath.Join(dir, LatestName)); err != nil {
			t.Fatalf("last checkpoint unreadable: %v", err)
		}
		if err := optim.CheckFinite(good.Step(), good.Net.Params()); err != nil {
			t.Errorf("last checkpoint is not finite: %v", err)
		}
		if good.Step() > tr.Step() {
			t.Errorf("checkpoint step %d after the divergence step %d", good.Step(), tr.Step())
		}
	}
}

func TestRunDirIsNotClobbered(t *testing.T) {
	c := small("bp")
	c.Run.Epochs = 1
	dir := t.TempDir()
	run(t, build(t, c), dir)
	before, err := os.ReadFile(filepath.Join(dir, MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = build(t, c).Run(context.Background(), dir)
	if !errors.Is(err, ErrRunExists) {
		t.Fatalf("got %v, want ErrRunExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, MetricsName))
	if string(before) != string(after) {
		t.Error("metrics.jsonl was modified")
	}
}

func TestCorruptCheckpoint(t *testing.T) {
	c := small("sa")
	c.Run.Epochs = 1
	dir := t.TempDir()
	run(t, build(t, c), dir)
	path := filepath.Join(dir, LatestName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, corrupt := range map[string][]byte{
		"truncated": b[:len(b)/2],
		"flipped":   flip(b, len(b)-5),
		"empty":     nil,
	} {
		p := filepath.Join(t.TempDir(), name+".safetensors")
		if err := os.WriteFile(p, corrupt, 0o644); err != nil {
			t.Fatal(err)
		}
		err := build(t, c).Restore(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want an error naming %s", name, err, p)
		}
	}
	// A checkpoint of another model does not load into this one.
	other := c
	other.Model.Hidden = []int{16, 16}
	if err := build(t, other).Restore(path); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("other model: got %v, want a shape error", err)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xff
	return c
}

func TestDelayTrainsOnlyB(t *testing.T) {
	c := small("sa")
	c.Model.Dropout = 0
	c.Run.Epochs = 2
	c.Rule.DelayEpochs = 1
	c.Run.MaxSteps = int64(23) // the first epoch: only B learns
	tr := build(t, c)
	w0 := tr.Net.WeightLayers()[0].Weight().Value.Clone()
	b0 := tr.Net.WeightLayers()[0].Feedback().Value.Clone()
	run(t, tr, t.TempDir())
	if !tensor.Equal(w0, tr.Net.WeightLayers()[0].Weight().Value) {
		t.Error("W changed during the delay")
	}
	if tensor.Equal(b0, tr.Net.WeightLayers()[0].Feedback().Value) {
		t.Error("B did not learn during the delay")
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct{ toml, want string }{
		{"[model]\narch = \"resnet7\"\n", "model.arch"},
		{"[model]\nbogus = 1\n", "model.bogus"},
		{"[optim]\nlr = \"fast\"\n", "lr"},
		{"[rule]\nname = \"wm\"\n[rule.params]\ngamma = 1\n", "gamma"},
		{"[rule]\nname = \"nope\"\n", "valid: aa"},
		{"[run]\nepochs = 0\n", "run.epochs"},
		{"[data]\nbatch = -3\n", "data.batch"},
		{"[optim]\nschedule = \"linear\"\n", "schedule"},
		{"[rule]\nb_init = \"zeros\"\n", "b_init"},
		{"[rule]\npositions = \"avg\"\n", "rule.positions"},
		{"nonsense", "config"},
		{"[optim]\nschedule = \"cosine\"\nwarmup = 30\n[run]\nepochs = 30\n", "must be shorter than the run"},
	}
	for _, tc := range cases {
		c, err := Decode(strings.NewReader(tc.toml), "test.toml", Default())
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want a config error mentioning %q", tc.toml, err, tc.want)
		}
	}
}

// TestConfigWarmupInEpochs: a warm-up of several epochs before a cosine
// schedule is valid when the run is longer.
func TestConfigWarmupInEpochs(t *testing.T) {
	c, err := Decode(strings.NewReader("[optim]\nschedule = \"cosine\"\nwarmup = 2\n[run]\nepochs = 15\n"), "test.toml", Default())
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	c := small("wm")
	c.Rule.Params = map[string]float64{"alpha": 0.5}
	lr := 0.3
	c.Optim.Feedback = &FeedbackOpt{LR: &lr}
	got, err := Decode(strings.NewReader(c.String()), "x", Default())
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != c.String() {
		t.Errorf("round trip changed the config:\n%s\nvs\n%s", got, c)
	}
}

func TestMissingData(t *testing.T) {
	c := small("bp")
	c.Data.Name = "mnist"
	c.Data.Dir = t.TempDir()
	_, err := New(c)
	if err == nil || !strings.Contains(err.Error(), c.Data.Dir) {
		t.Errorf("got %v, want an error naming the directory", err)
	}
}

func TestEvaluateMatchesSummary(t *testing.T) {
	c := small("bp")
	c.Run.Epochs = 1
	dir := t.TempDir()
	s := run(t, build(t, c), dir)
	tr := build(t, c)
	if err := tr.LoadWeights(filepath.Join(dir, LatestName)); err != nil {
		t.Fatal(err)
	}
	_, acc, err := tr.Evaluate(tr.TestSet)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(acc-s.TestAcc) != 0 {
		t.Errorf("reloaded accuracy %v, summary %v", acc, s.TestAcc)
	}
}

func TestAlignmentMetricsAreLogged(t *testing.T) {
	c := small("fa")
	c.Run.Epochs = 1
	c.Run.MetricsEvery = 10
	dir := t.TempDir()
	run(t, build(t, c), dir)
	b, err := os.ReadFile(filepath.Join(dir, MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(b), `"kind":"align"`)
	// 23 steps, logged at steps 0, 10, 20, for the 3 layers of the MLP.
	if n != 9 {
		t.Errorf("%d align lines, want 9:\n%s", n, b)
	}
	if !strings.Contains(string(b), `"layer":"fc1"`) || !strings.Contains(string(b), `"end_to_end_angle"`) {
		t.Errorf("align lines lack layer names or angles:\n%s", b)
	}
	// Logging does not change training: a run without it ends identical.
	c2 := c
	c2.Run.MetricsEvery = 0
	a, bb := build(t, c), build(t, c2)
	run(t, a, t.TempDir())
	run(t, bb, t.TempDir())
	stateEqual(t, a, bb)
}
