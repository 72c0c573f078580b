package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/asymlab/asym/nn"
)

// transformer holds what the GPT and the ViT share: validated sizes, the
// initializer and the random source.
type transformer struct {
	s    Spec
	init nn.Initializer
	rng  *rand.Rand
}

// newTransformer fills in the shared defaults (depth, heads, MLP width;
// init "torch", PyTorch's nn.Linear default) and validates them.
func newTransformer(s Spec, rng *rand.Rand, dim, depth int) (*transformer, error) {
	if s.Classes < 2 {
		return nil, fmt.Errorf("models: %s: classes = %d, want at least 2", s.Arch, s.Classes)
	}
	if s.Dim == 0 {
		s.Dim = dim
	}
	if s.Depth == 0 {
		s.Depth = depth
	}
	if s.Heads == 0 {
		s.Heads = 4
	}
	if s.MLP == 0 {
		s.MLP = 4 * s.Dim
	}
	if s.Dim < 0 || s.Depth < 0 || s.Heads < 0 || s.MLP < 0 || s.Context < 0 || s.Patch < 0 {
		return nil, fmt.Errorf("models: %s: negative size (dim %d, depth %d, heads %d, mlp %d, context %d, patch %d)",
			s.Arch, s.Dim, s.Depth, s.Heads, s.MLP, s.Context, s.Patch)
	}
	if s.Dim%s.Heads != 0 {
		return nil, fmt.Errorf("models: %s: width %d is not divisible by %d heads", s.Arch, s.Dim, s.Heads)
	}
	if s.Init == "" {
		s.Init = "torch"
	}
	init, err := nn.InitializerByName(s.Init)
	if err != nil {
		return nil, fmt.Errorf("models: init: %w", err)
	}
	return &transformer{s: s, init: init, rng: rng}, nil
}

// blocks returns the Transformer blocks blocks.0 … blocks.{Depth−1}, each
// followed by its tap blocks.i.tap (DFA: one tap per block).
func (b *transformer) blocks(causal bool) ([]nn.Layer, error) {
	var out []nn.Layer
	for i := 0; i < b.s.Depth; i++ {
		blk, err := nn.NewBlock(fmt.Sprintf("blocks.%d", i), b.s.Dim, b.s.Heads, b.s.MLP, causal, b.init, b.rng)
		if err != nil {
			return nil, fmt.Errorf("models: %s: %w", b.s.Arch, err)
		}
		out = append(out, blk, nn.NewTap(fmt.Sprintf("blocks.%d.tap", i)))
	}
	return out, nil
}
