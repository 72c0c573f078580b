package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSampleNext draws 200000 times from three logits at temperatures 1
// and 0.5 and compares the frequencies with the softmax: with that many
// draws the standard error of a frequency is below 0.0012, so 0.005 is
// over four of them.
func TestSampleNext(t *testing.T) {
	logits := []float32{1, 2, 0.5}
	for _, temp := range []float64{1, 0.5} {
		var z float64
		p := make([]float64, 3)
		for i, l := range logits {
			p[i] = math.Exp(float64(l) / temp)
			z += p[i]
		}
		counts := make([]float64, 3)
		rng := rand.New(rand.NewPCG(1, 2))
		const n = 200000
		for range n {
			counts[SampleNext(logits, temp, rng, nil)]++
		}
		for i := range p {
			if d := math.Abs(counts[i]/n - p[i]/z); d > 0.005 {
				t.Errorf("temperature %v: index %d drawn %.4f of the time, softmax %.4f", temp, i, counts[i]/n, p[i]/z)
			}
		}
	}
	if got := SampleNext([]float32{0, 3, 3, 1}, 0, nil, nil); got != 1 {
		t.Errorf("greedy: %d, want 1", got)
	}
}

// TestSampleNotLanguageModel: a classifier cannot be sampled.
func TestSampleNotLanguageModel(t *testing.T) {
	tr := build(t, small("bp"))
	_, err := tr.Sample(SampleOptions{Length: 5, Temperature: 1})
	if !errors.Is(err, ErrNotLanguageModel) {
		t.Errorf("error %v, want ErrNotLanguageModel", err)
	}
}
