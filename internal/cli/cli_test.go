package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/train"
)

func TestMain(m *testing.M) {
	if os.Getenv("ASYM_CLI_EXEC") == "1" {
		// The test binary run as asym by tests that kill it.
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"asym": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: filepath.Join("testdata", "script"),
		Condition: func(cond string) (bool, error) {
			if cond == "fashion" { // Debian's dataset-fashion-mnist is installed
				return fileExists(data.FashionMNISTDir), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// jsoneq A B KEY...: the JSON objects in files A and B have equal
			// values at the given keys.
			"jsoneq": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 3 {
					ts.Fatalf("usage: jsoneq A B KEY...")
				}
				var a, b map[string]any
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &a))
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &b))
				for _, k := range args[2:] {
					eq := fmt.Sprint(a[k]) == fmt.Sprint(b[k]) && a[k] != nil
					if eq == neg {
						ts.Fatalf("%s: %v vs %v", k, a[k], b[k])
					}
				}
			},
		}})
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[model]\narch = \"mlp\"\nwidthh = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	typ := filepath.Join(dir, "type.toml")
	if err := os.WriteFile(typ, []byte("[optim]\nlr = \"high\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	malformed := filepath.Join(dir, "malformed.toml")
	if err := os.WriteFile(malformed, []byte(`a = "\`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"train", "--bogus"}, ExitUsage, "unknown flag"},
		{"unknown rule", []string{"train", "--rule", "magic"}, ExitUsage, "valid: aa, bp"},
		{"unknown rule setting", []string{"train", "--rule", "sa", "--rule-param", "gamma=1"}, ExitUsage, "valid: alpha, beta"},
		{"unknown model", []string{"train", "--model", "vgg"}, ExitUsage, "model.arch"},
		{"unknown key", []string{"train", "--config", bad}, ExitUsage, "model.widthh"},
		{"wrong type", []string{"train", "--config", typ}, ExitUsage, "lr"},
		{"malformed config", []string{"train", "--config", malformed}, ExitUsage, "malformed.toml: toml: line 1, column 6"},
		{"malformed experiment config", []string{"compare", "--config", malformed}, ExitUsage, "malformed.toml: toml: line 1, column 6"},
		{"missing config", []string{"train", "--config", filepath.Join(dir, "nope.toml")}, ExitUsage, "nope.toml"},
		{"bad blas", []string{"--blas", "mkl", "rules"}, ExitUsage, "valid: auto"},
		{"missing data", []string{"train", "--data", "mnist", "--data-dir", dir, "--run-dir", filepath.Join(dir, "r")}, ExitFailure, "--data-dir"},
		{"diverges", []string{"train", "--lr", "1e6", "--schedule", "constant", "--epochs", "3", "--run-dir", filepath.Join(dir, "div")}, ExitDiverged, "step"},
		// The loss explodes at step 3 but stays finite (3.7e4 measured).
		{"explodes", []string{"train", "--lr", "2", "--batch-norm=false", "--schedule", "constant", "--threads", "1", "--run-dir", filepath.Join(dir, "explode")},
			ExitDiverged, "step 3: the training loss"},
		// The silent failure: sa at the paper's coefficients on the
		// MLP without batch norm ended at 10.31 % with exit 0; its loss
		// explodes at step 56.
		{"old sa defaults", []string{"train", "--rule", "sa", "--rule-param", "alpha=0.001", "--rule-param", "beta=0.002", "--batch-norm=false",
			"--threads", "1", "--run-dir", filepath.Join(dir, "sa")}, ExitDiverged, "exploded"},
		{"explosion names the layer", []string{"train", "--lr", "2", "--batch-norm=false", "--schedule", "constant", "--threads", "1", "--run-dir", filepath.Join(dir, "explode2")},
			ExitDiverged, "amplification in layer fc"},
		{"eval missing", []string{"eval", filepath.Join(dir, "none.safetensors")}, ExitFailure, "none.safetensors"},
		{"resume without run", []string{"train", "--resume", "--run-dir", filepath.Join(dir, "empty")}, ExitUsage, "no checkpoint"},
		{"rules ok", []string{"rules", "sa"}, ExitOK, "2αB − βW"},
		{"rules shows train's settings", []string{"rules", "sa"}, ExitOK, "asym train uses:  alpha=0.05  beta=0.1"},
		// Usage errors: wrong argument counts name the argument.
		{"eval without checkpoint", []string{"eval"}, ExitUsage, "missing argument CHECKPOINT"},
		{"eval extra argument", []string{"eval", "a", "b"}, ExitUsage, `extra one: "b"`},
		{"train with an argument", []string{"train", "foo"}, ExitUsage, `train takes no arguments, got "foo"`},
		{"data fetch without name", []string{"data", "fetch"}, ExitUsage, "missing argument NAME"},
		{"data info without name", []string{"data", "info"}, ExitUsage, "missing argument NAME"},
		{"export without checkpoint", []string{"export"}, ExitUsage, "missing argument CHECKPOINT"},
		{"compare with an argument", []string{"compare", "x"}, ExitUsage, "takes no arguments"},
		{"unknown command", []string{"fly"}, ExitUsage, `unknown command "fly"`},
		{"unknown data command", []string{"data", "foo"}, ExitUsage, "valid: fetch, info"},
		{"batch 1e9", []string{"train", "--batch", "1000000000", "--run-dir", filepath.Join(dir, "b1")}, ExitUsage, "larger than the training set (1438 samples"},
		{"batch 2^63-1", []string{"train", "--batch", "9223372036854775807", "--run-dir", filepath.Join(dir, "b2")}, ExitUsage, "use at most 1438"},
		{"eval batch 2^63-1", []string{"train", "--eval-batch", "9223372036854775807", "--epochs", "1", "--max-steps", "2", "--run-dir", filepath.Join(dir, "b3")}, ExitOK, "test accuracy"},
		{"unknown data set", []string{"train", "--data", "nope"}, ExitUsage, "valid: digits"},
		{"eval on unknown data set", []string{"eval", "--data", "nope", filepath.Join(dir, "none.safetensors")}, ExitFailure, "none.safetensors"},
		{"--version", []string{"--version"}, ExitOK, "asym devel (commit"},
		{"version", []string{"version"}, ExitOK, "(commit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Errorf("exit %d (want %d); output %q / %q should mention %q", code, tc.code, out, errs, tc.want)
			}
		})
	}
}

// interruptRun runs asym with args in the background, waits for the first
// checkpoint of the run directory dir, calls before (if not nil), sends
// SIGINT to the process and returns the run's exit code and stderr.
func interruptRun(t *testing.T, dir string, before func(), args ...string) (int, string) {
	t.Helper()
	done := make(chan int)
	var errs string
	go func() {
		code, _, e := runCLI(args...)
		errs = e
		done <- code
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !fileExists(filepath.Join(dir, train.LatestName)) {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if before != nil {
		before()
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		return code, errs
	case <-time.After(60 * time.Second):
		t.Fatal("run did not stop within 60 s of SIGINT")
		return 0, ""
	}
}

// TestInterrupt sends SIGINT to the process while a run trains: the run
// saves a checkpoint, exits 130, and resumes to the same result as an
// uninterrupted run.
func TestInterrupt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--model", "mlp", "--hidden", "64", "--epochs", "200", "--threads", "2", "--run-dir", dir}
	code, errs := interruptRun(t, dir, nil, args...)
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitInterrupted, errs)
	}
	if !strings.Contains(errs, "--resume") {
		t.Errorf("the message should say how to resume: %s", errs)
	}
	cfg, err := train.ReadConfig(filepath.Join(dir, train.LatestName))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Run.Epochs != 200 {
		t.Errorf("saved config has %d epochs", cfg.Run.Epochs)
	}
}
