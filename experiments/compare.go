package experiments

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/train"
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

// compareTable summarises results per (model, rule): final and best test
// accuracy, the gap to backprop on the same model, the rule's settings
// that differ from its defaults, train loss, angles and time. Rows are
// sorted by final accuracy, best first, within each model. A rule without
// backward weights (direct feedback alignment) shows "no B" where the
// metrics of B would be.
func compareTable(title string, results []Result) *report.Table {
	t := &report.Table{Title: title, Columns: []string{"model", "rule", "settings", "test acc (%)", "gap to bp (points)", "top-5 (%)", "best test acc (%)", "train loss",
		"weight angle (°)", "end-to-end angle (°)", "time (s)"},
		Note: "Mean ± std over seeds, sorted by test acc. test acc: after the last epoch; top-5: top-5 accuracy after the last epoch; best test acc: the best epoch. gap to bp: backprop's test acc − the rule's, on the same model (positive: behind backprop). settings: the rule's coefficients that differ from its defaults (asym rules NAME lists them). Angles: mean over the layers the rule is bound to, at the last logged step; end-to-end angle: between the weight update under the rule and under exact backprop on the same batch; no B: the rule has no backward weights."}
	text := len(results) > 0 && results[0].Job.Cfg.Data.Name == "text"
	if text { // language models
		t.Columns = slices.Insert(t.Columns, 5, "val bits/char")
		t.Note += " val bits/char: the validation loss in bits per character (text data set)."
	}
	keys, groups := groupBy(results, func(r Result) string { return r.Job.Model + "\x00" + r.Job.Rule })
	accOf := map[string]report.Stat{}
	modelOrder := map[string]int{}
	for _, k := range keys {
		g := groups[k]
		accOf[k] = report.Summarize(fieldsOf(g, Result.Acc))
		if _, ok := modelOrder[g[0].Job.Model]; !ok {
			modelOrder[g[0].Job.Model] = len(modelOrder)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		mi, mj := modelOrder[groups[keys[i]][0].Job.Model], modelOrder[groups[keys[j]][0].Job.Model]
		if mi != mj {
			return mi < mj
		}
		return sortAcc(accOf[keys[i]]) > sortAcc(accOf[keys[j]])
	})
	for _, k := range keys {
		g := groups[k]
		model := g[0].Job.Model
		gap := report.Stub("–")
		if bp, ok := accOf[model+"\x00bp"]; ok && g[0].Job.Rule != "bp" {
			gap = report.MeanStd(gapStat(bp, accOf[k]), 2)
		}
		angle := func(get func(report.AlignPoint) float64, needsB bool) report.Cell {
			if needsB && g[0].Run.NoB() {
				return report.Stub("no B")
			}
			return report.Values(fieldsOf(g, func(r Result) float64 { return lastMean(r.Run, get) }), 1)
		}
		cells := []report.Cell{report.Text(model), report.Text(g[0].Job.Rule), report.Text(nonDefaultSettings(g[0].Job.Cfg)),
			report.MeanStd(accOf[k], 2),
			gap,
			report.Values(fieldsOf(g, func(r Result) float64 {
				if r.Summary == nil {
					return math.NaN()
				}
				return 100 * r.Summary.TestTop5
			}), 2),
			report.Values(fieldsOf(g, bestAcc), 2),
			report.Values(fieldsOf(g, func(r Result) float64 {
				if r.Summary == nil {
					return math.NaN()
				}
				return r.Summary.TrainLoss
			}), 4),
			angle(weightAngle, true),
			angle(endToEndAngle, false),
			report.Values(fieldsOf(g, func(r Result) float64 {
				if r.Summary == nil {
					return math.NaN()
				}
				return r.Summary.WallS
			}), 1)}
		if text {
			cells = slices.Insert(cells, 5, report.Values(fieldsOf(g, func(r Result) float64 {
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

// sortAcc is the accuracy a row is sorted by: rows whose every run
// diverged go last.
func sortAcc(s report.Stat) float64 {
	if s.N == 0 {
		return math.Inf(-1)
	}
	return s.Mean
}

// gapStat returns bp − rule with the standard deviations combined in
// quadrature (as [report.Gap]).
func gapStat(bp, rule report.Stat) report.Stat {
	return report.Stat{Mean: bp.Mean - rule.Mean, Std: math.Hypot(bp.Std, rule.Std), N: min(bp.N, rule.N), Bad: rule.Bad}
}

// nonDefaultSettings lists a run's rule settings that differ from the
// rule's registered defaults ("alpha=0.05 beta=0.1"), or "defaults".
func nonDefaultSettings(c train.Config) string {
	info, ok := rules.Lookup(c.Rule.Name)
	if !ok {
		return settingString(c.Rule.Params)
	}
	full, err := info.Resolve(c.Rule.Params)
	if err != nil {
		return settingString(c.Rule.Params)
	}
	diff := map[string]float64{}
	for _, st := range info.Settings {
		if full[st.Name] != st.Default {
			diff[st.Name] = full[st.Name]
		}
	}
	if len(diff) == 0 {
		return "defaults"
	}
	return settingString(diff)
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
	for _, fig := range []func([]report.Run) (*report.Figure, error){report.AlignmentCurves, report.AlignmentByLayer, report.Regularizers} {
		if f, err := fig(runs); err == nil {
			rep.Figures = append(rep.Figures, f)
		} else if !isNoData(err) {
			return err
		}
	}
	return nil
}
