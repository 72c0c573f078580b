package models

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// TestTransformers builds the GPT and the ViT at their default sizes,
// checks their parameter counts against the formula of the same models in
// torch.nn (Embedding, LayerNorm, Linear with biases, Conv2d), their
// output shapes and heads, the layer names globs select on, and one tap per
// block; then runs a training forward and backward pass.
func TestTransformers(t *testing.T) {
	const V, T = 65, 32
	block := func(d, f int) int { return 2*d + 4*(d*d+d) + 2*d + d*f + f + f*d + d }
	cases := []struct {
		spec  Spec
		want  int
		out   []int
		head  string
		names []string
	}{
		{Spec{Arch: "gpt", In: []int{T}, Classes: V}, V*128 + T*128 + 4*block(128, 512) + 2*128 + 128*V + V,
			[]int{T, V}, "tokens", []string{"tok_emb", "pos_emb", "blocks.0.attn.q", "blocks.3.mlp.fc2", "head"}},
		{Spec{Arch: "gpt", In: []int{T}, Classes: V, Context: 64, Dim: 32, Heads: 2, Depth: 1, MLP: 48},
			V*32 + 64*32 + block(32, 48) + 2*32 + 32*V + V, []int{T, V}, "tokens", nil},
		{Spec{Arch: "vit", In: []int{1, 28, 28}, Classes: 10}, 16*64 + 64 + 49*64 + 2*block(64, 256) + 2*64 + 64*10 + 10,
			[]int{10}, "classification", []string{"patch_embed", "pos_emb", "blocks.1.attn.proj", "head"}},
		{Spec{Arch: "vit", In: []int{1, 8, 8}, Classes: 10}, 4*64 + 64 + 16*64 + 2*block(64, 256) + 2*64 + 64*10 + 10,
			[]int{10}, "classification", nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s%v", tc.spec.Arch, tc.spec.In), func(t *testing.T) {
			net, err := Build(tc.spec, tensor.NewRand(1, 1))
			if err != nil {
				t.Fatal(err)
			}
			if got := trainable(net); got != tc.want {
				t.Errorf("%d trainable parameters, want %d", got, tc.want)
			}
			if !slices.Equal(net.Out, tc.out) || net.Head.Name() != tc.head {
				t.Errorf("output %v head %s, want %v %s", net.Out, net.Head.Name(), tc.out, tc.head)
			}
			var names []string
			for _, l := range net.WeightLayers() {
				names = append(names, l.Name())
			}
			for _, n := range tc.names {
				if !slices.Contains(names, n) {
					t.Errorf("no weight layer %s in %v", n, names)
				}
			}
			depth := tc.spec.Depth
			if depth == 0 {
				depth = map[string]int{"gpt": 4, "vit": 2}[tc.spec.Arch]
			}
			if len(net.Taps()) != depth {
				t.Errorf("%d taps for %d blocks", len(net.Taps()), depth)
			}
			for i, tp := range net.Taps() {
				if tp.Name() != fmt.Sprintf("blocks.%d.tap", i) {
					t.Errorf("tap %d is %s", i, tp.Name())
				}
			}
			x := tensor.New(append([]int{3}, net.In...)...)
			if tc.head == "tokens" {
				for i := range x.Data {
					x.Data[i] = float32(i % V)
				}
			} else {
				tensor.FillNormal(x, tensor.NewRand(2, 2), 1)
			}
			labels := make([]int32, 3*net.Head.Targets(net.Out))
			for i := range labels {
				labels[i] = int32(i % tc.spec.Classes)
			}
			c := &nn.Ctx{E: engine.NewCPU(2), Train: true}
			logits := net.Forward(c, x)
			var dl tensor.Tensor
			loss, _, n := net.Head.Loss(c.E, &dl, logits, labels, 0)
			if loss <= 0 || n != len(labels) {
				t.Fatalf("loss %v over %d targets", loss, n)
			}
			net.Backward(c, &dl)
			for _, p := range net.Params() {
				if p.Grad != nil && (tensor.Norm2(p.Grad.Data) == 0 || p.Grad.HasNaNOrInf()) {
					t.Errorf("%s: gradient zero or not finite", p.Name)
				}
			}
		})
	}
}

// TestTransformerErrors checks the configuration errors of the
// Transformers: clear errors, no panics.
func TestTransformerErrors(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Arch: "gpt", In: []int{16}, Classes: 10, Dim: 30, Heads: 4}, "models: gpt: width 30 is not divisible by 4 heads"},
		{Spec{Arch: "gpt", In: []int{16}, Classes: 10, Context: 8}, "models: gpt: a context of 16 tokens is longer than the position table (8)"},
		{Spec{Arch: "gpt", In: []int{1, 8, 8}, Classes: 10}, "models: gpt: input shape [1 8 8] is not (T) token ids"},
		{Spec{Arch: "gpt", In: []int{16}, Classes: 1}, "models: gpt: classes = 1, want at least 2"},
		{Spec{Arch: "gpt", In: []int{16}, Classes: 10, Dim: -4}, "models: gpt: negative size"},
		{Spec{Arch: "vit", In: []int{1, 28, 28}, Classes: 10, Patch: 5}, "models: vit: patch size 5 does not divide the image size 28×28"},
		{Spec{Arch: "vit", In: []int{1, 28, 28}, Classes: 10, Dim: 10, Heads: 3}, "models: vit: width 10 is not divisible by 3 heads"},
		{Spec{Arch: "vit", In: []int{28}, Classes: 10}, "models: vit: input shape [28] is not (C, H, W)"},
		{Spec{Arch: "vit", In: []int{1, 8, 8}, Classes: 10, Init: "nope"}, "models: init: nn: unknown initializer"},
	} {
		_, err := Build(tc.spec, tensor.NewRand(1, 1))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.spec, err, tc.want)
		}
	}
}

// TestGPTCausal checks the causal mask end to end: changing the token at
// position k changes no logit at positions before k, bit for bit, and
// changes those at k.
func TestGPTCausal(t *testing.T) {
	const V, T = 7, 6
	net, err := Build(Spec{Arch: "gpt", In: []int{T}, Classes: V, Dim: 8, Heads: 2, Depth: 2}, tensor.NewRand(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	c := &nn.Ctx{E: engine.NewCPU(1)}
	x := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, T)
	base := net.Forward(c, x).Clone()
	for k := 0; k < T; k++ {
		y := x.Clone()
		y.Data[k] = float32((int(y.Data[k]) + 1) % V)
		got := net.Forward(c, y)
		for p := 0; p < T; p++ {
			same := tensor.Equal(tensor.FromData(got.Data[p*V:(p+1)*V], V), tensor.FromData(base.Data[p*V:(p+1)*V], V))
			if p < k && !same {
				t.Errorf("token %d changed the logits at position %d", k, p)
			}
			if p == k && same {
				t.Errorf("token %d did not change its own position's logits", k)
			}
		}
	}
}
