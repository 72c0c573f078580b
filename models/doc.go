// Package models builds asym's networks: multi-layer perceptrons, a small
// ConvNet, CIFAR-style ResNet-(6n+2), ImageNet-style ResNet-18 to -152,
// each ResNet also in its pre-activation form ("v2", He et al. 2016, as in
// the official code of Kunin et al. 2020: "resnet20v2", "resnet50v2"), a
// character-level GPT and a small Vision Transformer.
//
// # The official code's choices
//
// [Spec] has the options that reproduce the ResNets of the official code
// (resnet_model_v1.py, resnet_model_v2.py): a projection shortcut on the
// first block of every group (Shortcut "first"), TensorFlow's "SAME" max
// pool (Pool "same"), its classifier initialisations (FCInit), its
// BatchNorm momentum (BNMomentum) and its truncated-normal convolutions
// (Init "lecun"). docs/paper-fidelity.md lists them all.
//
// # Overview
//
// [Build] turns a [Spec] (architecture name, per-sample input shape, number
// of classes and options) into an [nn.Network]. Architectures are
// registered by name ([Register]), one file each; [Names] lists them and
// [Valid] accepts them. Input channels and image size are parameters: the
// same ResNet-18 builds for 1×8×8 digits, 1×28×28 Fashion-MNIST, 3×32×32 or
// 3×224×224 images.
//
// Parameter names follow torchvision ("layer1.0.conv1.weight",
// "layer2.0.downsample.0.weight", "fc.bias"), so weights map one to one onto
// a PyTorch model (v2 blocks add "layer1.0.bn0", the pre-activation, and
// "bn_final"). Every hidden block ends in an [nn.Tap] so that direct
// feedback rules can reach it; taps cost nothing otherwise.
//
// # Transformers
//
// "gpt" takes token ids (In = [T], Classes = the vocabulary) and returns
// logits per position (N, T, Classes), scored by [nn.TokenCrossEntropy];
// "vit" classifies images (C, H, W) through strided-convolution patches.
// Both are pre-LN Transformers whose Q, K, V, output, MLP and classifier
// projections are [nn.Linear] weight layers, so every learning rule
// applies to them; names suit globs: "blocks.0.attn.q", "blocks.*.mlp.fc1",
// "head". See docs/transformers.md.
//
// # Errors
//
// Build returns an error naming the offending field for an unknown
// architecture, a depth that does not fit the family, an input shape the
// architecture cannot take, a width not divisible by the number of heads
// or a context longer than the position table.
package models
