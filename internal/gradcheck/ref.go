package gradcheck

import (
	"fmt"
	"math"
)

// Conv is the geometry of a reference 2-D convolution (cross-correlation,
// PyTorch's Conv2d) of an (N, C, H, W) input with weights of shape
// (Out, C/G, KH, KW). Zero strides, dilations and groups mean 1.
type Conv struct {
	N, C, H, W int
	Out        int
	KH, KW     int
	SH, SW     int // strides
	PH, PW     int // zero padding
	DH, DW     int // dilations
	G          int // groups
}

func (g Conv) norm() Conv {
	one := func(v *int) {
		if *v == 0 {
			*v = 1
		}
	}
	one(&g.SH)
	one(&g.SW)
	one(&g.DH)
	one(&g.DW)
	one(&g.G)
	return g
}

// OutHW returns the output height and width.
func (g Conv) OutHW() (oh, ow int) {
	g = g.norm()
	return (g.H+2*g.PH-g.DH*(g.KH-1)-1)/g.SH + 1, (g.W+2*g.PW-g.DW*(g.KW-1)-1)/g.SW + 1
}

// WeightLen returns the number of weights.
func (g Conv) WeightLen() int { g = g.norm(); return g.Out * g.C / g.G * g.KH * g.KW }

// Forward returns y = w ⋆ x, of shape (N, Out, OH, OW), by direct
// summation in float64.
func (g Conv) Forward(x, w []float64) []float64 {
	g = g.norm()
	oh, ow := g.OutHW()
	cg, og := g.C/g.G, g.Out/g.G
	if len(x) != g.N*g.C*g.H*g.W || len(w) != g.WeightLen() {
		panic(fmt.Sprintf("gradcheck: Conv.Forward: %d inputs and %d weights for %+v", len(x), len(w), g))
	}
	y := make([]float64, g.N*g.Out*oh*ow)
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.Out; o++ {
			grp := o / og
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					for ci := 0; ci < cg; ci++ {
						c := grp*cg + ci
						for kh := 0; kh < g.KH; kh++ {
							ih := i*g.SH - g.PH + kh*g.DH
							if ih < 0 || ih >= g.H {
								continue
							}
							for kw := 0; kw < g.KW; kw++ {
								iw := j*g.SW - g.PW + kw*g.DW
								if iw < 0 || iw >= g.W {
									continue
								}
								s += x[((n*g.C+c)*g.H+ih)*g.W+iw] * w[((o*cg+ci)*g.KH+kh)*g.KW+kw]
							}
						}
					}
					y[((n*g.Out+o)*oh+i)*ow+j] = s
				}
			}
		}
	}
	return y
}

// Linear returns y = x wᵀ + b for x of shape (n, in) and w of shape
// (out, in); b may be nil.
func Linear(x, w, b []float64, n, in, out int) []float64 {
	y := make([]float64, n*out)
	for i := 0; i < n; i++ {
		for o := 0; o < out; o++ {
			var s float64
			for k := 0; k < in; k++ {
				s += x[i*in+k] * w[o*in+k]
			}
			if b != nil {
				s += b[o]
			}
			y[i*out+o] = s
		}
	}
	return y
}

// AddBias returns y + b[c] over a (n, c, s) tensor.
func AddBias(y, b []float64, n, c, s int) []float64 {
	z := make([]float64, len(y))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for k := 0; k < s; k++ {
				o := (i*c+ch)*s + k
				z[o] = y[o] + b[ch]
			}
		}
	}
	return z
}

// BatchNorm returns the training-mode batch normalisation of x, of shape
// (n, c, s), with batch mean and biased variance over n and s, and those
// statistics.
func BatchNorm(x, gamma, beta []float64, n, c, s int, eps float64) (y, mean, variance []float64) {
	y = make([]float64, len(x))
	mean, variance = make([]float64, c), make([]float64, c)
	m := float64(n * s)
	for ch := 0; ch < c; ch++ {
		var sum float64
		for i := 0; i < n; i++ {
			for k := 0; k < s; k++ {
				sum += x[(i*c+ch)*s+k]
			}
		}
		mu := sum / m
		var ss float64
		for i := 0; i < n; i++ {
			for k := 0; k < s; k++ {
				d := x[(i*c+ch)*s+k] - mu
				ss += d * d
			}
		}
		v := ss / m
		mean[ch], variance[ch] = mu, v
		is := 1 / math.Sqrt(v+eps)
		for i := 0; i < n; i++ {
			for k := 0; k < s; k++ {
				o := (i*c+ch)*s + k
				y[o] = gamma[ch]*(x[o]-mu)*is + beta[ch]
			}
		}
	}
	return y, mean, variance
}

// BatchNormInfer normalises x of shape (n, c, s) with given statistics.
func BatchNormInfer(x, gamma, beta, mean, variance []float64, n, c, s int, eps float64) []float64 {
	y := make([]float64, len(x))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			is := 1 / math.Sqrt(variance[ch]+eps)
			for k := 0; k < s; k++ {
				o := (i*c+ch)*s + k
				y[o] = gamma[ch]*(x[o]-mean[ch])*is + beta[ch]
			}
		}
	}
	return y
}

// ReLU returns max(x, 0) and the smallest |x_i|, the distance of the
// input to the kink (finite differences with a smaller step see a smooth
// function).
func ReLU(x []float64) (y []float64, margin float64) {
	y = make([]float64, len(x))
	margin = math.Inf(1)
	for i, v := range x {
		y[i] = max(v, 0)
		margin = min(margin, math.Abs(v))
	}
	return y, margin
}

// Pool is the geometry of a reference 2-D pooling over an (N, C, H, W)
// input (floor mode). Zero strides mean the window size.
type Pool struct {
	N, C, H, W int
	KH, KW     int
	SH, SW     int
	PH, PW     int
	// EH and EW pad the bottom and right by that much more than the top
	// and left (TensorFlow's "SAME").
	EH, EW int
}

func (p Pool) norm() Pool {
	if p.SH == 0 {
		p.SH = p.KH
	}
	if p.SW == 0 {
		p.SW = p.KW
	}
	return p
}

// OutHW returns the output height and width.
func (p Pool) OutHW() (oh, ow int) {
	p = p.norm()
	return (p.H+2*p.PH+p.EH-p.KH)/p.SH + 1, (p.W+2*p.PW+p.EW-p.KW)/p.SW + 1
}

// window calls fn with the in-bounds rows [h0, h1) and columns [w0, w1)
// of every output window, padding excluded.
func (p Pool) window(fn func(plane, oi, oj, h0, h1, w0, w1 int)) {
	p = p.norm()
	oh, ow := p.OutHW()
	for pl := 0; pl < p.N*p.C; pl++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				h0, w0 := i*p.SH-p.PH, j*p.SW-p.PW
				fn(pl, i, j, max(h0, 0), min(h0+p.KH, p.H), max(w0, 0), min(w0+p.KW, p.W))
			}
		}
	}
}

// Max returns the max pooling of x (padding never wins) and the smallest
// gap between the largest and second-largest value of a window (+Inf if
// every window has one element): finite differences with a smaller step
// never change an arg-max.
func (p Pool) Max(x []float64) (y []float64, margin float64) {
	oh, ow := p.OutHW()
	y = make([]float64, p.N*p.C*oh*ow)
	margin = math.Inf(1)
	p.window(func(pl, i, j, h0, h1, w0, w1 int) {
		best, second := math.Inf(-1), math.Inf(-1)
		for h := h0; h < h1; h++ {
			for w := w0; w < w1; w++ {
				v := x[(pl*p.H+h)*p.W+w]
				if v > best {
					best, second = v, best
				} else if v > second {
					second = v
				}
			}
		}
		y[(pl*oh+i)*ow+j] = best
		margin = min(margin, best-second)
	})
	return y, margin
}

// Avg returns the average pooling of x, padding excluded from the count
// (PyTorch's count_include_pad=False).
func (p Pool) Avg(x []float64) []float64 {
	oh, ow := p.OutHW()
	y := make([]float64, p.N*p.C*oh*ow)
	p.window(func(pl, i, j, h0, h1, w0, w1 int) {
		var s float64
		for h := h0; h < h1; h++ {
			for w := w0; w < w1; w++ {
				s += x[(pl*p.H+h)*p.W+w]
			}
		}
		y[(pl*oh+i)*ow+j] = s / float64((h1-h0)*(w1-w0))
	})
	return y
}

// GlobalAvg returns the mean of every plane of x, of shape (n, c, s).
func GlobalAvg(x []float64, n, c, s int) []float64 {
	y := make([]float64, n*c)
	for i := range y {
		var t float64
		for _, v := range x[i*s : (i+1)*s] {
			t += v
		}
		y[i] = t / float64(s)
	}
	return y
}

// Mul returns a ⊙ b.
func Mul(a, b []float64) []float64 {
	y := make([]float64, len(a))
	for i := range y {
		y[i] = a[i] * b[i]
	}
	return y
}

// Add returns a + b.
func Add(a, b []float64) []float64 {
	y := make([]float64, len(a))
	for i := range y {
		y[i] = a[i] + b[i]
	}
	return y
}

// Dot returns Σ a_i·b_i.
func Dot(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("gradcheck: Dot: lengths %d and %d", len(a), len(b)))
	}
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// SoftmaxCE returns the mean over the n rows of logits (n, k) of the
// cross-entropy of softmax(row) against the label smoothed by eps:
// q = (1−eps)·onehot + eps/k.
func SoftmaxCE(logits []float64, labels []int32, k int, eps float64) float64 {
	var loss float64
	for i, lab := range labels {
		row := logits[i*k : (i+1)*k]
		mx, se := maxSumExp(row)
		lse := mx + math.Log(se)
		for j, v := range row {
			q := eps / float64(k)
			if j == int(lab) {
				q += 1 - eps
			}
			loss -= q * (v - lse)
		}
	}
	return loss / float64(len(labels))
}

// BatchNormMags returns the magnitudes that bound the float32 rounding
// errors of a training-mode batch normalisation of x (n, c, s) with
// gradient r of the output (see engine/bn.go: statistics summed in float64
// and rounded once to float32, x̂ = (x−μ)·σ⁻¹, δx = γσ⁻¹·(δy − mean δy −
// x̂·mean(δy·x̂))). A first-order analysis gives
//
//	|δy_i|  ≤ γ₆·yMag_i,   yMag  = |γ|σ⁻¹(|x|+|μ|) + |β|
//	|δ(δβ)| ≤ γ₁·dbMag,    dbMag = Σ|r|
//	|δ(δγ)| ≤ γ₂·dgMag,    dgMag = Σ|r|·(|x̂| + |μ|σ⁻¹)
//	|δ(δx)| ≤ γ₈·dxMag_i,  dxMag = |γ|σ⁻¹·(|r| + |mean r| + (|x̂|+|μ|σ⁻¹)·(|mean r·x̂| + mean |r|·(|x̂|+|μ|σ⁻¹)))
//
// where the terms with |μ|σ⁻¹ come from the rounding of μ and σ⁻¹ to
// float32 before they are reused.
func BatchNormMags(x, gamma, beta, r []float64, n, c, s int, eps float64) (y, dx, dgamma, dbeta []float64) {
	_, mu, vr := BatchNorm(x, gamma, beta, n, c, s, eps)
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	dgamma, dbeta = make([]float64, c), make([]float64, c)
	m := float64(n * s)
	for ch := 0; ch < c; ch++ {
		is := 1 / math.Sqrt(vr[ch]+eps)
		mis := math.Abs(mu[ch]) * is
		var sdy, sdyx, sad, sadx float64
		for i := 0; i < n; i++ {
			for k := 0; k < s; k++ {
				o := (i*c+ch)*s + k
				xh := (x[o] - mu[ch]) * is
				sdy += r[o]
				sdyx += r[o] * xh
				sad += math.Abs(r[o])
				sadx += math.Abs(r[o]) * (math.Abs(xh) + mis)
			}
		}
		dbeta[ch], dgamma[ch] = sad, sadx
		g := math.Abs(gamma[ch]) * is
		for i := 0; i < n; i++ {
			for k := 0; k < s; k++ {
				o := (i*c+ch)*s + k
				xh := math.Abs(x[o]-mu[ch])*is + mis
				y[o] = g*(math.Abs(x[o])+math.Abs(mu[ch])) + math.Abs(beta[ch])
				dx[o] = g * (math.Abs(r[o]) + math.Abs(sdy)/m + xh*(math.Abs(sdyx)/m+sadx/m))
			}
		}
	}
	return y, dx, dgamma, dbeta
}

// maxSumExp returns the largest value of row and Σ exp(v − max), the
// stable parts of a softmax or log-sum-exp.
func maxSumExp(row []float64) (mx, sum float64) {
	mx = math.Inf(-1)
	for _, v := range row {
		mx = max(mx, v)
	}
	for _, v := range row {
		sum += math.Exp(v - mx)
	}
	return mx, sum
}
