package nn

import (
	"fmt"

	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/tensor"
)

// Head turns a network's output and a batch's targets into the loss and
// its gradient with respect to the output. The trainer calls it on every
// batch; a network built for classification has [Classification], a
// language model [TokenCrossEntropy].
type Head interface {
	// Name identifies the head ("classification", "tokens").
	Name() string
	// Targets returns how many targets one sample has for a network with
	// per-sample output shape out (1 for classification, one per
	// position for token-level losses).
	Targets(out []int) int
	// Loss returns the mean loss over the counted targets, the number of
	// correct arg-max predictions among them and the number counted, and
	// writes the gradient of the mean loss with respect to logits into
	// dlogits (nil to skip). smoothing is the label-smoothing ε.
	Loss(e engine.Backend, dlogits, logits *tensor.Tensor, targets []int32, smoothing float32) (loss float64, correct, count int)
}

// Classification is the head of a classifier: logits (N, Classes), one
// label per sample, softmax cross-entropy averaged over the batch (the
// engine's SoftmaxCrossEntropy, unchanged).
type Classification struct{}

// Name returns "classification".
func (Classification) Name() string { return "classification" }

// Targets returns 1.
func (Classification) Targets([]int) int { return 1 }

// Loss returns the batch-mean cross-entropy.
func (Classification) Loss(e engine.Backend, dlogits, logits *tensor.Tensor, targets []int32, smoothing float32) (float64, int, int) {
	loss, correct := e.SoftmaxCrossEntropy(dlogits, logits, targets, smoothing)
	return loss, correct, len(targets)
}

// TokenCrossEntropy is the head of a sequence model: logits (N, T, V), one
// target token per position (N·T targets, sample-major), softmax
// cross-entropy averaged over the positions whose target is not Ignore.
// Ignored positions get a zero gradient and count neither as correct nor
// in the mean.
type TokenCrossEntropy struct {
	// Ignore is the target value that marks a position without a target
	// (PyTorch's ignore_index; -1 by convention in asym).
	Ignore int32
}

// Name returns "tokens".
func (TokenCrossEntropy) Name() string { return "tokens" }

// Targets returns the number of positions, the product of all but the
// last dimension of out.
func (TokenCrossEntropy) Targets(out []int) int {
	if len(out) == 0 {
		return 0
	}
	return tensor.Numel(out[:len(out)-1])
}

// Loss returns the mean cross-entropy over the counted positions.
func (h TokenCrossEntropy) Loss(e engine.Backend, dlogits, logits *tensor.Tensor, targets []int32, smoothing float32) (float64, int, int) {
	if logits.Rank() < 2 {
		panic(fmt.Sprintf("nn: TokenCrossEntropy: logits %v", logits.Shape))
	}
	return e.TokenCrossEntropy(dlogits, logits, targets, h.Ignore, smoothing)
}
