package nn

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/tensor"
)

// BatchNorm normalises each channel of an (N, C) or (N, C, H, W) input
// (BatchNorm1d / BatchNorm2d). In training it uses batch statistics and
// updates the running ones as r ← (1−m)·r + m·batch (unbiased variance for
// the running estimate, as in PyTorch); in evaluation it uses the running
// statistics.
type BatchNorm struct {
	name     string
	C        int
	Eps      float32
	Momentum float32

	gamma, beta      *Param
	runMean, runVar  *Param
	mean, vr, invStd []float32
	x                *tensor.Tensor
	y, dx            tensor.Tensor
}

// NewBatchNorm returns a batch normalisation over c channels with γ = 1 (or
// 0 if zeroGamma, for the last BN of a residual branch), β = 0, eps 1e-5 and
// momentum 0.1.
func NewBatchNorm(name string, c int, zeroGamma bool) *BatchNorm {
	l := &BatchNorm{name: name, C: c, Eps: 1e-5, Momentum: 0.1,
		mean: make([]float32, c), vr: make([]float32, c), invStd: make([]float32, c)}
	l.gamma = newParam(join(name, "weight"), KindNorm, true, c)
	l.beta = newParam(join(name, "bias"), KindNorm, true, c)
	l.runMean = newParam(join(name, "running_mean"), KindBuffer, false, c)
	l.runVar = newParam(join(name, "running_var"), KindBuffer, false, c)
	if !zeroGamma {
		l.gamma.Value.Fill(1)
	}
	l.runVar.Value.Fill(1)
	return l
}

// Name returns the layer's name.
func (l *BatchNorm) Name() string { return l.name }

// OutShape returns in after checking the channel count.
func (l *BatchNorm) OutShape(in []int) ([]int, error) {
	if (len(in) != 2 && len(in) != 4) || in[1] != l.C {
		return nil, fmt.Errorf("nn: %s: BatchNorm expects (N, %d) or (N, %d, H, W), got %v", l.name, l.C, l.C, in)
	}
	return append([]int(nil), in...), nil
}

// Params returns γ, β, the running mean and the running variance.
func (l *BatchNorm) Params() []*Param { return []*Param{l.gamma, l.beta, l.runMean, l.runVar} }

// Gamma returns the scale parameter γ.
func (l *BatchNorm) Gamma() *Param { return l.gamma }

// Forward normalises x.
func (l *BatchNorm) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() < 2 || x.Shape[1] != l.C {
		panic(fmt.Sprintf("nn: %s: BatchNorm expects %d channels, got %v", l.name, l.C, x.Shape))
	}
	if !c.Train {
		c.E.BatchNormInfer(&l.y, x, l.gamma.Value.Data, l.beta.Value.Data, l.runMean.Value.Data, l.runVar.Value.Data, l.Eps)
		return &l.y
	}
	c.E.BatchNormTrain(&l.y, x, l.gamma.Value.Data, l.beta.Value.Data, l.mean, l.vr, l.invStd, l.Eps)
	l.trained(c, x)
	return &l.y
}

// bnReLUer is implemented by backends with a fused training-mode batch
// normalisation and ReLU (the CPU backend's BatchNormReLUTrain),
// bit-identical to BatchNormTrain followed by ReLU.
type bnReLUer interface {
	BatchNormReLUTrain(y, x *tensor.Tensor, gamma, beta []float32, mean, variance, invStd []float32, eps float32)
}

// forwardReLU computes max(BN(x), 0) into the output of relu, the layer
// that follows, in one pass and without writing the normalisation's own
// output: Sequential uses it in training when the backend has the fused
// kernel and the statistics are local (no Sync, which renormalises with
// the global ones). It returns nil (and does nothing) otherwise.
func (l *BatchNorm) forwardReLU(c *Ctx, x *tensor.Tensor, relu *ReLU) *tensor.Tensor {
	f, ok := c.E.(bnReLUer)
	if !ok || !c.Train || c.Sync != nil {
		return nil
	}
	if x.Rank() < 2 || x.Shape[1] != l.C {
		panic(fmt.Sprintf("nn: %s: BatchNorm expects %d channels, got %v", l.name, l.C, x.Shape))
	}
	f.BatchNormReLUTrain(&relu.y, x, l.gamma.Value.Data, l.beta.Value.Data, l.mean, l.vr, l.invStd, l.Eps)
	l.trained(c, x)
	return &relu.y
}

// trained records the input of a training-mode pass, synchronises the
// batch statistics if c.Sync is set, and updates the running statistics.
func (l *BatchNorm) trained(c *Ctx, x *tensor.Tensor) {
	l.x = x
	m := x.Len() / l.C
	if c.Sync != nil {
		m = l.syncStats(c, x, m)
	}
	unbias := float32(1)
	if m > 1 {
		unbias = float32(m) / float32(m-1)
	}
	rm, rv := l.runMean.Value.Data, l.runVar.Value.Data
	for i := range rm {
		rm[i] = (1-l.Momentum)*rm[i] + l.Momentum*l.mean[i]
		rv[i] = (1-l.Momentum)*rv[i] + l.Momentum*l.vr[i]*unbias
	}
}

// bnReLUGrader is implemented by backends with a fused ReLU and batch
// normalisation backward pass (the CPU backend's BatchNormReLUGrad),
// bit-identical to ReLUGrad followed by BatchNormGrad.
type bnReLUGrader interface {
	BatchNormReLUGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, y, x *tensor.Tensor, gamma, mean, invStd []float32)
}

// backwardReLU is the backward pass of this layer and of relu, the ReLU
// above it, given relu's output gradient dy: Sequential uses it when the
// backend has the fused kernel and the statistics are local. done is
// false (and nothing is computed) otherwise.
func (l *BatchNorm) backwardReLU(c *Ctx, dy *tensor.Tensor, relu *ReLU, needDX bool) (dx *tensor.Tensor, done bool) {
	f, ok := c.E.(bnReLUGrader)
	if !ok || c.Sync != nil || l.x == nil {
		return nil, false
	}
	f.BatchNormReLUGrad(&l.dx, l.gamma.Grad.Data, l.beta.Grad.Data, dy, &relu.y, l.x, l.gamma.Value.Data, l.mean, l.invStd)
	if !needDX {
		return nil, true
	}
	return &l.dx, true
}

// Backward computes δγ, δβ and δx of the training-mode normalisation.
func (l *BatchNorm) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	c.E.BatchNormGrad(&l.dx, l.gamma.Grad.Data, l.beta.Grad.Data, dy, l.x, l.gamma.Value.Data, l.mean, l.invStd)
	if c.Sync != nil {
		l.syncGrad(c, dy)
	}
	if !needDX {
		return nil
	}
	return &l.dx
}

// syncStats replaces the batch statistics by those of the global batch
// (synchronised batch normalisation) and renormalises; it returns the
// global count per channel. A failed reduction panics with the error: the
// processes can no longer agree, and the caller (train) turns the panic
// into an error.
func (l *BatchNorm) syncStats(c *Ctx, x *tensor.Tensor, m int) int {
	C := l.C
	buf := make([]float64, 2*C+1)
	for i := 0; i < C; i++ {
		mu, v := float64(l.mean[i]), float64(l.vr[i])
		buf[i] = float64(m) * mu
		buf[C+i] = float64(m) * (v + mu*mu)
	}
	buf[2*C] = float64(m)
	if err := c.Sync(buf); err != nil {
		panic(SyncError{err})
	}
	total := buf[2*C]
	for i := 0; i < C; i++ {
		mu := buf[i] / total
		v := max(buf[C+i]/total-mu*mu, 0)
		l.mean[i], l.vr[i] = float32(mu), float32(v)
		l.invStd[i] = float32(1 / math.Sqrt(v+float64(l.Eps)))
	}
	c.E.BatchNormInfer(&l.y, x, l.gamma.Value.Data, l.beta.Value.Data, l.mean, l.vr, l.Eps)
	return int(total)
}

// syncGrad recomputes δx with the gradient means of the global batch. The
// local gradients are means over the local shard, so each process weighs
// its sums by its share of the global batch.
func (l *BatchNorm) syncGrad(c *Ctx, dy *tensor.Tensor) {
	C := l.C
	m := float64(l.x.Len() / C)
	buf := make([]float64, 2*C+1)
	for i := 0; i < C; i++ {
		buf[i] = c.Share * float64(l.beta.Grad.Data[i])
		buf[C+i] = c.Share * float64(l.gamma.Grad.Data[i])
	}
	buf[2*C] = m
	if err := c.Sync(buf); err != nil {
		panic(SyncError{err})
	}
	total := buf[2*C]
	scale := 1 / (c.Share * total) // back to the local-mean convention
	mdy, mdyx := make([]float32, C), make([]float32, C)
	for i := 0; i < C; i++ {
		mdy[i] = float32(buf[i] * scale)
		mdyx[i] = float32(buf[C+i] * scale)
	}
	c.E.BatchNormGradApply(&l.dx, dy, l.x, l.gamma.Value.Data, l.mean, l.invStd, mdy, mdyx)
}

// SyncError wraps a failed cross-process reduction inside a layer; it is
// raised as a panic (the layer interface has no error) and recovered by
// the training loop.
type SyncError struct{ Err error }

func (e SyncError) Error() string { return "nn: synchronising batch statistics: " + e.Err.Error() }

// Unwrap returns the reduction's error.
func (e SyncError) Unwrap() error { return e.Err }
