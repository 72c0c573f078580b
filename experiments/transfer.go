package experiments

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/train"
)

// loadSource reads the sweep in cfg.Source and its finished results.
func loadSource(cfg Config) (Config, []Result, error) {
	src, err := LoadFile(filepath.Join(cfg.Source, ConfigFile), Default(KindSweep))
	if err != nil {
		return Config{}, nil, fmt.Errorf("%w: transfer source: %v", ErrConfig, err)
	}
	if src.Kind != KindSweep {
		return Config{}, nil, fmt.Errorf("%w: transfer source %s is a %s experiment, not a sweep", ErrConfig, cfg.Source, src.Kind)
	}
	jobs, err := Plan(src)
	if err != nil {
		return Config{}, nil, err
	}
	var out []Result
	for _, j := range jobs {
		dir := filepath.Join(cfg.Source, "runs", filepath.FromSlash(j.ID))
		r := Result{Job: j}
		switch {
		case exists(filepath.Join(dir, "summary.json")):
			b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
			if err != nil {
				return Config{}, nil, err
			}
			r.Summary = new(train.Summary)
			if err := json.Unmarshal(b, r.Summary); err != nil {
				return Config{}, nil, fmt.Errorf("%s: %v", dir, err)
			}
		case exists(filepath.Join(dir, divergedFile)):
			r.Diverged = true
		default:
			return Config{}, nil, fmt.Errorf("%w: transfer source %s is not finished (run %s missing); finish it with asym sweep --dir %s",
				ErrConfig, cfg.Source, j.ID, cfg.Source)
		}
		out = append(out, r)
	}
	return src, out, nil
}

func planTransfer(cfg Config) ([]Job, error) {
	src, srcResults, err := loadSource(cfg)
	if err != nil {
		return nil, err
	}
	best := Best(Summarize(srcResults))
	var jobs []Job
	srcModel := map[string]bool{}
	for _, a := range src.Models {
		srcModel[a] = true
	}
	add := func(model, rule string, x map[string]float64, seed uint64) {
		t := src.base(rule, model, seed)
		if !srcModel[model] {
			// A target architecture takes its model options from this
			// experiment's train.model section, all else from the sweep.
			t.Model = cfg.Train.Model
			t.Model.Arch = model
		}
		for _, k := range sortedKeys(x) {
			apply(&t, k, x[k])
		}
		t.Run.MetricsEvery = 0
		id := model + "/" + rule
		if len(x) > 0 {
			id += "/" + settingID(x)
		}
		jobs = append(jobs, Job{ID: id + "/" + seedID(seed), Cfg: t, Rule: rule, Model: model, Seed: seed, Group: model + "/" + rule, X: x})
	}
	for _, a := range src.Models {
		for _, s := range cfg.Seeds {
			add(a, "bp", nil, s)
		}
	}
	for _, m := range cfg.Models {
		for _, s := range cfg.Seeds {
			add(m, "bp", nil, s)
		}
		for _, a := range src.Models {
			for _, r := range src.ResolvedRules() {
				b, ok := best[a+"/"+r]
				if !ok {
					continue // every setting diverged
				}
				for _, s := range cfg.Seeds {
					add(m, r, b.X, s)
				}
			}
		}
	}
	return jobs, nil
}

func reportTransfer(cfg Config, results []Result) (*report.Report, error) {
	src, srcResults, err := loadSource(cfg)
	if err != nil {
		return nil, err
	}
	best := Best(Summarize(srcResults))
	acc := func(model, rule string) report.Stat {
		var xs []float64
		for _, r := range results {
			if r.Job.Model == model && r.Job.Rule == rule {
				xs = append(xs, r.Acc())
			}
		}
		return report.Summarize(xs)
	}
	rep := &report.Report{
		Title: "Transfer of tuned settings across architectures",
		Intro: fmt.Sprintf("The best setting of each rule in the sweep %s (on %s) runs unchanged on %s. Gap = backprop − rule accuracy on the same model; transfer gap = gap on the target − gap on the source (positive: the rule falls further behind after transfer).",
			cfg.Source, strings.Join(src.Models, ", "), strings.Join(cfg.Models, ", ")),
		Config: []report.KV{{Key: "source", Value: cfg.Source}, {Key: "targets", Value: strings.Join(cfg.Models, ", ")}},
	}
	t := &report.Table{Title: "Transfer gap per rule", Columns: []string{"rule", "setting (tuned on A)", "A", "acc on A (%)", "bp on A (%)",
		"gap A", "B", "acc on B (%)", "bp on B (%)", "gap B", "transfer gap"}}
	var labels []string
	var gapsA, gapsB []report.Point
	for _, a := range src.Models {
		bpA := acc(a, "bp")
		for _, r := range src.ResolvedRules() {
			b, ok := best[a+"/"+r]
			if !ok {
				continue
			}
			gapA := bpA.Mean - b.Acc.Mean
			for _, m := range cfg.Models {
				bpB, ruleB := acc(m, "bp"), acc(m, r)
				gapB := bpB.Mean - ruleB.Mean
				t.Add(report.Text(r), report.Text(settingString(b.X)), report.Text(a), report.MeanStd(b.Acc, 2), report.MeanStd(bpA, 2),
					report.Number(gapA, 2), report.Text(m), report.MeanStd(ruleB, 2), report.MeanStd(bpB, 2), report.Number(gapB, 2),
					report.Number(gapB-gapA, 2))
				labels = append(labels, r)
				gapsA = append(gapsA, report.Point{X: float64(len(labels)), Stat: report.Stat{Mean: gapA, N: 1}})
				gapsB = append(gapsB, report.Point{X: float64(len(labels)), Stat: report.Stat{Mean: gapB, N: 1, Std: math.Hypot(bpB.Std, ruleB.Std)}})
			}
		}
	}
	rep.Tables = append(rep.Tables, t)
	if len(labels) > 0 {
		caption := "x: " + strings.Join(numbered(labels), ", ")
		f, err := report.LinePlot(report.LineSpec{Name: "transfer_gap", Title: "Gap to backprop before and after transfer",
			XLabel: "rule (see caption)", YLabel: "bp − rule accuracy (points)", ZeroLine: true, Caption: caption},
			[]report.Series{{Label: "source (tuned)", Points: gapsA}, {Label: "target (transferred)", Points: gapsB}})
		if err != nil && !isNoData(err) {
			return nil, err
		}
		if f != nil {
			rep.Figures = append(rep.Figures, f)
		}
	}
	return rep, nil
}

func numbered(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = strconv.Itoa(i+1) + " = " + l
	}
	return out
}
