//go:build mpi && cgo

package cli

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asymlab/asym/blas/openblas"
	"github.com/asymlab/asym/checkpoint"
	"github.com/asymlab/asym/train"
)

// mpiBinary builds asym with MPI (and OpenBLAS when this test binary has
// it) once per test run.
func mpiBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("mpirun not found (apt-get install openmpi-bin libopenmpi-dev)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "asym")
	tags := "mpi"
	if openblas.Available {
		tags += ",openblas"
	}
	cmd := exec.Command("go", "build", "-tags", tags, "-o", bin, "./cmd/asym")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func mpirun(ctx context.Context, np int, bin string, args ...string) *exec.Cmd {
	a := append([]string{"--allow-run-as-root", "--oversubscribe", "-np", fmt.Sprint(np), bin}, args...)
	return exec.CommandContext(ctx, "mpirun", a...)
}

// TestMPIMatchesOneProcess checks data parallelism: 2 processes × 64
// samples (batch-norm statistics synchronised) end with the weights of 1
// process × 128 after several steps, for every rule family, to the
// tolerance of float32 sums taken in another order.
func TestMPIMatchesOneProcess(t *testing.T) {
	bin := mpiBinary(t)
	cases := []struct{ rule, model string }{
		{"bp", "mlp"}, {"fa", "mlp"}, {"kp", "mlp"}, {"sa", "mlp"}, {"aa", "mlp"}, {"ia", "mlp"},
		{"dfa", "mlp"}, {"sign", "mlp"}, {"brsf", "mlp"}, {"bp", "convnet"}, {"sa", "convnet"},
	}
	for _, tc := range cases {
		t.Run(tc.model+"/"+tc.rule, func(t *testing.T) {
			args := []string{"train", "--data", "digits", "--model", tc.model, "--rule", tc.rule, "--batch", "128",
				"--max-steps", "8", "--threads", "1", "--epochs", "2", "--dropout", "0.2"}
			if tc.model == "mlp" {
				args = append(args, "--batch-norm", "--hidden", "64,32")
			} else {
				args = append(args, "--hidden", "8,16,32")
			}
			dirM, dirS := filepath.Join(t.TempDir(), "mpi"), filepath.Join(t.TempDir(), "one")
			var out bytes.Buffer
			cmd := mpirun(context.Background(), 2, bin, append(args, "--sync-bn", "--run-dir", dirM)...)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("mpirun: %v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "2 processes (mpi") {
				t.Fatalf("the run did not use 2 MPI processes:\n%s", out.String())
			}
			if code, o, e := runCLI(append(args, "--run-dir", dirS)...); code != 0 {
				t.Fatalf("one process: exit %d\n%s%s", code, o, e)
			}
			compareCheckpoints(t, filepath.Join(dirM, train.LatestName), filepath.Join(dirS, train.LatestName))
		})
	}
}

// compareCheckpoints requires |a − b| ≤ 1e-6 + 2e-3·max|b| for every tensor
// (the gradients of biases placed before a batch norm are pure rounding
// noise, hence the absolute term).
func compareCheckpoints(t *testing.T, pa, pb string) {
	t.Helper()
	fa, err := checkpoint.Load(pa)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := checkpoint.Load(pb)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	if fa.Metadata["asym.step"] != fb.Metadata["asym.step"] {
		t.Fatalf("steps %s vs %s", fa.Metadata["asym.step"], fb.Metadata["asym.step"])
	}
	names := fb.Names()
	if len(names) != len(fa.Names()) {
		t.Fatalf("%d vs %d tensors", len(fa.Names()), len(names))
	}
	worst := 0.0
	for _, n := range names {
		a, err := fa.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fb.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		scale := 0.0
		for _, v := range b.Data {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		d := 0.0
		for i := range a.Data {
			d = math.Max(d, math.Abs(float64(a.Data[i])-float64(b.Data[i])))
		}
		if d > 1e-6+2e-3*scale {
			t.Errorf("%s: max |Δ| = %.3g (scale %.3g)", n, d, scale)
		}
		if scale > 0 {
			worst = math.Max(worst, d/scale)
		}
	}
	t.Logf("%d tensors agree; worst relative difference %.2g", len(names), worst)
}

// TestMPIRankKilled kills one process of a 2-process run: the job must
// end with an error within 60 s (no hang), and --resume must then finish
// the run from its last checkpoint.
func TestMPIRankKilled(t *testing.T) {
	bin := mpiBinary(t)
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--data", "digits", "--model", "mlp", "--epochs", "400", "--threads", "1",
		"--checkpoint-every", "20", "--run-dir", dir}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := mpirun(ctx, 2, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !fileExists(filepath.Join(dir, train.LatestName)) {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after 60 s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	pid := rankPID(t, bin, 1)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	err := cmd.Wait()
	took := time.Since(killed)
	if err == nil {
		t.Fatalf("the job succeeded after a rank was killed:\n%s", out.String())
	}
	if took > 60*time.Second {
		t.Fatalf("the job took %v to end after the kill", took)
	}
	t.Logf("job ended %v after the kill: %v", took.Round(time.Millisecond), err)
	if !strings.Contains(out.String(), "signal 9") && !strings.Contains(out.String(), "Killed") {
		t.Errorf("the job's message does not say a process was killed:\n%s", out.String())
	}

	// The surviving rank may still be saving its SIGTERM checkpoint after
	// mpirun has returned: wait until it has released the run directory
	// (or ended without doing so, which leaves a stale lock).
	waitLockReleased(t, dir, 60*time.Second)

	// Resume from the last checkpoint, now for a short remainder.
	ck, err := train.ReadConfig(filepath.Join(dir, train.LatestName))
	if err != nil {
		t.Fatal(err)
	}
	var out2 bytes.Buffer
	res := mpirun(ctx, 2, bin, "train", "--resume", "--run-dir", dir, "--threads", "1", "--epochs", fmt.Sprint(ck.Run.Epochs), "--max-steps", "0")
	res.Stdout, res.Stderr = &out2, &out2
	// Finish quickly: the resumed run is stopped by SIGINT after it has
	// made progress, which saves a checkpoint at a later step.
	if err := res.Start(); err != nil {
		t.Fatal(err)
	}
	before := checkpointStep(t, filepath.Join(dir, train.LatestName))
	deadline = time.Now().Add(60 * time.Second)
	for checkpointStep(t, filepath.Join(dir, train.LatestName)) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("the resumed run made no progress:\n%s", out2.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = res.Process.Signal(syscall.SIGINT)
	_ = res.Wait()
	if !strings.Contains(out2.String(), "resuming") {
		t.Errorf("no resume message:\n%s", out2.String())
	}
	if after := checkpointStep(t, filepath.Join(dir, train.LatestName)); after <= before {
		t.Errorf("checkpoint step %d after resuming from %d", after, before)
	}
}

func checkpointStep(t *testing.T, path string) int {
	t.Helper()
	f, err := checkpoint.Load(path)
	if err != nil {
		return -1 // being replaced
	}
	defer f.Close()
	var n int
	fmt.Sscan(f.Metadata["asym.step"], &n)
	return n
}

// rankPID finds the process of the given MPI rank running bin.
func rankPID(t *testing.T, bin string, rank int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			exe, err := os.Readlink(filepath.Join(p, "exe"))
			if err != nil || exe != bin {
				continue
			}
			env, err := os.ReadFile(filepath.Join(p, "environ"))
			if err != nil {
				continue
			}
			if bytes.Contains(env, []byte(fmt.Sprintf("OMPI_COMM_WORLD_RANK=%d\x00", rank))) {
				var pid int
				fmt.Sscan(filepath.Base(p), &pid)
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no process of rank %d", rank)
	return 0
}

// waitLockReleased waits until the lock file of run directory dir is gone
// or names a process that has ended (no longer in /proc, or a zombie).
func waitLockReleased(t *testing.T, dir string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, err := os.ReadFile(filepath.Join(dir, train.LockName))
		if err != nil {
			return
		}
		var pid int
		if _, err := fmt.Sscan(string(b), &pid); err != nil {
			return
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still holds %s after %v", pid, dir, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
