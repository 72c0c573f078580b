package experiments

import (
	"strings"
	"testing"

	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/train"
)

// fakeResult is a finished run of rule with the given final accuracy (in
// %) and rule settings; its alignment lines carry noB.
func fakeResult(rule string, acc float64, params map[string]float64, noB bool) Result {
	cfg := train.Default()
	cfg.Rule.Name, cfg.Rule.Params = rule, params
	run := report.Run{Name: rule, Rule: rule, Model: "mlp"}
	for _, layer := range []string{"fc1", "fc2"} {
		run.Align = append(run.Align, report.AlignPoint{Step: 10, Layer: layer, Bound: true, WeightAngle: 40, EndToEndAngle: 30, NoB: noB})
	}
	return Result{Job: Job{ID: "mlp/" + rule + "/seed1", Cfg: cfg, Rule: rule, Model: "mlp", Seed: 1, Group: rule},
		Summary: &train.Summary{TestAcc: acc / 100, BestTestAcc: acc/100 + 0.001, TrainLoss: 0.01, WallS: 1},
		Run:     run}
}

// The results table is sorted by accuracy, has a gap to backprop, shows
// non-default rule settings, and "no B" for a rule without backward
// weights (issue 9, items 19 and 20).
func TestCompareTable(t *testing.T) {
	results := []Result{
		fakeResult("bp", 98, nil, false),
		fakeResult("dfa", 96, nil, true),
		fakeResult("sa", 97, map[string]float64{"alpha": 0.05, "beta": 2e-3}, false),
		fakeResult("fa", 99, nil, false),
		fakeResult("aa", 97.5, map[string]float64{"alpha": 1e-3}, false), // its default: not shown
	}
	tab := compareTable("Results", results)
	col := map[string]int{}
	for i, c := range tab.Columns {
		col[c] = i
	}
	for _, c := range []string{"rule", "settings", "test acc (%)", "gap to bp (points)", "weight angle (°)", "end-to-end angle (°)"} {
		if _, ok := col[c]; !ok {
			t.Fatalf("no column %q in %q", c, tab.Columns)
		}
	}
	want := []struct{ rule, settings, acc, gap, weight, e2e string }{
		{"fa", "defaults", "99.00", "-1.00", "40.0", "30.0"},
		{"bp", "defaults", "98.00", "–", "40.0", "30.0"},
		{"aa", "defaults", "97.50", "0.50", "40.0", "30.0"},
		{"sa", "alpha=0.05", "97.00", "1.00", "40.0", "30.0"},
		{"dfa", "defaults", "96.00", "2.00", "no B", "30.0"},
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(tab.Rows), len(want))
	}
	for i, w := range want {
		row := tab.Rows[i]
		got := []string{row[col["rule"]].String(), row[col["settings"]].String(), row[col["test acc (%)"]].String(),
			row[col["gap to bp (points)"]].String(), row[col["weight angle (°)"]].String(), row[col["end-to-end angle (°)"]].String()}
		exp := []string{w.rule, w.settings, w.acc, w.gap, w.weight, w.e2e}
		if strings.Join(got, "|") != strings.Join(exp, "|") {
			t.Errorf("row %d = %q, want %q", i, got, exp)
		}
	}
	if !strings.Contains(tab.Note, "sorted by test acc") || !strings.Contains(tab.Note, "no B") {
		t.Errorf("note does not explain the order and \"no B\": %q", tab.Note)
	}
}
