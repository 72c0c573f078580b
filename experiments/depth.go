package experiments

import (
	"fmt"
	"strings"

	"github.com/asymlab/asym/report"
)

func planDepth(cfg Config) ([]Job, error) {
	var jobs []Job
	for _, d := range cfg.Depths {
		for _, r := range cfg.ResolvedRules() {
			for _, s := range cfg.Seeds {
				t := cfg.base(r, "resnet", s)
				t.Model.Depth = d
				t.Run.MetricsEvery = 0
				m := fmt.Sprintf("resnet%d", d)
				jobs = append(jobs, Job{ID: m + "/" + r + "/" + seedID(s), Cfg: t, Rule: r, Model: m, Seed: s, Group: r,
					X: map[string]float64{"depth": float64(d)}})
			}
		}
	}
	return jobs, nil
}

func reportDepth(cfg Config, results []Result) (*report.Report, error) {
	rep := &report.Report{
		Title: fmt.Sprintf("Accuracy gap to backprop against depth on %s", cfg.Train.Data.Name),
		Intro: "CIFAR-style ResNets of increasing depth, the same budget and settings at every depth (no re-tuning).",
		Config: []report.KV{{Key: "rules", Value: strings.Join(cfg.ResolvedRules(), ", ")},
			{Key: "depths", Value: fmt.Sprint(cfg.Depths)}},
	}
	runs := runsOf(results)
	accOf := map[string]float64{}
	for _, r := range results {
		accOf[r.Job.ID] = r.Acc()
	}
	series := report.SeriesFromRuns(runs, func(r report.Run) (float64, bool) {
		var d int
		_, err := fmt.Sscanf(r.Model, "resnet%d", &d)
		return float64(d), err == nil
	}, func(r report.Run) float64 { return accOf[r.Name] })
	t := &report.Table{Title: "Test accuracy (%) by depth", Columns: []string{"rule"}, Note: "Mean ± std over seeds."}
	for _, d := range cfg.Depths {
		t.Columns = append(t.Columns, fmt.Sprintf("ResNet-%d", d))
	}
	xs := make([]float64, len(cfg.Depths))
	for i, d := range cfg.Depths {
		xs[i] = float64(d)
	}
	addSeriesRows(t, series, xs)
	rep.Tables = append(rep.Tables, t)
	gaps, err := report.Gap(series, "bp")
	if err != nil {
		return nil, err
	}
	gt := &report.Table{Title: "Gap to backprop (points) by depth", Columns: t.Columns}
	addSeriesRows(gt, gaps, xs)
	rep.Tables = append(rep.Tables, gt)
	if f, err := report.GapVsDepth(gaps); err == nil {
		rep.Figures = append(rep.Figures, f)
	} else if !isNoData(err) {
		return nil, err
	}
	return rep, nil
}
