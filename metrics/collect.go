package metrics

import (
	"math"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// Layer holds the alignment metrics of one weight layer. Angles are in
// degrees; a metric that cannot be computed (see [Angle]; no backward pass
// yet; no training batch) is NaN.
type Layer struct {
	// Name is the layer's name.
	Name string
	// Bound reports whether the rule is bound to the layer. An unbound
	// layer learns by exact backprop (B ≡ W): its angles are 0 and its
	// norm ratio 1.
	Bound bool
	// WeightAngle is ∠(W, B), the tensors flattened in their common layout.
	WeightAngle float64
	// NormRatio is ‖B‖/‖W‖.
	NormRatio float64
	// ProjectionAngle is ∠(Wx, Bx) on the last training batch x.
	ProjectionAngle float64
	// GradientAngle is the layer-local gradient angle ∠(Bᵀδy, Wᵀδy) for the
	// δy the layer received in the last backward pass under the rule (the
	// official code's gradient_angle).
	GradientAngle float64
	// EndToEndAngle is ∠(δW under the rule, δW under exact backprop) on the
	// same batch: how far the rule's weight update is from the true
	// gradient after every layer above has passed its error down.
	EndToEndAngle float64
	// Regularizer is the value of the rule's regularizer R(B; x, W, y) for
	// this layer on the last batch (see [rules.Objective]); NaN when
	// HasRegularizer is false.
	Regularizer float64
	// HasRegularizer reports whether the layer's feedback has a
	// regularizer.
	HasRegularizer bool
	// NoB reports that the rule has no backward weights (see
	// [rules.Info].NoB): WeightAngle, NormRatio, ProjectionAngle and
	// GradientAngle are then NaN, not the 0° and 1 of B ≡ W.
	NoB bool
}

// Snapshot is the set of per-layer metrics at one training step.
type Snapshot struct {
	// Step is the training step (the Ctx's Step).
	Step int64
	// Rule is the rule's name ("" when no rule was given).
	Rule string
	// Layers lists every weight layer of the network in forward order.
	Layers []Layer
}

// Measure returns the layer-local metrics of l: weight angle, norm ratio,
// projection angle and layer-local gradient angle (EndToEndAngle is NaN,
// Bound false, no regularizer). It needs the layer's last training
// forward pass (otherwise the projection angle is NaN) and backward pass
// (otherwise the gradient angle is NaN), and must run before any other
// forward pass replaces the layer's state (an evaluation pass changes a
// convolution's geometry).
func Measure(e engine.Backend, l nn.WeightLayer) Layer {
	var k Collector
	return k.measure(e, l)
}

// Collector computes [Snapshot]s, reusing its scratch buffers from call to
// call. The zero value is ready to use; a Collector is not safe for
// concurrent use.
type Collector struct {
	wx, bx    tensor.Tensor
	gw, gb    tensor.Tensor
	ruleGrads []tensor.Tensor
	haveGrads []bool
}

// Collect is a convenience for a new Collector's Collect.
func Collect(c *nn.Ctx, net *nn.Network, bound *rules.Bound, dlogits *tensor.Tensor) Snapshot {
	var k Collector
	return k.Collect(c, net, bound, dlogits)
}

// Collect measures every weight layer of net. It must run right after a
// training step's net.Backward(c, dlogits) and before anything else
// changes the parameters, their gradients or the layers' cached state
// (before the optimizer step is fine: it reads gradients only, but W must
// still be the W of the forward pass; before any evaluation pass).
//
// It first takes the layer-local metrics (which need the rule's δy) and
// the rule's regularizer values, then runs net.WithExactGradients once to
// compare each layer's weight gradient under the rule with the exact one.
// The parameters' gradients are restored bit for bit; the layers'
// OutputGrad afterwards holds the exact δy. bound may be nil (no rule: every
// layer unbound); dlogits may be nil, which skips the exact pass and leaves
// EndToEndAngle NaN.
//
// Its cost is one backward pass, one forward-sized product per layer for
// the projection angle, one input-gradient product per layer for the
// gradient angle, and a copy of the weight gradients: call it only on
// logging steps.
func (k *Collector) Collect(c *nn.Ctx, net *nn.Network, bound *rules.Bound, dlogits *tensor.Tensor) Snapshot {
	s := Snapshot{Step: int64(c.Step)}
	bw := map[nn.WeightLayer]nn.Feedback{}
	if bound != nil {
		if bound.Rule != nil {
			s.Rule = bound.Rule.Name()
		}
		for i, l := range bound.Layers {
			bw[l] = bound.Feedbacks[i]
		}
	}
	noB := false
	if info, ok := rules.Lookup(s.Rule); ok && s.Rule != "" {
		noB = info.NoB
	}
	ws := net.WeightLayers()
	s.Layers = make([]Layer, len(ws))
	// Layer-local metrics and regularizers first: the exact pass below
	// overwrites the δy buffers.
	for i, l := range ws {
		m := k.measure(c.E, l)
		fb, ok := bw[l]
		m.Bound = ok
		if o, isObj := fb.(rules.Objective); ok && isObj {
			m.Regularizer, m.HasRegularizer = o.Loss(c, l), true
		}
		if noB {
			m.NoB = true
			m.WeightAngle, m.NormRatio, m.ProjectionAngle, m.GradientAngle = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		}
		s.Layers[i] = m
	}
	if dlogits == nil {
		return s
	}
	if cap(k.ruleGrads) < len(ws) {
		k.ruleGrads = make([]tensor.Tensor, len(ws))
		k.haveGrads = make([]bool, len(ws))
	}
	k.ruleGrads, k.haveGrads = k.ruleGrads[:len(ws)], k.haveGrads[:len(ws)]
	for i, l := range ws {
		g := l.Weight().Grad
		k.haveGrads[i] = g != nil
		if g != nil {
			k.ruleGrads[i].CopyFrom(g)
		}
	}
	net.WithExactGradients(c, dlogits, func() {
		for i, l := range ws {
			if k.haveGrads[i] {
				s.Layers[i].EndToEndAngle = Angle(k.ruleGrads[i].Data, l.Weight().Grad.Data)
			}
		}
	})
	return s
}

// measure computes the layer-local metrics of l.
func (k *Collector) measure(e engine.Backend, l nn.WeightLayer) Layer {
	W, B := l.Weight().Value, l.Feedback().Value
	m := Layer{Name: l.Name(), WeightAngle: Angle(W.Data, B.Data), NormRatio: NormRatio(B.Data, W.Data),
		ProjectionAngle: math.NaN(), GradientAngle: math.NaN(), EndToEndAngle: math.NaN(), Regularizer: math.NaN()}
	x := l.Input()
	if x == nil {
		return m
	}
	// Wx is recomputed with Apply rather than read from Preactivation:
	// the same kernel then computes Wx and Bx (B = W gives exactly 0°),
	// no bias is subtracted back out in float32, and the layer's geometry
	// is set for the training input before ApplyT below.
	l.Apply(e, &k.wx, W, x)
	l.Apply(e, &k.bx, B, x)
	m.ProjectionAngle = Angle(k.wx.Data, k.bx.Data)
	dy := l.OutputGrad()
	if dy == nil || dy.Rank() == 0 || dy.Shape[0] != x.Shape[0] {
		return m
	}
	l.ApplyT(e, &k.gb, B, dy)
	l.ApplyT(e, &k.gw, W, dy)
	m.GradientAngle = Angle(k.gb.Data, k.gw.Data)
	return m
}

// Mean returns the mean of each metric over the snapshot's layers,
// skipping NaN values (a metric NaN in every layer gives NaN). Name is
// "mean"; Bound is true if any layer is bound; HasRegularizer if any
// layer has one, in which case Regularizer is the sum (the rule's total,
// as rules.Bound.Loss) rather than the mean.
func (s Snapshot) Mean() Layer {
	out := Layer{Name: "mean"}
	var reg float64
	for _, l := range s.Layers {
		out.Bound = out.Bound || l.Bound
		out.NoB = out.NoB || l.NoB
		if l.HasRegularizer {
			out.HasRegularizer = true
			reg += l.Regularizer
		}
	}
	out.Regularizer = math.NaN()
	if out.HasRegularizer {
		out.Regularizer = reg
	}
	mean := func(f func(Layer) float64) float64 {
		var sum float64
		n := 0
		for _, l := range s.Layers {
			if v := f(l); !math.IsNaN(v) {
				sum += v
				n++
			}
		}
		if n == 0 {
			return math.NaN()
		}
		return sum / float64(n)
	}
	out.WeightAngle = mean(func(l Layer) float64 { return l.WeightAngle })
	out.NormRatio = mean(func(l Layer) float64 { return l.NormRatio })
	out.ProjectionAngle = mean(func(l Layer) float64 { return l.ProjectionAngle })
	out.GradientAngle = mean(func(l Layer) float64 { return l.GradientAngle })
	out.EndToEndAngle = mean(func(l Layer) float64 { return l.EndToEndAngle })
	return out
}
