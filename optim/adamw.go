package optim

import (
	"math"

	"github.com/asymlab/asym/nn"
)

// MethodAdamW is AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay
// Regularization", arXiv 1711.05101) as PyTorch's torch.optim.AdamW
// computes it. With g the gradient, t the 1-based step, lr_t the scheduled
// rate and wd the weight decay of the parameter's kind:
//
//	p  = p·(1 − lr_t·wd)                   (decoupled decay, before the moments)
//	m  = β1·m + (1−β1)·g
//	v  = β2·v + (1−β2)·g²
//	p −= lr_t/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
//
// With WeightDecay 0 it is Adam (torch.optim.Adam). The moments m and v
// are the state tensors "optim.momentum.<name>" and
// "optim.second_moment.<name>". As with the other methods, DecayKinds
// selects the decayed kinds; the default (weights only) leaves biases and
// normalisation parameters undecayed.
const MethodAdamW = "adamw"

// clipEps is added to the norm before dividing, as in PyTorch's
// clip_grad_norm_.
const clipEps = 1e-6

// AdamWParams returns β1, β2 and ε with the defaults (PyTorch's: 0.9,
// 0.999, 1e-8) filled in for the zero values.
func (s Settings) AdamWParams() (beta1, beta2, eps float64) {
	s.Method = MethodAdamW
	return s.adaptive()
}

// adamWScalars are the per-step scalars of an AdamW update, computed in
// float64 once per group.
type adamWScalars struct {
	lr, b2, eps float32
	omb1, omb2  float32 // 1−β1 and 1−β2, rounded from float64 as PyTorch's Python scalars are
	stepSize    float32 // lr/(1−β1ᵗ)
	bc2Sqrt     float32 // √(1−β2ᵗ)
}

// adamWStep returns the scalars of the update made at 0-based step with
// rate lr (zero for other methods).
func (s Settings) adamWStep(lr float64, step int64) adamWScalars {
	if s.Method != MethodAdamW {
		return adamWScalars{}
	}
	b1, b2, eps := s.AdamWParams()
	t := float64(step + 1)
	return adamWScalars{lr: float32(lr), b2: float32(b2), eps: float32(eps), omb1: float32(1 - b1), omb2: float32(1 - b2),
		stepSize: float32(lr / (1 - math.Pow(b1, t))), bc2Sqrt: float32(math.Sqrt(1 - math.Pow(b2, t)))}
}

// updateAdamW does one AdamW update of p with gradient g, moments m and v
// and decoupled decay wd, in PyTorch's order of operations.
func updateAdamW(p, g, m, v []float32, wd float32, s adamWScalars) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	decay := 1 - s.lr*wd
	for i := range p {
		d := g[i]
		pi := p[i]
		if wd != 0 {
			pi *= decay
		}
		mi := m[i] + (d-m[i])*s.omb1 // lerp, as torch's exp_avg.lerp_
		vi := s.b2*v[i] + s.omb2*d*d
		m[i], v[i] = mi, vi
		p[i] = pi - s.stepSize*mi/(float32(math.Sqrt(float64(vi)))/s.bc2Sqrt+s.eps)
	}
}

// ClipGlobalNorm scales the gradients of params (those with a non-nil
// Grad) in place so that their global L2 norm, the norm of all of them
// concatenated, is at most maxNorm, as PyTorch's
// torch.nn.utils.clip_grad_norm_: every gradient is multiplied by
// min(1, maxNorm/(norm + 1e-6)). It returns the norm before clipping,
// accumulated in float64. maxNorm ≤ 0 only measures. A non-finite norm is
// returned and nothing is scaled (the divergence check then names the
// parameter).
func ClipGlobalNorm(params []*nn.Param, maxNorm float64) float64 {
	var sq float64
	for _, p := range params {
		if p != nil && p.Grad != nil {
			sq += sumSquares(p.Grad.Data)
		}
	}
	norm := math.Sqrt(sq)
	if c, ok := clipFactor(norm, maxNorm); ok {
		for _, p := range params {
			if p != nil && p.Grad != nil {
				scale(p.Grad.Data, c)
			}
		}
	}
	return norm
}

// clipGroup is ClipGlobalNorm over a group's entries, without allocating.
func clipGroup(entries []entry, maxNorm float64) float64 {
	var sq float64
	for _, e := range entries {
		sq += sumSquares(e.p.Grad.Data)
	}
	norm := math.Sqrt(sq)
	if c, ok := clipFactor(norm, maxNorm); ok {
		for _, e := range entries {
			scale(e.p.Grad.Data, c)
		}
	}
	return norm
}

// clipFactor returns the factor maxNorm/(norm + 1e-6) and whether it
// clips (is below 1, with a finite norm and maxNorm > 0).
func clipFactor(norm, maxNorm float64) (float32, bool) {
	if maxNorm <= 0 || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return 1, false
	}
	c := maxNorm / (norm + clipEps)
	return float32(c), c < 1
}

func sumSquares(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

func scale(x []float32, c float32) {
	for i := range x {
		x[i] *= c
	}
}

// GradNorm returns the global L2 norm of group i's gradients before
// clipping at the last step, or 0 if the group does not clip (ClipNorm 0)
// or no step was taken.
func (o *SGD) GradNorm(i int) float64 { return o.groups[i].norm }
