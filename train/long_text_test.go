package train

import (
	"os"
	"slices"
	"testing"

	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/rules"
)

// smallGPT is the small GPT of docs/transformers-results.md: 2 blocks of
// width 32 with 4 heads on windows of 32 characters of the embedded
// Opticks, batch 16, AdamW with warm-up + cosine over one epoch of
// trainLimit windows (0: all 15947, 997 steps).
func smallGPT(rule string, trainLimit int) Config {
	c := Default()
	c.Model.Arch, c.Model.Depth, c.Model.Dim, c.Model.Heads = "gpt", 2, 32, 4 // the CLI's other defaults (init he)
	c.Data = DataConfig{Name: "text", Context: 32, Batch: 16, TrainLimit: trainLimit}
	c.Optim = OptimConfig{Method: optim.MethodAdamW, LR: 3e-3, WeightDecay: 0.1, ClipNorm: 1,
		Schedule: optim.ScheduleCosine, ScheduleUnit: optim.UnitStep, Warmup: 50}
	c.Rule.Name, c.Rule.Params = rule, RuleDefaults(rule) // as asym train --rule
	c.Run.Epochs, c.Run.Threads, c.Run.Seed = 1, 1, 1
	return c
}

func trainText(t *testing.T, c Config) *Summary {
	t.Helper()
	s := runConfig(t, c)
	t.Logf("gpt %s: validation %.4f bits per character (unigram %.4f), %d steps, %.0f s",
		c.Rule.Name, s.ValBitsPerChar, s.UnigramBitsPerChar, s.Steps, s.WallS)
	return s
}

func longText(t *testing.T) {
	t.Helper()
	if os.Getenv("ASYM_LONG") == "" {
		t.Skip("set ASYM_LONG=1 to run the convergence tests (scripts/test.sh does)")
	}
}

// TestLongGPTBackprop trains the small GPT under backprop for one epoch
// of the Opticks (997 steps; 46 s on a loaded 2-core machine). The run
// `asym train --model gpt --data text --dim 32 --depth 2 --heads 4
// --context 32 --batch 16 --epochs 1 --optimizer adamw --lr 3e-3
// --momentum 0 --nesterov=false --weight-decay 0.1 --clip-norm 1
// --schedule cosine --schedule-unit step --warmup 50 --threads 1 --seed 1`
// reached 3.384 bits per character on the validation split (the unigram
// entropy is 4.476); the bound leaves 0.12 for another BLAS's rounding.
func TestLongGPTBackprop(t *testing.T) {
	longText(t)
	s := trainText(t, smallGPT("bp", 0))
	if !(s.ValBitsPerChar < 3.5) {
		t.Errorf("validation %.4f bits per character, want < 3.5 (measured 3.384)", s.ValBitsPerChar)
	}
}

// TestLongGPTEveryRule: every registered rule, at asym train's settings
// for it (RuleDefaults; custom takes symmetric alignment's primitives),
// learns on the small GPT in 300 steps (the first 4800 windows, one epoch;
// 1–3 s per rule on 2 cores): it ends clearly below the unigram entropy of
// the validation text (4.476 bits per character), at most 4.176, 0.3 below
// it. The weights start from PyTorch's init (init "torch", models.Build's
// default for Transformers), with which this budget suffices; from asym
// train's default "he" only bp, sa and aa get 0.3 below the unigram level
// in 300 steps (measured: bp 3.765, sa 3.921, aa 4.155, fa 4.265, kp
// 4.292, ia 4.244). Measured with this test (ASYM_LONG=1 go test ./train
// -run TestLongGPTEveryRule -v; the same in the pure-Go and OpenBLAS
// builds), seed 1, bits per character: bp 3.685, fa 3.958, sa 3.717,
// aa 3.751, kp 4.007, ia 3.899, wm 3.807, dfa 3.809, sign 3.763,
// frsf 3.766, brsf 3.797, custom 3.717. kp is the closest to the bound
// (docs/transformers-results.md: under AdamW its B barely aligns).
func TestLongGPTEveryRule(t *testing.T) {
	longText(t)
	names := rules.Names()
	if !slices.Contains(names, "bp") || !slices.Contains(names, "dfa") {
		t.Fatalf("rules.Names() = %v: the registry is not filled", names)
	}
	for _, rule := range names {
		t.Run(rule, func(t *testing.T) {
			c := smallGPT(rule, 4800)
			c.Model.Init = "torch"
			s := trainText(t, c)
			if limit := s.UnigramBitsPerChar - 0.3; !(s.ValBitsPerChar < limit) {
				t.Errorf("validation %.4f bits per character, want < %.4f (0.3 below the unigram entropy)", s.ValBitsPerChar, limit)
			}
		})
	}
}
