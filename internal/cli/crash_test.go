package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asymlab/asym/checkpoint"
	"github.com/asymlab/asym/internal/fault"
	"github.com/asymlab/asym/train"
)

// checkpointData returns the data buffer (all tensors) of a checkpoint.
func checkpointData(t *testing.T, path string) []byte {
	t.Helper()
	f, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f.Data())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExportNeverOverwritesCheckpoints (issue 9, item 14).
func TestExportNeverOverwritesCheckpoints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, e := runCLI("train", "--epochs", "1", "--threads", "1", "--run-dir", dir); code != ExitOK {
		t.Fatalf("train: exit %d: %s", code, e)
	}
	latest, best := filepath.Join(dir, train.LatestName), filepath.Join(dir, train.BestName)
	before := checkpointData(t, latest)
	out := filepath.Join(t.TempDir(), "model.safetensors")
	other := filepath.Join(dir, "copy.safetensors") // a training checkpoint that is not the input
	if err := os.WriteFile(other, mustRead(t, latest), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"onto its input", []string{"export", latest, "--to", latest}, ExitUsage, "is the input checkpoint"},
		{"onto its input with --force", []string{"export", latest, "--to", latest, "--force"}, ExitUsage, "is the input checkpoint"},
		{"onto a hard link of its input", []string{"export", best, "--to", latest, "--force"}, ExitUsage, "is the input checkpoint"},
		{"onto a training checkpoint", []string{"export", best, "--to", other}, ExitUsage, "is a training checkpoint"},
		{"onto a training checkpoint with --force", []string{"export", best, "--to", other, "--force"}, ExitOK, "wrote"},
		{"a new file", []string{"export", best, "--to", out}, ExitOK, "wrote"},
		{"over an export", []string{"export", best, "--to", out}, ExitOK, "wrote"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, o, e := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(o+e, tc.want) {
				t.Errorf("exit %d (want %d); output %q / %q should mention %q", code, tc.code, o, e, tc.want)
			}
		})
	}
	if !bytes.Equal(checkpointData(t, latest), before) {
		t.Error("latest.safetensors changed")
	}
	if code, _, e := runCLI("train", "--resume", "--run-dir", dir); code != ExitOK {
		t.Errorf("the run no longer resumes: exit %d: %s", code, e)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInterruptUnsavedExitCode (item 17): SIGINT when the checkpoint cannot
// be written exits 1 (not 130, "checkpoint saved") and says so.
func TestInterruptUnsavedExitCode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--epochs", "200", "--threads", "1", "--run-dir", dir}
	// Once the first checkpoint exists every checkpoint write fails, as on
	// a full disk.
	restore := func() {}
	defer func() { restore() }()
	code, errs := interruptRun(t, dir, func() { restore = fault.Set(func(string) error { return syscall.ENOSPC }) }, args...)
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFailure, errs)
	}
	if !strings.Contains(errs, "could not be saved") || !strings.Contains(errs, "the last good checkpoint is") {
		t.Errorf("message: %s", errs)
	}
}

// TestResumeCompleteRun (item 9): --resume of a finished run says it is
// complete, prints its summary and leaves summary.json alone.
func TestResumeCompleteRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, e := runCLI("train", "--epochs", "2", "--threads", "1", "--run-dir", dir); code != ExitOK {
		t.Fatalf("train: exit %d: %s", code, e)
	}
	before := mustRead(t, filepath.Join(dir, train.SummaryName))
	code, out, errs := runCLI("train", "--resume", "--run-dir", dir)
	if code != ExitOK || !strings.Contains(errs, "is complete") || strings.Contains(errs, "epoch 3") || !strings.Contains(out, "after 2 epochs") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, train.SummaryName)), before) {
		t.Error("summary.json was rewritten")
	}
}

// TestLongKillResume is the kill test of issue 9: a run is SIGKILLed at least
// 20 times at random moments, many of them inside checkpoint writes
// (ASYM_FAULT_DELAY makes every write pause before its rename), each time
// resumed with --resume; its final weights, best.safetensors, summary.json
// (but for timing) and metrics.jsonl (but for timing) equal those of an
// uninterrupted run. About 11 s on 2 cores.
func TestLongKillResume(t *testing.T) {
	if os.Getenv("ASYM_LONG") == "" {
		t.Skip("set ASYM_LONG=1 to run the kill test")
	}
	root := t.TempDir()
	args := []string{"train", "--epochs", "10", "--threads", "1", "--checkpoint-every", "7", "--metrics-every", "10"}
	asym := func(delay string, a ...string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], a...)
		cmd.Env = append(os.Environ(), "ASYM_CLI_EXEC=1", "ASYM_FAULT_DELAY="+delay)
		cmd.Dir = root
		return cmd
	}
	if out, err := asym("0", append(args, "--run-dir", "full")...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := filepath.Join(root, "killed")
	kills, inWrite, starts := 0, 0, 0
	for {
		a := append(args, "--run-dir", dir)
		if fileExists(filepath.Join(dir, train.ConfigName)) {
			a = []string{"train", "--resume", "--run-dir", dir}
		}
		cmd := asym("30ms", a...)
		var errs bytes.Buffer
		cmd.Stderr = &errs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		starts++
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var err error
		if kills < 20 {
			select {
			case err = <-exited:
			case <-time.After(time.Duration(20+rng.IntN(230)) * time.Millisecond):
				if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) > 0 {
					inWrite++
				}
				cmd.Process.Kill()
				<-exited
				kills++
				continue
			}
		} else {
			err = <-exited
		}
		if err != nil {
			t.Fatalf("start %d (after %d kills) failed: %v\n%s", starts, kills, err, errs.String())
		}
		break
	}
	t.Logf("%d SIGKILLs (%d with a checkpoint write under way), %d starts", kills, inWrite, starts)
	if kills < 20 {
		t.Fatalf("the run ended after %d kills; want at least 20", kills)
	}
	if inWrite == 0 {
		t.Error("no kill landed during a checkpoint write")
	}
	full := filepath.Join(root, "full")
	for _, name := range []string{train.LatestName, train.BestName} {
		if !bytes.Equal(checkpointData(t, filepath.Join(dir, name)), checkpointData(t, filepath.Join(full, name))) {
			t.Errorf("%s differs from the uninterrupted run's", name)
		}
	}
	var a, b map[string]any
	if json.Unmarshal(mustRead(t, filepath.Join(dir, train.SummaryName)), &a) != nil ||
		json.Unmarshal(mustRead(t, filepath.Join(full, train.SummaryName)), &b) != nil {
		t.Fatal("unreadable summary.json")
	}
	for _, m := range []map[string]any{a, b} {
		delete(m, "wall_s")
		delete(m, "images_per_s")
		delete(m, "run_dir")
		delete(m, "provenance") // date and command line of the last invocation
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("summary.json\n%s\nuninterrupted\n%s", ja, jb)
	}
	if ma, mb := timeless(t, filepath.Join(dir, train.MetricsName)), timeless(t, filepath.Join(full, train.MetricsName)); ma != mb {
		t.Errorf("metrics.jsonl\n%s\nuninterrupted\n%s", ma, mb)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if fileExists(filepath.Join(dir, train.LockName)) {
		t.Error("lock file left")
	}
}

// timeless returns a metrics file without its timing fields.
func timeless(t *testing.T, path string) string {
	t.Helper()
	var out []string
	for i, ln := range strings.Split(strings.TrimSpace(string(mustRead(t, path))), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		delete(m, "epoch_s")
		delete(m, "images_per_s")
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return strings.Join(out, "\n")
}
