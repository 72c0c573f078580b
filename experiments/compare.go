package experiments

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/asymlab/asym/report"
)

func planCompare(cfg Config) ([]Job, error) {
	var jobs []Job
	steps := map[string]int{}
	for _, m := range cfg.Models {
		for _, r := range cfg.ResolvedRules() {
			for _, s := range cfg.Seeds {
				t := cfg.base(r, m, s)
				if _, ok := steps[m]; !ok {
					n, err := stepsPerEpoch(t)
					if err != nil {
						return nil, err
					}
					steps[m] = n
				}
				t = withMetrics(t, cfg.MetricsPoints, steps[m])
				group := r
				if len(cfg.Models) > 1 {
					group = m + "/" + r
				}
				jobs = append(jobs, Job{ID: m + "/" + r + "/" + seedID(s), Cfg: t, Rule: r, Model: m, Seed: s, Group: group})
			}
		}
	}
	return jobs, nil
}

func weightAngle(p report.AlignPoint) float64   { return p.WeightAngle }
func endToEndAngle(p report.AlignPoint) float64 { return p.EndToEndAngle }

// compareTable summarises results per (model, rule).
func compareTable(title string, results []Result) *report.Table {
	cols := []string{"model", "rule", "test acc (%)", "best test acc (%)", "train loss",
		"weight angle (°)", "end-to-end angle (°)", "time (s)"}
	text := len(results) > 0 && results[0].Job.Cfg.Data.Name == "text"
	if text { // language models: the validation loss in bits per character
		cols = slices.Insert(cols, 4, "val bits/char")
	}
	t := &report.Table{Title: title, Columns: cols,
		Note: "Mean ± std over seeds. Angles: mean over the layers the rule is bound to, at the last logged step; end-to-end angle: between the weight update under the rule and under exact backprop on the same batch."}
	keys, groups := groupBy(results, func(r Result) string { return r.Job.Model + "\x00" + r.Job.Rule })
	for _, k := range keys {
		g := groups[k]
		cells := []report.Cell{report.Text(g[0].Job.Model), report.Text(g[0].Job.Rule),
			report.Values(fieldsOf(g, Result.Acc), 2),
			report.Values(fieldsOf(g, bestAcc), 2),
			report.Values(fieldsOf(g, func(r Result) float64 {
				if r.Summary == nil {
					return math.NaN()
				}
				return r.Summary.TrainLoss
			}), 4),
			report.Values(fieldsOf(g, func(r Result) float64 { return lastMean(r.Run, weightAngle) }), 1),
			report.Values(fieldsOf(g, func(r Result) float64 { return lastMean(r.Run, endToEndAngle) }), 1),
			report.Values(fieldsOf(g, func(r Result) float64 {
				if r.Summary == nil {
					return math.NaN()
				}
				return r.Summary.WallS
			}), 1)}
		if text {
			cells = slices.Insert(cells, 4, report.Values(fieldsOf(g, func(r Result) float64 {
				if r.Summary == nil {
					return math.NaN()
				}
				return r.Summary.ValBitsPerChar
			}), 3))
		}
		t.Add(cells...)
	}
	return t
}

func reportCompare(cfg Config, results []Result) (*report.Report, error) {
	rep := &report.Report{
		Title: fmt.Sprintf("Learning rules compared on %s", cfg.Train.Data.Name),
		Intro: fmt.Sprintf("%d rules × %d model(s) × %d seed(s), same data, budget and seeds for every rule.",
			len(cfg.ResolvedRules()), len(cfg.Models), len(cfg.Seeds)),
		Config: []report.KV{{Key: "rules", Value: strings.Join(cfg.ResolvedRules(), ", ")}, {Key: "models", Value: strings.Join(cfg.Models, ", ")}},
	}
	rep.Tables = append(rep.Tables, compareTable("Results", results))
	if err := addCurves(rep, runsOf(results)); err != nil {
		return nil, err
	}
	return rep, nil
}

// addCurves adds learning and alignment curves when there is data.
func addCurves(rep *report.Report, runs []report.Run) error {
	if f, err := report.LearningCurves(runs); err == nil {
		rep.Figures = append(rep.Figures, f)
	} else if !isNoData(err) {
		return err
	}
	if f, err := report.AlignmentCurves(runs); err == nil {
		rep.Figures = append(rep.Figures, f)
	} else if !isNoData(err) {
		return err
	}
	return nil
}
