// Package metrics measures how a learning rule assigns credit: how well
// each weight layer's backward weights B align with its forward weights W,
// and how far the rule's weight updates are from exact backprop's.
//
// Per weight layer, angles in degrees:
//
//	weight_angle      ∠(W, B), flattened in their common layout
//	norm_ratio        ‖B‖/‖W‖
//	projection_angle  ∠(Wx, Bx) on the last training batch
//	gradient_angle    ∠(Bᵀδy, Wᵀδy) for the δy the layer received (layer-local)
//	end_to_end_angle  ∠(δW under the rule, δW under exact backprop), same batch
//	regularizer       the rule's R(B; x, W, y) for the layer, if it has one
//
// The first four follow the official code of Kunin et al. (2020); the
// end-to-end angle needs a second, exact backward pass
// ([nn.Network.WithExactGradients]), which [Collector.Collect] runs only
// when called, so a training loop pays nothing on steps it does not log.
// Layers that learn by exact backprop (B ≡ W) give 0° and a ratio of 1.
//
// [Angle] and [NormRatio] are the pure building blocks; [Snapshot.Lines]
// turns a snapshot into the "align" lines of a run's metrics.jsonl.
package metrics
