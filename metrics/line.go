package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// KindAlign is the "kind" of alignment lines in a run's metrics.jsonl.
const KindAlign = "align"

// Num is a float64 that encodes to JSON as a number, or as null when it is
// NaN or infinite (which JSON cannot represent); null decodes to NaN.
type Num float64

// MarshalJSON encodes n, with null for NaN and ±Inf.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON decodes a number, or null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("metrics: %s is not a number", b)
	}
	*n = Num(f)
	return nil
}

// Line is one alignment line of metrics.jsonl, one per layer and logging
// step:
//
//	{"kind":"align","step":100,"rule":"fa","layer":"fc1","bound":true,
//	 "weight_angle":89.7,"norm_ratio":1.01,"projection_angle":88.9,
//	 "gradient_angle":89.1,"end_to_end_angle":72.4}
//
// regularizer is present only for layers whose rule has one. Metrics that
// could not be computed are null.
type Line struct {
	// Kind is always [KindAlign].
	Kind string `json:"kind"`
	// Step is the training step.
	Step int64 `json:"step"`
	// Rule is the rule's name.
	Rule string `json:"rule,omitempty"`
	// Layer is the weight layer's name.
	Layer string `json:"layer"`
	// Bound reports whether the rule is bound to the layer.
	Bound bool `json:"bound"`
	// The metrics of [Layer], in degrees for angles.
	WeightAngle     Num `json:"weight_angle"`
	NormRatio       Num `json:"norm_ratio"`
	ProjectionAngle Num `json:"projection_angle"`
	GradientAngle   Num `json:"gradient_angle"`
	EndToEndAngle   Num `json:"end_to_end_angle"`
	// Regularizer is nil when the layer's rule has no regularizer.
	Regularizer *Num `json:"regularizer,omitempty"`
	// NoB is set when the rule has no backward weights (direct feedback
	// alignment); the metrics of B are then null.
	NoB bool `json:"no_b,omitempty"`
}

// Lines returns the snapshot as metrics.jsonl lines, one per layer.
func (s Snapshot) Lines() []Line {
	out := make([]Line, len(s.Layers))
	for i, l := range s.Layers {
		out[i] = Line{Kind: KindAlign, Step: s.Step, Rule: s.Rule, Layer: l.Name, Bound: l.Bound,
			WeightAngle: Num(l.WeightAngle), NormRatio: Num(l.NormRatio), ProjectionAngle: Num(l.ProjectionAngle),
			GradientAngle: Num(l.GradientAngle), EndToEndAngle: Num(l.EndToEndAngle), NoB: l.NoB}
		if l.HasRegularizer {
			r := Num(l.Regularizer)
			out[i].Regularizer = &r
		}
	}
	return out
}

// Metrics returns the layer metrics a line holds.
func (ln Line) Metrics() Layer {
	l := Layer{Name: ln.Layer, Bound: ln.Bound, WeightAngle: float64(ln.WeightAngle), NormRatio: float64(ln.NormRatio),
		ProjectionAngle: float64(ln.ProjectionAngle), GradientAngle: float64(ln.GradientAngle),
		EndToEndAngle: float64(ln.EndToEndAngle), Regularizer: math.NaN(), NoB: ln.NoB}
	if ln.Regularizer != nil {
		l.Regularizer, l.HasRegularizer = float64(*ln.Regularizer), true
	}
	return l
}
