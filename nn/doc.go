// Package nn holds asym's layers and the network container, with explicit
// Forward and Backward passes and first-class backward weights.
//
// # Overview
//
// A [Layer] maps an input tensor to an output tensor in Forward and, in
// Backward, maps the gradient of the loss with respect to its output to the
// gradient with respect to its input, while writing the gradients of its
// parameters. Layers own their output and gradient buffers and reuse them
// from step to step.
//
// # Backward weights
//
// Every weight layer ([Linear], [Conv2d], the embedding tables) implements [WeightLayer]: it holds
// forward weights W and backward weights B of the same shape. For a layer
// mapping x ∈ ℝⁿ to y = Wx ∈ ℝᵐ (a convolution: the same at every position,
// x being the input patch), Backward computes
//
//	δx = Bᵀ δy          (the input gradient, with B)
//	δW = δy xᵀ          (the true local weight gradient)
//
// Backprop is the case B ≡ W: the layer's B parameter is the very same
// *Param as W, so nothing is copied and the result equals backprop bit for
// bit. Learning rules (package rules) give a layer its own B and update it;
// layers never know which rule is bound to them. A rule reaches a layer
// through a [Feedback] value bound to it in the [Network] and through the
// layer's linear operators [WeightLayer.Apply], [WeightLayer.ApplyT] and
// [WeightLayer.Outer], which let one formula serve dense and convolutional
// layers alike.
//
// # Transformers and loss heads
//
// [Linear] maps every leading position of an (N, …, D) input alike, so the
// Q, K, V and output projections of [SelfAttention] and the MLP layers of
// a [NewBlock] are ordinary weight layers; the products QKᵀ and AV have no
// weights and are differentiated exactly, as are [LayerNorm], [GELU] and
// the softmax. [Embedding] and [PositionEmbedding] are [Lookup] weight
// layers: their input is a one-hot index, so their B changes no gradient,
// and rules bind them only when named. A [Network]'s [Head] scores its
// logits: [Classification] for (N, Classes), [TokenCrossEntropy] (with an
// ignore index) for logits per position (N, T, Classes).
//
// Direct feedback (DFA) uses [Tap] layers that model builders place at
// block outputs: a tap with an injector replaces the gradient arriving from
// above by one computed from the output error, and the layers below it skip
// the input gradient nobody will read.
//
// # Errors
//
// Shape mismatches are programmer errors and panic with a message that
// begins with "nn: ". [Network.CheckInput] turns a data/model mismatch into
// an error before training starts.
package nn
