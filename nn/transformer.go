package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// LayerNorm normalises every vector along the last dimension:
// y = γ⊙(x − μ)/√(σ² + ε) + β with the vector's own mean and biased
// variance (PyTorch's nn.LayerNorm(D), ε = 1e-5). γ and β are KindNorm
// parameters named name.weight and name.bias.
type LayerNorm struct {
	name        string
	D           int
	Eps         float32
	gamma, beta *Param
	x           *tensor.Tensor
	y, dx       tensor.Tensor
	mean, inv   []float32
}

// NewLayerNorm returns a layer normalisation over width d with γ = 1,
// β = 0.
func NewLayerNorm(name string, d int) *LayerNorm {
	if d <= 0 {
		panic(fmt.Sprintf("nn: LayerNorm %s: width %d", name, d))
	}
	l := &LayerNorm{name: name, D: d, Eps: 1e-5}
	l.gamma = newParam(join(name, "weight"), KindNorm, true, d)
	l.gamma.Value.Fill(1)
	l.beta = newParam(join(name, "bias"), KindNorm, true, d)
	return l
}

// Name returns the layer's name.
func (l *LayerNorm) Name() string { return l.name }

// Params returns γ and β.
func (l *LayerNorm) Params() []*Param { return []*Param{l.gamma, l.beta} }

// OutShape returns in, which must end in D.
func (l *LayerNorm) OutShape(in []int) ([]int, error) {
	if len(in) < 2 || in[len(in)-1] != l.D {
		return nil, fmt.Errorf("nn: %s: LayerNorm expects (N, …, %d), got %v", l.name, l.D, in)
	}
	return append([]int(nil), in...), nil
}

// Forward normalises x.
func (l *LayerNorm) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() < 2 || x.Shape[x.Rank()-1] != l.D {
		panic(fmt.Sprintf("nn: %s: LayerNorm expects (N, …, %d), got %v", l.name, l.D, x.Shape))
	}
	r := len(x.Data) / l.D
	if cap(l.mean) < r {
		l.mean, l.inv = make([]float32, r), make([]float32, r)
	}
	l.mean, l.inv = l.mean[:r], l.inv[:r]
	c.E.LayerNorm(&l.y, x, l.gamma.Value.Data, l.beta.Value.Data, l.mean, l.inv, l.Eps)
	if c.Train {
		l.x = x
	}
	return &l.y
}

// Backward writes δγ, δβ and returns δx (if needDX).
func (l *LayerNorm) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	var dx *tensor.Tensor
	if needDX {
		dx = &l.dx
	}
	c.E.LayerNormGrad(dx, l.gamma.Grad.Data, l.beta.Grad.Data, dy, l.x, l.gamma.Value.Data, l.mean, l.inv)
	return dx
}

// GELU is the activation y = x·Φ(x) (exact, PyTorch's nn.GELU()).
type GELU struct {
	name  string
	x     *tensor.Tensor
	y, dx tensor.Tensor
}

// NewGELU returns a GELU layer.
func NewGELU(name string) *GELU { return &GELU{name: name} }

// Name returns the layer's name.
func (l *GELU) Name() string { return l.name }

// Params returns nil.
func (l *GELU) Params() []*Param { return nil }

// OutShape returns in.
func (l *GELU) OutShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Forward computes x·Φ(x).
func (l *GELU) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	c.E.GELU(&l.y, x)
	if c.Train {
		l.x = x
	}
	return &l.y
}

// Backward computes δy·(Φ(x) + x·φ(x)).
func (l *GELU) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if !needDX {
		return nil
	}
	c.E.GELUGrad(&l.dx, dy, l.x)
	return &l.dx
}

// SelfAttention is multi-head scaled-dot-product self-attention over
// (N, T, D) with Heads heads of width D/Heads:
//
//	Q, K, V = x W_qᵀ + b_q, x W_kᵀ + b_k, x W_vᵀ + b_v   (weight layers Q, K, V)
//	A_h = softmax(Q_h K_hᵀ / √(D/Heads))                (causal: masked above the diagonal)
//	y = concat_h(A_h V_h) W_oᵀ + b_o                    (weight layer Out)
//
// The projections are [Linear] layers (each with its B, so every learning
// rule applies to them unchanged); the products Q Kᵀ and A V have no
// weights and are differentiated exactly.
type SelfAttention struct {
	name           string
	D, Heads       int
	Causal         bool
	Q, K, V, Out   *Linear
	q, k, v        *tensor.Tensor // the projections' outputs (N, T, D)
	s, p, dp, ds   tensor.Tensor  // scores and probabilities (N·H, T, T)
	om             tensor.Tensor  // the heads' outputs, merged (N, T, D)
	dq, dk, dv, dx tensor.Tensor
	n, t           int
}

// NewSelfAttention returns attention over width d with heads heads (d must
// be divisible by heads) and projections named name.q, name.k, name.v and
// name.proj.
func NewSelfAttention(name string, d, heads int, causal bool, init Initializer, rng *rand.Rand) (*SelfAttention, error) {
	if d <= 0 || heads <= 0 || d%heads != 0 {
		return nil, fmt.Errorf("nn: %s: width %d is not divisible by %d heads", name, d, heads)
	}
	a := &SelfAttention{name: name, D: d, Heads: heads, Causal: causal}
	a.Q = NewLinear(join(name, "q"), d, d, true, init, rng)
	a.K = NewLinear(join(name, "k"), d, d, true, init, rng)
	a.V = NewLinear(join(name, "v"), d, d, true, init, rng)
	a.Out = NewLinear(join(name, "proj"), d, d, true, init, rng)
	return a, nil
}

// Name returns the layer's name.
func (a *SelfAttention) Name() string { return a.name }

// Params returns nil: the parameters belong to the projections.
func (a *SelfAttention) Params() []*Param { return nil }

// Children returns the Q, K, V and output projections.
func (a *SelfAttention) Children() []Layer { return []Layer{a.Q, a.K, a.V, a.Out} }

// OutShape returns in, which must be (N, T, D).
func (a *SelfAttention) OutShape(in []int) ([]int, error) {
	if len(in) != 3 || in[2] != a.D {
		return nil, fmt.Errorf("nn: %s: attention expects (N, T, %d), got %v", a.name, a.D, in)
	}
	return append([]int(nil), in...), nil
}

// batches returns the batched-product descriptions of attention over n
// sequences of t tokens: heads read and written in place in the (N, T, D)
// projections (head h is columns h·dh … of every token), scores packed
// (N·H, T, T); with a causal mask the products skip the score blocks above
// the diagonal (tri gives the structure of each product when causal).
func (a *SelfAttention) batches(n, t int) (heads, scores engine.MatLayout, batch func(A, B, C engine.MatLayout, tri engine.Tri) engine.Batch) {
	dh := a.D / a.Heads
	heads = engine.MatLayout{Sample: t * a.D, Head: dh, LD: a.D}
	scores = engine.Packed(a.Heads, t, t)
	return heads, scores, func(A, B, C engine.MatLayout, tri engine.Tri) engine.Batch {
		if !a.Causal {
			tri = engine.Full
		}
		return engine.Batch{N: n, H: a.Heads, A: A, B: B, C: C, Tri: tri}
	}
}

// Forward computes the attention output.
func (a *SelfAttention) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if _, err := a.OutShape(x.Shape); err != nil {
		panic(err.Error())
	}
	n, t := x.Shape[0], x.Shape[1]
	dh := a.D / a.Heads
	a.n, a.t = n, t
	e := c.E
	a.q, a.k, a.v = a.Q.Forward(c, x), a.K.Forward(c, x), a.V.Forward(c, x)
	heads, scores, batch := a.batches(n, t)
	a.s.Resize(n*a.Heads, t, t)
	e.BatchedMatMul(batch(heads, heads, scores, engine.LowerC), false, true, t, t, dh, float32(1/math.Sqrt(float64(dh))), a.q.Data, a.k.Data, 0, a.s.Data)
	e.Softmax(&a.p, &a.s, a.Causal)
	a.om.Resize(n, t, a.D)
	e.BatchedMatMul(batch(scores, heads, heads, engine.LowerA), false, false, t, dh, t, 1, a.p.Data, a.v.Data, 0, a.om.Data)
	return a.Out.Forward(c, &a.om)
}

// Backward sends δy through the output projection, the exact products
// and softmax, and the Q, K and V projections (each with its own B), and
// returns the sum of their input gradients (if needDX).
func (a *SelfAttention) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	n, t := a.n, a.t
	dh := a.D / a.Heads
	e := c.E
	heads, scores, batch := a.batches(n, t)
	dom := a.Out.Backward(c, dy, true)
	a.dp.Resize(n*a.Heads, t, t)
	e.BatchedMatMul(batch(heads, heads, scores, engine.LowerC), false, true, t, t, dh, 1, dom.Data, a.v.Data, 0, a.dp.Data)
	a.dv.Resize(n, t, a.D)
	e.BatchedMatMul(batch(scores, heads, heads, engine.UpperA), true, false, t, dh, t, 1, a.p.Data, dom.Data, 0, a.dv.Data)
	e.SoftmaxGrad(&a.ds, &a.dp, &a.p)
	scale := float32(1 / math.Sqrt(float64(dh)))
	a.dq.Resize(n, t, a.D)
	e.BatchedMatMul(batch(scores, heads, heads, engine.LowerA), false, false, t, dh, t, scale, a.ds.Data, a.k.Data, 0, a.dq.Data)
	a.dk.Resize(n, t, a.D)
	e.BatchedMatMul(batch(scores, heads, heads, engine.UpperA), true, false, t, dh, t, scale, a.ds.Data, a.q.Data, 0, a.dk.Data)
	dxq := a.Q.Backward(c, &a.dq, needDX)
	dxk := a.K.Backward(c, &a.dk, needDX)
	dxv := a.V.Backward(c, &a.dv, needDX)
	if !needDX {
		return nil
	}
	e.Add(&a.dx, dxq, dxk)
	e.Add(&a.dx, &a.dx, dxv)
	return &a.dx
}

// Tokens turns an image feature map (N, C, H, W) into a sequence of H·W
// tokens of width C, (N, H·W, C), in row-major order of the positions
// (PyTorch's x.flatten(2).transpose(1, 2)).
type Tokens struct {
	name  string
	y, dx tensor.Tensor
	shape []int
}

// NewTokens returns the layer.
func NewTokens(name string) *Tokens { return &Tokens{name: name} }

// Name returns the layer's name.
func (l *Tokens) Name() string { return l.name }

// Params returns nil.
func (l *Tokens) Params() []*Param { return nil }

// OutShape returns (N, H·W, C).
func (l *Tokens) OutShape(in []int) ([]int, error) {
	if len(in) != 4 {
		return nil, fmt.Errorf("nn: %s: Tokens expects (N, C, H, W), got %v", l.name, in)
	}
	return []int{in[0], in[2] * in[3], in[1]}, nil
}

// Forward transposes channels and positions.
func (l *Tokens) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("nn: %s: Tokens expects (N, C, H, W), got %v", l.name, x.Shape))
	}
	l.shape = append(l.shape[:0], x.Shape...)
	n, ch, s := x.Shape[0], x.Shape[1], x.Shape[2]*x.Shape[3]
	c.E.SwapAxes(&l.y, x, n, ch, s, 1)
	return l.y.Resize(n, s, ch)
}

// Backward transposes the gradient back.
func (l *Tokens) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if !needDX {
		return nil
	}
	n, ch, s := l.shape[0], l.shape[1], l.shape[2]*l.shape[3]
	c.E.SwapAxes(&l.dx, dy, n, s, ch, 1)
	return l.dx.Resize(l.shape...)
}

// TokenMean averages a sequence (N, T, D) over its positions, giving
// (N, D).
type TokenMean struct {
	name string
	n, t int
	y    tensor.Tensor
	dx   tensor.Tensor
	invT []float32
}

// NewTokenMean returns the layer.
func NewTokenMean(name string) *TokenMean { return &TokenMean{name: name} }

// Name returns the layer's name.
func (l *TokenMean) Name() string { return l.name }

// Params returns nil.
func (l *TokenMean) Params() []*Param { return nil }

// OutShape returns (N, D).
func (l *TokenMean) OutShape(in []int) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("nn: %s: TokenMean expects (N, T, D), got %v", l.name, in)
	}
	return []int{in[0], in[2]}, nil
}

// Forward averages over positions: y_n = x_nᵀ·(1/T)·1 per sample, a
// batched product with one vector of 1/T (no transposes).
func (l *TokenMean) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 3 {
		panic(fmt.Sprintf("nn: %s: TokenMean expects (N, T, D), got %v", l.name, x.Shape))
	}
	n, t, d := x.Shape[0], x.Shape[1], x.Shape[2]
	l.n, l.t = n, t
	l.y.Resize(n, d)
	one := engine.MatLayout{LD: 1} // the same t×1 vector for every sample
	c.E.BatchedMatMul(engine.Batch{N: n, H: 1, A: engine.Packed(1, t, d), B: one, C: engine.Packed(1, d, 1)},
		true, false, d, 1, t, 1, x.Data, l.inv(t), 0, l.y.Data)
	return &l.y
}

// inv returns a vector of t values 1/t (kept between calls).
func (l *TokenMean) inv(t int) []float32 {
	if len(l.invT) != t {
		l.invT = make([]float32, t)
		for i := range l.invT {
			l.invT[i] = float32(1 / float64(t))
		}
	}
	return l.invT
}

// Backward spreads δy/T over the positions: δx_n = (1/T)·1 ⊗ δy_n.
func (l *TokenMean) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	if !needDX {
		return nil
	}
	n, t, d := l.n, l.t, dy.Shape[1]
	l.dx.Resize(n, t, d)
	one := engine.MatLayout{LD: 1}
	c.E.BatchedMatMul(engine.Batch{N: n, H: 1, A: one, B: engine.Packed(1, 1, d), C: engine.Packed(1, t, d)},
		false, false, t, d, 1, 1, l.inv(t), dy.Data, 0, l.dx.Data)
	return &l.dx
}

// NewBlock returns a pre-LN Transformer block on (N, T, d):
//
//	x = x + attn(ln1(x))
//	x = x + mlp(ln2(x)),   mlp = fc2(GELU(fc1(·))), fc1: d → hidden, fc2: hidden → d
//
// Layer names: name.ln1, name.attn.{q,k,v,proj}, name.ln2, name.mlp.fc1,
// name.mlp.fc2. Models put a [Tap] after the block, in the same
// Sequential, for direct feedback (so that the block's input gradient is
// skipped when the tap below discards it). It returns an error if d is not
// divisible by heads.
func NewBlock(name string, d, heads, hidden int, causal bool, init Initializer, rng *rand.Rand) (*Sequential, error) {
	if hidden <= 0 {
		return nil, fmt.Errorf("nn: %s: MLP width %d, want > 0", name, hidden)
	}
	attn, err := NewSelfAttention(join(name, "attn"), d, heads, causal, init, rng)
	if err != nil {
		return nil, err
	}
	mlp := NewSequential(join(name, "mlp"),
		NewLinear(join(name, "mlp.fc1"), d, hidden, true, init, rng), NewGELU(join(name, "mlp.gelu")),
		NewLinear(join(name, "mlp.fc2"), hidden, d, true, init, rng))
	return NewSequential(name,
		NewResidual(join(name, "attn_res"), NewSequential(join(name, "attn_branch"), NewLayerNorm(join(name, "ln1"), d), attn), nil, nil),
		NewResidual(join(name, "mlp_res"), NewSequential(join(name, "mlp_branch"), NewLayerNorm(join(name, "ln2"), d), mlp), nil, nil)), nil
}
