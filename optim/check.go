package optim

import (
	"errors"
	"fmt"
	"math"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// ErrDiverged is wrapped by every [*DivergenceError].
var ErrDiverged = errors.New("optim: training diverged")

// DivergenceError reports the first non-finite number found by
// [CheckFinite].
type DivergenceError struct {
	// Step is the step passed to CheckFinite.
	Step int64
	// Param is the parameter's name.
	Param string
	// Gradient is true if the number is in the gradient, false if in the
	// value.
	Gradient bool
	// Index is the element's position in the tensor's data.
	Index int
	// Value is the offending number (NaN, +Inf or -Inf).
	Value float32
}

// Error returns e.g. "step 1234: gradient of layer1.0.conv1.weight contains
// NaN (first at element 17)".
func (e *DivergenceError) Error() string {
	what := "value"
	if e.Gradient {
		what = "gradient"
	}
	v := "NaN"
	if math.IsInf(float64(e.Value), 1) {
		v = "+Inf"
	} else if math.IsInf(float64(e.Value), -1) {
		v = "-Inf"
	}
	return fmt.Sprintf("step %d: %s of %s contains %s (first at element %d)", e.Step, what, e.Param, v, e.Index)
}

// Unwrap returns [ErrDiverged].
func (e *DivergenceError) Unwrap() error { return ErrDiverged }

// CheckFinite scans the gradient (if any) and then the value of each
// parameter, in order, in one pass over each tensor, and returns a
// [*DivergenceError] for the first NaN or ±Inf, or nil. step only labels
// the error. It does not allocate unless it finds one.
func CheckFinite(step int64, params []*nn.Param) error {
	for _, p := range params {
		if p == nil {
			continue
		}
		if p.Grad != nil && !tensor.AllFinite(p.Grad.Data) {
			return divergence(step, p.Name, true, p.Grad.Data)
		}
		if p.Value != nil && !tensor.AllFinite(p.Value.Data) {
			return divergence(step, p.Name, false, p.Value.Data)
		}
	}
	return nil
}

func divergence(step int64, name string, grad bool, x []float32) error {
	for i, v := range x {
		if v-v != 0 {
			return &DivergenceError{Step: step, Param: name, Gradient: grad, Index: i, Value: v}
		}
	}
	return nil // unreachable: AllFinite found one
}
