package rules

import (
	"math"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// Coeffs weights the five regularization primitives of Kunin et al.
// (2020) (see the package documentation for their formulas):
//
//	R = Decay·‖B‖² − Amp·E[yᵀBx] + Null·E‖Bᵀy‖² + Sparse·E‖Bx‖² − Self·Σ W⊙B
//
// so that
//
//	∇_B R = 2·Decay·B − Amp·E[y xᵀ] + 2·Null·E[y (Bᵀy)ᵀ] + 2·Sparse·E[(Bx) xᵀ] − Self·W.
type Coeffs struct {
	Decay, Amp, Null, Sparse, Self float64
}

// PrimitiveNames lists the primitives in the order of [Coeffs].
var PrimitiveNames = []string{"decay", "amp", "null", "sparse", "self"}

// regularizer is the per-layer feedback of every rule defined by a
// regularizer: it computes ∇_B R with the layer's own linear operators, so
// one formula serves dense and convolutional layers. Terms are fused so
// that the common rules need a single Outer product (a product the size of
// the weight gradient): Amp and Sparse share one output-space signal
// u = 2·Sparse·(Bx) − Amp·y, and Amp and Null one input-space signal
// v = 2·Null·(Bᵀy) − Amp·x.
type regularizer struct {
	k Coeffs
	b *nn.Param
	// noiseStd > 0 replaces x by N(0, noiseStd²) noise and y by W times it
	// (the mirror phase of Akrout et al. 2019).
	noiseStd float64
	seed, id uint64
	s        *regScratch
	// meanPos divides the data terms by the number of output positions.
	meanPos bool
	// frac is the fraction of each batch the data terms use (Env.Fraction).
	frac float64
	// sched, when set, replaces k step by step.
	sched *scheduler
	// bias adds the layer's bias to y and Bx ([Env.Bias]).
	bias bool
	// border is the layer's padded-input maps when Null includes the
	// border ([Env.NullBorder]) and the layer is strided and padded.
	border nn.Bordered
	// in standardises x (see InputOptions).
	in InputOptions
}

// regScratch is the working memory of the regularizers of one binding:
// Update runs layer after layer, so all layers share it and it is as large
// as the largest layer's activations, not their sum.
type regScratch struct {
	bx, z, sig, xn, yn, yb tensor.Tensor
	// xh and yh view the first samples of x and y (Env.Fraction).
	xh, yh     tensor.Tensor
	xs, xb, yc tensor.Tensor // standardised and batch-centred x, centred y
	ones, mean tensor.Tensor
}

func newRegularizer(k Coeffs, noiseStd float64, l nn.WeightLayer, env *Env) *regularizer {
	b := env.NewFeedbackParam(l, true)
	l.SetFeedback(b)
	if env.scratch == nil {
		env.scratch = new(regScratch)
	}
	r := &regularizer{k: k, noiseStd: noiseStd, b: b, seed: env.Seed, id: hashString(l.Name()), s: env.scratch,
		meanPos: env.Positions != PositionsSum, bias: env.Bias && l.Bias() != nil, sched: env.sched, frac: env.Fraction,
		in: env.Input}
	if bl, ok := l.(nn.Bordered); ok && env.NullBorder && bl.StridedPadded() {
		r.border = bl
	}
	return r
}

// applyT computes dst = Bᵀ ⋆ v, onto the padded input when the border is
// included.
func (r *regularizer) applyT(e engine.Backend, l nn.WeightLayer, dst, m, v *tensor.Tensor) {
	if r.border != nil {
		r.border.ApplyTBorder(e, dst, m, v)
		return
	}
	l.ApplyT(e, dst, m, v)
}

// outerNull computes dst = beta·dst + alpha·Σ y ⊗ z for the Null term's z
// (of the padded input's shape when the border is included).
func (r *regularizer) outerNull(e engine.Backend, l nn.WeightLayer, dst, y, z *tensor.Tensor, alpha, beta float32) {
	if r.border != nil {
		r.border.OuterBorder(e, dst, y, z, alpha, beta)
		return
	}
	l.Outer(e, dst, y, z, alpha, beta)
}

// applyB computes dst = B ⋆ x, plus the bias when it is included.
func (r *regularizer) applyB(e engine.Backend, l nn.WeightLayer, dst, b, x *tensor.Tensor) {
	l.Apply(e, dst, b, x)
	if r.bias {
		e.AddBias(dst, l.Bias().Value.Data)
	}
}

// coeffs returns the coefficients of the current step.
func (r *regularizer) coeffs(c *nn.Ctx) Coeffs {
	if r.sched != nil {
		return r.sched.at(c.Step)
	}
	return r.k
}

// norm returns what the data terms are divided by: the batch size, times
// the number of output positions when they are averaged over positions.
func (r *regularizer) norm(x, y *tensor.Tensor, l nn.WeightLayer) float64 {
	n := float64(x.Shape[0])
	if r.meanPos {
		n = float64(len(y.Data)) / float64(l.Weight().Value.Shape[0])
	}
	return n
}

// Prepare does nothing: B is a trained parameter.
func (r *regularizer) Prepare(*nn.Ctx, nn.WeightLayer) {}

// inputs returns the x and y the regularizer sees: x enters the backward
// projection Bx (and the Amp and Sparse gradients), y = Wx is the forward
// projection; both of the first FractionRows(frac, N) samples of the batch.
func (r *regularizer) inputs(c *nn.Ctx, l nn.WeightLayer) (x, y *tensor.Tensor) {
	x = l.Input()
	rows := FractionRows(r.frac, x.Shape[0])
	if rows < x.Shape[0] {
		x = head(&r.s.xh, x, rows)
	}
	fresh := false // y must be recomputed from x
	if r.noiseStd != 0 {
		r.s.xn.ResizeLike(x)
		per := x.RowLen()
		for n := 0; n < rows; n++ {
			// One stream per global sample (see nn.Ctx.Offset).
			rng := tensor.NewRand(r.seed, tensor.Mix(c.Step, r.id, 0x6e6f697365, uint64(c.Offset+n)))
			row := tensor.FromData(r.s.xn.Data[n*per:(n+1)*per], per)
			tensor.FillNormal(row, rng, r.noiseStd)
		}
		x, fresh = &r.s.xn, true
	}
	if r.in.Center || r.in.Normalize {
		r.standardize(c.E, x)
		x, fresh = &r.s.xs, true
	}
	if fresh {
		l.Apply(c.E, &r.s.yn, l.Weight().Value, x)
		if r.bias {
			c.E.AddBias(&r.s.yn, l.Bias().Value.Data)
		}
		y = &r.s.yn
	} else {
		y = l.Preactivation(c.E)
		if r.bias {
			r.s.yb.CopyFrom(y)
			c.E.AddBias(&r.s.yb, l.Bias().Value.Data)
			y = &r.s.yb
		}
		if rows < y.Shape[0] {
			y = head(&r.s.yh, y, rows)
		}
	}
	if r.in.BatchCenterOutput {
		r.batchCenter(c.E, &r.s.yc, y)
		y = &r.s.yc
	}
	if r.in.BatchCenter {
		r.batchCenter(c.E, &r.s.xb, x)
		x = &r.s.xb
	}
	return x, y
}

// standardize writes x centred per sample (and, with Normalize, scaled to
// unit norm per sample) into r.s.xs.
func (r *regularizer) standardize(e engine.Backend, x *tensor.Tensor) {
	xs := &r.s.xs
	xs.ResizeLike(x)
	copy(xs.Data, x.Data)
	per := x.RowLen()
	ones := r.onesOf(per)
	for n := 0; n < x.Shape[0]; n++ {
		row := xs.Data[n*per : (n+1)*per]
		e.Axpy(-float32(e.Dot(row, ones)/float64(per)), ones, row)
		if r.in.Normalize {
			// tf.math.l2_normalize: x / sqrt(max(‖x‖², 1e-12)).
			e.Scale(float32(1/math.Sqrt(math.Max(e.Dot(row, row), 1e-12))), row)
		}
	}
}

// batchCenter writes x minus its batch mean (per entry) into xb.
func (r *regularizer) batchCenter(e engine.Backend, xb, x *tensor.Tensor) {
	xb.ResizeLike(x)
	copy(xb.Data, x.Data)
	per, n := x.RowLen(), x.Shape[0]
	m := &r.s.mean
	m.Resize(per)
	clear(m.Data)
	for i := 0; i < n; i++ {
		e.Axpy(1/float32(n), x.Data[i*per:(i+1)*per], m.Data)
	}
	for i := 0; i < n; i++ {
		e.Axpy(-1, m.Data, xb.Data[i*per:(i+1)*per])
	}
}

// onesOf returns a slice of n ones.
func (r *regularizer) onesOf(n int) []float32 {
	o := &r.s.ones
	if len(o.Data) != n {
		o.Resize(n)
		o.Fill(1)
	}
	return o.Data
}

// Update writes ∇_B R into B.Grad.
func (r *regularizer) Update(c *nn.Ctx, l nn.WeightLayer) {
	x, y := r.inputs(c, l)
	e := c.E
	g := r.b.Grad
	B, W := r.b.Value, l.Weight().Value
	inv := float32(1 / r.norm(x, y, l))
	k := r.coeffs(c)
	outer := false
	if k.Null != 0 && k.Sparse == 0 && r.border == nil {
		// v = 2·Null·Bᵀy − Amp·x; ∇ += E[y vᵀ].
		l.ApplyT(e, &r.s.sig, B, y)
		e.Scale(float32(2*k.Null), r.s.sig.Data)
		if k.Amp != 0 {
			e.Axpy(float32(-k.Amp), x.Data, r.s.sig.Data)
		}
		l.Outer(e, g, y, &r.s.sig, inv, 0)
		outer = true
	} else {
		if k.Amp != 0 || k.Sparse != 0 {
			// u = 2·Sparse·Bx − Amp·y; ∇ += E[u xᵀ].
			if k.Sparse != 0 {
				r.applyB(e, l, &r.s.sig, B, x)
				e.Scale(float32(2*k.Sparse), r.s.sig.Data)
			} else {
				r.s.sig.ResizeLike(y)
				clear(r.s.sig.Data)
			}
			if k.Amp != 0 {
				e.Axpy(float32(-k.Amp), y.Data, r.s.sig.Data)
			}
			l.Outer(e, g, &r.s.sig, x, inv, 0)
			outer = true
		}
		if k.Null != 0 {
			r.applyT(e, l, &r.s.z, B, y)
			beta := float32(0)
			if outer {
				beta = 1
			}
			r.outerNull(e, l, g, y, &r.s.z, 2*float32(k.Null)*inv, beta)
			outer = true
		}
	}
	if !outer {
		clear(g.Data)
	}
	if k.Decay != 0 {
		e.Axpy(float32(2*k.Decay), B.Data, g.Data)
	}
	if k.Self != 0 {
		e.Axpy(float32(-k.Self), W.Data, g.Data)
	}
}

// Loss returns R on the last batch, with the constants of the official
// code included (Decay adds ‖W‖² and Sparse adds E‖Wx‖²), so that for
// example symmetric alignment's default reads α‖W − B‖².
func (r *regularizer) Loss(c *nn.Ctx, l nn.WeightLayer) float64 {
	x, y := r.inputs(c, l)
	e := c.E
	B, W := r.b.Value, l.Weight().Value
	n := r.norm(x, y, l)
	k := r.coeffs(c)
	var R float64
	if k.Decay != 0 {
		R += k.Decay * (e.Dot(B.Data, B.Data) + e.Dot(W.Data, W.Data))
	}
	if k.Self != 0 {
		R -= k.Self * e.Dot(W.Data, B.Data)
	}
	if k.Amp != 0 || k.Sparse != 0 {
		r.applyB(e, l, &r.s.bx, B, x)
		if k.Amp != 0 {
			R -= k.Amp * e.Dot(y.Data, r.s.bx.Data) / n
		}
		if k.Sparse != 0 {
			R += k.Sparse * (e.Dot(r.s.bx.Data, r.s.bx.Data) + e.Dot(y.Data, y.Data)) / n
		}
	}
	if k.Null != 0 {
		r.applyT(e, l, &r.s.z, B, y)
		R += k.Null * e.Dot(r.s.z.Data, r.s.z.Data) / n
	}
	return R
}

// head makes dst a view of the first rows samples of t and returns it.
func head(dst, t *tensor.Tensor, rows int) *tensor.Tensor {
	dst.Shape = append(append(dst.Shape[:0], rows), t.Shape[1:]...)
	dst.Data = t.Data[:rows*t.RowLen()]
	return dst
}

// hashString returns a stable 64-bit FNV-1a hash.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
