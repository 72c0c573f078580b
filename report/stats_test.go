package report_test

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/asymlab/asym/report"
)

func TestSummarize(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		xs   []float64
		want report.Stat
	}{
		{"empty", nil, report.Stat{Mean: nan}},
		{"one", []float64{3}, report.Stat{Mean: 3, N: 1}},
		// mean 5; squared deviations 9+1+1+9 = 20; /3 → std √(20/3).
		{"four", []float64{2, 4, 6, 8}, report.Stat{Mean: 5, Std: math.Sqrt(20.0 / 3), N: 4}},
		{"with diverged", []float64{1, nan, 3, inf}, report.Stat{Mean: 2, Std: math.Sqrt2, N: 2, Bad: 2}},
		{"all diverged", []float64{nan, nan}, report.Stat{Mean: nan, Bad: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := report.Summarize(tc.xs)
			// Exact: each is a few float64 operations on small integers
			// (√ correctly rounded).
			same := got.Mean == tc.want.Mean || (math.IsNaN(got.Mean) && math.IsNaN(tc.want.Mean))
			if !same || got.Std != tc.want.Std || got.N != tc.want.N || got.Bad != tc.want.Bad {
				t.Errorf("Summarize(%v) = %+v, want %+v", tc.xs, got, tc.want)
			}
		})
	}
}

func TestGroupRuns(t *testing.T) {
	runs := []report.Run{
		{Name: "a", Rule: "fa", Model: "mlp"}, {Name: "b", Rule: "bp", Model: "mlp"}, {Name: "c", Rule: "fa", Model: "mlp"},
	}
	var labels []string
	for _, g := range report.GroupRuns(runs) {
		labels = append(labels, g.Label+"="+runNames(g.Runs))
	}
	if want := []string{"fa=a,c", "bp=b"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("groups %v, want %v", labels, want)
	}
	runs = append(runs, report.Run{Name: "d", Rule: "fa", Model: "convnet"}, report.Run{Name: "e", Group: "custom"}, report.Run{Name: "f"})
	labels = nil
	for _, g := range report.GroupRuns(runs) {
		labels = append(labels, g.Label+"="+runNames(g.Runs))
	}
	if want := []string{"fa · mlp=a,c", "bp · mlp=b", "fa · convnet=d", "custom=e", "f · =f"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("groups %v, want %v", labels, want)
	}
}

func runNames(rs []report.Run) string {
	var n []string
	for _, r := range rs {
		n = append(n, r.Name)
	}
	return strings.Join(n, ",")
}

func TestSeriesAndGap(t *testing.T) {
	mk := func(name, rule string, acc float64) report.Run {
		return report.Run{Name: name, Rule: rule, Model: "resnet", Epochs: []report.EpochPoint{{Epoch: 1, TestAcc: acc}}}
	}
	runs := []report.Run{
		mk("bp8a", "bp", 0.90), mk("bp8b", "bp", 0.92), mk("bp14", "bp", 0.94),
		mk("ia8a", "ia", 0.86), mk("ia8b", "ia", 0.88), mk("ia14", "ia", 0.84), mk("ia20", "ia", 0.80),
		mk("other", "ia", 0.1),
	}
	depths := map[string]float64{"bp8a": 8, "bp8b": 8, "bp14": 14, "ia8a": 8, "ia8b": 8, "ia14": 14, "ia20": 20}
	series := report.SeriesFromRuns(runs, func(r report.Run) (float64, bool) {
		d, ok := depths[r.Name]
		return d, ok
	}, func(r report.Run) float64 { return 100 * r.FinalTestAcc() })
	if len(series) != 2 || series[0].Label != "bp" || len(series[0].Points) != 2 || len(series[1].Points) != 3 {
		t.Fatalf("series %+v", series)
	}
	if p := series[0].Points[0]; p.X != 8 || p.N != 2 || math.Abs(p.Mean-91) > 1e-12 {
		// 100·0.90 and 100·0.92 are not exact in binary: 1e-12 covers it.
		t.Errorf("bp at depth 8: %+v, want mean 91 over 2", p)
	}
	gaps, err := report.Gap(series, "bp")
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) != 1 || gaps[0].Label != "ia" || len(gaps[0].Points) != 2 {
		t.Fatalf("gaps %+v, want ia at depths 8 and 14 only (bp has no 20)", gaps)
	}
	// depth 8: bp 91 ± √2, ia 87 ± √2 → gap 4 ± 2. depth 14: 94 − 84 = 10, std 0.
	g8, g14 := gaps[0].Points[0], gaps[0].Points[1]
	if math.Abs(g8.Mean-4) > 1e-12 || math.Abs(g8.Std-2) > 1e-12 || math.Abs(g14.Mean-10) > 1e-12 || g14.Std != 0 {
		t.Errorf("gaps %+v %+v, want 4 ± 2 and 10 ± 0", g8, g14)
	}
	if _, err := report.Gap(series, "backprop"); err == nil || !strings.Contains(err.Error(), "backprop") {
		t.Errorf("missing baseline: %v", err)
	}
}

func TestLayerMeans(t *testing.T) {
	nan := math.NaN()
	r := report.Run{Align: []report.AlignPoint{
		{Step: 0, Layer: "a", Bound: true, WeightAngle: 80, ProjectionAngle: 10, GradientAngle: nan, EndToEndAngle: 30, NormRatio: 1, Regularizer: 1},
		{Step: 0, Layer: "b", Bound: true, WeightAngle: 60, ProjectionAngle: 20, GradientAngle: nan, EndToEndAngle: 50, NormRatio: 3, Regularizer: 2},
		{Step: 0, Layer: "out", Bound: false, WeightAngle: 0, ProjectionAngle: 0, GradientAngle: 0, EndToEndAngle: 0, NormRatio: 1, Regularizer: nan},
		{Step: 5, Layer: "out", Bound: false, WeightAngle: 0, ProjectionAngle: 0, GradientAngle: 0, EndToEndAngle: 0, NormRatio: 1, Regularizer: nan},
	}}
	m := report.LayerMeans(r)
	if len(m) != 2 {
		t.Fatalf("LayerMeans = %+v", m)
	}
	// Step 0: the unbound output layer is left out; the regularizer is summed.
	if p := m[0]; p.Step != 0 || p.WeightAngle != 70 || p.ProjectionAngle != 15 || !math.IsNaN(p.GradientAngle) ||
		p.EndToEndAngle != 40 || p.NormRatio != 2 || p.Regularizer != 3 || !p.Bound {
		t.Errorf("step 0 mean %+v", p)
	}
	// Step 5: nothing bound, so every layer counts.
	if p := m[1]; p.Step != 5 || p.WeightAngle != 0 || p.NormRatio != 1 || p.Bound || !math.IsNaN(p.Regularizer) {
		t.Errorf("step 5 mean %+v", p)
	}
}
