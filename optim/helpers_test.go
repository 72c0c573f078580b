package optim

import (
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// newParam returns a parameter with the given value and, if grad is
// non-nil, gradient (both copied).
func newParam(name string, kind nn.Kind, value, grad []float32) *nn.Param {
	p := &nn.Param{Name: name, Kind: kind, Value: tensor.FromData(append([]float32(nil), value...), len(value))}
	if grad != nil {
		p.Grad = tensor.FromData(append([]float32(nil), grad...), len(grad))
	}
	return p
}

func constant(lr float64) Settings { return Settings{LR: lr} }
