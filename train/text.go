package train

import (
	"fmt"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/tensor"
)

// The text data set ("text") gives windows of shape (2, T): input ids and
// next-character targets (see data.TokenWindows). A language model takes
// the (N, T) ids and has one target per position: the trainer splits the
// batches with data.SplitWindows, and the model is built for inputs (T).

// isText reports whether the run trains on a character-level text.
func (t *Trainer) isText() bool { return t.Info.Vocab != nil }

// inputShape returns the per-sample input shape of the model: the data
// set's, or (T) for text windows.
func (t *Trainer) inputShape() []int {
	if t.isText() {
		return t.Info.Shape[1:]
	}
	return t.Info.Shape
}

// checkText refuses a model that is not a language model on text, where
// it would see the targets in its input.
func (t *Trainer) checkText() error {
	if t.isText() && t.Net.Head.Name() != "tokens" {
		return fmt.Errorf("%w: model %s is a classifier; the text data set trains language models (--model gpt)", ErrConfig, t.Cfg.Model.Arch)
	}
	return nil
}

// textHint is added to model errors of text runs.
func (t *Trainer) textHint() string {
	if t.isText() {
		return "; the text data set trains language models (--model gpt)"
	}
	return ""
}

// textSummary adds the bits per character of a text run to s.
func (t *Trainer) textSummary(s *Summary) {
	if !t.isText() {
		return
	}
	s.ValBitsPerChar = data.BitsPerChar(s.TestLoss)
	if w, ok := t.TestSet.(*data.TokenWindows); ok {
		s.UnigramBitsPerChar = data.BitsPerChar(w.UnigramEntropy())
	}
}

// inputs returns the model's input and targets of a batch.
func (t *Trainer) inputs(b *data.Batch) (*tensor.Tensor, []int32) {
	if !t.isText() {
		return b.X, b.Labels
	}
	var x *tensor.Tensor
	x, t.targets = data.SplitWindows(b.X, t.targets)
	return x, t.targets
}
