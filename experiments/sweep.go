package experiments

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/tensor"
)

// settings returns the settings a sweep tries for a rule: the full grid
// (keys in sorted order) or cfg.Random random draws.
func (c Config) settings(rule string) []map[string]float64 {
	g := c.Grid[rule]
	keys := sortedKeys(g)
	if c.Random > 0 {
		rng := tensor.NewRand(0x5eed, hashKey(rule))
		out := make([]map[string]float64, c.Random)
		for i := range out {
			out[i] = map[string]float64{}
			for _, k := range keys {
				lo, hi := slices.Min(g[k]), slices.Max(g[k])
				u := rng.Float64()
				v := lo + u*(hi-lo)
				if lo > 0 && hi > 0 {
					v = math.Exp(math.Log(lo) + u*(math.Log(hi)-math.Log(lo)))
				}
				out[i][k] = roundSig(v, 3)
			}
		}
		return out
	}
	out := []map[string]float64{{}}
	for _, k := range keys {
		var next []map[string]float64
		for _, s := range out {
			for _, v := range g[k] {
				m := map[string]float64{}
				for kk, vv := range s {
					m[kk] = vv
				}
				m[k] = v
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}

func roundSig(v float64, digits int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	return f
}

func hashKey(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// settingID is a file-system-safe name of a setting.
func settingID(x map[string]float64) string {
	var parts []string
	for _, k := range sortedKeys(x) {
		parts = append(parts, strings.ReplaceAll(k, ".", "-")+"_"+strconv.FormatFloat(x[k], 'g', -1, 64))
	}
	return strings.Join(parts, ",")
}

func planSweep(cfg Config) ([]Job, error) {
	var jobs []Job
	steps := map[string]int{}
	for _, m := range cfg.Models {
		for _, r := range cfg.ResolvedRules() {
			for _, x := range cfg.settings(r) {
				for _, s := range cfg.Seeds {
					t := cfg.base(r, m, s)
					for _, k := range sortedKeys(x) {
						apply(&t, k, x[k])
					}
					if _, ok := steps[m]; !ok {
						n, err := stepsPerEpoch(t)
						if err != nil {
							return nil, err
						}
						steps[m] = n
					}
					t = withMetrics(t, cfg.MetricsPoints, steps[m])
					jobs = append(jobs, Job{ID: m + "/" + r + "/" + settingID(x) + "/" + seedID(s), Cfg: t, Rule: r, Model: m,
						Seed: s, Group: r + " " + settingString(x), X: x})
				}
			}
		}
	}
	return jobs, nil
}

// SettingResult summarises one setting of a sweep over seeds.
type SettingResult struct {
	Model, Rule string
	X           map[string]float64
	Acc         report.Stat // final test accuracy in %
	Diverged    int
}

// Summarize groups sweep results by (model, rule, setting).
func Summarize(results []Result) []SettingResult {
	keys, groups := groupBy(results, func(r Result) string { return r.Job.Model + "\x00" + r.Job.Rule + "\x00" + settingID(r.Job.X) })
	var out []SettingResult
	for _, k := range keys {
		g := groups[k]
		sr := SettingResult{Model: g[0].Job.Model, Rule: g[0].Job.Rule, X: g[0].Job.X, Acc: report.Summarize(fieldsOf(g, Result.Acc))}
		for _, r := range g {
			if r.Diverged {
				sr.Diverged++
			}
		}
		out = append(out, sr)
	}
	return out
}

// Best returns, per (model, rule), the setting with the highest mean
// final accuracy among those that never diverged.
func Best(srs []SettingResult) map[string]SettingResult {
	best := map[string]SettingResult{}
	for _, s := range srs {
		if s.Diverged > 0 || math.IsNaN(s.Acc.Mean) {
			continue
		}
		k := s.Model + "/" + s.Rule
		if b, ok := best[k]; !ok || s.Acc.Mean > b.Acc.Mean {
			best[k] = s
		}
	}
	return best
}

func reportSweep(cfg Config, results []Result) (*report.Report, error) {
	rep := &report.Report{
		Title:  fmt.Sprintf("Metaparameter sweep on %s", cfg.Train.Data.Name),
		Intro:  "Each setting runs once per seed with the same data and budget; a setting counts as diverged if any of its seeds did.",
		Config: []report.KV{{Key: "rules", Value: strings.Join(cfg.ResolvedRules(), ", ")}, {Key: "models", Value: strings.Join(cfg.Models, ", ")}},
	}
	if cfg.Random > 0 {
		rep.Config = append(rep.Config, report.KV{Key: "search", Value: fmt.Sprintf("%d random settings per rule", cfg.Random)})
	}
	srs := Summarize(results)
	t := &report.Table{Title: "All settings", Columns: []string{"model", "rule", "setting", "test acc (%)", "diverged"}}
	for _, s := range srs {
		t.Add(report.Text(s.Model), report.Text(s.Rule), report.Text(settingString(s.X)), report.MeanStd(s.Acc, 2),
			report.Text(fmt.Sprintf("%d of %d", s.Diverged, s.Acc.N+s.Acc.Bad)))
	}
	bt := &report.Table{Title: "Best setting per rule", Columns: []string{"model", "rule", "setting", "test acc (%)"},
		Note: "Highest mean final test accuracy among settings whose runs never diverged."}
	best := Best(srs)
	for _, k := range sortedKeys(best) {
		b := best[k]
		bt.Add(report.Text(b.Model), report.Text(b.Rule), report.Text(settingString(b.X)), report.MeanStd(b.Acc, 2))
	}
	rep.Tables = append(rep.Tables, bt, t)
	keys, groups := groupBy(results, func(r Result) string { return r.Job.Model + "/" + r.Job.Rule })
	for _, k := range keys {
		f, err := sweepFigure(cfg, k, Summarize(groups[k]))
		if err != nil && !isNoData(err) {
			return nil, err
		}
		if f != nil {
			rep.Figures = append(rep.Figures, f)
		}
	}
	return rep, nil
}

func isNoData(err error) bool { return errors.Is(err, report.ErrNoData) }

// sweepFigure draws a heat map for two swept keys (the best over any
// further keys) or a line for one.
func sweepFigure(cfg Config, name string, srs []SettingResult) (*report.Figure, error) {
	if len(srs) == 0 {
		return nil, nil
	}
	keys := sortedKeys(srs[0].X)
	fname := strings.NewReplacer("/", "_", ".", "_").Replace(name)
	if len(keys) == 1 || cfg.Random > 0 && len(keys) >= 1 {
		k := keys[0]
		s := report.Series{Label: name}
		logX := true
		for _, sr := range srs {
			s.Points = append(s.Points, report.Point{X: sr.X[k], Stat: sr.Acc})
			if sr.X[k] <= 0 {
				logX = false
			}
		}
		sort.Slice(s.Points, func(i, j int) bool { return s.Points[i].X < s.Points[j].X })
		return report.LinePlot(report.LineSpec{Name: "sweep_" + fname, Title: "Sweep of " + name, XLabel: k,
			YLabel: "test accuracy (%)", LogX: logX}, []report.Series{s})
	}
	kx, ky := keys[0], keys[1]
	xs, ys := uniq(srs, kx), uniq(srs, ky)
	g := report.Grid{Name: "sweep_" + fname, Title: "Sweep of " + name, XLabel: kx, YLabel: ky, ValueLabel: "test accuracy (%)"}
	for _, v := range xs {
		g.X = append(g.X, strconv.FormatFloat(v, 'g', 3, 64))
	}
	for _, v := range ys {
		g.Y = append(g.Y, strconv.FormatFloat(v, 'g', 3, 64))
	}
	g.Values = make([][]float64, len(ys))
	g.Diverged = make([][]bool, len(ys))
	for r := range ys {
		g.Values[r] = make([]float64, len(xs))
		g.Diverged[r] = make([]bool, len(xs))
		for c := range xs {
			g.Values[r][c] = math.NaN()
		}
	}
	for _, sr := range srs {
		c, r := slices.Index(xs, sr.X[kx]), slices.Index(ys, sr.X[ky])
		if sr.Diverged > 0 {
			g.Diverged[r][c] = true
		}
		if v := sr.Acc.Mean; !math.IsNaN(v) && (math.IsNaN(g.Values[r][c]) || v > g.Values[r][c]) {
			g.Values[r][c] = v
		}
	}
	return report.Heatmap(g)
}

func uniq(srs []SettingResult, k string) []float64 {
	var out []float64
	for _, s := range srs {
		if !slices.Contains(out, s.X[k]) {
			out = append(out, s.X[k])
		}
	}
	sort.Float64s(out)
	return out
}
