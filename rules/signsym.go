package rules

import (
	"math"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// signOf sets b[i] = |m[i]|·sign(w[i]) (sign(±0) = 0); m nil means
// magnitude |s| everywhere. It works on the bits, without branches: the
// signs of W are random, so a branch on them would mispredict half the time.
func signOf(b, w, m []float32, s float32) {
	const signBit = 1 << 31
	b = b[:len(w)]
	mag := math.Float32bits(s) &^ signBit
	if m != nil {
		m = m[:len(w)]
	}
	for i, v := range w {
		vb := math.Float32bits(v)
		if m != nil {
			mag = math.Float32bits(m[i]) &^ signBit
		}
		nonZero := uint32(int32(-(vb &^ signBit)) >> 31) // all ones unless v = ±0
		b[i] = math.Float32frombits((mag | vb&signBit) & nonZero)
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
