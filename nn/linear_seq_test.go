package nn_test

import (
	"testing"

	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// TestLinearPositions checks that a Linear on (N, T, In) is the Linear on
// the (N·T, In) view, bit for bit: output, Preactivation, parameter and
// input gradients, and the rule operators Apply, ApplyT and Outer (which
// therefore sum over the batch and every position). The rank-2 case is
// the finite-difference-checked one (TestLayerGradients).
func TestLinearPositions(t *testing.T) {
	const N, T, In, Out = 3, 4, 5, 6
	for _, th := range []int{1, 3} {
		rng := newRand(7)
		a := nn.NewLinear("a", In, Out, true, nn.HeNormal, rng)
		b := nn.NewLinear("b", In, Out, true, nn.HeNormal, rng)
		copy(b.Weight().Value.Data, a.Weight().Value.Data)
		copy(b.Bias().Value.Data, a.Bias().Value.Data)
		x := tensor.FromData(gc.Uniform(rng, N*T*In, -1, 1), N, T, In)
		dy := gc.Uniform(rng, N*T*Out, -1, 1)
		c := trainCtx(th)
		ya := a.Forward(c, x)
		yb := b.Forward(c, x.View(N*T, In))
		if !tensor.SameShape(ya.Shape, []int{N, T, Out}) || !tensor.Equal(ya.View(N*T, Out), yb) {
			t.Fatalf("threads %d: forward differs (shape %v)", th, ya.Shape)
		}
		if !tensor.Equal(a.Preactivation(c.E).View(N*T, Out), b.Preactivation(c.E)) {
			t.Errorf("threads %d: Preactivation differs", th)
		}
		dxa := a.Backward(c, tensor.FromData(dy, N, T, Out), true)
		dxb := b.Backward(c, tensor.FromData(dy, N*T, Out), true)
		if !tensor.SameShape(dxa.Shape, x.Shape) || !tensor.Equal(dxa.View(N*T, In), dxb) ||
			!tensor.Equal(a.Weight().Grad, b.Weight().Grad) || !tensor.Equal(a.Bias().Grad, b.Bias().Grad) {
			t.Errorf("threads %d: backward differs", th)
		}
		var oa, ob tensor.Tensor
		m := a.Weight().Value
		a.Apply(c.E, &oa, m, x)
		b.Apply(c.E, &ob, m, x.View(N*T, In))
		if !tensor.Equal(oa.View(N*T, Out), &ob) {
			t.Errorf("threads %d: Apply differs", th)
		}
		a.ApplyT(c.E, &oa, m, tensor.FromData(dy, N, T, Out))
		b.ApplyT(c.E, &ob, m, tensor.FromData(dy, N*T, Out))
		if !tensor.Equal(oa.View(N*T, In), &ob) {
			t.Errorf("threads %d: ApplyT differs", th)
		}
		ga, gb := tensor.New(Out, In), tensor.New(Out, In)
		a.Outer(c.E, ga, tensor.FromData(dy, N, T, Out), x, 0.5, 0)
		b.Outer(c.E, gb, tensor.FromData(dy, N*T, Out), x.View(N*T, In), 0.5, 0)
		if !tensor.Equal(ga, gb) {
			t.Errorf("threads %d: Outer differs", th)
		}
	}
	l := nn.NewLinear("fc", 5, 2, false, nn.HeNormal, newRand(1))
	if _, err := l.OutShape([]int{2, 3, 4}); err == nil {
		t.Error("OutShape accepted a last dimension of 4 for In = 5")
	}
	if got, err := l.OutShape([]int{2, 3, 5}); err != nil || !tensor.SameShape(got, []int{2, 3, 2}) {
		t.Errorf("OutShape (2, 3, 5) = %v, %v", got, err)
	}
}
