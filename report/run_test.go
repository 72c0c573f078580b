package report_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asymlab/asym/metrics"
	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/train"
)

// metricsFile builds a metrics.jsonl from the types the writers use.
func metricsFile(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	snap := func(step int64, angle float64) metrics.Snapshot {
		return metrics.Snapshot{Step: step, Rule: "sa", Layers: []metrics.Layer{
			{Name: "fc1", Bound: true, WeightAngle: angle, NormRatio: 1.5, ProjectionAngle: angle / 2, GradientAngle: math.NaN(),
				EndToEndAngle: angle / 3, Regularizer: 0.5, HasRegularizer: true},
			{Name: "fc2", WeightAngle: 0, NormRatio: 1, Regularizer: math.NaN()},
		}}
	}
	for _, v := range []any{
		snap(0, 90).Lines()[0], snap(0, 90).Lines()[1],
		train.EpochMetrics{Kind: "epoch", Epoch: 1, Step: 10, TrainLoss: 1.5, TrainAcc: 0.5, TestLoss: 1.25, TestAcc: 0.625},
		map[string]any{"kind": "note", "text": "ignored"},
		snap(10, 60).Lines()[0], snap(10, 60).Lines()[1],
		train.EpochMetrics{Kind: "epoch", Epoch: 2, Step: 20, TrainLoss: 1, TrainAcc: 0.75, TestLoss: 0.75, TestAcc: 0.8},
		// A resumed run repeats epoch 2 and step 10's fc1: the later lines win.
		snap(10, 45).Lines()[0],
		train.EpochMetrics{Kind: "epoch", Epoch: 2, Step: 20, TrainLoss: 0.9, TrainAcc: 0.7, TestLoss: 0.7, TestAcc: 0.85},
	} {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return b.String() + "\n  \n"
}

func TestReadMetrics(t *testing.T) {
	r, err := report.ReadMetrics(strings.NewReader(metricsFile(t)), "m.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	wantEpochs := []report.EpochPoint{
		{Epoch: 1, Step: 10, TrainLoss: 1.5, TrainAcc: 0.5, TestLoss: 1.25, TestAcc: 0.625},
		{Epoch: 2, Step: 20, TrainLoss: 0.9, TrainAcc: 0.7, TestLoss: 0.7, TestAcc: 0.85},
	}
	if len(r.Epochs) != len(wantEpochs) {
		t.Fatalf("epochs %+v, want %+v", r.Epochs, wantEpochs)
	}
	for i := range wantEpochs {
		if r.Epochs[i] != wantEpochs[i] {
			t.Errorf("epoch %d: %+v, want %+v", i, r.Epochs[i], wantEpochs[i])
		}
	}
	if r.Rule != "sa" {
		t.Errorf("Rule = %q, want sa (from the align lines)", r.Rule)
	}
	if len(r.Align) != 4 {
		t.Fatalf("%d align points, want 4: %+v", len(r.Align), r.Align)
	}
	type want struct {
		step                     int64
		layer                    string
		bound                    bool
		weight, proj, e2e, ratio float64
		gradNaN, regNaN          bool
		reg                      float64
	}
	for i, w := range []want{
		{0, "fc1", true, 90, 45, 30, 1.5, true, false, 0.5},
		{0, "fc2", false, 0, 0, 0, 1, false, true, 0},
		{10, "fc1", true, 45, 22.5, 15, 1.5, true, false, 0.5},
		{10, "fc2", false, 0, 0, 0, 1, false, true, 0},
	} {
		p := r.Align[i]
		if p.Step != w.step || p.Layer != w.layer || p.Bound != w.bound || p.WeightAngle != w.weight ||
			p.ProjectionAngle != w.proj || p.EndToEndAngle != w.e2e || p.NormRatio != w.ratio ||
			math.IsNaN(p.GradientAngle) != w.gradNaN || math.IsNaN(p.Regularizer) != w.regNaN || (!w.regNaN && p.Regularizer != w.reg) {
			t.Errorf("align %d: %+v, want %+v", i, p, w)
		}
	}
	if got := r.FinalTestAcc(); got != 0.85 {
		t.Errorf("FinalTestAcc = %v", got)
	}
	if got := r.BestTestAcc(); got != 0.85 {
		t.Errorf("BestTestAcc = %v", got)
	}
	if got := r.FinalTrainLoss(); got != 0.9 {
		t.Errorf("FinalTrainLoss = %v", got)
	}
	var empty report.Run
	if !math.IsNaN(empty.FinalTestAcc()) || !math.IsNaN(empty.BestTestAcc()) || !math.IsNaN(empty.FinalTrainLoss()) {
		t.Error("a run without epochs should give NaN summaries")
	}
}

func TestReadMetricsErrors(t *testing.T) {
	good := `{"kind":"epoch","epoch":1,"test_acc":0.5}` + "\n"
	for _, tc := range []struct {
		name, text string
		line       int
		says       string
	}{
		{"bad JSON", good + "{not json\n", 2, "not a JSON object"},
		{"not an object", good + good + "[1,2]\n", 3, "not a JSON object"},
		{"no kind", `{"epoch":1}` + "\n", 1, `no "kind"`},
		{"epoch without epoch", good + `{"kind":"epoch","test_acc":1}` + "\n", 2, `"epoch"`},
		{"negative epoch", `{"kind":"epoch","epoch":-1}` + "\n", 1, `"epoch"`},
		{"bad epoch value", `{"kind":"epoch","epoch":1,"test_acc":"high"}` + "\n", 1, "epoch line"},
		{"align without layer", `{"kind":"align","step":1,"weight_angle":3}` + "\n", 1, `"layer"`},
		{"bad align value", `{"kind":"align","layer":"fc","weight_angle":true}` + "\n", 1, "align line"},
		{"line too long", good + `{"kind":"note","x":"` + strings.Repeat("a", report.MaxLineBytes) + `"}` + "\n", 2, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := report.ReadMetrics(strings.NewReader(tc.text), "runs/x/metrics.jsonl")
			if !errors.Is(err, report.ErrMetrics) {
				t.Fatalf("error %v, want one wrapping ErrMetrics", err)
			}
			for _, s := range []string{"runs/x/metrics.jsonl", "line " + string(rune('0'+tc.line)) + ":", tc.says} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

func TestReadRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "20250101-mlp-digits-sa")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, report.MetricsFile), []byte(metricsFile(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := report.ReadRun(dir + "/")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "20250101-mlp-digits-sa" || len(r.Epochs) != 2 || len(r.Align) != 4 {
		t.Errorf("ReadRun = %+v", r)
	}
	_, err = report.ReadRun(filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing run: %v, want a not-exist error naming the directory", err)
	}
}

func FuzzReadMetrics(f *testing.F) {
	f.Add([]byte(`{"kind":"epoch","epoch":1,"step":5,"train_loss":1,"test_acc":0.5}`))
	f.Add([]byte(`{"kind":"align","step":3,"layer":"fc1","bound":true,"weight_angle":null,"regularizer":1e300}` + "\n\n" + `{"kind":"x"}`))
	f.Add([]byte("{\"kind\":\"epoch\",\"epoch\":2}\n{\"kind\":\"epoch\",\"epoch\":1}\n{"))
	f.Add([]byte(`{"kind":"align","layer":"a","step":-1}` + "\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.ReadMetrics(strings.NewReader(string(data)), "fuzz")
		if err != nil {
			if !errors.Is(err, report.ErrMetrics) {
				t.Fatalf("error %v does not wrap ErrMetrics", err)
			}
			return
		}
		for i := 1; i < len(r.Epochs); i++ {
			if r.Epochs[i-1].Epoch >= r.Epochs[i].Epoch {
				t.Fatalf("epochs not strictly increasing: %+v", r.Epochs)
			}
		}
		for i := 1; i < len(r.Align); i++ {
			if r.Align[i-1].Step > r.Align[i].Step {
				t.Fatalf("align points not in step order: %+v", r.Align)
			}
		}
	})
}
