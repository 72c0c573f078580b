package report

import (
	"fmt"
	"math"
	"sort"
)

// Stat summarises repeated measurements (over seeds).
type Stat struct {
	// Mean is the mean of the finite values, NaN if there are none.
	Mean float64
	// Std is their sample standard deviation (n − 1 in the denominator),
	// 0 for a single value.
	Std float64
	// N counts the finite values.
	N int
	// Bad counts the NaN and infinite values left out (diverged runs).
	Bad int
}

// Summarize returns the mean and sample standard deviation of the finite
// values of xs.
func Summarize(xs []float64) Stat {
	var s Stat
	var sum float64
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			s.Bad++
			continue
		}
		sum += x
		s.N++
	}
	if s.N == 0 {
		s.Mean = math.NaN()
		return s
	}
	s.Mean = sum / float64(s.N)
	if s.N > 1 {
		var ss float64
		for _, x := range xs {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				ss += (x - s.Mean) * (x - s.Mean)
			}
		}
		s.Std = math.Sqrt(ss / float64(s.N-1))
	}
	return s
}

// Group is a set of runs aggregated together (the seeds of one setting).
type Group struct {
	// Label names the group in legends and tables.
	Label string
	// Runs are the group's runs, in input order.
	Runs []Run
}

// GroupRuns groups runs by label, in order of first appearance. The label
// is Run.Group when set; otherwise the rule (the run's name if it has no
// rule), followed by " · " and the model when the runs span several
// models.
func GroupRuns(runs []Run) []Group {
	models := map[string]bool{}
	for _, r := range runs {
		models[r.Model] = true
	}
	var out []Group
	at := map[string]int{}
	for _, r := range runs {
		label := r.Group
		if label == "" {
			label = r.Rule
			if label == "" {
				label = r.Name
			}
			if len(models) > 1 {
				label += " · " + r.Model
			}
		}
		i, ok := at[label]
		if !ok {
			i = len(out)
			at[label] = i
			out = append(out, Group{Label: label})
		}
		out[i].Runs = append(out[i].Runs, r)
	}
	return out
}

// Point is a summarised measurement at one x.
type Point struct {
	// X is the setting (depth, noise variance, ...).
	X float64
	// Stat summarises the values measured at X.
	Stat
}

// Series is one labelled line of points, in increasing X.
type Series struct {
	// Label names the series in legends.
	Label string
	// Points are the series' points.
	Points []Point
}

// SeriesFromRuns groups runs (see [GroupRuns]) and, in each group,
// summarises y(run) over the runs sharing the same x(run). Runs for which
// x reports false are left out; y may return NaN (diverged), which counts
// in Stat.Bad.
func SeriesFromRuns(runs []Run, x func(Run) (float64, bool), y func(Run) float64) []Series {
	var out []Series
	for _, g := range GroupRuns(runs) {
		byX := map[float64][]float64{}
		for _, r := range g.Runs {
			xv, ok := x(r)
			if !ok {
				continue
			}
			byX[xv] = append(byX[xv], y(r))
		}
		if len(byX) == 0 {
			continue
		}
		s := Series{Label: g.Label}
		for xv, ys := range byX {
			s.Points = append(s.Points, Point{X: xv, Stat: Summarize(ys)})
		}
		sort.Slice(s.Points, func(i, j int) bool { return s.Points[i].X < s.Points[j].X })
		out = append(out, s)
	}
	return out
}

// Gap returns, for every series but the baseline, baseline mean − series
// mean at each x the baseline also has (for accuracies: how far a rule
// falls behind backprop), with the standard deviations combined in
// quadrature. It returns an error if no series is labelled baseline.
func Gap(series []Series, baseline string) ([]Series, error) {
	var base *Series
	for i := range series {
		if series[i].Label == baseline {
			base = &series[i]
		}
	}
	if base == nil {
		var labels []string
		for _, s := range series {
			labels = append(labels, s.Label)
		}
		return nil, fmt.Errorf("report: gap: no series %q among %q", baseline, labels)
	}
	at := map[float64]Stat{}
	for _, p := range base.Points {
		at[p.X] = p.Stat
	}
	var out []Series
	for _, s := range series {
		if s.Label == baseline {
			continue
		}
		g := Series{Label: s.Label}
		for _, p := range s.Points {
			b, ok := at[p.X]
			if !ok {
				continue
			}
			g.Points = append(g.Points, Point{X: p.X, Stat: Stat{Mean: b.Mean - p.Mean,
				Std: math.Hypot(b.Std, p.Std), N: min(b.N, p.N), Bad: p.Bad + b.Bad}})
		}
		out = append(out, g)
	}
	return out, nil
}
