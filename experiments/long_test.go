package experiments

import (
	"context"
	"io"
	"math"
	"os"
	"testing"
)

// TestLongCompareDefault runs asym compare with no flags (every rule, two
// seeds, ResNet-8 on the embedded digits) and checks what it is meant to
// show: averaged over the seeds, feedback alignment ends at least 2 points
// behind backprop while symmetric and activation alignment end within 1.5
// points of it, and no run diverges. About 3 minutes on 2 cores (pure Go;
// less with OpenBLAS). Runs when ASYM_LONG=1.
func TestLongCompareDefault(t *testing.T) {
	if os.Getenv("ASYM_LONG") == "" {
		t.Skip("set ASYM_LONG=1 to run the convergence tests (scripts/test.sh does)")
	}
	out, err := Run(context.Background(), Default(KindCompare), t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sum, cnt := map[string]float64{}, map[string]int{}
	for _, r := range out.Results {
		if r.Diverged {
			t.Errorf("%s diverged: %s", r.Job.ID, r.Err)
			continue
		}
		sum[r.Job.Rule] += r.Acc()
		cnt[r.Job.Rule]++
	}
	mean := func(rule string) float64 {
		if cnt[rule] == 0 {
			return math.NaN()
		}
		return sum[rule] / float64(cnt[rule])
	}
	for rule := range cnt {
		t.Logf("%s: %.2f%%", rule, mean(rule))
	}
	bp := mean("bp")
	if gap := bp - mean("fa"); !(gap >= 2) {
		t.Errorf("fa is %.2f points behind bp (%.2f%% vs %.2f%%), want ≥ 2", gap, mean("fa"), bp)
	}
	for _, rule := range []string{"sa", "aa"} {
		if gap := bp - mean(rule); !(gap <= 1.5) {
			t.Errorf("%s is %.2f points behind bp (%.2f%% vs %.2f%%), want ≤ 1.5", rule, gap, mean(rule), bp)
		}
	}
}
