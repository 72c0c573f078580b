package optim

import (
	"math"
	"testing"

	"github.com/asymlab/asym/nn"
)

// TestAdaptiveMatchesTensorFlow runs Adam and RMSProp for a few steps on a
// feedback group and compares with a float64 transcription of TensorFlow
// 1's AdamOptimizer (lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ), p −= lr_t·m/(√v + ε)) and
// RMSPropOptimizer (mean square initialised to 1, p −= μ·b + lr·d/√(ms +
// ε)), with the gradient d = g + wd·p of an L2 term in the loss.
func TestAdaptiveMatchesTensorFlow(t *testing.T) {
	cases := []struct {
		name string
		set  Settings
		ref  func(p, g []float64, steps int, lr, wd float64) []float64
	}{
		{"adam-defaults", Settings{Method: MethodAdam, LR: 0.01, WeightDecay: 0.1}, func(p, g []float64, steps int, lr, wd float64) []float64 {
			return refAdam(p, g, steps, lr, wd, 0.9, 0.999, 1e-8)
		}},
		{"adam", Settings{Method: MethodAdam, LR: 0.02, Beta1: 0.5, Beta2: 0.9, Eps: 1e-3}, func(p, g []float64, steps int, lr, wd float64) []float64 {
			return refAdam(p, g, steps, lr, wd, 0.5, 0.9, 1e-3)
		}},
		{"rmsprop-defaults", Settings{Method: MethodRMSProp, LR: 0.01, WeightDecay: 0.1}, func(p, g []float64, steps int, lr, wd float64) []float64 {
			return refRMSProp(p, g, steps, lr, wd, 0, 0.9, 1e-10)
		}},
		{"rmsprop-momentum", Settings{Method: MethodRMSProp, LR: 0.01, Momentum: 0.5, Beta2: 0.7, Eps: 1e-4}, func(p, g []float64, steps int, lr, wd float64) []float64 {
			return refRMSProp(p, g, steps, lr, wd, 0.5, 0.7, 1e-4)
		}},
	}
	value := []float32{0.5, -1, 2, 0.01}
	grads := []float32{0.3, -0.2, 1.5, -4}
	const steps = 6
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The weight decay applies to feedback parameters here.
			tc.set.DecayKinds = []string{nn.KindFeedback.String()}
			b := newParam("b", nn.KindFeedback, value, grads)
			o, err := New([]*nn.Param{b}, Config{Main: constant(0.1), Feedback: &tc.set})
			if err != nil {
				t.Fatal(err)
			}
			for range steps {
				o.Step()
			}
			p, g := make([]float64, len(value)), make([]float64, len(grads))
			for i := range value {
				p[i], g[i] = float64(value[i]), float64(grads[i])
			}
			want := tc.ref(p, g, steps, tc.set.LR, tc.set.WeightDecay)
			for i, v := range b.Value.Data {
				// Six float32 updates of O(1) numbers: a few ulps each.
				if math.Abs(float64(v)-want[i]) > 1e-5*(1+math.Abs(want[i])) {
					t.Errorf("p[%d] = %.7g, TensorFlow's %.7g", i, v, want[i])
				}
			}
			if math.Abs(float64(b.Value.Data[0])-float64(value[0])) < 1e-4 {
				t.Error("the parameter did not move")
			}
		})
	}
}

func refAdam(p, g []float64, steps int, lr, wd, b1, b2, eps float64) []float64 {
	m, v := make([]float64, len(p)), make([]float64, len(p))
	for t := 1; t <= steps; t++ {
		lrt := lr * math.Sqrt(1-math.Pow(b2, float64(t))) / (1 - math.Pow(b1, float64(t)))
		for i := range p {
			d := g[i] + wd*p[i]
			m[i] = b1*m[i] + (1-b1)*d
			v[i] = b2*v[i] + (1-b2)*d*d
			p[i] -= lrt * m[i] / (math.Sqrt(v[i]) + eps)
		}
	}
	return p
}

func refRMSProp(p, g []float64, steps int, lr, wd, mu, rho, eps float64) []float64 {
	ms, mom := make([]float64, len(p)), make([]float64, len(p))
	for i := range ms {
		ms[i] = 1
	}
	for range steps {
		for i := range p {
			d := g[i] + wd*p[i]
			ms[i] = rho*ms[i] + (1-rho)*d*d
			mom[i] = mu*mom[i] + lr*d/math.Sqrt(ms[i]+eps)
			p[i] -= mom[i]
		}
	}
	return p
}
