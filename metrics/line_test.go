package metrics_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/asymlab/asym/metrics"
)

func TestLinesJSON(t *testing.T) {
	s := metrics.Snapshot{Step: 42, Rule: "sa", Layers: []metrics.Layer{
		{Name: "fc1", Bound: true, WeightAngle: 12.5, NormRatio: 0.75, ProjectionAngle: 3, GradientAngle: math.NaN(),
			EndToEndAngle: math.Inf(1), Regularizer: 0.25, HasRegularizer: true},
		{Name: "fc2", WeightAngle: 0, NormRatio: 1, ProjectionAngle: 0, GradientAngle: 0, EndToEndAngle: 0, Regularizer: math.NaN()},
	}}
	lines := s.Lines()
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	var got []string
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	want := []string{
		`{"kind":"align","step":42,"rule":"sa","layer":"fc1","bound":true,"weight_angle":12.5,"norm_ratio":0.75,"projection_angle":3,"gradient_angle":null,"end_to_end_angle":null,"regularizer":0.25}`,
		`{"kind":"align","step":42,"rule":"sa","layer":"fc2","bound":false,"weight_angle":0,"norm_ratio":1,"projection_angle":0,"gradient_angle":0,"end_to_end_angle":0}`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	// Round trip: null decodes to NaN, a missing regularizer stays absent.
	for i, g := range got {
		var ln metrics.Line
		if err := json.Unmarshal([]byte(g), &ln); err != nil {
			t.Fatal(err)
		}
		m := ln.Metrics()
		orig := s.Layers[i]
		same := func(a, b float64) bool {
			return a == b || (math.IsNaN(a) && (math.IsNaN(b) || math.IsInf(b, 0)))
		}
		if m.Name != orig.Name || m.Bound != orig.Bound || m.HasRegularizer != orig.HasRegularizer ||
			!same(m.WeightAngle, orig.WeightAngle) || !same(m.NormRatio, orig.NormRatio) ||
			!same(m.ProjectionAngle, orig.ProjectionAngle) || !same(m.GradientAngle, orig.GradientAngle) ||
			!same(m.EndToEndAngle, orig.EndToEndAngle) || !same(m.Regularizer, orig.Regularizer) {
			t.Errorf("round trip of line %d: %+v, want %+v (NaN for non-finite)", i, m, orig)
		}
		if ln.Kind != metrics.KindAlign || ln.Step != 42 || ln.Rule != "sa" {
			t.Errorf("round trip of line %d: %+v", i, ln)
		}
	}
}

func TestNumUnmarshalRejectsText(t *testing.T) {
	var n metrics.Num
	err := json.Unmarshal([]byte(`"12"`), &n)
	if err == nil || !strings.Contains(err.Error(), "metrics: ") {
		t.Errorf("Unmarshal of a string: %v, want a metrics error", err)
	}
}
