package engine

import (
	"fmt"

	"github.com/asymlab/asym/tensor"
)

// ConvGeom describes a 2-D convolution over an NCHW input.
//
// The weight tensor has shape (Out, In/Groups, KH, KW). The output has shape
// (N, Out, OH, OW) with OH = (H + 2·PadH − DilH·(KH−1) − 1)/StrideH + 1, and
// likewise OW.
type ConvGeom struct {
	N, In, H, W           int // input batch, channels, height, width
	Out                   int // output channels
	KH, KW                int // kernel size
	StrideH, StrideW      int
	PadH, PadW            int
	DilH, DilW            int
	Groups                int
	OH, OW                int // output height and width, set by Init
	colRows, outPerGroup  int
	inPerGroup, positions int
	pointwise             bool
}

// Init validates the geometry, fills in OH and OW and returns g. Zero
// strides, dilations and groups are taken as 1. It panics on an
// inconsistent geometry (a programmer error).
func (g ConvGeom) Init() ConvGeom {
	if g.StrideH == 0 {
		g.StrideH = 1
	}
	if g.StrideW == 0 {
		g.StrideW = 1
	}
	if g.DilH == 0 {
		g.DilH = 1
	}
	if g.DilW == 0 {
		g.DilW = 1
	}
	if g.Groups == 0 {
		g.Groups = 1
	}
	if g.In%g.Groups != 0 || g.Out%g.Groups != 0 {
		panic(fmt.Sprintf("engine: conv: %d in and %d out channels are not divisible by %d groups", g.In, g.Out, g.Groups))
	}
	if g.KH <= 0 || g.KW <= 0 || g.PadH < 0 || g.PadW < 0 || g.StrideH < 0 || g.StrideW < 0 || g.DilH < 0 || g.DilW < 0 {
		panic(fmt.Sprintf("engine: conv: bad geometry %+v", g))
	}
	// The spans are checked before dividing: Go's division truncates
	// towards zero, so a negative span smaller than the stride would give 1.
	spanH, spanW := g.H+2*g.PadH-g.DilH*(g.KH-1)-1, g.W+2*g.PadW-g.DilW*(g.KW-1)-1
	g.OH = spanH/g.StrideH + 1
	g.OW = spanW/g.StrideW + 1
	if spanH < 0 || spanW < 0 {
		panic(fmt.Sprintf("engine: conv: input %dx%d too small for kernel %dx%d (pad %d,%d, dilation %d,%d)", g.H, g.W, g.KH, g.KW, g.PadH, g.PadW, g.DilH, g.DilW))
	}
	g.inPerGroup = g.In / g.Groups
	g.outPerGroup = g.Out / g.Groups
	g.colRows = g.inPerGroup * g.KH * g.KW
	g.positions = g.OH * g.OW
	g.pointwise = g.KH == 1 && g.KW == 1 && g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0
	return g
}

// WeightShape returns the shape of the weight tensor.
func (g *ConvGeom) WeightShape() []int { return []int{g.Out, g.In / max(g.Groups, 1), g.KH, g.KW} }

// OutShape returns the shape of the output tensor.
func (g *ConvGeom) OutShape() []int { return []int{g.N, g.Out, g.OH, g.OW} }

// PoolGeom describes a 2-D max or average pooling window over an NCHW
// input. Padding counts as −∞ for max pooling and is excluded from the
// average (count_include_pad = false) for average pooling.
type PoolGeom struct {
	N, C, H, W       int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	// ExtraH and ExtraW pad the bottom and right edges by that much more
	// than the top and left (TensorFlow's "SAME" pooling pads 0 before and 1
	// after an even input for a 3×3/2 window).
	ExtraH, ExtraW int
	OH, OW         int // set by Init
}

// Init validates the geometry, fills in OH and OW (floor mode) and returns
// g. Zero strides default to the kernel size.
func (g PoolGeom) Init() PoolGeom {
	if g.StrideH == 0 {
		g.StrideH = g.KH
	}
	if g.StrideW == 0 {
		g.StrideW = g.KW
	}
	if g.KH <= 0 || g.KW <= 0 || g.StrideH < 0 || g.StrideW < 0 || g.PadH < 0 || g.PadW < 0 || 2*g.PadH > g.KH || 2*g.PadW > g.KW ||
		g.ExtraH < 0 || g.ExtraW < 0 || g.PadH+g.ExtraH >= g.KH || g.PadW+g.ExtraW >= g.KW {
		panic(fmt.Sprintf("engine: pool: bad geometry %+v", g))
	}
	spanH, spanW := g.H+2*g.PadH+g.ExtraH-g.KH, g.W+2*g.PadW+g.ExtraW-g.KW // checked before dividing, see ConvGeom.Init
	g.OH = spanH/g.StrideH + 1
	g.OW = spanW/g.StrideW + 1
	if spanH < 0 || spanW < 0 {
		panic(fmt.Sprintf("engine: pool: input %dx%d too small for window %dx%d", g.H, g.W, g.KH, g.KW))
	}
	return g
}

// OutShape returns the shape of the output tensor.
func (g *PoolGeom) OutShape() []int { return []int{g.N, g.C, g.OH, g.OW} }

// Backend is the set of kernels asym's layers and learning rules run on.
// Every method writes its result into its first tensor argument(s), resizing
// them as needed; inputs are never modified. Gradients of parameters may be
// accumulated (beta = 1) or overwritten (beta = 0).
type Backend interface {
	// Name identifies the backend, e.g. "cpu/openblas".
	Name() string
	// Threads returns the number of workers the backend splits work over.
	Threads() int

	// MatMul computes c = alpha·op(a)·op(b) + beta·c for row-major
	// matrices, op(a) being m×k and op(b) k×n; c is m×n.
	MatMul(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32)

	// Conv2d computes y = W ⋆ x (cross-correlation, no bias).
	Conv2d(y, x, w *tensor.Tensor, g *ConvGeom)
	// Conv2dInputGrad computes dx = Wᵀ ⋆ dy, the adjoint of Conv2d with
	// respect to its input, overwriting dx.
	Conv2dInputGrad(dx, dy, w *tensor.Tensor, g *ConvGeom)
	// Conv2dWeightGrad computes dw = beta·dw + alpha·Σ_{n,positions} dy ⊗
	// patch(x), the adjoint of Conv2d with respect to its weights.
	Conv2dWeightGrad(dw, x, dy *tensor.Tensor, g *ConvGeom, alpha, beta float32)

	// MaxPool2d computes y and records in idx, for every output, the flat
	// index into x of the chosen input.
	MaxPool2d(y *tensor.Tensor, idx *[]int32, x *tensor.Tensor, g *PoolGeom)
	// MaxPool2dGrad overwrites dx with dy routed back through idx.
	MaxPool2dGrad(dx, dy *tensor.Tensor, idx []int32, g *PoolGeom)
	// AvgPool2d computes the window means of x.
	AvgPool2d(y, x *tensor.Tensor, g *PoolGeom)
	// AvgPool2dGrad overwrites dx with the adjoint of AvgPool2d applied to dy.
	AvgPool2dGrad(dx, dy *tensor.Tensor, g *PoolGeom)

	// BatchNormTrain normalises x (N, C, S) over N and S with batch
	// statistics, writing y = gamma·x̂ + beta and the per-channel batch mean,
	// biased variance and 1/√(var+eps).
	BatchNormTrain(y, x *tensor.Tensor, gamma, beta []float32, mean, variance, invStd []float32, eps float32)
	// BatchNormInfer normalises x with the given (running) statistics.
	BatchNormInfer(y, x *tensor.Tensor, gamma, beta, mean, variance []float32, eps float32)
	// BatchNormGrad computes dx, dgamma and dbeta (overwritten) of the
	// training-mode normalisation, from dy, x and the saved statistics.
	BatchNormGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, x *tensor.Tensor, gamma, mean, invStd []float32)
	// BatchNormGradApply computes dx = γ·invStd·(dy − mdy − x̂·mdyx) with
	// given per-channel gradient means (synchronised batch normalisation).
	BatchNormGradApply(dx, dy, x *tensor.Tensor, gamma, mean, invStd, mdy, mdyx []float32)

	// ReLU computes y = max(x, 0).
	ReLU(y, x *tensor.Tensor)
	// ReLUGrad computes dx = dy where y > 0, else 0.
	ReLUGrad(dx, dy, y *tensor.Tensor)
	// Add computes dst = a + b.
	Add(dst, a, b *tensor.Tensor)
	// Axpy computes y += alpha·x over slices of equal length.
	Axpy(alpha float32, x, y []float32)
	// Scale computes x *= alpha.
	Scale(alpha float32, x []float32)
	// Dot returns Σ x_i·y_i accumulated in float64.
	Dot(x, y []float32) float64
	// AddBias adds b[c] to every element of channel c of y, whose shape is
	// (N, C, S...) (S may be empty).
	AddBias(y *tensor.Tensor, b []float32)
	// BiasGrad computes db[c] = beta·db[c] + Σ over N and S of dy.
	BiasGrad(db []float32, dy *tensor.Tensor, beta float32)
	// Mul computes dst = a ⊙ b.
	Mul(dst, a, b *tensor.Tensor)

	// BatchedMatMul computes c_i = alpha·op(a_i)·op(b_i) + beta·c_i for
	// the N·H products of bt, each operand placed by its MatLayout (as
	// MatMul for each i), exploiting bt.Tri.
	BatchedMatMul(bt Batch, transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32)
	// Softmax computes softmax over the last dimension of x (…, T, S); with
	// causal (T = S) entries above the diagonal get probability 0.
	Softmax(y, x *tensor.Tensor, causal bool)
	// SoftmaxGrad computes dx = y ⊙ (dy − Σ dy⊙y) over the last dimension.
	SoftmaxGrad(dx, dy, y *tensor.Tensor)
	// LayerNorm normalises x over its last dimension D with per-vector
	// statistics, y = γ⊙x̂ + β, writing each vector's mean and
	// 1/√(var+eps).
	LayerNorm(y, x *tensor.Tensor, gamma, beta, mean, invStd []float32, eps float32)
	// LayerNormGrad computes dx (nil to skip), dγ and dβ (overwritten) of
	// LayerNorm from dy, x and the saved statistics.
	LayerNormGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, x *tensor.Tensor, gamma, mean, invStd []float32)
	// SwapAxes copies src viewed as (a, b, c, d) into dst as (a, c, b, d).
	SwapAxes(dst, src *tensor.Tensor, a, b, c, d int)
	// Embedding writes row ids[r] of table (rows of width d) into row r of
	// y (len(ids)·d elements); ids are float32 integers.
	Embedding(y *tensor.Tensor, table []float32, d int, ids []float32)
	// EmbeddingGrad computes dtable = beta·dtable + Σ_r e_{ids[r]} ⊗ dy_r.
	EmbeddingGrad(dtable []float32, d int, ids, dy []float32, beta float32)
	// GELU computes y = x·Φ(x) (exact, erf-based).
	GELU(y, x *tensor.Tensor)
	// GELUGrad computes dx = dy·(Φ(x) + x·φ(x)).
	GELUGrad(dx, dy, x *tensor.Tensor)

	// SoftmaxCrossEntropy computes the mean cross-entropy of softmax(logits)
	// against labels smoothed by eps, writes its gradient with respect to the
	// logits into dlogits (nil to skip) and returns the loss and the number
	// of correct arg-max predictions.
	SoftmaxCrossEntropy(dlogits, logits *tensor.Tensor, labels []int32, eps float32) (loss float64, correct int)
	// TokenCrossEntropy is SoftmaxCrossEntropy over the last dimension of
	// logits (N, …, K) with one label per position, averaged over the
	// positions whose label is not ignore (they get a zero gradient); it
	// also returns the number of positions counted.
	TokenCrossEntropy(dlogits, logits *tensor.Tensor, labels []int32, ignore int32, eps float32) (loss float64, correct, count int)
}
