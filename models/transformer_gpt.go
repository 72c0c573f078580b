package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/asymlab/asym/nn"
)

func init() { Register(Arch{Name: "gpt", Build: buildGPT}) }

// buildGPT builds a character-level GPT: In = [T] token ids (as float32)
// per sample, Classes = the vocabulary size; output logits (N, T, Classes)
// scored by nn.TokenCrossEntropy (ignore −1). Defaults: 4 blocks, 4 heads,
// width 128, MLP 512, position table of T (Context). Layers:
//
//	tok_emb, pos_emb                          (lookups: rules bind them only by name)
//	blocks.i.ln1, blocks.i.attn.{q,k,v,proj}, (causal)
//	blocks.i.ln2, blocks.i.mlp.{fc1,fc2},
//	blocks.i.tap                              (DFA: one tap per block)
//	ln_f, head
func buildGPT(s Spec, rng *rand.Rand) (*nn.Network, error) {
	if len(s.In) != 1 || s.In[0] <= 0 {
		return nil, fmt.Errorf("models: gpt: input shape %v is not (T) token ids", s.In)
	}
	b, err := newTransformer(s, rng, 128, 4)
	if err != nil {
		return nil, err
	}
	t := s.In[0]
	if b.s.Context == 0 {
		b.s.Context = t
	}
	if t > b.s.Context {
		return nil, fmt.Errorf("models: gpt: a context of %d tokens is longer than the position table (%d)", t, b.s.Context)
	}
	d := b.s.Dim
	seq := nn.NewSequential("", nn.NewEmbedding("tok_emb", s.Classes, d, rng), nn.NewPositionEmbedding("pos_emb", b.s.Context, d, rng))
	blocks, err := b.blocks(true)
	if err != nil {
		return nil, err
	}
	seq.Add(blocks...)
	seq.Add(nn.NewLayerNorm("ln_f", d), nn.NewLinear("head", d, s.Classes, true, b.init, rng))
	net, err := nn.NewNetwork(seq, s.In, s.Classes)
	if err != nil {
		return nil, fmt.Errorf("models: gpt on input %v: %w", s.In, err)
	}
	net.Head = nn.TokenCrossEntropy{Ignore: -1}
	return net, nil
}
