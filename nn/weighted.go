package nn

import (
	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// weighted is the state and the methods that Linear and Conv2d share: the
// forward weights W, the optional bias, the backward weights B (the same
// *Param as W under backprop) and what the last training pass left for the
// learning rules.
type weighted struct {
	name  string
	w, b  *Param
	bw    *Param // backward weights; == w under backprop
	x     *tensor.Tensor
	y, dx tensor.Tensor
	wx    tensor.Tensor
	dy    *tensor.Tensor // δy of the last backward pass
	negB  []float32      // −bias, for Preactivation
	dense bool           // a Linear: the bias is along the last dimension
}

// Name returns the layer's name.
func (l *weighted) Name() string { return l.name }

// Params returns W, the bias if any, and B when it is not W.
func (l *weighted) Params() []*Param {
	p := []*Param{l.w}
	if l.b != nil {
		p = append(p, l.b)
	}
	if l.bw != l.w {
		p = append(p, l.bw)
	}
	return p
}

// Weight returns W.
func (l *weighted) Weight() *Param { return l.w }

// Feedback returns B.
func (l *weighted) Feedback() *Param { return l.bw }

// SetFeedback makes p the layer's backward weights.
func (l *weighted) SetFeedback(p *Param) {
	tensor.MustSameShape("nn: SetFeedback "+l.name, l.w.Value, p.Value)
	l.bw = p
}

// Bias returns the bias or nil.
func (l *weighted) Bias() *Param { return l.b }

// Input returns the last training input.
func (l *weighted) Input() *tensor.Tensor { return l.x }

// OutputGrad returns δy of the last backward pass.
func (l *weighted) OutputGrad() *tensor.Tensor { return l.dy }

// Preactivation returns the last training pass's output without the bias
// (x Wᵀ or W ⋆ x).
func (l *weighted) Preactivation(e engine.Backend) *tensor.Tensor {
	if l.b == nil {
		return &l.y
	}
	l.wx.CopyFrom(&l.y)
	if len(l.negB) != len(l.b.Value.Data) {
		l.negB = make([]float32, len(l.b.Value.Data))
	}
	for i, v := range l.b.Value.Data {
		l.negB[i] = -v
	}
	if l.dense {
		e.AddBias(flat(&l.wx, len(l.negB)), l.negB)
	} else {
		e.AddBias(&l.wx, l.negB)
	}
	return &l.wx
}
