package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/asymlab/asym/nn"
)

func init() { Register(Arch{Name: "vit", Build: buildViT}) }

// buildViT builds a small Vision Transformer classifier on images
// (C, H, W): a patch embedding (a Conv2d with kernel and stride Patch),
// the patches as tokens with a learned position table, non-causal
// pre-LN blocks, a final LayerNorm, the mean over tokens and a linear
// classifier. Defaults: 2 blocks, 4 heads, width 64, MLP 256, patch 4
// (2 for images smaller than 16×16). Layers:
//
//	patch_embed, tokens, pos_emb (a lookup: bound by rules only by name),
//	blocks.i.{ln1, attn.{q,k,v,proj}, ln2, mlp.{fc1,fc2}, tap}, ln_f, pool, head
func buildViT(s Spec, rng *rand.Rand) (*nn.Network, error) {
	if len(s.In) != 3 || s.In[0] <= 0 || s.In[1] <= 0 || s.In[2] <= 0 {
		return nil, fmt.Errorf("models: vit: input shape %v is not (C, H, W)", s.In)
	}
	b, err := newTransformer(s, rng, 64, 2)
	if err != nil {
		return nil, err
	}
	c, h, w := s.In[0], s.In[1], s.In[2]
	p := b.s.Patch
	if p == 0 {
		p = 4
		if h < 16 || w < 16 {
			p = 2
		}
	}
	if h%p != 0 || w%p != 0 {
		return nil, fmt.Errorf("models: vit: patch size %d does not divide the image size %d×%d", p, h, w)
	}
	d := b.s.Dim
	seq := nn.NewSequential("",
		nn.NewConv2d("patch_embed", nn.ConvSpec{In: c, Out: d, KH: p, KW: p, StrideH: p, StrideW: p, Bias: true}, b.init, rng),
		nn.NewTokens("tokens"), nn.NewPositionEmbedding("pos_emb", (h/p)*(w/p), d, rng))
	blocks, err := b.blocks(false)
	if err != nil {
		return nil, err
	}
	seq.Add(blocks...)
	seq.Add(nn.NewLayerNorm("ln_f", d), nn.NewTokenMean("pool"), nn.NewLinear("head", d, s.Classes, true, b.init, rng))
	net, err := nn.NewNetwork(seq, s.In, s.Classes)
	if err != nil {
		return nil, fmt.Errorf("models: vit on input %v: %w", s.In, err)
	}
	return net, nil
}
