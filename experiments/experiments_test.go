package experiments

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/train"
)

// tiny returns a fast experiment on a slice of the embedded digits.
func tiny(kind string) Config {
	c := Default(kind)
	c.Seeds = []uint64{1}
	c.Models = []string{"mlp"}
	c.Train.Model.Hidden = []int{16}
	c.Train.Run.Epochs = 2
	c.Train.Run.Threads = 1
	c.Train.Data.Batch = 32 // (the default compare trains at 64)
	c.Train.Data.TrainLimit = 256
	c.Train.Data.TestLimit = 128
	c.MetricsPoints = 3
	return c
}

func mustRun(t *testing.T, c Config, dir string) (*Outcome, string) {
	t.Helper()
	var log bytes.Buffer
	out, err := Run(context.Background(), c, dir, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	return out, log.String()
}

func checkReport(t *testing.T, dir string, want ...string) {
	t.Helper()
	for _, f := range []string{"report.html", "summary.md", ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	for _, w := range want {
		if !strings.Contains(string(md), w) {
			t.Errorf("summary.md lacks %q:\n%s", w, md)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "figures", "*.png"))
	svgs, _ := filepath.Glob(filepath.Join(dir, "figures", "*.svg"))
	if len(pngs) == 0 || len(pngs) != len(svgs) {
		t.Errorf("figures: %d PNG, %d SVG", len(pngs), len(svgs))
	}
}

func TestCompareRunsResumesAndReports(t *testing.T) {
	c := tiny(KindCompare)
	c.Rules = []string{"bp", "fa", "sa", "dfa"}
	dir := t.TempDir()
	out, log := mustRun(t, c, dir)
	if len(out.Results) != 4 || strings.Count(log, "(ran in") != 4 {
		t.Fatalf("want 4 runs:\n%s", log)
	}
	for _, r := range out.Results {
		if r.Summary == nil || r.Summary.TestAcc <= 0.2 {
			t.Errorf("%s: summary %+v", r.Job.ID, r.Summary)
		}
		if len(r.Run.Align) == 0 || len(r.Run.Epochs) != 2 {
			t.Errorf("%s: %d align points, %d epochs", r.Job.ID, len(r.Run.Align), len(r.Run.Epochs))
		}
	}
	checkReport(t, dir, "| mlp | sa | alpha=0.05 beta=0.1 |", "end-to-end angle", "gap to bp", "no B",
		"Provenance:", "**command**", "**commit**", "**date**", "**BLAS**", "**threads**: 1", "**CPU**")

	// Running again skips every finished run and gives the same table
	// (the provenance, with its date, is that of the new report).
	before, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	_, log = mustRun(t, c, dir)
	if strings.Count(log, "done earlier") != 4 {
		t.Errorf("finished runs were not skipped:\n%s", log)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	before, _, _ = bytes.Cut(before, []byte("\nProvenance:"))
	after, _, _ = bytes.Cut(after, []byte("\nProvenance:"))
	if !bytes.Equal(before, after) {
		t.Error("the report changed on a rerun")
	}

	// Another configuration in the same directory is refused.
	c2 := c
	c2.Rules = []string{"bp"}
	if _, err := Run(context.Background(), c2, dir, nil); !errors.Is(err, train.ErrRunExists) {
		t.Errorf("got %v, want ErrRunExists", err)
	}
}

func TestInterruptedRunResumes(t *testing.T) {
	c := tiny(KindCompare)
	c.Rules = []string{"bp"}
	dir := t.TempDir()
	// Simulate an interrupted experiment: the run stopped after 3 steps.
	jobs, err := Plan(c)
	if err != nil {
		t.Fatal(err)
	}
	part := jobs[0].Cfg
	part.Run.MaxSteps = 3
	tr, err := train.New(part)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), filepath.Join(dir, "runs", jobs[0].ID)); err != nil {
		t.Fatal(err)
	}
	// A run killed after its checkpoint leaves no summary.
	if err := os.Remove(filepath.Join(dir, "runs", jobs[0].ID, "summary.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, log := mustRun(t, c, dir)
	if !strings.Contains(log, "resumed") {
		t.Errorf("the run was not resumed:\n%s", log)
	}
	if out.Results[0].Summary.Steps != int64(2*((256+31)/32)) {
		t.Errorf("resumed run ended at step %d", out.Results[0].Summary.Steps)
	}
}

func TestSweepHeatmapDivergenceAndTransfer(t *testing.T) {
	c := tiny(KindSweep)
	c.Rules = []string{"wm"}
	c.MetricsPoints = 0
	c.Grid = map[string]map[string][]float64{"wm": {"alpha": {0.01, 0.1}, "optim.lr": {0.05, 1e5}}}
	dir := t.TempDir()
	out, _ := mustRun(t, c, dir)
	if len(out.Results) != 4 {
		t.Fatalf("%d runs, want 4", len(out.Results))
	}
	div := 0
	for _, r := range out.Results {
		if r.Diverged {
			div++
			if r.Job.X["optim.lr"] != 1e5 {
				t.Errorf("%s diverged", r.Job.ID)
			}
			if _, err := os.Stat(filepath.Join(dir, "runs", r.Job.ID, divergedFile)); err != nil {
				t.Errorf("no %s for %s", divergedFile, r.Job.ID)
			}
		}
	}
	if div != 2 {
		t.Errorf("%d diverged runs, want the 2 with lr 1e5", div)
	}
	checkReport(t, dir, "Best setting per rule", "optim.lr=0.05")
	if _, err := os.Stat(filepath.Join(dir, "figures", "sweep_mlp_wm.png")); err != nil {
		t.Errorf("no heat map: %v", err)
	}
	best := Best(Summarize(out.Results))
	if b, ok := best["mlp/wm"]; !ok || b.X["optim.lr"] != 0.05 {
		t.Errorf("best setting %+v", best)
	}

	tc := tiny(KindTransfer)
	tc.Source = dir
	tc.Models = []string{"convnet"}
	tc.Train.Model = train.ModelConfig{Hidden: []int{4, 4, 8}}
	tdir := t.TempDir()
	tout, _ := mustRun(t, tc, tdir)
	// bp on the source model, bp on the target, wm's best on the target.
	if len(tout.Results) != 3 {
		t.Fatalf("%d transfer runs, want 3", len(tout.Results))
	}
	checkReport(t, tdir, "transfer gap", "| wm |")
}

func TestDepthAndNoise(t *testing.T) {
	d := tiny(KindDepth)
	d.Rules = []string{"fa"}
	d.Depths = []int{8, 14}
	d.Train.Run.Epochs = 1
	dir := t.TempDir()
	out, _ := mustRun(t, d, dir)
	if len(out.Results) != 4 { // bp and fa at two depths
		t.Fatalf("%d runs, want 4", len(out.Results))
	}
	checkReport(t, dir, "ResNet-8", "ResNet-14", "Gap to backprop")

	n := tiny(KindNoise)
	n.Rules = []string{"sa"}
	n.Variances = []float64{0, 0.01}
	ndir := t.TempDir()
	nout, _ := mustRun(t, n, ndir)
	if len(nout.Results) != 2 || nout.Results[1].Job.Cfg.Rule.NoiseVariance != 0.01 {
		t.Fatalf("noise runs: %+v", nout.Results)
	}
	checkReport(t, ndir, "var 0.01")
}

func TestConfigValidation(t *testing.T) {
	cases := map[string]func(*Config){
		"kind":      func(c *Config) { c.Kind = "grid" },
		"rule":      func(c *Config) { c.Rules = []string{"nope"} },
		"params":    func(c *Config) { c.Params = map[string]map[string]float64{"sa": {"gamma": 1}} },
		"seeds":     func(c *Config) { c.Seeds = nil },
		"model":     func(c *Config) { c.Models = []string{"vgg"} },
		"depths":    func(c *Config) { c.Kind, c.Depths = KindDepth, []int{9} },
		"variances": func(c *Config) { c.Kind, c.Variances = KindNoise, []float64{-1} },
		"grid key": func(c *Config) {
			c.Kind, c.Rules, c.Grid = KindSweep, []string{"sa"}, map[string]map[string][]float64{"sa": {"gamma": {1}}}
		},
		"source": func(c *Config) { c.Kind, c.Source = KindTransfer, "" },
		"grid training key": func(c *Config) {
			c.Kind, c.Rules, c.Grid = KindSweep, []string{"sa"}, map[string]map[string][]float64{"sa": {"model.arch": {1}}}
		},
		"grid integer key": func(c *Config) {
			c.Kind, c.Rules, c.Grid = KindSweep, []string{"sa"}, map[string]map[string][]float64{"sa": {"data.batch": {16.5}}}
		},
	}
	for name, mut := range cases {
		c := Default(KindCompare)
		mut(&c)
		if err := c.Validate(); err == nil || !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want a config error", name, err)
		}
	}
	if _, err := Decode(strings.NewReader("kind = \"compare\"\nbogus = 1\n"), "x.toml", Default(KindCompare)); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown key: %v", err)
	}
	for _, k := range Kinds {
		if err := Default(k).Validate(); err != nil && k != KindTransfer {
			t.Errorf("default %s config invalid: %v", k, err)
		}
	}
}

// TestConfigParamsReplace: a config file's [params] replaces the
// small-scale defaults as a whole; without one they stay.
func TestConfigParamsReplace(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       map[string]map[string]float64
	}{
		{"no params", "kind = \"compare\"\n", Default(KindCompare).Params},
		{"sa only", "kind = \"compare\"\n[params.sa]\nalpha = 0.2\n", map[string]map[string]float64{"sa": {"alpha": 0.2}}},
		{"empty table", "kind = \"compare\"\n[params]\n", map[string]map[string]float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := Default(KindCompare)
			c, err := Decode(strings.NewReader(tc.file), "x.toml", base)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Params) != len(tc.want) {
				t.Fatalf("params %v, want %v", c.Params, tc.want)
			}
			for r, kv := range tc.want {
				if !maps.Equal(c.Params[r], kv) {
					t.Errorf("params[%s] = %v, want %v", r, c.Params[r], kv)
				}
			}
			if !maps.EqualFunc(base.Params, Default(KindCompare).Params, maps.Equal) {
				t.Errorf("Decode changed the base config's params: %v", base.Params)
			}
		})
	}
}

// TestCompareDefault: asym compare with no flags trains every rule, two
// seeds each, on a CIFAR-style ResNet-8 on the embedded digits for 15
// epochs at batch 64, with the small-scale settings except activation
// alignment's (CompareAAParams), and the data terms averaged over
// positions. TestLongCompareDefault checks what it shows.
func TestCompareDefault(t *testing.T) {
	c := Default(KindCompare)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Models, []string{"resnet8"}) || c.Train.Data.Name != "digits" ||
		c.Train.Data.Batch != 64 || c.Train.Run.Epochs != 15 || !slices.Equal(c.Seeds, []uint64{1, 2}) {
		t.Errorf("default compare: models %v, data %s, batch %d, epochs %d, seeds %v; want resnet8, digits, 64, 15, [1 2]",
			c.Models, c.Train.Data.Name, c.Train.Data.Batch, c.Train.Run.Epochs, c.Seeds)
	}
	if c.Train.Rule.Positions != "" && c.Train.Rule.Positions != rules.PositionsMean {
		t.Errorf("positions %q, want the default (mean)", c.Train.Rule.Positions)
	}
	want := map[string]map[string]float64{"sa": SmallScaleParams()["sa"], "aa": {"alpha": 0.1, "beta": 0.2}}
	if !maps.EqualFunc(c.Params, want, maps.Equal) {
		t.Errorf("params %v, want %v", c.Params, want)
	}
	jobs, err := planCompare(c)
	if err != nil {
		t.Fatal(err)
	}
	n := len(rules.Names()) - 1 // every rule but custom
	if len(jobs) != 2*n {
		t.Fatalf("%d runs, want %d (every rule but custom, 2 seeds)", len(jobs), 2*n)
	}
	for _, j := range jobs {
		if j.Cfg.Model.Arch != "resnet8" {
			t.Errorf("%s: arch %s", j.ID, j.Cfg.Model.Arch)
		}
		if j.Rule == "aa" && !maps.Equal(j.Cfg.Rule.Params, want["aa"]) {
			t.Errorf("%s: params %v, want %v", j.ID, j.Cfg.Rule.Params, want["aa"])
		}
	}
}

// TestDecodeMalformed: inputs that made the TOML library panic (v1.6.0)
// give a config error.
func TestDecodeMalformed(t *testing.T) {
	for _, s := range []string{`"\`, `kind = "\`, "\"\r\n"} {
		if _, err := Decode(strings.NewReader(s), "bad.toml", Default(KindCompare)); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: %v, want a config error with the line", s, err)
		}
	}
}

// TestSweepTrainingKeys: a sweep varies any numeric key of the training
// config (and optim.b_lr, the short name of optim.feedback.lr).
func TestSweepTrainingKeys(t *testing.T) {
	c := Default(KindSweep)
	c.Rules = []string{"sa"}
	c.Grid = map[string]map[string][]float64{"sa": {"data.batch": {16, 64}, "optim.b_lr": {0.01}, "alpha": {0.1}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := c.Train
	apply(&cfg, "data.batch", 16)
	apply(&cfg, "optim.b_lr", 0.01)
	apply(&cfg, "alpha", 0.1)
	if cfg.Data.Batch != 16 || cfg.Optim.Feedback == nil || *cfg.Optim.Feedback.LR != 0.01 || cfg.Rule.Params["alpha"] != 0.1 {
		t.Errorf("applied: batch %d, feedback %+v, params %v", cfg.Data.Batch, cfg.Optim.Feedback, cfg.Rule.Params)
	}
	if c.Train.Data.Batch == 16 || c.Train.Optim.Feedback != nil || c.Train.Rule.Params != nil {
		t.Error("apply changed the base config")
	}
}
