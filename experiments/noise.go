package experiments

import (
	"fmt"
	"strings"

	"github.com/asymlab/asym/report"
)

func planNoise(cfg Config) ([]Job, error) {
	var jobs []Job
	dist := cfg.NoiseDist
	if dist == "" {
		dist = "normal"
	}
	for _, m := range cfg.Models {
		for _, r := range cfg.ResolvedRules() {
			for _, v := range cfg.Variances {
				for _, s := range cfg.Seeds {
					t := cfg.base(r, m, s)
					t.Run.MetricsEvery = 0
					if v > 0 {
						t.Rule.NoiseDist, t.Rule.NoiseVariance = dist, v
					}
					id := fmt.Sprintf("%s/%s/var_%g/%s", m, r, v, seedID(s))
					group := r
					if len(cfg.Models) > 1 {
						group = m + "/" + r
					}
					jobs = append(jobs, Job{ID: id, Cfg: t, Rule: r, Model: m, Seed: s, Group: group,
						X: map[string]float64{"variance": v}})
				}
			}
		}
	}
	return jobs, nil
}

func reportNoise(cfg Config, results []Result) (*report.Report, error) {
	dist := cfg.NoiseDist
	if dist == "" {
		dist = "normal"
	}
	rep := &report.Report{
		Title: fmt.Sprintf("Robustness to noisy updates of B on %s", cfg.Train.Data.Name),
		Intro: fmt.Sprintf("After each update, B += lr·ε with ε ~ %s noise of the given variance (the paper's noisy-update experiment). Variance 0 is the noise-free run.", dist),
		Config: []report.KV{{Key: "rules", Value: strings.Join(cfg.ResolvedRules(), ", ")},
			{Key: "variances", Value: fmt.Sprint(cfg.Variances)}},
	}
	runs := runsOf(results)
	accOf := map[string]float64{}
	varOf := map[string]float64{}
	for _, r := range results {
		accOf[r.Job.ID] = r.Acc()
		varOf[r.Job.ID] = r.Job.X["variance"]
	}
	series := report.SeriesFromRuns(runs, func(r report.Run) (float64, bool) { return varOf[r.Name], true },
		func(r report.Run) float64 { return accOf[r.Name] })
	t := &report.Table{Title: "Test accuracy (%) by noise variance", Columns: []string{"rule"}, Note: "Mean ± std over seeds; diverged runs are counted separately."}
	for _, v := range cfg.Variances {
		t.Columns = append(t.Columns, fmt.Sprintf("var %g", v))
	}
	addSeriesRows(t, series, cfg.Variances)
	rep.Tables = append(rep.Tables, t)
	logX := false
	for _, v := range cfg.Variances {
		if v > 0 {
			logX = true
		}
	}
	if f, err := report.AccuracyVsNoise(series, logX); err == nil {
		rep.Figures = append(rep.Figures, f)
	} else if !isNoData(err) {
		return nil, err
	}
	return rep, nil
}
