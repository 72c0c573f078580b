package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/experiments"
)

var experimentHelp = map[string]struct{ short, long, example string }{
	experiments.KindCompare: {"Compare learning rules on the same data, models, budget and seeds",
		`Train every rule (default: all registered rules) on each model with the same
data, budget and seeds, and report final and best test accuracy, train loss,
mean alignment angles and time, with learning and alignment curves.

With no flags this is the quick tour: every rule, two seeds, on a
CIFAR-style ResNet-8 on the embedded digits (15 epochs, batch 64) — about
3 minutes on 2 cores. Feedback alignment falls clearly behind backprop
there, symmetric and activation alignment stay with it.`,
		`  asym compare
  asym compare --data fashion-mnist --models mlp,convnet --rules bp,fa,sa,aa --epochs 5
  asym compare --config configs/experiments/fashion-compare.toml --run-dir runs/compare`},
	experiments.KindSweep: {"Sweep rule or optimizer settings (grid or random search) over seeds",
		`Run every combination of the given values (or --random N random draws) of
rule settings or optimizer settings per rule, over seeds, and report heat maps
of accuracy with the settings that diverged marked. Keys: a rule setting
(alpha, beta, ...) or a numeric training key such as optim.lr, optim.b_lr,
optim.momentum, optim.weight_decay, rule.delay_epochs, rule.b_scale.`,
		`  asym sweep --rules wm --grid wm.alpha=0.01,0.1,1 --grid wm.beta=0.01,0.1,1
  asym sweep --config configs/experiments/fashion-sweep.toml --run-dir runs/sweep`},
	experiments.KindTransfer: {"Run the best settings of a sweep unchanged on other architectures",
		`Pick each rule's best setting from a finished sweep (architecture A) and run
it unchanged on the target architectures B, with backprop on A and B for
reference: the transfer gap per rule (the paper's weight mirror vs
information alignment finding).`,
		`  asym transfer --source runs/sweep --models convnet
  asym transfer --config configs/experiments/fashion-transfer.toml --run-dir runs/fashion-transfer`},
	experiments.KindDepth: {"Accuracy gap to backprop over a series of ResNet depths",
		`Train CIFAR-style ResNets of several depths with each rule (and backprop)
using the same settings at every depth, and plot the gap to backprop against
depth.`,
		`  asym depth --rules ia,sa,aa --depths 8,14,20,32 --data fashion-mnist --epochs 3
  asym depth --config configs/experiments/digits-depth-stable.toml --run-dir runs/digits-depth-stable`},
	experiments.KindNoise: {"Accuracy under noisy updates of the backward weights",
		`Add noise lr·ε (ε of the given variances) to every update of B and report
accuracy against the noise variance (the paper's robustness experiment).`,
		`  asym noise --rules sa,aa,kp --variances 0,1e-3,1e-2,1e-1
  asym noise --config configs/experiments/fashion-noise.toml --run-dir runs/fashion-noise`},
}

func newExperimentCmd(s *IO, kind string) *cobra.Command {
	h := experimentHelp[kind]
	var (
		cfgPath, dir   string
		ruleList       []string
		modelList      []string
		seeds          []uint
		random         int
		depths         []int
		variances      []float64
		grid           []string
		source, noiseD string
	)
	cmd := &cobra.Command{Use: kind, Short: h.short, Long: h.long, Example: h.example, Args: noArgs}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "", "experiment config file (TOML)")
	f.StringVar(&dir, "run-dir", "", "experiment directory (default runs/"+kind+"-<time>); an existing one is continued")
	// --dir is the old name of --run-dir. Not pflag's MarkDeprecated:
	// cobra prints its notice on stdout, which holds the report.
	f.StringVar(&dir, "dir", "", "deprecated: use --run-dir")
	_ = f.MarkHidden("dir")
	f.StringSliceVar(&ruleList, "rules", nil, "rules (comma-separated; all = every rule)")
	f.StringSliceVar(&modelList, "models", nil, "models (comma-separated)")
	f.UintSliceVar(&seeds, "seeds", nil, "seeds (comma-separated)")
	switch kind {
	case experiments.KindSweep:
		f.StringArrayVar(&grid, "grid", nil, "RULE.KEY=v1,v2,... values to sweep (repeatable)")
		f.IntVar(&random, "random", 0, "draw N random settings per rule instead of the full grid")
	case experiments.KindTransfer:
		f.StringVar(&source, "source", "", "finished sweep directory to take the best settings from")
	case experiments.KindDepth:
		f.IntSliceVar(&depths, "depths", nil, "ResNet depths (6n+2)")
	case experiments.KindNoise:
		f.Float64SliceVar(&variances, "variances", nil, "noise variances")
		f.StringVar(&noiseD, "noise-dist", "", "noise distribution: normal, uniform")
	}
	// The training flags set the base configuration of every run, except
	// for the keys that the experiment itself varies.
	trainFlags := addConfigFlags(f, experiments.Default(kind).Train, experimentVaries...)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg := experiments.Default(kind)
		var err error
		if cmd.Flags().Changed("dir") {
			fmt.Fprintln(s.Err, "asym: --dir is deprecated, use --run-dir")
		}
		if dir != "" && cfgPath == "" {
			// Continue the experiment saved in dir with its own settings
			// (with --config, Run checks that the settings are the same).
			if saved := filepath.Join(dir, experiments.ConfigFile); fileExists(saved) {
				if cfg, err = experiments.LoadFile(saved, cfg); err != nil {
					return err
				}
				fmt.Fprintf(s.Err, "continuing the experiment in %s\n", dir)
			}
		}
		if cfgPath != "" {
			if cfg, err = experiments.LoadFile(cfgPath, cfg); err != nil {
				return err
			}
		}
		if cfg.Kind != kind {
			return usagef("the config is a %s experiment; run it with asym %s", cfg.Kind, cfg.Kind)
		}
		if err := trainFlags.apply(&cfg.Train); err != nil {
			return err
		}
		changed := cmd.Flags().Changed
		if changed("rules") {
			cfg.Rules = ruleList
		}
		if changed("models") {
			cfg.Models = modelList
		}
		if changed("seeds") {
			cfg.Seeds = nil
			for _, v := range seeds {
				cfg.Seeds = append(cfg.Seeds, uint64(v))
			}
		}
		if changed("depths") {
			cfg.Depths = depths
		}
		if changed("variances") {
			cfg.Variances = variances
		}
		if changed("noise-dist") {
			cfg.NoiseDist = noiseD
		}
		if changed("source") {
			cfg.Source = source
		}
		if changed("random") {
			cfg.Random = random
		}
		if changed("grid") {
			cfg.Grid = map[string]map[string][]float64{}
			for _, g := range grid {
				k, vals, ok := strings.Cut(g, "=")
				rule, key, ok2 := strings.Cut(k, ".")
				if !ok || !ok2 {
					return usagef("--grid %q: want RULE.KEY=v1,v2,...", g)
				}
				for _, v := range strings.Split(vals, ",") {
					x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil {
						return usagef("--grid %s: %q is not a number", k, v)
					}
					if cfg.Grid[rule] == nil {
						cfg.Grid[rule] = map[string][]float64{}
					}
					cfg.Grid[rule][key] = append(cfg.Grid[rule][key], x)
				}
			}
			if !changed("rules") {
				cfg.Rules = sortedRules(cfg.Grid)
			}
		}
		if dir == "" {
			dir = filepath.Join("runs", fmt.Sprintf("%s-%s", kind, time.Now().Format("20060102-150405")))
		}
		out, err := experiments.RunMonitored(cmd.Context(), cfg, dir, &experiments.Monitor{W: s.Err, Live: s.ErrTTY})
		if err != nil {
			return err
		}
		fmt.Fprint(s.Out, out.Report.Markdown())
		fmt.Fprintf(s.Err, "report: %s\n", filepath.Join(out.Dir, "report.html"))
		return nil
	}
	return cmd
}

// experimentVaries lists the training keys an experiment sets per run
// (from its rules, models, seeds, depths and noise settings), which its
// command therefore takes no flag for.
var experimentVaries = []string{"model.arch", "model.depth", "rule.name", "rule.params", "rule.noise_dist", "rule.noise_variance",
	"run.seed", "run.dir"}

func sortedRules(g map[string]map[string][]float64) []string {
	var out []string
	for r := range g {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
