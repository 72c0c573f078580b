package engine

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/tensor"
)

// minElemWork is the number of elements below which elementwise kernels
// run on one goroutine.
const minElemWork = 1 << 15

func (c *CPU) each(n int, fn func(lo, hi int)) {
	c.parallel(n, minElemWork, func(_, lo, hi int) { fn(lo, hi) })
}

// ReLU computes y = max(x, 0) (branch-free: the sign bit masks the value,
// so random signs cost no mispredictions; a positive NaN passes through).
func (c *CPU) ReLU(y, x *tensor.Tensor) {
	y.ResizeLike(x)
	c.each(len(x.Data), func(lo, hi int) { reluSlice(y.Data[lo:hi], x.Data[lo:hi]) })
}

// ReLUGrad computes dx = dy·[y > 0] (branch-free).
func (c *CPU) ReLUGrad(dx, dy, y *tensor.Tensor) {
	tensor.MustSameShape("ReLUGrad", dy, y)
	dx.ResizeLike(dy)
	c.each(len(dy.Data), func(lo, hi int) { reluGradSlice(dx.Data[lo:hi], dy.Data[lo:hi], y.Data[lo:hi]) })
}

// Add computes dst = a + b.
func (c *CPU) Add(dst, a, b *tensor.Tensor) {
	tensor.MustSameShape("Add", a, b)
	dst.ResizeLike(a)
	c.each(len(a.Data), func(lo, hi int) { addSlice(dst.Data[lo:hi], a.Data[lo:hi], b.Data[lo:hi]) })
}

// AddReLU computes dst = max(a + b, 0), bit for bit as Add followed by
// ReLU but in one pass over memory (the activation of a residual block).
// It is not part of [Backend]; layers use it when the backend has it.
func (c *CPU) AddReLU(dst, a, b *tensor.Tensor) {
	tensor.MustSameShape("AddReLU", a, b)
	dst.ResizeLike(a)
	c.each(len(a.Data), func(lo, hi int) { addReLUSlice(dst.Data[lo:hi], a.Data[lo:hi], b.Data[lo:hi]) })
}

// Mul computes dst = a ⊙ b.
func (c *CPU) Mul(dst, a, b *tensor.Tensor) {
	tensor.MustSameShape("Mul", a, b)
	dst.ResizeLike(a)
	c.each(len(a.Data), func(lo, hi int) {
		as, bs, ds := a.Data[lo:hi], b.Data[lo:hi], dst.Data[lo:hi]
		for i := range ds {
			ds[i] = as[i] * bs[i]
		}
	})
}

// Axpy computes y += alpha·x.
func (c *CPU) Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("engine: Axpy: lengths %d and %d", len(x), len(y)))
	}
	c.each(len(x), func(lo, hi int) {
		ys := y[lo:hi]
		for i, v := range x[lo:hi] {
			ys[i] += alpha * v
		}
	})
}

// Scale computes x *= alpha.
func (c *CPU) Scale(alpha float32, x []float32) {
	c.each(len(x), func(lo, hi int) {
		xs := x[lo:hi]
		for i := range xs {
			xs[i] *= alpha
		}
	})
}

// Dot returns Σ x_i·y_i in float64 (serial, so reproducible).
func (c *CPU) Dot(x, y []float32) float64 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("engine: Dot: lengths %d and %d", len(x), len(y)))
	}
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return s
}

// AddBias adds b[c] to channel c of y (N, C, S...).
func (c *CPU) AddBias(y *tensor.Tensor, b []float32) {
	C := len(b)
	N, S := bnDims("AddBias", y, C)
	c.parallel(N, max(1, minElemWork/max(C*S, 1)), func(_, lo, hi int) {
		if S == 1 { // dense rows (N, C): one vector add per row
			for n := lo; n < hi; n++ {
				row := y.Data[n*C : (n+1)*C]
				addSlice(row, row, b)
			}
			return
		}
		for n := lo; n < hi; n++ {
			for ch, bv := range b {
				row := y.Data[(n*C+ch)*S : (n*C+ch+1)*S]
				for i := range row {
					row[i] += bv
				}
			}
		}
	})
}

// BiasGrad computes db[c] = beta·db[c] + Σ_{n,s} dy[n,c,s] (float64 sums).
func (c *CPU) BiasGrad(db []float32, dy *tensor.Tensor, beta float32) {
	C := len(db)
	N, S := bnDims("BiasGrad", dy, C)
	if S == 1 { // dense rows (N, C): float64 column sums, row by row
		c.denseBiasGrad(db, dy.Data, N, beta)
		return
	}
	c.parallel(C, max(1, minElemWork/max(N*S, 1)), func(_, lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s float64
			for n := 0; n < N; n++ {
				for _, v := range dy.Data[(n*C+ch)*S : (n*C+ch+1)*S] {
					s += float64(v)
				}
			}
			if beta == 0 {
				db[ch] = float32(s)
			} else {
				db[ch] = beta*db[ch] + float32(s)
			}
		}
	})
}

// denseBiasGrad is BiasGrad of N rows of len(db) values: the columns are
// split over workers, and each sums its columns in float64 in row order
// (the order of the general case, so the result is the same).
func (c *CPU) denseBiasGrad(db, dy []float32, N int, beta float32) {
	C := len(db)
	if cap(c.biasAcc) < C {
		c.biasAcc = make([]float64, C)
	}
	acc := c.biasAcc[:C]
	clear(acc)
	c.parallel(C, max(1, minElemWork/max(N, 1)), func(_, lo, hi int) {
		for n := 0; n < N; n++ {
			accF64Slice(acc[lo:hi], dy[n*C+lo:n*C+hi])
		}
	})
	for ch, s := range acc {
		if beta == 0 {
			db[ch] = float32(s)
		} else {
			db[ch] = beta*db[ch] + float32(s)
		}
	}
}

// SoftmaxCrossEntropy returns the mean loss of softmax(logits) against
// labels smoothed by eps (target q = (1−eps)·onehot + eps/K) and the number
// of correct predictions; dlogits (if non-nil) receives (p − q)/N.
func (c *CPU) SoftmaxCrossEntropy(dlogits, logits *tensor.Tensor, labels []int32, eps float32) (float64, int) {
	if logits.Rank() != 2 || logits.Shape[0] != len(labels) {
		panic(fmt.Sprintf("engine: SoftmaxCrossEntropy: logits %v with %d labels", logits.Shape, len(labels)))
	}
	for _, y := range labels {
		if y < 0 || int(y) >= logits.Shape[1] {
			panic(fmt.Sprintf("engine: SoftmaxCrossEntropy: label %d outside [0, %d)", y, logits.Shape[1]))
		}
	}
	loss, correct := softmaxCE(dlogits, logits, labels, len(labels), logits.Shape[1], -1, eps)
	return loss / float64(len(labels)), correct
}

// TokenCrossEntropy computes the mean cross-entropy of softmax over the
// last dimension of logits (N, …, K) against one label per position
// (len(labels) = N·…), skipping positions labelled ignore: they get a zero
// gradient and are not counted. It writes the gradient of the mean into
// dlogits (nil to skip) and returns the mean loss, the number of correct
// arg-max predictions and the number of counted positions (the loss is 0
// when none is counted).
func (c *CPU) TokenCrossEntropy(dlogits, logits *tensor.Tensor, labels []int32, ignore int32, eps float32) (float64, int, int) {
	if logits.Rank() < 2 {
		panic(fmt.Sprintf("engine: TokenCrossEntropy: logits %v", logits.Shape))
	}
	K := logits.Shape[logits.Rank()-1]
	if len(logits.Data) != len(labels)*K {
		panic(fmt.Sprintf("engine: TokenCrossEntropy: logits %v with %d labels", logits.Shape, len(labels)))
	}
	count := 0
	for _, y := range labels {
		if y == ignore {
			continue
		}
		if y < 0 || int(y) >= K {
			panic(fmt.Sprintf("engine: TokenCrossEntropy: label %d outside [0, %d)", y, K))
		}
		count++
	}
	if count == 0 {
		if dlogits != nil {
			dlogits.ResizeLike(logits)
			clear(dlogits.Data)
		}
		return 0, 0, 0
	}
	loss, correct := softmaxCE(dlogits, logits, labels, count, K, ignore, eps)
	return loss / float64(count), correct, count
}

// softmaxCE is the row loop of the cross-entropy kernels: it returns the
// summed loss of the rows whose label is not ignore (−1 never occurs as a
// label of SoftmaxCrossEntropy) and writes their gradient divided by
// denom; ignored rows get a zero gradient.
func softmaxCE(dlogits, logits *tensor.Tensor, labels []int32, denom, K int, ignore int32, eps float32) (float64, int) {
	N := len(labels)
	if dlogits != nil {
		dlogits.ResizeLike(logits)
	}
	var loss float64
	correct := 0
	off := float64(eps) / float64(K)
	on := 1 - float64(eps) + off
	for n := 0; n < N; n++ {
		row := logits.Data[n*K : (n+1)*K]
		if labels[n] == ignore {
			if dlogits != nil {
				clear(dlogits.Data[n*K : (n+1)*K])
			}
			continue
		}
		y := int(labels[n])
		mx := row[0]
		arg := 0
		for k, v := range row {
			if v > mx || v != v {
				mx, arg = v, k
			}
		}
		if arg == y {
			correct++
		}
		var se float64
		for _, v := range row {
			se += math.Exp(float64(v - mx))
		}
		lse := float64(mx) + math.Log(se)
		for k, v := range row {
			q := off
			if k == y {
				q = on
			}
			if q != 0 {
				loss -= q * (float64(v) - lse)
			}
			if dlogits != nil {
				p := math.Exp(float64(v) - lse)
				dlogits.Data[n*K+k] = float32((p - q) / float64(denom))
			}
		}
	}
	return loss, correct
}

// TopKCorrect returns the number of rows of logits (N×K) whose label is
// among the k largest logits: the label's logit is exceeded by fewer than
// k others (ties counted in the label's favour, as tf.nn.in_top_k does).
// A row with a NaN logit for its label is not correct. It panics on
// mismatched shapes or k < 1.
func TopKCorrect(logits *tensor.Tensor, labels []int32, k int) int {
	if logits.Rank() != 2 || logits.Shape[0] != len(labels) || k < 1 {
		panic(fmt.Sprintf("engine: TopKCorrect: logits %v with %d labels, k = %d", logits.Shape, len(labels), k))
	}
	K := logits.Shape[1]
	n := 0
	for i, lab := range labels {
		row := logits.Data[i*K : (i+1)*K]
		v := row[lab]
		if v != v {
			continue
		}
		above := 0
		for _, x := range row {
			if x > v {
				above++
			}
		}
		if above < k {
			n++
		}
	}
	return n
}
