package optim

import (
	"errors"
	"math"
	"testing"

	"github.com/asymlab/asym/nn"
)

func TestCheckFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	tests := []struct {
		name   string
		params []*nn.Param
		want   string // "" = no error
	}{
		{"finite", []*nn.Param{
			newParam("a", nn.KindWeight, []float32{1, -2}, []float32{3, 4}),
			newParam("bn.running_var", nn.KindBuffer, []float32{1e30}, nil),
		}, ""},
		{"NaN gradient", []*nn.Param{
			newParam("fc.weight", nn.KindWeight, []float32{1, 2}, []float32{3, 4}),
			newParam("layer1.0.conv1.weight", nn.KindWeight, []float32{1, 2, 3}, []float32{0, 1, nan}),
		}, "step 1234: gradient of layer1.0.conv1.weight contains NaN (first at element 2)"},
		{"gradient before value", []*nn.Param{
			newParam("w", nn.KindWeight, []float32{inf}, []float32{-inf}),
		}, "step 1234: gradient of w contains -Inf (first at element 0)"},
		{"Inf value", []*nn.Param{
			newParam("w", nn.KindWeight, []float32{1, inf}, []float32{0, 0}),
		}, "step 1234: value of w contains +Inf (first at element 1)"},
		{"buffer value", []*nn.Param{
			newParam("bn.running_mean", nn.KindBuffer, []float32{nan}, nil),
		}, "step 1234: value of bn.running_mean contains NaN (first at element 0)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckFinite(1234, tc.params)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if n := testing.AllocsPerRun(10, func() { _ = CheckFinite(1, tc.params) }); n != 0 {
					t.Errorf("%v allocations", n)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var de *DivergenceError
			if !errors.Is(err, ErrDiverged) || !errors.As(err, &de) || de.Step != 1234 {
				t.Errorf("err %#v is not a *DivergenceError wrapping ErrDiverged", err)
			}
		})
	}
}
