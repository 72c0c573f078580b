package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// Spec describes a model.
type Spec struct {
	// Arch is the architecture: "mlp", "convnet", "resnet" (CIFAR style,
	// depth 6n+2 given by Depth), "resnetN" for N = 6n+2 (CIFAR style:
	// resnet8, resnet20, resnet32, ..., resnet110), or the ImageNet-style
	// "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"; a "v2"
	// suffix ("resnet20v2", "resnet50v2") selects the pre-activation form.
	Arch string
	// In is the per-sample input shape (C, H, W).
	In []int
	// Classes is the number of outputs.
	Classes int
	// Hidden lists the MLP's hidden widths (default [256 128]) or, for the
	// ConvNet, its two conv widths and its hidden FC width (default
	// [32 64 128]).
	Hidden []int
	// Depth is the depth of a CIFAR-style "resnet" (6n+2).
	Depth int
	// Width multiplies the channel counts of ResNets (default 1).
	Width float64
	// Dropout is the dropout probability before the classifier of the MLP
	// and ConvNet (default 0).
	Dropout float64
	// BatchNorm adds BatchNorm1d after every hidden Linear of the MLP.
	BatchNorm bool
	// Init names the initializer of weights: "he" (default), "lecun"
	// (the official code's truncated normal) or "torch".
	Init string
	// Stem selects the ImageNet-style ResNet stem: "imagenet" (7×7/2 conv
	// and 3×3/2 max pool, the default) or "small" (3×3/1 conv, no pool), for
	// small images.
	Stem string
	// ZeroInitResidual sets γ = 0 in the last BatchNorm of every residual
	// branch (v1 only: a v2 branch ends with a convolution).
	ZeroInitResidual bool
	// Shortcut selects where ResNets put a 1×1 projection shortcut: "auto"
	// (the default: where the shape changes, as torchvision) or "first" (on
	// the first block of every group, layer1 included, as the official code
	// of Kunin et al. 2020 in both v1 and v2).
	Shortcut string
	// Pool selects the padding of the ImageNet stem's 3×3/2 max pool:
	// "torch" (the default: 1 on every side) or "same" (TensorFlow's "SAME",
	// 0 before and 1 after an even input, as the official code).
	Pool string
	// FCInit selects the classifier's initialisation: "" (the model's Init
	// for W, PyTorch's uniform for the bias), "normal" (W ~ N(0, 0.01²),
	// bias 0: the official v1 ResNets) or "glorot" (Glorot uniform W, bias
	// 0: the official v2 ResNets). B is drawn like W.
	FCInit string
	// BNMomentum is the weight of the batch statistics in the running
	// statistics of every BatchNorm (PyTorch's momentum; 0 means 0.1). The
	// official v1 ResNets use 0.1 (TF decay 0.9), the v2 ones 0.003 (decay
	// 0.997).
	BNMomentum float64

	// Transformers ("gpt", "vit"); Depth is their number of blocks.

	// Dim is the width of a Transformer's tokens (default 128 for the GPT,
	// 64 for the ViT); it must be divisible by Heads.
	Dim int
	// Heads is the number of attention heads (default 4).
	Heads int
	// MLP is the hidden width of a block's MLP (default 4·Dim).
	MLP int
	// Context is the length of the GPT's position table (default: the
	// sequence length In[0], which must not exceed it).
	Context int
	// Patch is the ViT's patch size (default 4 for images of at least
	// 16×16, else 2); it must divide the image's height and width.
	Patch int
}

func init() {
	Register(Arch{Name: "mlp", Build: imageBuild((*builder).mlp)})
	Register(Arch{Name: "convnet", Build: imageBuild((*builder).convnet)})
}

// Arch is a registered architecture: one file per architecture registers
// it from an init function with [Register].
type Arch struct {
	// Name is the architecture's name in configs (lower case).
	Name string
	// Family, if set, makes this entry a family: it builds the names it
	// accepts (the CIFAR-style "resnetN"), and Name only identifies it
	// (families are not listed by [Names]).
	Family func(name string) bool
	// Build constructs the network for s (s.Arch is the name as given,
	// lower-cased) with weights drawn from rng.
	Build func(s Spec, rng *rand.Rand) (*nn.Network, error)
}

var registry []Arch

// Register adds an architecture. It panics on an empty or taken name or a
// nil Build (a programmer error).
func Register(a Arch) {
	if a.Name == "" || a.Build == nil || a.Name != strings.ToLower(a.Name) {
		panic("models: Register: incomplete architecture " + a.Name)
	}
	for _, r := range registry {
		if r.Name == a.Name {
			panic("models: Register: duplicate architecture " + a.Name)
		}
	}
	registry = append(registry, a)
}

// lookup returns the architecture that builds name: an exact name first,
// then a family.
func lookup(name string) (Arch, bool) {
	a := strings.ToLower(name)
	for _, r := range registry {
		if r.Family == nil && r.Name == a {
			return r, true
		}
	}
	for _, r := range registry {
		if r.Family != nil && r.Family(a) {
			return r, true
		}
	}
	return Arch{}, false
}

// Names returns the registered architecture names in registration order,
// families excluded (they accept names of a pattern: "resnetN" for any
// N = 6n+2 ≥ 8 is a CIFAR-style ResNet; see [Valid]).
func Names() []string {
	var n []string
	for _, r := range registry {
		if r.Family == nil {
			n = append(n, r.Name)
		}
	}
	return n
}

// Valid reports whether arch names an architecture Build knows.
func Valid(arch string) bool {
	_, ok := lookup(arch)
	return ok
}

// Build constructs the network described by s with weights drawn from rng.
func Build(s Spec, rng *rand.Rand) (*nn.Network, error) {
	a, ok := lookup(s.Arch)
	if !ok {
		return nil, errArch(s.Arch)
	}
	s.Arch = strings.ToLower(s.Arch)
	return a.Build(s, rng)
}

// imageBuild adapts a builder of an image classifier's root layer to
// [Arch.Build]: it validates the image input (C, H, W), the classes and the
// common options, and wraps the root in a network.
func imageBuild(root func(b *builder) (nn.Layer, error)) func(Spec, *rand.Rand) (*nn.Network, error) {
	return func(s Spec, rng *rand.Rand) (*nn.Network, error) {
		b, err := newBuilder(s, rng)
		if err != nil {
			return nil, err
		}
		r, err := root(b)
		if err != nil {
			return nil, err
		}
		if s.BNMomentum > 0 {
			nn.Walk(r, func(l nn.Layer) {
				if bn, ok := l.(*nn.BatchNorm); ok {
					bn.Momentum = float32(s.BNMomentum)
				}
			})
		}
		net, err := nn.NewNetwork(r, b.s.In, b.s.Classes)
		if err != nil {
			return nil, fmt.Errorf("models: %s on input %v: %w", s.Arch, s.In, err)
		}
		return net, nil
	}
}

// newBuilder validates the options every image model shares.
func newBuilder(s Spec, rng *rand.Rand) (*builder, error) {
	if len(s.In) != 3 || s.In[0] <= 0 || s.In[1] <= 0 || s.In[2] <= 0 {
		return nil, fmt.Errorf("models: input shape %v is not (C, H, W)", s.In)
	}
	if s.Classes < 2 {
		return nil, fmt.Errorf("models: classes = %d, want at least 2", s.Classes)
	}
	if s.Width == 0 {
		s.Width = 1
	}
	if s.Width < 0 {
		return nil, fmt.Errorf("models: width = %v, want > 0", s.Width)
	}
	if s.Dropout < 0 || s.Dropout >= 1 {
		return nil, fmt.Errorf("models: dropout = %v, want in [0, 1)", s.Dropout)
	}
	if s.Init == "" {
		s.Init = "he"
	}
	init, err := nn.InitializerByName(s.Init)
	if err != nil {
		return nil, fmt.Errorf("models: init: %w", err)
	}
	switch s.Shortcut {
	case "", "auto", "first":
	default:
		return nil, fmt.Errorf("models: shortcut %q; valid: auto, first", s.Shortcut)
	}
	switch s.Pool {
	case "", "torch", "same":
	default:
		return nil, fmt.Errorf("models: pool %q; valid: torch, same", s.Pool)
	}
	switch s.FCInit {
	case "", "normal", "glorot":
	default:
		return nil, fmt.Errorf("models: fc_init %q; valid: normal, glorot (or empty for the model's init)", s.FCInit)
	}
	if !(s.BNMomentum >= 0 && s.BNMomentum <= 1) {
		return nil, fmt.Errorf("models: bn_momentum = %v, want in [0, 1]", s.BNMomentum)
	}
	return &builder{s: s, init: init, rng: rng}, nil
}

func errArch(a string) error {
	n := Names()
	sort.Strings(n)
	return fmt.Errorf("models: unknown architecture %q; valid: %s", a, strings.Join(n, ", "))
}

type builder struct {
	s    Spec
	init nn.Initializer
	rng  *rand.Rand
}

func (b *builder) conv(name string, in, out, k, stride, pad int) *nn.Conv2d {
	return nn.NewConv2d(name, nn.ConvSpec{In: in, Out: out, KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}, b.init, b.rng)
}

func (b *builder) linear(name string, in, out int) *nn.Linear {
	return nn.NewLinear(name, in, out, true, b.init, b.rng)
}

// classifier is the last Linear layer, initialised as Spec.FCInit says.
func (b *builder) classifier(name string, in, out int) *nn.Linear {
	var init nn.Initializer
	switch b.s.FCInit {
	case "normal":
		init = func(t *tensor.Tensor, rng *rand.Rand, _ int) { tensor.FillNormal(t, rng, 0.01) }
	case "glorot":
		init = func(t *tensor.Tensor, rng *rand.Rand, fanIn int) {
			tensor.FillUniform(t, rng, math.Sqrt(6/float64(fanIn+out)))
		}
	default:
		return b.linear(name, in, out)
	}
	l := nn.NewLinear(name, in, out, true, init, b.rng)
	l.Bias().Value.Fill(0)
	return l
}

func (b *builder) mlp() (nn.Layer, error) {
	hidden := b.s.Hidden
	if len(hidden) == 0 {
		hidden = []int{256, 128}
	}
	seq := nn.NewSequential("", nn.NewFlatten("flatten"))
	in := b.s.In[0] * b.s.In[1] * b.s.In[2]
	for i, h := range hidden {
		if h <= 0 {
			return nil, fmt.Errorf("models: mlp hidden width %d at position %d, want > 0", h, i)
		}
		name := fmt.Sprintf("fc%d", i+1)
		seq.Add(b.linear(name, in, h))
		if b.s.BatchNorm {
			seq.Add(nn.NewBatchNorm(fmt.Sprintf("bn%d", i+1), h, false))
		}
		seq.Add(nn.NewReLU(fmt.Sprintf("relu%d", i+1)))
		if b.s.Dropout > 0 {
			seq.Add(nn.NewDropout(fmt.Sprintf("drop%d", i+1), b.s.Dropout))
		}
		seq.Add(nn.NewTap(name + ".tap"))
		in = h
	}
	seq.Add(b.linear(fmt.Sprintf("fc%d", len(hidden)+1), in, b.s.Classes))
	return seq, nil
}

func (b *builder) convnet() (nn.Layer, error) {
	h := b.s.Hidden
	if len(h) == 0 {
		h = []int{32, 64, 128}
	}
	if len(h) != 3 || h[0] <= 0 || h[1] <= 0 || h[2] <= 0 {
		return nil, fmt.Errorf("models: convnet hidden = %v, want three positive widths (conv1, conv2, fc)", h)
	}
	c, hh, ww := b.s.In[0], b.s.In[1], b.s.In[2]
	if hh < 4 || ww < 4 {
		return nil, fmt.Errorf("models: convnet needs images of at least 4×4, got %d×%d", hh, ww)
	}
	seq := nn.NewSequential("",
		b.conv("conv1", c, h[0], 3, 1, 1), nn.NewBatchNorm("bn1", h[0], false), nn.NewReLU("relu1"),
		nn.NewMaxPool2d("pool1", 2, 2, 0), nn.NewTap("conv1.tap"),
		b.conv("conv2", h[0], h[1], 3, 1, 1), nn.NewBatchNorm("bn2", h[1], false), nn.NewReLU("relu2"),
		nn.NewMaxPool2d("pool2", 2, 2, 0), nn.NewTap("conv2.tap"),
		nn.NewFlatten("flatten"))
	flat := h[1] * (hh / 2 / 2) * (ww / 2 / 2)
	seq.Add(b.linear("fc1", flat, h[2]), nn.NewReLU("relu3"))
	if b.s.Dropout > 0 {
		seq.Add(nn.NewDropout("drop", b.s.Dropout))
	}
	seq.Add(nn.NewTap("fc1.tap"), b.linear("fc2", h[2], b.s.Classes))
	return seq, nil
}

func (b *builder) width(c int) int { return max(1, int(float64(c)*b.s.Width+0.5)) }

// basicBlock is the two-3×3-conv residual block of ResNet-18/34 and the
// CIFAR ResNets, with a 1×1 projection shortcut when the shape changes.
func (b *builder) basicBlock(name string, in, out, stride int, first bool) nn.Layer {
	branch := nn.NewSequential(name+".branch",
		b.conv(name+".conv1", in, out, 3, stride, 1), nn.NewBatchNorm(name+".bn1", out, false), nn.NewReLU(name+".relu1"),
		b.conv(name+".conv2", out, out, 3, 1, 1), nn.NewBatchNorm(name+".bn2", out, b.s.ZeroInitResidual))
	return nn.NewResidual(name, branch, b.shortcut(name, in, out, stride, first), nn.NewReLU(name+".relu"))
}

// bottleneck is the 1×1-3×3-1×1 block of ResNet-50/101/152 (stride on the
// 3×3 conv, as in torchvision).
func (b *builder) bottleneck(name string, in, mid, stride int, first bool) nn.Layer {
	out := mid * 4
	branch := nn.NewSequential(name+".branch",
		b.conv(name+".conv1", in, mid, 1, 1, 0), nn.NewBatchNorm(name+".bn1", mid, false), nn.NewReLU(name+".relu1"),
		b.conv(name+".conv2", mid, mid, 3, stride, 1), nn.NewBatchNorm(name+".bn2", mid, false), nn.NewReLU(name+".relu2"),
		b.conv(name+".conv3", mid, out, 1, 1, 0), nn.NewBatchNorm(name+".bn3", out, b.s.ZeroInitResidual))
	return nn.NewResidual(name, branch, b.shortcut(name, in, out, stride, first), nn.NewReLU(name+".relu"))
}

func (b *builder) shortcut(name string, in, out, stride int, first bool) *nn.Sequential {
	if in == out && stride == 1 && !(first && b.s.Shortcut == "first") {
		return nil
	}
	return nn.NewSequential(name+".downsample",
		b.conv(name+".downsample.0", in, out, 1, stride, 0), nn.NewBatchNorm(name+".downsample.1", out, false))
}

func (b *builder) cifarResNet(depth int) (nn.Layer, error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return nil, fmt.Errorf("models: CIFAR-style resnet depth %d is not 6n+2 (8, 14, 20, 32, 44, 56, 110, ...)", depth)
	}
	n := (depth - 2) / 6
	w := []int{b.width(16), b.width(32), b.width(64)}
	seq := nn.NewSequential("",
		b.conv("conv1", b.s.In[0], w[0], 3, 1, 1), nn.NewBatchNorm("bn1", w[0], false), nn.NewReLU("relu"), nn.NewTap("conv1.tap"))
	in := w[0]
	for st := 0; st < 3; st++ {
		for i := 0; i < n; i++ {
			stride := 1
			if st > 0 && i == 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", st+1, i)
			seq.Add(b.basicBlock(name, in, w[st], stride, i == 0), nn.NewTap(name+".tap"))
			in = w[st]
		}
	}
	seq.Add(nn.NewGlobalAvgPool("avgpool"), nn.NewFlatten("flatten"), b.classifier("fc", in, b.s.Classes))
	return seq, nil
}

// imagenetBlocks gives the blocks per group of the ImageNet ResNets (v1
// and v2 alike) by depth.
var imagenetBlocks = map[int][]int{18: {2, 2, 2, 2}, 34: {3, 4, 6, 3}, 50: {3, 4, 6, 3}, 101: {3, 4, 23, 3}, 152: {3, 8, 36, 3}}

func (b *builder) imagenetResNet(depth int) (nn.Layer, error) {
	return b.imagenetBody(depth,
		func(c int) []nn.Layer { return []nn.Layer{nn.NewBatchNorm("bn1", c, false), nn.NewReLU("relu")} },
		func(name string, in, mid, stride int, bottle, first bool) nn.Layer {
			if bottle {
				return b.bottleneck(name, in, mid, stride, first)
			}
			return b.basicBlock(name, in, mid, stride, first)
		},
		func(seq *nn.Sequential, in int) {
			seq.Add(nn.NewGlobalAvgPool("avgpool"), nn.NewFlatten("flatten"), b.classifier("fc", in, b.s.Classes))
		})
}

// imagenetBody builds the ImageNet ResNet of depth, v1 or v2 alike: the
// stem (conv1, then the layers post makes for its width — v1's BN-ReLU,
// none for v2 — and the 3×3/2 max pool; stem "small" is a 3×3/1
// convolution without the pool), the four groups of residual blocks that
// block makes (a tap after each, and after the stem), and the head.
func (b *builder) imagenetBody(depth int, post func(c int) []nn.Layer,
	block func(name string, in, mid, stride int, bottle, first bool) nn.Layer, head func(seq *nn.Sequential, in int)) (nn.Layer, error) {
	blocks := imagenetBlocks[depth]
	bottle := depth >= 50
	w0 := b.width(64)
	seq := nn.NewSequential("")
	switch b.s.Stem {
	case "", "imagenet":
		seq.Add(b.conv("conv1", b.s.In[0], w0, 7, 2, 3))
		seq.Add(post(w0)...)
		seq.Add(b.maxPool())
	case "small":
		seq.Add(b.conv("conv1", b.s.In[0], w0, 3, 1, 1))
		seq.Add(post(w0)...)
	default:
		return nil, fmt.Errorf("models: stem %q; valid: imagenet, small", b.s.Stem)
	}
	seq.Add(nn.NewTap("conv1.tap"))
	in := w0
	for st := 0; st < 4; st++ {
		mid := b.width(64 << st)
		for i := 0; i < blocks[st]; i++ {
			stride := 1
			if st > 0 && i == 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", st+1, i)
			seq.Add(block(name, in, mid, stride, bottle, i == 0), nn.NewTap(name+".tap"))
			in = mid
			if bottle {
				in = 4 * mid
			}
		}
	}
	head(seq, in)
	return seq, nil
}

// maxPool is the ImageNet stem's 3×3/2 max pool, padded as Spec.Pool says.
func (b *builder) maxPool() nn.Layer {
	if b.s.Pool == "same" {
		return nn.NewMaxPool2dSame("maxpool", 3, 2)
	}
	return nn.NewMaxPool2d("maxpool", 3, 2, 1)
}

// preact returns the pre-activation (BatchNorm, ReLU) of a v2 block.
func preact(name string, c int) []nn.Layer {
	return []nn.Layer{nn.NewBatchNorm(name+".bn0", c, false), nn.NewReLU(name + ".relu0")}
}

// blockV2 is a pre-activation residual block (the official
// resnet_model_v2.py): BN-ReLU first; a projection shortcut (a bare 1×1
// convolution) takes the pre-activated input, an identity shortcut the raw
// one; no activation after the sum. The branch is the basic block's two
// 3×3 convolutions or, when bottle, the 1×1-3×3-1×1 bottleneck (stride on
// the 3×3), with BN-ReLU between them.
func (b *builder) blockV2(name string, in, mid int, stride int, bottle, first bool) nn.Layer {
	out := mid
	var convs []nn.Layer
	if bottle {
		out = 4 * mid
		convs = []nn.Layer{
			b.conv(name+".conv1", in, mid, 1, 1, 0), nn.NewBatchNorm(name+".bn1", mid, false), nn.NewReLU(name + ".relu1"),
			b.conv(name+".conv2", mid, mid, 3, stride, 1), nn.NewBatchNorm(name+".bn2", mid, false), nn.NewReLU(name + ".relu2"),
			b.conv(name+".conv3", mid, out, 1, 1, 0)}
	} else {
		convs = []nn.Layer{
			b.conv(name+".conv1", in, mid, 3, stride, 1), nn.NewBatchNorm(name+".bn1", mid, false), nn.NewReLU(name + ".relu1"),
			b.conv(name+".conv2", mid, mid, 3, 1, 1)}
	}
	if in == out && stride == 1 && !(first && b.s.Shortcut == "first") {
		branch := nn.NewSequential(name+".branch", append(preact(name, in), convs...)...)
		return nn.NewResidual(name, branch, nil, nil)
	}
	short := nn.NewSequential(name+".downsample", b.conv(name+".downsample.0", in, out, 1, stride, 0))
	res := nn.NewResidual(name+".res", nn.NewSequential(name+".branch", convs...), short, nil)
	return nn.NewSequential(name, append(preact(name, in), res)...)
}

// headV2 ends a v2 ResNet: the final BN-ReLU, global average pooling and
// the classifier.
func (b *builder) headV2(seq *nn.Sequential, in int) {
	seq.Add(nn.NewBatchNorm("bn_final", in, false), nn.NewReLU("relu_final"),
		nn.NewGlobalAvgPool("avgpool"), nn.NewFlatten("flatten"), b.classifier("fc", in, b.s.Classes))
}

// cifarResNetV2 is the pre-activation CIFAR-style ResNet of depth 6n+2
// (He et al. 2016): a 3×3 convolution, three groups of n basic blocks of
// widths 16, 32, 64, the final BN-ReLU and the classifier.
func (b *builder) cifarResNetV2(depth int) (nn.Layer, error) {
	if depth < 8 || (depth-2)%6 != 0 {
		return nil, fmt.Errorf("models: CIFAR-style resnet depth %d is not 6n+2 (8, 14, 20, 32, 44, 56, 110, ...)", depth)
	}
	n := (depth - 2) / 6
	w := []int{b.width(16), b.width(32), b.width(64)}
	seq := nn.NewSequential("", b.conv("conv1", b.s.In[0], w[0], 3, 1, 1), nn.NewTap("conv1.tap"))
	in := w[0]
	for st := 0; st < 3; st++ {
		for i := 0; i < n; i++ {
			stride := 1
			if st > 0 && i == 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", st+1, i)
			seq.Add(b.blockV2(name, in, w[st], stride, false, i == 0), nn.NewTap(name+".tap"))
			in = w[st]
		}
	}
	b.headV2(seq, in)
	return seq, nil
}

// imagenetResNetV2 is the official resnet_model_v2.py: a bare 7×7/2
// convolution (no BN-ReLU: the first block pre-activates), the 3×3/2 max
// pool, four groups of v2 blocks, the final BN-ReLU and the classifier.
// Stem "small" replaces the convolution and pool by a 3×3/1 convolution.
func (b *builder) imagenetResNetV2(depth int) (nn.Layer, error) {
	return b.imagenetBody(depth, func(int) []nn.Layer { return nil }, b.blockV2, b.headV2)
}
