package train

import (
	"slices"
	"strings"
	"testing"
)

func TestMedianRound(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ms, rss  []float64
		wantMS   float64
		wantRSS  float64
		wantList bool
	}{
		{"one round", []float64{5}, []float64{10}, 5, 10, false},
		{"odd", []float64{9, 3, 5}, []float64{10, 30, 20}, 5, 30, true},
		{"even takes the lower middle", []float64{8, 2, 6, 4}, []float64{1, 2, 3, 4}, 4, 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs []*BenchResult
			for i, ms := range tc.ms {
				rs = append(rs, &BenchResult{Rule: "bp", StepMS: ms, PeakRSSMB: tc.rss[i]})
			}
			m := MedianRound(rs)
			if m.StepMS != tc.wantMS || m.PeakRSSMB != tc.wantRSS {
				t.Errorf("step %v rss %v, want %v %v", m.StepMS, m.PeakRSSMB, tc.wantMS, tc.wantRSS)
			}
			if tc.wantList != (m.RoundsMS != nil) || (tc.wantList && !slices.Equal(m.RoundsMS, tc.ms)) {
				t.Errorf("rounds %v, want %v (listed: %v)", m.RoundsMS, tc.ms, tc.wantList)
			}
			if rs[0].StepMS != tc.ms[0] || rs[0].RoundsMS != nil {
				t.Error("MedianRound changed its input")
			}
		})
	}
}

// TestBenchWholeCycles checks that with b_every = K the timed steps are
// whole cycles of K steps and that the evaluation and loader rates are
// measured.
func TestBenchWholeCycles(t *testing.T) {
	r, err := Bench(BenchConfig{Model: ModelConfig{Arch: "mlp", Hidden: []int{16}}, In: []int{1, 8, 8}, Classes: 10,
		Batch: 16, Threads: 1, Rule: "aa", BEvery: 3, BFraction: 0.5, Warmup: 1, Steps: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps != 6 || r.BEvery != 3 || r.BFraction != 0.5 {
		t.Errorf("steps %d, b_every %d, b_fraction %v; want 6, 3, 0.5", r.Steps, r.BEvery, r.BFraction)
	}
	if !(r.StepMS > 0 && r.EvalImagesPerS > 0 && r.LoadImagesPerS > 0) {
		t.Errorf("step %v ms, eval %v img/s, load %v img/s: want all > 0", r.StepMS, r.EvalImagesPerS, r.LoadImagesPerS)
	}
	if _, err := Bench(BenchConfig{Model: ModelConfig{Arch: "mlp"}, In: []int{1, 8, 8}, Classes: 10, Batch: 16,
		Rule: "nosuch", Steps: 1}); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown rule: err = %v", err)
	}
}

// TestBenchTransformers runs the benchmark step on tiny Transformers: the
// GPT gets token ids and one target per position through its head.
func TestBenchTransformers(t *testing.T) {
	for _, bc := range []BenchConfig{
		{Model: ModelConfig{Arch: "gpt", Dim: 16, Heads: 2, Depth: 1}, In: []int{8}, Classes: 11},
		{Model: ModelConfig{Arch: "vit", Dim: 16, Heads: 2, Depth: 1}, In: []int{1, 8, 8}, Classes: 10},
	} {
		for _, rule := range []string{"bp", "sa", "dfa"} {
			bc.Batch, bc.Threads, bc.Rule, bc.Steps, bc.Seed = 4, 1, rule, 2, 1
			r, err := Bench(bc)
			if err != nil {
				t.Fatalf("%s %s: %v", bc.Model.Arch, rule, err)
			}
			if r.Steps != 2 || !(r.StepMS > 0) {
				t.Errorf("%s %s: %+v", bc.Model.Arch, rule, r)
			}
		}
	}
}

// BenchmarkTransformerStep times one training step (forward, loss,
// backward, optimizer) of the default GPT (4 blocks, width 128, context
// 128, vocabulary 65) on a batch of 16 sequences, and of the default ViT on
// a batch of 32 Fashion-MNIST-sized images, under backprop and symmetric
// alignment, on one thread:
//
//	go test ./train -run '^$' -bench TransformerStep -benchtime 3x
func BenchmarkTransformerStep(b *testing.B) {
	for _, bc := range []BenchConfig{
		{Model: ModelConfig{Arch: "gpt"}, In: []int{128}, Classes: 65, Batch: 16},
		{Model: ModelConfig{Arch: "vit"}, In: []int{1, 28, 28}, Classes: 10, Batch: 32},
	} {
		for _, rule := range []string{"bp", "sa"} {
			b.Run(bc.Model.Arch+"/"+rule, func(b *testing.B) {
				bc.Threads, bc.Rule, bc.Steps, bc.Warmup, bc.Seed = 1, rule, b.N, 1, 1
				r, err := Bench(bc)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.StepMS, "ms/step")
			})
		}
	}
}
