package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// Lookup is implemented by weight layers whose input is an index (a token
// or a position) rather than a vector: embedding tables. Their x is the
// one-hot vector of the index, so y = Wᵀx is a row of the table, and the
// input gradient B δy would be a gradient with respect to that one-hot
// vector, which nothing below uses: B never changes any gradient of a
// lookup. Rule selection therefore skips lookups in "all" and "hidden";
// they are bound only when named (or matched by a glob) explicitly.
type Lookup interface {
	WeightLayer
	// IsLookup reports true.
	IsLookup() bool
}

// table is the state of an embedding table of Rows vectors of width D:
// W (and B) of shape (Rows, D) like PyTorch's nn.Embedding, the indices of
// the last training pass and, on demand, their one-hot form.
type table struct {
	name     string
	Rows, D  int
	w, bw    *Param
	ids      []float32 // indices of the last training pass, one per output row
	lead     []int     // the output's shape without its last dimension
	hot      tensor.Tensor
	hotValid bool
	eye      []float32     // the Rows×Rows identity, built on first use
	lk       tensor.Tensor // the lookup W[ids] of the last pass
	dy       *tensor.Tensor
}

func newTable(name string, rows, d int, rng *rand.Rand) table {
	if rows <= 0 || d <= 0 {
		panic(fmt.Sprintf("nn: embedding %s: sizes %d×%d", name, rows, d))
	}
	t := table{name: name, Rows: rows, D: d}
	t.w = newParam(join(name, "weight"), KindWeight, true, rows, d)
	t.w.FanIn = 1
	// N(0, 1), PyTorch's nn.Embedding default.
	t.w.Init = func(v *tensor.Tensor, r *rand.Rand) { tensor.FillNormal(v, r, 1) }
	t.w.Init(t.w.Value, rng)
	t.bw = t.w
	return t
}

// Name returns the layer's name.
func (t *table) Name() string { return t.name }

// Params returns W, and B when it is not W.
func (t *table) Params() []*Param {
	if t.bw != t.w {
		return []*Param{t.w, t.bw}
	}
	return []*Param{t.w}
}

// Weight returns the table W (Rows, D).
func (t *table) Weight() *Param { return t.w }

// Feedback returns B.
func (t *table) Feedback() *Param { return t.bw }

// SetFeedback makes p the layer's B.
func (t *table) SetFeedback(p *Param) {
	tensor.MustSameShape("nn: SetFeedback "+t.name, t.w.Value, p.Value)
	t.bw = p
}

// Bias returns nil.
func (t *table) Bias() *Param { return nil }

// IsLookup reports true.
func (t *table) IsLookup() bool { return true }

// OutputGrad returns δy of the last backward pass.
func (t *table) OutputGrad() *tensor.Tensor { return t.dy }

// Input returns the one-hot form (…, Rows) of the last training pass's
// indices, built on first use after each pass.
func (t *table) Input() *tensor.Tensor {
	if !t.hotValid {
		t.hot.Resize(append(append([]int(nil), t.lead...), t.Rows)...)
		if t.eye == nil {
			t.eye = make([]float32, t.Rows*t.Rows)
			for i := 0; i < t.Rows; i++ {
				t.eye[i*t.Rows+i] = 1
			}
		}
		// The one-hot rows are lookups in the identity.
		engine.NewCPU(1).Embedding(&t.hot, t.eye, t.Rows, t.ids)
		t.hotValid = true
	}
	return &t.hot
}

// Preactivation returns the lookup W[ids] of the last training pass.
func (t *table) Preactivation(engine.Backend) *tensor.Tensor { return &t.lk }

// lookup writes M[ids] into dst, shaped (lead…, D).
func (t *table) lookup(e engine.Backend, dst *tensor.Tensor, m *tensor.Tensor, ids []float32, lead []int) {
	dst.Resize(append(append([]int(nil), lead...), t.D)...)
	e.Embedding(dst, m.Data, t.D, ids)
}

// Apply computes dst = x M for x in the one-hot space (…, Rows): the lookup
// generalised to any input vector.
func (t *table) Apply(e engine.Backend, dst, m, x *tensor.Tensor) {
	r := t.rowsOf("Apply", x, t.Rows)
	resizeLast(dst, x, t.D)
	e.MatMul(false, false, r, t.D, t.Rows, 1, x.Data, m.Data, 0, dst.Data)
}

// ApplyT computes dst = v Mᵀ, from the output space (…, D) to the one-hot
// space (…, Rows).
func (t *table) ApplyT(e engine.Backend, dst, m, v *tensor.Tensor) {
	r := t.rowsOf("ApplyT", v, t.D)
	resizeLast(dst, v, t.Rows)
	e.MatMul(false, true, r, t.Rows, t.D, 1, v.Data, m.Data, 0, dst.Data)
}

// Outer computes dst = beta·dst + alpha·Σ v ⊗ u over every row, u in the
// output space (…, D) and v in the one-hot space (…, Rows): dst has W's
// shape (Rows, D).
func (t *table) Outer(e engine.Backend, dst, u, v *tensor.Tensor, alpha, beta float32) {
	ru, rv := t.rowsOf("Outer", u, t.D), t.rowsOf("Outer", v, t.Rows)
	if ru != rv {
		panic(fmt.Sprintf("nn: %s: Outer of %v and %v", t.name, u.Shape, v.Shape))
	}
	e.MatMul(true, false, t.Rows, t.D, ru, alpha, v.Data, u.Data, beta, dst.Data)
}

func (t *table) rowsOf(op string, x *tensor.Tensor, d int) int {
	if x.Rank() < 2 || x.Shape[x.Rank()-1] != d {
		panic(fmt.Sprintf("nn: %s: %s expects (N, …, %d), got %v", t.name, op, d, x.Shape))
	}
	return len(x.Data) / d
}

// Embedding maps token ids (N, T), given as float32 integers in
// [0, Rows), to vectors (N, T, D): y[n, t] = W[x[n, t]], like PyTorch's
// nn.Embedding. It has no input gradient. It is a [Lookup] weight layer.
type Embedding struct {
	table
}

// NewEmbedding returns a token embedding of rows ids into width d, drawn
// from N(0, 1).
func NewEmbedding(name string, rows, d int, rng *rand.Rand) *Embedding {
	return &Embedding{table: newTable(name, rows, d, rng)}
}

// OutShape returns (N, T, D) for (N, T).
func (l *Embedding) OutShape(in []int) ([]int, error) {
	if len(in) != 2 {
		return nil, fmt.Errorf("nn: %s: Embedding expects token ids (N, T), got %v", l.name, in)
	}
	return []int{in[0], in[1], l.D}, nil
}

// Forward looks up the ids of x.
func (l *Embedding) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 2 {
		panic(fmt.Sprintf("nn: %s: Embedding expects (N, T), got %v", l.name, x.Shape))
	}
	l.lookup(c.E, &l.lk, l.w.Value, x.Data, x.Shape)
	if c.Train {
		l.ids, l.lead, l.hotValid = x.Data, append(l.lead[:0], x.Shape...), false
	}
	return &l.lk
}

// Backward writes δW (row ids[r] accumulates δy_r); there is no input
// gradient (it returns nil).
func (l *Embedding) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	l.dy = dy
	c.E.EmbeddingGrad(l.w.Grad.Data, l.D, l.ids, dy.Data, 0)
	return nil
}

// PositionEmbedding adds a learned vector per position to its input:
// y[n, t] = x[n, t] + W[t] for x of shape (N, T, D) with T ≤ Rows (the
// context length). As a weight layer its x is the one-hot position and its
// y = W[t] (the residual input is not part of it); the input gradient of
// the layer is δy itself (the identity path), so B is never used.
type PositionEmbedding struct {
	table
	pos  []float32 // position ids of the last forward pass, (N·T)
	posT int       // the T they were built for
	y    tensor.Tensor
}

// NewPositionEmbedding returns a position table of rows positions of
// width d, drawn from N(0, 1).
func NewPositionEmbedding(name string, rows, d int, rng *rand.Rand) *PositionEmbedding {
	return &PositionEmbedding{table: newTable(name, rows, d, rng)}
}

// OutShape returns in, after checking that it is (N, T, D) with T ≤ Rows.
func (l *PositionEmbedding) OutShape(in []int) ([]int, error) {
	if len(in) != 3 || in[2] != l.D {
		return nil, fmt.Errorf("nn: %s: PositionEmbedding expects (N, T, %d), got %v", l.name, l.D, in)
	}
	if in[1] > l.Rows {
		return nil, fmt.Errorf("nn: %s: a context of %d positions is longer than the position table (%d)", l.name, in[1], l.Rows)
	}
	return append([]int(nil), in...), nil
}

// Forward computes x + W[t].
func (l *PositionEmbedding) Forward(c *Ctx, x *tensor.Tensor) *tensor.Tensor {
	if _, err := l.OutShape(x.Shape); err != nil {
		panic(err.Error())
	}
	n, t := x.Shape[0], x.Shape[1]
	if len(l.pos) != n*t || l.posT != t {
		l.posT = t
		l.pos = make([]float32, n*t)
		for i := range l.pos {
			l.pos[i] = float32(i % t)
		}
	}
	l.lookup(c.E, &l.lk, l.w.Value, l.pos, x.Shape[:2])
	c.E.Add(&l.y, x, &l.lk)
	if c.Train {
		l.ids, l.lead, l.hotValid = l.pos, append(l.lead[:0], x.Shape[:2]...), false
	}
	return &l.y
}

// Backward writes δW[t] = Σ_n δy[n, t] and returns δy as the input
// gradient.
func (l *PositionEmbedding) Backward(c *Ctx, dy *tensor.Tensor, needDX bool) *tensor.Tensor {
	l.dy = dy
	c.E.EmbeddingGrad(l.w.Grad.Data, l.D, l.ids, dy.Data, 0)
	return dy
}

var (
	_ Lookup = (*Embedding)(nil)
	_ Lookup = (*PositionEmbedding)(nil)
)
