package train

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/asymlab/asym/tensor"
)

// TestCheckCollapse: a test accuracy back at chance after the run had
// learned is a divergence naming the step and a layer; a run that never
// learned, or that only dipped, is not.
func TestCheckCollapse(t *testing.T) {
	tr := build(t, small("bp")) // digits: 10 classes, chance 10 %
	cases := []struct {
		best, acc float64
		diverged  bool
	}{
		{math.NaN(), 0.1, false}, // first epoch
		{0.4596, 0.1031, true},   // the sa run: 45.96 % then 10.31 %
		{0.98, 0.15, true},       // 15 % < 10 % + 0.1·88 %
		{0.98, 0.20, false},      // a dip, not chance
		{0.25, 0.10, false},      // never learned: 25 % < 10 % + 0.2·90 %
	}
	for _, tc := range cases {
		tr.best = tc.best
		err := tr.checkCollapse(tc.acc, "run")
		if (err != nil) != tc.diverged {
			t.Errorf("best %v, acc %v: err %v, want diverged %v", tc.best, tc.acc, err, tc.diverged)
			continue
		}
		if err != nil && (!errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "step 0") || !strings.Contains(err.Error(), "in layer ")) {
			t.Errorf("message should wrap ErrDiverged and name the step and a layer: %v", err)
		}
	}
}

// TestCheckLoss: a finite loss 100 times its reference is a divergence.
func TestCheckLoss(t *testing.T) {
	tr := build(t, small("bp"))
	x, _ := firstBatch(t, tr)
	ln10 := math.Log(10)
	if err := tr.checkLoss(2.5, x, "run"); err != nil { // the first loss sets the reference
		t.Fatal(err)
	}
	if err := tr.checkLoss(LossExplosion*2.5, x, "run"); err != nil {
		t.Errorf("loss at the limit: %v", err)
	}
	err := tr.checkLoss(LossExplosion*2.5*1.01, x, "run")
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "in layer ") {
		t.Errorf("exploded loss: %v", err)
	}
	// A resumed run's first loss is small: the reference is then ln(classes).
	tr.guard = guard{}
	if err := tr.checkLoss(0.01, x, "run"); err != nil {
		t.Fatal(err)
	}
	if err := tr.checkLoss(LossExplosion*ln10*0.99, x, "run"); err != nil {
		t.Errorf("loss under 100·ln 10 after a small first loss: %v", err)
	}
}

// firstBatch returns the first test batch of tr.
func firstBatch(t *testing.T, tr *Trainer) (*tensor.Tensor, []int32) {
	t.Helper()
	for b, err := range tr.evalLoader.Ordered() {
		if err != nil {
			t.Fatal(err)
		}
		return b.X, b.Labels
	}
	t.Fatal("no test batch")
	return nil, nil
}
