package experiments

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asymlab/asym/provenance"
	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/train"
)

// ConfigFile is the effective experiment configuration saved in the
// experiment directory.
const ConfigFile = "experiment.toml"

// Outcome is what an experiment produced.
type Outcome struct {
	Dir     string
	Results []Result
	Report  *report.Report
}

// Run plans, executes and reports an experiment in dir. If dir holds an
// experiment already, its saved configuration must equal cfg (continue an
// interrupted experiment with the same settings, or use a new directory).
func Run(ctx context.Context, cfg Config, dir string, log io.Writer) (*Outcome, error) {
	return RunMonitored(ctx, cfg, dir, &Monitor{W: log})
}

// RunMonitored is [Run] reporting its progress to m (see [Monitor]).
func RunMonitored(ctx context.Context, cfg Config, dir string, m *Monitor) (*Outcome, error) {
	log := m.W
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, ConfigFile)
	if old, err := os.ReadFile(cfgPath); err == nil {
		if string(old) != cfg.String() {
			return nil, fmt.Errorf("%w: %s holds an experiment with another configuration (%s); continue it with its own settings (asym %s --dir %s) or choose another --dir",
				train.ErrRunExists, dir, cfgPath, cfg.Kind, dir)
		}
	} else if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		return nil, err
	}
	jobs, err := Plan(cfg)
	if err != nil {
		return nil, err
	}
	if log != nil {
		fmt.Fprintf(log, "%s: %d runs in %s\n", cfg.Kind, len(jobs), dir)
	}
	results, err := ExecuteMonitored(ctx, dir, jobs, m)
	if err != nil {
		return nil, err
	}
	rep, err := Build(cfg, results)
	if err != nil {
		return nil, err
	}
	if err := rep.Write(dir); err != nil {
		return nil, err
	}
	return &Outcome{Dir: dir, Results: results, Report: rep}, nil
}

// Plan returns the jobs of an experiment.
func Plan(cfg Config) ([]Job, error) {
	switch cfg.Kind {
	case KindCompare:
		return planCompare(cfg)
	case KindSweep:
		return planSweep(cfg)
	case KindTransfer:
		return planTransfer(cfg)
	case KindDepth:
		return planDepth(cfg)
	case KindNoise:
		return planNoise(cfg)
	}
	return nil, fmt.Errorf("%w: kind %q", ErrConfig, cfg.Kind)
}

// Build makes the report of an experiment from its results.
func Build(cfg Config, results []Result) (*report.Report, error) {
	var rep *report.Report
	var err error
	switch cfg.Kind {
	case KindCompare:
		rep, err = reportCompare(cfg, results)
	case KindSweep:
		rep, err = reportSweep(cfg, results)
	case KindTransfer:
		rep, err = reportTransfer(cfg, results)
	case KindDepth:
		rep, err = reportDepth(cfg, results)
	case KindNoise:
		rep, err = reportNoise(cfg, results)
	}
	if err != nil {
		return nil, err
	}
	rep.Config = append(rep.Config,
		report.KV{Key: "data", Value: cfg.Train.Data.Name},
		report.KV{Key: "epochs", Value: fmt.Sprint(cfg.Train.Run.Epochs)},
		report.KV{Key: "batch", Value: fmt.Sprint(cfg.Train.Data.Batch)},
		report.KV{Key: "optimizer", Value: fmt.Sprintf("%s lr %g momentum %g nesterov %v weight decay %g, %s schedule",
			cfg.Train.Optim.Method, cfg.Train.Optim.LR, cfg.Train.Optim.Momentum, cfg.Train.Optim.Nesterov, cfg.Train.Optim.WeightDecay, cfg.Train.Optim.Schedule)},
		report.KV{Key: "seeds", Value: fmt.Sprint(cfg.Seeds)},
		report.KV{Key: "runs", Value: fmt.Sprint(len(results))})
	rep.ConfigText = cfg.String()
	for _, p := range provenance.Collect(cfg.Train.Run.Threads, time.Now()).Pairs() {
		rep.Provenance = append(rep.Provenance, report.KV{Key: p[0], Value: p[1]})
	}
	return rep, nil
}

// runsOf returns the report runs of the results.
func runsOf(results []Result) []report.Run {
	var rs []report.Run
	for _, r := range results {
		rs = append(rs, r.Run)
	}
	return rs
}

// lastMean returns the mean over bound layers of an alignment metric at
// the last logged step of a run (NaN if none).
func lastMean(r report.Run, get func(report.AlignPoint) float64) float64 {
	pts := report.LayerMeans(r)
	if len(pts) == 0 {
		return math.NaN()
	}
	return get(pts[len(pts)-1])
}

// bestAcc returns the best test accuracy of a result in % (NaN if none).
func bestAcc(r Result) float64 {
	if r.Summary == nil {
		return math.NaN()
	}
	return 100 * r.Summary.BestTestAcc
}

func fieldsOf(results []Result, f func(Result) float64) []float64 {
	var out []float64
	for _, r := range results {
		out = append(out, f(r))
	}
	return out
}

// groupBy keeps the order of first appearance.
func groupBy(results []Result, key func(Result) string) (keys []string, groups map[string][]Result) {
	groups = map[string][]Result{}
	for _, r := range results {
		k := key(r)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	return keys, groups
}

func settingString(x map[string]float64) string {
	var parts []string
	for _, k := range sortedKeys(x) {
		parts = append(parts, fmt.Sprintf("%s=%g", k, x[k]))
	}
	return strings.Join(parts, " ")
}
