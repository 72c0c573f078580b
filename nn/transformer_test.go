package nn_test

import (
	"fmt"
	"math"
	"testing"

	gc "github.com/asymlab/asym/internal/gradcheck"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// The Transformer layers are checked against float64 references and
// their central differences, normwise (gradcheck.MaxAbs): the layers
// compute in float32 through sums of up to a few dozen products, softmax,
// layer normalisation and erf, so their errors are a few hundred u = 2⁻²⁴
// of the largest element at most; trRel = 1024u ≈ 6e-5 bounds that, and
// any missing or misplaced term is orders of magnitude larger. trStep
// makes the central differences' truncation (h²/6·|f”'| ≈ 1e-11) and
// rounding (2⁻⁵³·|L|/h ≈ 1e-10) errors negligible against trAbs.
const (
	trRel  = 1024 * gc.U
	trStep = 1e-5
	trAbs  = 1e-8
)

// fdCase checks a layer: its output against ref, and its input gradient
// (when dx) and the gradients of params against the central differences of
// Σ r⊙ref(x, params) in float64, with 1 and 3 threads. Gradients are
// compared normwise over all of them together (the largest element of any
// gradient is the magnitude): some are exactly 0 although their float32
// sums have terms of the size of the others (the key bias: softmax ignores
// a shift shared by a row of scores).
type fdCase struct {
	name   string
	layer  nn.Layer
	x      *tensor.Tensor
	params []*nn.Param
	ref    func(x []float64, p [][]float64) []float64
	dx     bool
}

func (fc fdCase) check(t *testing.T) {
	t.Helper()
	rng := newRand(uint64(len(fc.name)) + 99)
	args := [][]float64{gc.F64(fc.x.Data)}
	for _, p := range fc.params {
		args = append(args, gc.F64(p.Value.Data))
	}
	want := fc.ref(args[0], args[1:])
	r := gc.Uniform(rng, len(want), -1, 1)
	r64 := gc.F64(r)
	num := gc.Grads(func(a [][]float64) float64 { return gc.Dot(r64, fc.ref(a[0], a[1:])) }, args, trStep)
	var all []float64
	for i, g := range num {
		if i > 0 || fc.dx {
			all = append(all, g...)
		}
	}
	gmag := gc.MaxAbs(all)[0]
	magOf := func(g []float64) []float64 {
		m := make([]float64, len(g))
		for i := range m {
			m[i] = gmag
		}
		return m
	}
	for _, th := range []int{1, 3} {
		c := trainCtx(th)
		y := fc.layer.Forward(c, fc.x)
		gc.Close(t, fc.name+" y", y.Data, want, gc.MaxAbs(want), trRel, 0)
		for _, p := range fc.params {
			p.Grad.Fill(float32(math.NaN())) // Backward must overwrite
		}
		dx := fc.layer.Backward(c, tensor.FromData(r, y.Shape...), fc.dx)
		if fc.dx {
			if dx == nil || !tensor.SameShape(dx.Shape, fc.x.Shape) {
				t.Fatalf("%s: dx %v for x %v", fc.name, dx, fc.x.Shape)
			}
			gc.Close(t, fc.name+" dx", dx.Data, num[0], magOf(num[0]), trRel, trAbs)
		}
		for i, p := range fc.params {
			gc.Close(t, fmt.Sprintf("%s d%s (threads %d)", fc.name, p.Name, th), p.Grad.Data, num[i+1], magOf(num[i+1]), trRel, trAbs)
		}
	}
}

// linRef is x Wᵀ + b over the last dimension.
func linRef(x, w, b []float64, in, out int) []float64 {
	return gc.Linear(x, w, b, len(x)/in, in, out)
}

// attnRef is the reference of nn.SelfAttention with parameters
// (Wq, bq, Wk, bk, Wv, bv, Wo, bo).
func attnRef(n, t, d, h int, causal bool) func(x []float64, p [][]float64) []float64 {
	return func(x []float64, p [][]float64) []float64 {
		q, k, v := linRef(x, p[0], p[1], d, d), linRef(x, p[2], p[3], d, d), linRef(x, p[4], p[5], d, d)
		return linRef(gc.Attention(q, k, v, n, t, h, d/h, causal), p[6], p[7], d, d)
	}
}

func attnParams(a *nn.SelfAttention) []*nn.Param {
	var ps []*nn.Param
	for _, l := range []*nn.Linear{a.Q, a.K, a.V, a.Out} {
		ps = append(ps, l.Weight(), l.Bias())
	}
	return ps
}

func TestTransformerLayers(t *testing.T) {
	const N, T, D, H, V = 2, 5, 8, 2, 7
	rng := newRand(31)
	ln := nn.NewLayerNorm("ln", D)
	fillNorm := func(p *nn.Param, lo, hi float64) { copy(p.Value.Data, gc.Uniform(rng, p.Value.Len(), lo, hi)) }
	fillNorm(ln.Params()[0], 0.5, 1.5)
	fillNorm(ln.Params()[1], -0.5, 0.5)
	emb := nn.NewEmbedding("tok", V, D, rng)
	ids := tensor.New(N, T)
	for i := range ids.Data {
		ids.Data[i] = float32(rng.IntN(V))
	}
	pos := nn.NewPositionEmbedding("pos", T+3, D, rng)
	x3 := randomTensor(rng, -1, 1, N, T, D)
	cases := []fdCase{
		{name: "LayerNorm", layer: ln, x: x3, params: ln.Params(), dx: true,
			ref: func(x []float64, p [][]float64) []float64 { return gc.LayerNorm(x, p[0], p[1], D, 1e-5) }},
		{name: "GELU", layer: nn.NewGELU("gelu"), x: randomTensor(rng, -4, 4, N, T, D), dx: true,
			ref: func(x []float64, _ [][]float64) []float64 { return gc.GELU(x) }},
		{name: "Embedding", layer: emb, x: ids, params: emb.Params(),
			ref: func(x []float64, p [][]float64) []float64 {
				y := make([]float64, 0, len(x)*D)
				for _, id := range x {
					y = append(y, p[0][int(id)*D:(int(id)+1)*D]...)
				}
				return y
			}},
		{name: "PositionEmbedding", layer: pos, x: x3, params: pos.Params(), dx: true,
			ref: func(x []float64, p [][]float64) []float64 {
				y := append([]float64(nil), x...)
				for i := range y {
					y[i] += p[0][(i/D%T)*D+i%D]
				}
				return y
			}},
		{name: "Tokens", layer: nn.NewTokens("tokens"), x: randomTensor(rng, -1, 1, N, 3, 2, 2), dx: true,
			ref: func(x []float64, _ [][]float64) []float64 {
				y := make([]float64, len(x))
				for n := 0; n < N; n++ {
					for c := 0; c < 3; c++ {
						for s := 0; s < 4; s++ {
							y[(n*4+s)*3+c] = x[(n*3+c)*4+s]
						}
					}
				}
				return y
			}},
		{name: "TokenMean", layer: nn.NewTokenMean("mean"), x: x3, dx: true,
			ref: func(x []float64, _ [][]float64) []float64 {
				y := make([]float64, N*D)
				for i, v := range x {
					y[i/(T*D)*D+i%D] += v / T
				}
				return y
			}},
	}
	for _, causal := range []bool{true, false} {
		a, err := nn.NewSelfAttention("attn", D, H, causal, nn.HeNormal, rng)
		if err != nil {
			t.Fatal(err)
		}
		fillParams(a, rng, -0.5, 0.5)
		cases = append(cases, fdCase{name: fmt.Sprint("SelfAttention causal=", causal), layer: a, x: x3,
			params: attnParams(a), dx: true, ref: attnRef(N, T, D, H, causal)})
	}
	// A causal sequence longer than the engine's 32-row blocks (and not a
	// multiple of them), so that the products skip the blocks above the
	// diagonal.
	const TL, DL, HL = 40, 4, 2
	long, err := nn.NewSelfAttention("attn", DL, HL, true, nn.HeNormal, rng)
	if err != nil {
		t.Fatal(err)
	}
	fillParams(long, rng, -0.5, 0.5)
	cases = append(cases, fdCase{name: "SelfAttention causal T=40", layer: long, x: randomTensor(rng, -1, 1, 1, TL, DL),
		params: attnParams(long), dx: true, ref: attnRef(1, TL, DL, HL, true)})
	for _, fc := range cases {
		t.Run(fc.name, fc.check)
	}
}

// TestBlockGradients checks a whole pre-LN GPT block (LayerNorms,
// causal attention, GELU MLP, both residuals) in float64: its output and
// the gradients of its input and of every parameter against the central
// differences of its reference.
func TestBlockGradients(t *testing.T) {
	const N, T, D, H, F = 2, 4, 8, 2, 12
	rng := newRand(41)
	blk, err := nn.NewBlock("blocks.0", D, H, F, true, nn.HeNormal, rng)
	if err != nil {
		t.Fatal(err)
	}
	fillParams(blk, rng, -0.5, 0.5)
	var ps []*nn.Param
	nn.Walk(blk, func(l nn.Layer) { ps = append(ps, l.Params()...) })
	for _, p := range ps {
		if p.Kind == nn.KindNorm {
			copy(p.Value.Data, gc.Uniform(rng, p.Value.Len(), 0.5, 1.5))
		}
	}
	// Forward order: ln1 (γ, β), q, k, v, proj (W, b each), ln2 (γ, β), fc1, fc2.
	names := []string{"ln1.weight", "ln1.bias", "attn.q.weight", "attn.q.bias", "attn.k.weight", "attn.k.bias",
		"attn.v.weight", "attn.v.bias", "attn.proj.weight", "attn.proj.bias", "ln2.weight", "ln2.bias",
		"mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"}
	if len(ps) != len(names) {
		t.Fatalf("%d parameters, want %d", len(ps), len(names))
	}
	for i, p := range ps {
		if p.Name != "blocks.0."+names[i] {
			t.Fatalf("parameter %d is %s, want blocks.0.%s", i, p.Name, names[i])
		}
	}
	ref := func(x []float64, p [][]float64) []float64 {
		h := gc.LayerNorm(x, p[0], p[1], D, 1e-5)
		x = gc.Add(x, attnRef(N, T, D, H, true)(h, p[2:10]))
		h = gc.LayerNorm(x, p[10], p[11], D, 1e-5)
		return gc.Add(x, linRef(gc.GELU(linRef(h, p[12], p[13], D, F)), p[14], p[15], F, D))
	}
	fdCase{name: "block", layer: blk, x: randomTensor(rng, -1, 1, N, T, D), params: ps, ref: ref, dx: true}.check(t)
}

// TestTransformerErrors checks the errors that come from a model's
// configuration: width not divisible by heads, a context longer than the
// position table.
func TestTransformerErrors(t *testing.T) {
	rng := newRand(3)
	if _, err := nn.NewSelfAttention("attn", 10, 4, true, nn.HeNormal, rng); err == nil || err.Error() != "nn: attn: width 10 is not divisible by 4 heads" {
		t.Errorf("heads: %v", err)
	}
	if _, err := nn.NewBlock("b", 10, 3, 8, true, nn.HeNormal, rng); err == nil {
		t.Error("NewBlock accepted width 10 with 3 heads")
	}
	pos := nn.NewPositionEmbedding("pos", 4, 8, rng)
	if _, err := pos.OutShape([]int{1, 5, 8}); err == nil || err.Error() != "nn: pos: a context of 5 positions is longer than the position table (4)" {
		t.Errorf("context: %v", err)
	}
}

// TestLookupOperators checks the rule operators of the embedding tables
// on their one-hot inputs: Apply(W, x) is the lookup (bit for bit: one
// non-zero product per sum), Outer(δy, x) is the weight gradient and
// ApplyT is Apply's adjoint (⟨Apply(M, u), v⟩ = ⟨u, ApplyT(M, v)⟩).
func TestLookupOperators(t *testing.T) {
	const N, T, D, V = 2, 3, 4, 5
	rng := newRand(8)
	emb := nn.NewEmbedding("tok", V, D, rng)
	pos := nn.NewPositionEmbedding("pos", T, D, rng)
	ids := tensor.New(N, T)
	for i := range ids.Data {
		ids.Data[i] = float32(rng.IntN(V))
	}
	c := trainCtx(1)
	h := emb.Forward(c, ids)
	pos.Forward(c, h)
	dy := randomTensor(rng, -1, 1, N, T, D)
	if dx := pos.Backward(c, dy, true); dx != dy {
		t.Error("PositionEmbedding's input gradient is not δy")
	}
	if dx := emb.Backward(c, dy, true); dx != nil {
		t.Error("Embedding returned an input gradient")
	}
	for _, l := range []nn.Lookup{emb, pos} {
		x := l.Input()
		rows := l.Weight().Value.Shape[0]
		if !tensor.SameShape(x.Shape, []int{N, T, rows}) {
			t.Fatalf("%s: one-hot input %v", l.Name(), x.Shape)
		}
		var got tensor.Tensor
		l.Apply(c.E, &got, l.Weight().Value, x)
		if !tensor.Equal(&got, l.Preactivation(c.E)) {
			t.Errorf("%s: Apply(W, one-hot) differs from the lookup", l.Name())
		}
		g := tensor.New(rows, D)
		l.Outer(c.E, g, dy, x, 1, 0)
		if d := tensor.MaxAbsDiff(g, l.Weight().Grad); d > 1e-6 {
			t.Errorf("%s: Outer(δy, one-hot) differs from δW by %g", l.Name(), d)
		}
		u := randomTensor(rng, -1, 1, N, T, rows)
		var au, atv tensor.Tensor
		l.Apply(c.E, &au, l.Weight().Value, u)
		l.ApplyT(c.E, &atv, l.Weight().Value, dy)
		if a, b := c.E.Dot(au.Data, dy.Data), c.E.Dot(u.Data, atv.Data); math.Abs(a-b) > 1e-5*(1+math.Abs(a)) {
			t.Errorf("%s: adjoint test %g vs %g", l.Name(), a, b)
		}
		if !l.IsLookup() || l.Bias() != nil {
			t.Errorf("%s: IsLookup %v, bias %v", l.Name(), l.IsLookup(), l.Bias())
		}
	}
}

// TestPositionEmbeddingReshape checks that the position ids follow T when
// two batches have the same N·T but a different T: (2, 8) and then (4, 4).
func TestPositionEmbeddingReshape(t *testing.T) {
	const D = 3
	rng := newRand(11)
	pos := nn.NewPositionEmbedding("pos", 8, D, rng)
	w := pos.Weight().Value
	for _, shape := range [][2]int{{2, 8}, {4, 4}, {1, 16 / 2}} {
		n, tt := shape[0], shape[1]
		x := tensor.New(n, tt, D)
		y := pos.Forward(trainCtx(1), x)
		for i := 0; i < n*tt; i++ {
			for d := 0; d < D; d++ {
				if got, want := y.Data[i*D+d], w.Data[(i%tt)*D+d]; got != want {
					t.Fatalf("shape (%d, %d): y[%d, %d] = %g, want W[%d, %d] = %g", n, tt, i, d, got, i%tt, d, want)
				}
			}
		}
	}
}
