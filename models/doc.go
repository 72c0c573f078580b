// Package models builds asym's networks: multi-layer perceptrons, a small
// ConvNet, CIFAR-style ResNet-(6n+2) and ImageNet-style ResNet-18 to -152,
// each ResNet also in its pre-activation form ("v2", He et al. 2016, as in
// the official code of Kunin et al. 2020: "resnet20v2", "resnet50v2").
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
// of classes and options) into an [nn.Network]. Input channels and image
// size are parameters: the same ResNet-18 builds for 1×8×8 digits, 1×28×28
// Fashion-MNIST, 3×32×32 or 3×224×224 images.
//
// Parameter names follow torchvision ("layer1.0.conv1.weight",
// "layer2.0.downsample.0.weight", "fc.bias"), so weights map one to one onto
// a PyTorch model (v2 blocks add "layer1.0.bn0", the pre-activation, and
// "bn_final"). Every hidden block ends in an [nn.Tap] so that direct
// feedback rules can reach it; taps cost nothing otherwise.
//
// # Errors
//
// Build returns an error naming the offending field for an unknown
// architecture, a depth that does not fit the family, or an input shape the
// architecture cannot take.
package models
