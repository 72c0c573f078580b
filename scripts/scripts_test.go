// Package scripts_test runs the Python reference scripts of this directory
// the way the docs do, at tiny sizes, so that every documented command
// keeps working: the PyTorch benchmarks (bench_vs_torch.py with its two
// torch.nn models, bench_torch.py) and the angle table of a compare run
// (vit_angles.py). They need Debian's python3-torch (scripts/test.sh
// installs it); without it the tests skip.
package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/asymlab/asym/internal/pytorch"
)

// buildAsym builds the command into a temporary directory.
func buildAsym(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "asym")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/asym")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestBenchVsTorch runs the interleaved comparison on a tiny GPT and the
// ViT for one step and checks that its table has a row with numeric
// ratios for asym and for torch on each model.
func TestBenchVsTorch(t *testing.T) {
	py := pytorch.Python(t, "torch")
	bin := buildAsym(t)
	out := run(t, py, "bench_vs_torch.py", "--asym", bin, "--model", "gpt,vit", "--gpt", "8,16,1",
		"--threads", "1", "--rounds", "1", "--steps", "1", "--warmup", "0", "--python", py)
	for _, model := range []string{"gpt", "vit"} {
		for _, impl := range []string{"asym cpu/go", "torch"} {
			re := regexp.MustCompile(`(?m)^\| ` + model + ` \| ` + regexp.QuoteMeta(impl) + `[^|]* \| 1 \| [0-9.]+ \| [0-9.]+–[0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \|$`)
			if !re.MatchString(out) {
				t.Errorf("no %s row for %s in:\n%s", model, impl, out)
			}
		}
	}
	if !strings.Contains(out, "| gpt | torch") || !strings.Contains(out, "| 1.00 | 1.00 |") {
		t.Errorf("torch is not the reference of the ratios:\n%s", out)
	}
}

// TestBenchTorchConvNets runs the ConvNet reference of docs/results.md for
// one step of the MLP.
func TestBenchTorchConvNets(t *testing.T) {
	py := pytorch.Python(t, "torch")
	out := run(t, py, "bench_torch.py", "--models", "mlp", "--batch", "8", "--threads", "1", "--steps", "1", "--warmup", "0", "--json")
	if !strings.Contains(out, `"model": "mlp"`) || !strings.Contains(out, `"step_ms"`) {
		t.Errorf("bench_torch.py printed:\n%s", out)
	}
}

// TestViTAngles runs vit_angles.py on a two-rule compare of the ViT (the
// documented pipeline of docs/vit-results.md, at a few steps): one row per
// rule, backprop at 0° and the rule's angles numeric.
func TestViTAngles(t *testing.T) {
	py := pytorch.Python(t, "torch") // the script needs only the standard library; the same Python as the others
	bin := buildAsym(t)
	dir := filepath.Join(t.TempDir(), "cmp")
	run(t, bin, "compare", "--models", "vit", "--data", "digits", "--rules", "bp,fa", "--epochs", "1", "--seeds", "1",
		"--batch", "32", "--train-limit", "96", "--test-limit", "32", "--threads", "1", "--metrics-every", "3", "--run-dir", dir)
	out := run(t, py, "vit_angles.py", dir)
	if !regexp.MustCompile(`(?m)^\| bp \| [0-9.]+ \| 0\.0 / 0\.0 / 0\.0 \| 0\.0 / 0\.0 / 0\.0 \|`).MatchString(out) {
		t.Errorf("no bp row at 0°:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\| fa \| [0-9.]+ \| [0-9.]+ / [0-9.]+ / [0-9.]+ \| [0-9.]+ / [0-9.]+ / [0-9.]+ \|`).MatchString(out) {
		t.Errorf("no fa row with angles:\n%s", out)
	}
}
