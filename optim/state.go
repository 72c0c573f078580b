package optim

import (
	"errors"
	"fmt"

	"github.com/asymlab/asym/tensor"
)

// ErrState is wrapped by the errors of [SGD.SetState].
var ErrState = errors.New("optim: state does not match the optimizer")

// MomentumPrefix starts the state name of every momentum buffer (Adam's
// first moment): "optim.momentum.<param name>".
const MomentumPrefix = "optim.momentum."

// SecondMomentPrefix starts the state name of every second-moment buffer
// (Adam's v, RMSProp's mean square): "optim.second_moment.<param name>".
const SecondMomentPrefix = "optim.second_moment."

// buffers returns the entry's state tensors with their names.
func (e *entry) buffers() []StateTensor {
	var b []StateTensor
	if e.buf != nil {
		b = append(b, StateTensor{Name: MomentumPrefix + e.p.Name, Value: e.buf})
	}
	if e.sq != nil {
		b = append(b, StateTensor{Name: SecondMomentPrefix + e.p.Name, Value: e.sq})
	}
	return b
}

// State is what a checkpoint needs to resume an [SGD] exactly: the step
// counter and the momentum buffers. The configuration (settings, clock,
// seed) is not part of it; resume with the same one.
type State struct {
	// Step is the number of steps taken.
	Step int64
	// Tensors are the momentum buffers, named MomentumPrefix + param name,
	// in [SGD.Params] order (parameters without momentum have none).
	Tensors []StateTensor
}

// StateTensor is a named tensor of a [State].
type StateTensor struct {
	// Name is MomentumPrefix + the parameter's name.
	Name string
	// Value holds the data.
	Value *tensor.Tensor
}

// State returns a deep copy of the optimizer's state.
func (o *SGD) State() State {
	s := State{Step: o.step}
	for _, g := range o.groups {
		for _, e := range g.entries {
			for _, b := range e.buffers() {
				s.Tensors = append(s.Tensors, StateTensor{Name: b.Name, Value: b.Value.Clone()})
			}
		}
	}
	return s
}

// SetState copies s into the optimizer: the step counter and every
// momentum buffer. It checks everything first and changes nothing on
// error; the error wraps [ErrState] and lists every missing, unexpected,
// duplicated or misshaped tensor.
func (o *SGD) SetState(s State) error {
	var errs []error
	if s.Step < 0 {
		errs = append(errs, fmt.Errorf("%w: step %d is negative", ErrState, s.Step))
	}
	byName := make(map[string]*tensor.Tensor, len(s.Tensors))
	for _, t := range s.Tensors {
		if _, dup := byName[t.Name]; dup {
			errs = append(errs, fmt.Errorf("%w: tensor %q appears twice", ErrState, t.Name))
		}
		byName[t.Name] = t.Value
	}
	used := 0
	for _, g := range o.groups {
		for _, e := range g.entries {
			for _, b := range e.buffers() {
				name := b.Name
				t, ok := byName[name]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("%w: missing tensor %q (group %q: method %q, momentum %g)", ErrState, name, g.name, g.set.Method, g.set.Momentum))
					continue
				case t == nil:
					errs = append(errs, fmt.Errorf("%w: tensor %q is nil", ErrState, name))
				case !t.SameShape(b.Value) || len(t.Data) != len(b.Value.Data):
					errs = append(errs, fmt.Errorf("%w: tensor %q has shape %v, parameter %q has shape %v", ErrState, name, t.Shape, e.p.Name, b.Value.Shape))
				}
				used++
			}
		}
	}
	if used < len(byName) {
		for _, t := range s.Tensors {
			if !o.hasBuffer(t.Name) {
				errs = append(errs, fmt.Errorf("%w: unexpected tensor %q (no parameter of that name has a momentum buffer here)", ErrState, t.Name))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, g := range o.groups {
		for _, e := range g.entries {
			for _, b := range e.buffers() {
				copy(b.Value.Data, byName[b.Name].Data)
			}
		}
	}
	o.step = s.Step
	return nil
}

func (o *SGD) hasBuffer(name string) bool {
	for _, g := range o.groups {
		for _, e := range g.entries {
			for _, b := range e.buffers() {
				if b.Name == name {
					return true
				}
			}
		}
	}
	return false
}
