package report_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/asymlab/asym/report"
)

// synthRuns returns deterministic fake runs: rules × seeds, each with
// epochs of learning curves and alignment lines for layers.
func synthRuns(rules []string, seeds, epochs, layers int) []report.Run {
	var runs []report.Run
	for ri, rule := range rules {
		for s := range seeds {
			rng := rand.New(rand.NewPCG(uint64(ri), uint64(s)))
			r := report.Run{Name: rule + "-s" + string(rune('0'+s)), Rule: rule, Model: "mlp", Seed: uint64(s)}
			for e := 1; e <= epochs; e++ {
				prog := 1 - math.Exp(-float64(e)/3)
				r.Epochs = append(r.Epochs, report.EpochPoint{Epoch: e, Step: int64(100 * e),
					TrainLoss: 2.3*(1-prog) + 0.1 + 0.05*rng.Float64(),
					TrainAcc:  0.1 + 0.85*prog - 0.05*float64(ri),
					TestLoss:  2.3*(1-prog) + 0.2,
					TestAcc:   0.1 + (0.85-0.08*float64(ri))*prog + 0.02*rng.NormFloat64()})
			}
			for step := int64(0); step <= int64(100*epochs); step += 50 {
				for l := range layers {
					base := 80 * math.Exp(-float64(step)/float64(100*epochs)*float64(1+ri)) * float64(l+1) / float64(layers)
					p := report.AlignPoint{Step: step, Layer: "fc" + string(rune('1'+l)), Bound: true,
						WeightAngle: base + rng.Float64(), ProjectionAngle: base * 0.9, GradientAngle: base * 1.1,
						EndToEndAngle: base * 0.8, NormRatio: 1 + 0.1*float64(l), Regularizer: math.NaN()}
					if rule == "sa" {
						p.Regularizer = 0.01 * base * (1 + 0.3*rng.Float64())
					}
					r.Align = append(r.Align, p)
				}
			}
			runs = append(runs, r)
		}
	}
	return runs
}

// mustFig returns a function that fails t on error and returns the
// figure.
func mustFig(t *testing.T) func(*report.Figure, error) *report.Figure {
	return func(f *report.Figure, err error) *report.Figure {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
}

// sampleReport builds a report with every kind of figure and a table.
func sampleReport(t *testing.T) *report.Report {
	t.Helper()
	runs := synthRuns([]string{"bp", "fa", "sa"}, 3, 6, 3)
	must := mustFig(t)
	lc := must(report.LearningCurves(runs))
	al := must(report.AlignmentCurves(runs))
	al1 := must(report.AlignmentCurves(runs[3:6]))
	al1.Name = "alignment_fa"
	byLayer := must(report.AlignmentByLayer(runs))
	regs := must(report.Regularizers(runs))
	hm := must(report.Heatmap(report.Grid{Name: "sweep_wm", Title: "WM sweep", XLabel: "alpha", YLabel: "beta",
		X: []string{"1e-4", "1e-3", "1e-2"}, Y: []string{"0.1", "0.5"},
		Values:     [][]float64{{91.2, 93.5, math.NaN()}, {88.1, 12.3, 90.0}},
		Diverged:   [][]bool{{false, false, true}, {false, false, false}},
		ValueLabel: "test accuracy (%)"}))
	depth := []report.Series{
		{Label: "bp", Points: []report.Point{{X: 8, Stat: report.Stat{Mean: 92, Std: 0.3, N: 3}}, {X: 14, Stat: report.Stat{Mean: 93, Std: 0.2, N: 3}}, {X: 20, Stat: report.Stat{Mean: 93.5, Std: 0.4, N: 3}}}},
		{Label: "ia", Points: []report.Point{{X: 8, Stat: report.Stat{Mean: 90, Std: 0.5, N: 3}}, {X: 14, Stat: report.Stat{Mean: 88, Std: 0.6, N: 3}}, {X: 20, Stat: report.Stat{Mean: 85, Std: 1, N: 3}}}},
		{Label: "sa", Points: []report.Point{{X: 8, Stat: report.Stat{Mean: 91.8, Std: 0.3, N: 3}}, {X: 14, Stat: report.Stat{Mean: 92.7, Std: 0.3, N: 3}}, {X: 20, Stat: report.Stat{Mean: 93.1, Std: 0.3, N: 3}}}},
	}
	gaps, err := report.Gap(depth, "bp")
	if err != nil {
		t.Fatal(err)
	}
	gd := must(report.GapVsDepth(gaps))
	noise := must(report.AccuracyVsNoise([]report.Series{
		{Label: "sa", Points: []report.Point{{X: 0, Stat: report.Stat{Mean: 92, Std: 0.2, N: 3}}, {X: 0.01, Stat: report.Stat{Mean: 91.5, Std: 0.4, N: 3}}, {X: 0.1, Stat: report.Stat{Mean: 90, Std: 0.8, N: 3}}}},
		{Label: "kp", Points: []report.Point{{X: 0, Stat: report.Stat{Mean: 91, Std: 0.3, N: 3}}, {X: 0.01, Stat: report.Stat{Mean: 89, Std: 0.5, N: 3}}, {X: 0.1, Stat: report.Stat{Mean: 70, Std: 4, N: 3}}}},
	}, false))
	tab := &report.Table{Title: "Results on digits", Columns: []string{"rule", "final test acc (%)", "train loss", "mean end-to-end angle (°)"},
		Note: "Mean ± std over 3 seeds."}
	for _, g := range report.GroupRuns(runs) {
		var acc, loss, ang []float64
		for _, r := range g.Runs {
			acc = append(acc, 100*r.FinalTestAcc())
			loss = append(loss, r.FinalTrainLoss())
			m := report.LayerMeans(r)
			ang = append(ang, m[len(m)-1].EndToEndAngle)
		}
		tab.Add(report.Text(g.Label), report.Values(acc, 2), report.Values(loss, 3), report.Values(ang, 1))
	}
	return &report.Report{Title: "asym compare: digits <mlp>", Intro: "Every rule on the embedded digits & friends.",
		Config:     []report.KV{{Key: "data", Value: "digits"}, {Key: "model", Value: "mlp [64 32]"}, {Key: "seeds", Value: "1, 2, 3"}},
		ConfigText: "[run]\nepochs = 6\n[rule]\nname = \"fa\" # <b>not bold</b>\n",
		Tables:     []*report.Table{tab},
		Figures:    []*report.Figure{lc, al, al1, byLayer, regs, hm, gd, noise},
		Provenance: []report.KV{{Key: "command", Value: "asym compare --threads 1"}, {Key: "commit", Value: "18629a7"}}}
}
