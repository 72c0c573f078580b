package cli

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/train"
)

// TestDefaultsTrainEveryRule: asym train --rule X with the defaults
// trains every registered rule on the digits. The run keeps the default
// schedule of 30 epochs and stops after 135 steps (3 epochs; about 0.5 s
// per rule): the old defaults (an MLP without batch norm, the paper's
// coefficients) diverged or exploded before step 60 for ia, wm and sa.
// After 135 steps every rule measured 96.4–98.3 % (go run ./cmd/asym
// train --rule X --max-steps 135 --threads 1); 90 % leaves room for
// another BLAS's rounding.
func TestDefaultsTrainEveryRule(t *testing.T) {
	// train.TestLongDigits trains the whole default run of every rule.
	const steps, minAcc = 135, 0.90
	for _, r := range rules.Names() {
		t.Run(r, func(t *testing.T) {
			code, out, errs := runCLI("train", "--rule", r, "--threads", "1", "--json", "--max-steps", strconv.Itoa(steps),
				"--run-dir", filepath.Join(t.TempDir(), "run"))
			if code != ExitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, errs)
			}
			var s train.Summary
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("%v: %q", err, out)
			}
			if s.TestAcc < minAcc {
				t.Errorf("test accuracy %.2f%% after %d steps, want ≥ %.0f%%", 100*s.TestAcc, s.Steps, 100*minAcc)
			}
		})
	}
}
