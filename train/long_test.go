package train

import (
	"context"
	"os"
	"testing"

	"github.com/asymlab/asym/rules"
)

// The long tests train on real data to the accuracies the README reports.
// They run when ASYM_LONG=1 (scripts/test.sh sets it, with the OpenBLAS
// build) and take a few minutes on 2 cores.
func long(t *testing.T) {
	t.Helper()
	if os.Getenv("ASYM_LONG") == "" {
		t.Skip("set ASYM_LONG=1 to run the convergence tests (scripts/test.sh does)")
	}
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil {
		t.Fatal("Fashion-MNIST is missing: apt-get install dataset-fashion-mnist")
	}
}

// runConfig trains c to its end in a temporary directory.
func runConfig(t *testing.T, c Config) *Summary {
	t.Helper()
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tr.Run(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func trainTo(t *testing.T, c Config) *Summary {
	t.Helper()
	s := runConfig(t, c)
	t.Logf("%s %s %s: test accuracy %.2f%% after %d epochs (%.0f s, %.0f img/s)",
		c.Data.Name, c.Model.Arch, c.Rule.Name, 100*s.TestAcc, s.Epochs, s.WallS, s.ImagesPerS)
	return s
}

func fromFile(t *testing.T, path string) Config {
	t.Helper()
	c, err := LoadFile(path, Default())
	if err != nil {
		t.Fatal(err)
	}
	c.Run.Threads = 2
	return c
}

// TestLongDigits: on the embedded digits every rule learns with the
// defaults of asym train --rule (about 3 s per rule), backprop passes
// 95%, and symmetric alignment, activation alignment and Kolen–Pollack come
// within 1.5 points of backprop.
func TestLongDigits(t *testing.T) {
	long(t)
	acc := map[string]float64{}
	for _, r := range rules.Names() {
		t.Run(r, func(t *testing.T) {
			c := Default() // what asym train --rule r runs
			c.Run.Threads = 2
			c.Rule.Name = r
			c.Rule.Params = RuleDefaults(r)
			s := trainTo(t, c)
			acc[r] = s.TestAcc
			min := 0.90 // every rule, far above chance (10%)
			if r == "bp" {
				min = 0.95
			}
			if s.TestAcc < min {
				t.Errorf("test accuracy %.2f%%, want ≥ %.0f%%", 100*s.TestAcc, 100*min)
			}
		})
	}
	checkGaps(t, acc)
}

// checkGaps fails the test when sa, aa or kp end more than 1.5 points
// behind backprop.
func checkGaps(t *testing.T, acc map[string]float64) {
	t.Helper()
	for _, r := range []string{"sa", "aa", "kp"} {
		if gap := acc["bp"] - acc[r]; gap > 0.015 {
			t.Errorf("%s: %.2f points behind backprop (%.2f%% vs %.2f%%), want ≤ 1.5", r, 100*gap, 100*acc[r], 100*acc["bp"])
		}
	}
}

func TestLongFashionBackprop(t *testing.T) {
	long(t)
	if s := trainTo(t, fromFile(t, "../configs/fashion-mlp.toml")); s.TestAcc < 0.88 {
		t.Errorf("MLP: test accuracy %.2f%%, want ≥ 88%%", 100*s.TestAcc)
	}
	if s := trainTo(t, fromFile(t, "../configs/fashion-convnet.toml")); s.TestAcc < 0.91 {
		t.Errorf("ConvNet: test accuracy %.2f%%, want ≥ 91%%", 100*s.TestAcc)
	}
}

// TestLongFashionRules: on Fashion-MNIST every rule learns, and symmetric
// alignment, activation alignment and Kolen–Pollack come within 1.5 points
// of backprop on the same model and budget.
func TestLongFashionRules(t *testing.T) {
	long(t)
	acc := map[string]float64{}
	for _, r := range rules.Names() {
		if r == "custom" {
			continue
		}
		c := fromFile(t, "../configs/fashion-mlp-bn.toml")
		c.Run.Epochs = 2 // CI's time budget; the README's table uses 3
		c.Rule.Name = r
		c.Rule.Params = SmallScaleParams()[r]
		acc[r] = trainTo(t, c).TestAcc
		if acc[r] < 0.80 {
			t.Errorf("%s: test accuracy %.2f%%, want ≥ 80%% (chance: 10%%)", r, 100*acc[r])
		}
	}
	checkGaps(t, acc)
}
