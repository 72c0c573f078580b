package rules_test

import (
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
