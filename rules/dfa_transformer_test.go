package rules_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// gradSpy is a backend that records which input gradients a backward pass
// computes, also inside layers that hold their projections as fields
// (nn.SelfAttention's Q, K, V and output *nn.Linear, which the recorder of
// TestDirectFeedbackSkipsInputGradients cannot wrap): a dense layer's δx =
// δy B is the only MatMul that reads B untransposed (the forward pass reads
// W = B transposed, the weight gradient reads activations only), and a
// LayerNorm's δx is asked for by a LayerNormGrad with a non-nil dx.
type gradSpy struct {
	engine.Backend
	b, gamma map[*float32]string // first element of each B and γ → layer name
	dx       map[string]int      // input gradients computed, per layer
}

func (s *gradSpy) MatMul(transA, transB bool, m, n, k int, alpha float32, a, b []float32, beta float32, c []float32) {
	if !transB && len(b) > 0 {
		if name, ok := s.b[&b[0]]; ok {
			s.dx[name]++
		}
	}
	s.Backend.MatMul(transA, transB, m, n, k, alpha, a, b, beta, c)
}

func (s *gradSpy) LayerNormGrad(dx *tensor.Tensor, dgamma, dbeta []float32, dy, x *tensor.Tensor, gamma, mean, invStd []float32) {
	if dx != nil {
		s.dx[s.gamma[&gamma[0]]]++
	}
	s.Backend.LayerNormGrad(dx, dgamma, dbeta, dy, x, gamma, mean, invStd)
}

// TestDirectFeedbackTransformerInputGradients checks, on the GPT and the
// ViT, which input gradients one backward pass computes, the projections
// inside SelfAttention included. Under DFA no gradient crosses a tap, so
// the LayerNorms whose input gradient would only reach a tap (ln1 of every
// block above the first, ln_f) skip it; ln2's reaches the attention
// branch below it in the same block and is computed. The projections all
// compute theirs under both rules: Q, K and V because their δx is the
// gradient of ln1's output, which ln1's γ and β need; attn.proj and
// mlp.fc2 because layers inside the branch lie below them; mlp.fc1 for
// ln2's γ and β; the head for ln_f's. The first block's LayerNorms keep
// theirs under DFA: they train the embeddings below block 0.
func TestDirectFeedbackTransformerInputGradients(t *testing.T) {
	specs := smallSpecs()
	blockLN := func(dfa bool) map[string]bool {
		return map[string]bool{"blocks.0.ln1": true, "blocks.0.ln2": true,
			"blocks.1.ln1": !dfa, "blocks.1.ln2": true, "ln_f": !dfa}
	}
	cases := []struct {
		spec models.Spec
		rule string
		ln   map[string]bool
	}{
		{specs[4], "bp", blockLN(false)}, {specs[4], "dfa", blockLN(true)},
		{specs[5], "bp", blockLN(false)}, {specs[5], "dfa", blockLN(true)},
	}
	for _, tc := range cases {
		t.Run(tc.spec.Arch+"/"+tc.rule, func(t *testing.T) {
			net, err := models.Build(tc.spec, tensor.NewRand(8, 0))
			if err != nil {
				t.Fatal(err)
			}
			r, _ := rules.New(tc.rule, nil)
			if _, err := rules.Apply(net, r, rules.Options{}, newEnv(9)); err != nil {
				t.Fatal(err)
			}
			spy := &gradSpy{Backend: newCtx().E, b: map[*float32]string{}, gamma: map[*float32]string{}, dx: map[string]int{}}
			want := map[string]bool{}
			var dense []string
			for _, l := range net.WeightLayers() {
				if _, ok := l.(*nn.Linear); ok {
					spy.b[&l.Feedback().Value.Data[0]] = l.Name()
					want[l.Name()] = true // see the doc comment
					dense = append(dense, l.Name())
				}
			}
			nn.Walk(net.Root, func(l nn.Layer) {
				if ln, ok := l.(*nn.LayerNorm); ok {
					spy.gamma[&ln.Params()[0].Value.Data[0]] = ln.Name()
				}
			})
			for name, w := range tc.ln {
				want[name] = w
			}
			if len(spy.gamma) != len(tc.ln) {
				t.Fatalf("found %d LayerNorms, the test expects %d", len(spy.gamma), len(tc.ln))
			}
			if n := strings.Count(strings.Join(dense, " "), ".attn."); n != 8 {
				t.Fatalf("found %d attention projections (%v), want 8", n, dense)
			}
			var y []int32
			x, labels := batch(rand.New(rand.NewPCG(6, 8)), 3, net.In, net.Classes)
			y = labels
			if tc.spec.Arch == "gpt" { // token ids and one target per position
				for i := range x.Data {
					x.Data[i] = float32(i % net.Classes)
				}
				y = make([]int32, len(x.Data))
				for i := range y {
					y[i] = int32((i + 1) % net.Classes)
				}
			}
			forwardBackward(&nn.Ctx{E: spy, Train: true}, net, x, y)
			names := make([]string, 0, len(want))
			for name := range want {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if got := spy.dx[name]; got != map[bool]int{false: 0, true: 1}[want[name]] {
					t.Errorf("%s: %s computed its input gradient %d times, want %v", tc.rule, name, got, want[name])
				}
			}
		})
	}
}

// TestDirectFeedbackNormFormula checks the feedback at a tap of a
// LayerNorm-read stream against a float64 hand computation on a
// Linear → tap → classifier network: with g = D e per sample, the first
// layer's weight gradient is Σ δh xᵀ, where
//
//	δh = (1 − norm)·g + norm·(g − mean(g) − ĥ·mean(g ⊙ ĥ))/√(var(h) + ε)
//
// and ĥ = (h − mean(h))/√(var(h) + ε); at a tap that does not declare a
// normalised stream δh = g whatever norm is.
func TestDirectFeedbackNormFormula(t *testing.T) {
	const n, in, h, k = 5, 7, 6, 4
	cases := []struct {
		name       string
		normalized bool
		norm       float64 // the rule's setting
		jacobian   float64 // the weight the formula gives the Jacobian path
	}{
		{"normalised tap, default", true, 1, 1},
		{"normalised tap, mixed", true, 0.25, 0.25},
		{"normalised tap, off", true, 0, 0},
		{"plain tap", false, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRand(3, 0)
			fc1 := nn.NewLinear("fc1", in, h, true, nn.HeNormal, rng)
			tap := nn.NewTap("blocks.0.tap").SetNormalized(tc.normalized)
			head := nn.NewLinear("head", h, k, true, nn.HeNormal, rng)
			net, err := nn.NewNetwork(nn.NewSequential("", fc1, tap, head), []int{in}, k)
			if err != nil {
				t.Fatal(err)
			}
			r, err := rules.New("dfa", map[string]float64{"norm": tc.norm})
			if err != nil {
				t.Fatal(err)
			}
			bound, err := rules.Apply(net, r, rules.Options{}, newEnv(4))
			if err != nil {
				t.Fatal(err)
			}
			D := to64(bound.State[0].Value.Data)
			x, labels := batch(rand.New(rand.NewPCG(1, 2)), n, net.In, k)
			forwardBackward(newCtx(), net, x, labels)

			X, W1, b1 := to64(x.Data), to64(fc1.Weight().Value.Data), to64(fc1.Bias().Value.Data)
			W2, b2 := to64(head.Weight().Value.Data), to64(head.Bias().Value.Data)
			want := make([]float64, h*in)
			for s := 0; s < n; s++ {
				hv := make([]float64, h)
				for i := range hv {
					hv[i] = b1[i]
					for j := 0; j < in; j++ {
						hv[i] += W1[i*in+j] * X[s*in+j]
					}
				}
				logit, mx := make([]float64, k), math.Inf(-1)
				for o := range logit {
					logit[o] = b2[o]
					for i := range hv {
						logit[o] += W2[o*h+i] * hv[i]
					}
					mx = math.Max(mx, logit[o])
				}
				z := 0.0
				for _, v := range logit {
					z += math.Exp(v - mx)
				}
				e := make([]float64, k)
				for o := range e {
					e[o] = math.Exp(logit[o]-mx) / z / n
				}
				e[labels[s]] -= 1.0 / n
				g := make([]float64, h)
				for i := range g {
					for o := range e {
						g[i] += D[i*k+o] * e[o]
					}
				}
				mu, vr := 0.0, 0.0
				for _, v := range hv {
					mu += v / h
				}
				for _, v := range hv {
					vr += (v - mu) * (v - mu) / h
				}
				inv := 1 / math.Sqrt(vr+1e-5)
				mg, mgh := 0.0, 0.0
				for i := range g {
					mg += g[i] / h
					mgh += g[i] * (hv[i] - mu) * inv / h
				}
				for i := range g {
					jac := inv * (g[i] - mg - (hv[i]-mu)*inv*mgh)
					d := (1-tc.jacobian)*g[i] + tc.jacobian*jac
					for j := 0; j < in; j++ {
						want[i*in+j] += d * X[s*in+j]
					}
				}
			}
			// float32 sums of a few products: ~1e-6 relative; the plain
			// feedback and the normalised one differ by O(1).
			if d, s := maxAbsDiff(fc1.Weight().Grad.Data, want), maxAbs(want); s == 0 || !(d <= 1e-4*s) {
				t.Errorf("δW1: max diff %g from the hand computation (largest entry %g)", d, s)
			}
		})
	}
}
