package report_test

import (
	"fmt"
	"strings"

	"github.com/asymlab/asym/report"
)

func ExampleSummarize() {
	s := report.Summarize([]float64{91, 93, 92})
	fmt.Printf("%.1f ± %.1f over %d seeds\n", s.Mean, s.Std, s.N)
	// Output: 92.0 ± 1.0 over 3 seeds
}

func ExampleTable_Markdown() {
	t := &report.Table{Columns: []string{"rule", "test acc (%)"}}
	t.Add(report.Text("bp"), report.Values([]float64{97.1, 97.5, 97.3}, 1))
	t.Add(report.Text("fa"), report.Values([]float64{95.0}, 1))
	fmt.Print(t.Markdown())
	// Output:
	// | rule | test acc (%) |
	// |:---|---:|
	// | bp | 97.3 ± 0.2 |
	// | fa | 95.0 |
}

func ExampleReadMetrics() {
	const jsonl = `{"kind":"epoch","epoch":1,"step":50,"train_loss":0.9,"test_acc":0.81}
{"kind":"align","step":50,"rule":"fa","layer":"fc1","bound":true,"weight_angle":88.5,"norm_ratio":1.02,"projection_angle":87.9,"gradient_angle":86.1,"end_to_end_angle":71.3}
{"kind":"epoch","epoch":2,"step":100,"train_loss":0.5,"test_acc":0.88}
`
	run, err := report.ReadMetrics(strings.NewReader(jsonl), "metrics.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(run.Rule, len(run.Epochs), run.FinalTestAcc(), run.Align[0].Layer, run.Align[0].EndToEndAngle)
	// Output: fa 2 0.88 fc1 71.3
}

func ExampleReport() {
	runs := []report.Run{
		{Name: "bp-1", Rule: "bp", Epochs: []report.EpochPoint{{Epoch: 1, TestAcc: 0.90, TrainLoss: 0.4}, {Epoch: 2, TestAcc: 0.95, TrainLoss: 0.2}}},
		{Name: "fa-1", Rule: "fa", Epochs: []report.EpochPoint{{Epoch: 1, TestAcc: 0.85, TrainLoss: 0.6}, {Epoch: 2, TestAcc: 0.91, TrainLoss: 0.3}}},
	}
	curves, err := report.LearningCurves(runs)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := &report.Table{Columns: []string{"rule", "final test acc (%)"}}
	for _, g := range report.GroupRuns(runs) {
		var acc []float64
		for _, r := range g.Runs {
			acc = append(acc, 100*r.FinalTestAcc())
		}
		t.Add(report.Text(g.Label), report.Values(acc, 1))
	}
	rep := &report.Report{Title: "bp vs fa", Tables: []*report.Table{t}, Figures: []*report.Figure{curves}}
	page, err := rep.HTML()
	if err != nil {
		fmt.Println(err)
		return
	}
	// rep.Write(dir) would also write summary.md and the PNG/SVG files.
	fmt.Println(strings.Count(string(page), "data:image/png;base64,"), "embedded figure")
	fmt.Print(rep.Markdown())
	// Output:
	// 1 embedded figure
	// # bp vs fa
	//
	// | rule | final test acc (%) |
	// |:---|---:|
	// | bp | 95.0 |
	// | fa | 91.0 |
	//
	// Figures:
	//
	// - Learning curves: `figures/learning_curves.png`, `figures/learning_curves.svg`
}
