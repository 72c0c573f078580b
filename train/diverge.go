package train

import (
	"fmt"
	"math"

	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// Divergence limits. A run whose loss becomes NaN or Inf has diverged; so
// has one whose loss explodes while staying finite, or whose accuracy
// collapses to chance after it had learned: it would otherwise end as a
// success with a useless model.
const (
	// LossExplosion is the factor over its reference (the larger of the
	// first training loss this process saw and ln(classes), the loss of a
	// uniform guess) above which a training loss counts as diverged.
	LossExplosion = 100
	// Learned is the fraction of the way from chance to 100 % that the
	// best test accuracy must have reached for a collapse to count.
	Learned = 0.2
	// Collapsed is the fraction of the way from chance to the best test
	// accuracy below which the test accuracy counts as collapsed.
	Collapsed = 0.1
)

// guard watches a run for losses that explode and accuracies that
// collapse.
type guard struct {
	first float64 // first training loss seen (0: none yet)
}

// lossLimit returns the training loss above which the run has diverged.
func (g *guard) lossLimit(classes int) float64 {
	return LossExplosion * math.Max(g.first, math.Log(float64(max(classes, 2))))
}

// checkLoss returns a divergence error if loss exploded at this step.
func (t *Trainer) checkLoss(loss float64, x *tensor.Tensor, dir string) error {
	if t.guard.first == 0 {
		t.guard.first = loss
	}
	limit := t.guard.lossLimit(t.Info.Classes)
	if loss <= limit {
		return nil
	}
	return fmt.Errorf("%w: step %d: the training loss %.4g exploded (over %.4g, %d× its starting loss)%s; %s",
		ErrDiverged, t.step, loss, limit, LossExplosion, t.amplifier(x), t.lastGood(dir))
}

// checkCollapse returns a divergence error if the test accuracy acc fell
// back to chance after the run had learned (best so far: t.best).
func (t *Trainer) checkCollapse(acc float64, dir string) error {
	if math.IsNaN(t.best) || t.Info.Classes < 2 {
		return nil
	}
	chance := 1 / float64(t.Info.Classes)
	if t.best-chance < Learned*(1-chance) || acc-chance >= Collapsed*(t.best-chance) {
		return nil
	}
	return fmt.Errorf("%w: step %d (epoch %d): the test accuracy fell to %.2f%%, chance level (%.2f%%), after reaching %.2f%%%s; %s",
		ErrDiverged, t.step, t.epoch+1, 100*acc, 100*chance, 100*t.best, t.amplifier(nil), t.lastGood(dir))
}

// amplifier names the layer that amplifies its input most on x (a test
// batch if x is nil), for divergence messages.
func (t *Trainer) amplifier(x *tensor.Tensor) string {
	if x == nil {
		for b, err := range t.evalLoader.Ordered() {
			if err == nil {
				x = b.X
			}
			break
		}
		if x == nil {
			return ""
		}
	}
	name, gain := t.Net.LargestGain(&nn.Ctx{E: t.E}, x)
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" (largest amplification in layer %s: output %.3g× its input)", name, gain)
}
