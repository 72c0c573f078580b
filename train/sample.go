package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// ErrNotLanguageModel: [Trainer.Sample] was called on a run that was not
// trained on the text data set.
var ErrNotLanguageModel = errors.New("not a language model")

// streamSample tags the sampling generator's stream ("sample").
const streamSample = 0x73616d706c65

// SampleOptions are the settings of [Trainer.Sample].
type SampleOptions struct {
	// Prompt is the text the sample continues (may be empty: the first
	// character is then drawn after a newline).
	Prompt string
	// Length is the number of characters to generate.
	Length int
	// Temperature divides the logits before the softmax; 0 picks the most
	// likely character (greedy).
	Temperature float64
	// Seed seeds the draws.
	Seed uint64
}

// Sample generates o.Length characters that continue o.Prompt with the
// trained language model, feeding it the last context characters at each
// step. It returns the generated characters (without the prompt). The
// error wraps [ErrNotLanguageModel] if the run was not trained on the
// text data set, and data.ErrUnknownChar if the prompt has a character the
// vocabulary lacks.
func (t *Trainer) Sample(o SampleOptions) (string, error) {
	v := t.Info.Vocab
	if v == nil {
		return "", fmt.Errorf("train: the model was trained on %s (model %s): %w; sample a checkpoint of --data text",
			t.Info.Name, t.Cfg.Model.Arch, ErrNotLanguageModel)
	}
	if o.Length < 0 || !(o.Temperature >= 0) || math.IsInf(o.Temperature, 0) {
		return "", fmt.Errorf("%w: sample length %d, temperature %v: want length >= 0 and a finite temperature >= 0", ErrConfig, o.Length, o.Temperature)
	}
	prompt := o.Prompt
	if prompt == "" {
		prompt = "\n"
	}
	ids, err := v.Encode(prompt)
	if err != nil {
		return "", fmt.Errorf("train: prompt: %w", err)
	}
	ctx := t.TrainSet.Shape()[len(t.TrainSet.Shape())-1]
	rng := rand.New(rand.NewPCG(o.Seed, streamSample))
	c := &nn.Ctx{E: t.E, Train: false}
	out := make([]int32, 0, o.Length)
	probs := make([]float64, v.Size())
	for range o.Length {
		win := ids[max(0, len(ids)-ctx):]
		x := tensor.New(1, len(win))
		for i, id := range win {
			x.Data[i] = float32(id)
		}
		logits := t.Net.Forward(c, x)
		if len(logits.Data) < v.Size() {
			return "", fmt.Errorf("train: the model's output %v has fewer than %d logits", logits.Shape, v.Size())
		}
		next := SampleNext(logits.Data[len(logits.Data)-v.Size():], o.Temperature, rng, probs)
		ids = append(ids, next)
		out = append(out, next)
	}
	return v.Decode(out), nil
}

// SampleNext draws an index from softmax(logits/temperature) with rng,
// or returns the arg-max (the first, on ties) if temperature is 0. probs
// is scratch space of len(logits) (allocated if too short). The softmax
// is computed in float64 with the maximum subtracted.
func SampleNext(logits []float32, temperature float64, rng *rand.Rand, probs []float64) int32 {
	best := 0
	for i, l := range logits {
		if l > logits[best] {
			best = i
		}
	}
	if temperature == 0 {
		return int32(best)
	}
	if len(probs) < len(logits) {
		probs = make([]float64, len(logits))
	}
	m := float64(logits[best])
	var sum float64
	for i, l := range logits {
		probs[i] = math.Exp((float64(l) - m) / temperature)
		sum += probs[i]
	}
	u := rng.Float64() * sum
	for i := range logits {
		u -= probs[i]
		if u < 0 {
			return int32(i)
		}
	}
	return int32(len(logits) - 1) // rounding left u ≥ 0
}
