package rules

import (
	"math"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// signOf sets b[i] = m[i]·sign(w[i]) (sign(0) = 0); m nil means magnitude
// s everywhere.
func signOf(b, w, m []float32, s float32) {
	for i, v := range w {
		mag := s
		if m != nil {
			mag = m[i]
		}
		switch {
		case v > 0:
			b[i] = mag
		case v < 0:
			b[i] = -mag
		default:
			b[i] = 0
		}
	}
}

// meanAbs returns E|w|.
func meanAbs(w []float32) float64 {
	s := 0.0
	for _, v := range w {
		s += math.Abs(float64(v))
	}
	return s / float64(max(len(w), 1))
}

// newFixedB gives l an untrained B.
func newFixedB(l nn.WeightLayer, env *Env) *nn.Param {
	b := env.NewFeedbackParam(l, false)
	l.SetFeedback(b)
	return b
}

// absDraw fills m with |draws| from W's initializer.
func absDraw(m *tensor.Tensor, w *nn.Param, env *Env) {
	w.Init(m, env.Rand)
	for i, v := range m.Data {
		m.Data[i] = float32(math.Abs(float64(v)))
	}
}
