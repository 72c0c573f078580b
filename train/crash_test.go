package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asymlab/asym/checkpoint"
	"github.com/asymlab/asym/internal/fault"
	"github.com/asymlab/asym/provenance"
)

// sameData reports whether two checkpoints hold bit-identical tensors.
func sameData(t *testing.T, a, b string) bool {
	t.Helper()
	read := func(p string) []byte {
		f, err := checkpoint.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		d, err := io.ReadAll(f.Data())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	return bytes.Equal(read(a), read(b))
}

// failNth makes the n-th (1-based) write of a file named name fail and
// counts the writes of that name.
func failNth(name string, n int, count *int) func() {
	return fault.Set(func(path string) error {
		if filepath.Base(path) != name+".tmp" {
			return nil
		}
		*count++
		if *count == n {
			return errors.New("simulated crash")
		}
		return nil
	})
}

// resumeRun resumes the run in dir to its end.
func resumeRun(t *testing.T, dir string) (*Summary, *Resumed) {
	t.Helper()
	tr, info, err := Resume(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run(t, tr, dir), info
}

// TestBestLatestConsistent (issue 9, item 8): a crash between the
// end-of-epoch saves of best and latest must not leave best holding an
// older model for good. The last write of best.safetensors fails; the
// resumed run ends with the best and latest of an uninterrupted run.
func TestBestLatestConsistent(t *testing.T) {
	c := small("bp")
	c.Run.Epochs = 3
	full := t.TempDir()
	var bests int
	restore := failNth(BestName, -1, &bests)
	sFull := run(t, build(t, c), full)
	restore()
	if bests == 0 {
		t.Fatal("the run never saved best.safetensors")
	}
	dir := t.TempDir()
	var n int
	restore = failNth(BestName, bests, &n)
	_, err := build(t, c).Run(context.Background(), dir)
	restore()
	if err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("the injected fault did not stop the run: %v", err)
	}
	sRes, _ := resumeRun(t, dir)
	for _, name := range []string{BestName, LatestName} {
		if !sameData(t, filepath.Join(full, name), filepath.Join(dir, name)) {
			t.Errorf("%s differs from the uninterrupted run's", name)
		}
	}
	if sFull.BestTestAcc != sRes.BestTestAcc {
		t.Errorf("best accuracy %v, uninterrupted %v", sRes.BestTestAcc, sFull.BestTestAcc)
	}
}

// summaryFields drops the timing fields of a summary, and its
// provenance (date and command line differ from one invocation to the
// next).
func summaryFields(s Summary) Summary {
	s.WallS, s.ImagesPerS = 0, 0
	s.Provenance = provenance.Info{}
	return s
}

// TestResumeFinishedRun (item 9): --resume of a complete run reports it as
// complete and keeps its summary; when the summary is missing (a kill
// between the last checkpoint and summary.json) it is rebuilt, equal to
// the original.
func TestResumeFinishedRun(t *testing.T) {
	c := small("bp")
	dir := t.TempDir()
	want := run(t, build(t, c), dir)
	before, err := os.ReadFile(filepath.Join(dir, SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := Resume(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Complete || info.Summary == nil || !strings.Contains(info.String(), "complete") || strings.Contains(info.String(), "epoch 3") {
		t.Errorf("resume of a finished run: complete %v, summary %v, %q", info.Complete, info.Summary != nil, info)
	}
	if err := os.Remove(filepath.Join(dir, SummaryName)); err != nil {
		t.Fatal(err)
	}
	got, info := resumeRun(t, dir)
	if !info.Complete || info.Summary != nil || !strings.Contains(info.String(), "rebuilding") {
		t.Errorf("resume without summary: %q", info)
	}
	if summaryFields(*got) != summaryFields(*want) {
		t.Errorf("rebuilt summary %+v, want %+v", *got, *want)
	}
	after, err := os.ReadFile(filepath.Join(dir, SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	var a, b Summary
	if json.Unmarshal(before, &a) != nil || json.Unmarshal(after, &b) != nil || summaryFields(a) != summaryFields(b) {
		t.Errorf("summary.json rebuilt as\n%s\nwas\n%s", after, before)
	}
}

// TestMetadataBitFlip (item 10): one flipped bit in the stored epoch is
// rejected with a checksum error naming the file.
func TestMetadataBitFlip(t *testing.T) {
	c := small("bp")
	c.Run.Epochs = 1
	c.Run.MaxSteps = 10
	dir := t.TempDir()
	run(t, build(t, c), dir)
	path := filepath.Join(dir, LatestName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(`"asym.step":"10"`))
	if i < 0 {
		t.Fatalf("no step in %q", b[:200])
	}
	b[i+len(`"asym.step":"`)] ^= 0x02 // "10" → "30"
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = build(t, c).Restore(path)
	if !errors.Is(err, checkpoint.ErrChecksum) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "metadata") {
		t.Errorf("got %v, want a checksum error naming %s and the metadata", err, path)
	}
}

// TestFailureBeforeFirstCheckpoint (item 11): a run that fails before its
// first checkpoint leaves a directory that can be restarted (a new run in
// it) or resumed (which starts it over), and the divergence message names
// no checkpoint that does not exist.
func TestFailureBeforeFirstCheckpoint(t *testing.T) {
	c := small("bp")
	c.Optim.LR = 1e6
	c.Optim.Schedule = "constant"
	dir := t.TempDir()
	_, err := build(t, c).Run(context.Background(), dir)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("got %v, want a divergence", err)
	}
	if strings.Contains(err.Error(), LatestName) || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("divergence message: %v", err)
	}
	good := small("bp")
	good.Run.Epochs = 1
	want := run(t, build(t, good), t.TempDir())
	// Restart: a new run in the same directory, said so.
	tr := build(t, good)
	var log bytes.Buffer
	tr.Log = &log
	if got := run(t, tr, dir); got.TestAcc != want.TestAcc || got.Steps != want.Steps {
		t.Errorf("restarted run: %+v, want %+v", got, want)
	}
	if !strings.Contains(log.String(), "stopped before its first checkpoint") {
		t.Errorf("log %q", log.String())
	}
	// Resume of a run killed before its first checkpoint starts it over.
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, ConfigName), []byte(good.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, MetricsName), []byte("{\"kind\":\"align\",\"step\":0}\n{\"ki"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, info := resumeRun(t, dir2)
	if !info.Restart || !strings.Contains(info.String(), "from the beginning") {
		t.Errorf("resume without checkpoint: %q", info)
	}
	if got.TestAcc != want.TestAcc || got.Steps != want.Steps {
		t.Errorf("restarted run: %+v, want %+v", got, want)
	}
	m, _ := os.ReadFile(filepath.Join(dir2, MetricsName))
	if bytes.Contains(m, []byte(`"step":0}`)) {
		t.Errorf("the failed attempt's metrics were kept:\n%s", m)
	}
	// A directory without checkpoint or config cannot be resumed.
	if _, _, err := Resume(t.TempDir(), nil); !errors.Is(err, ErrNoRun) {
		t.Errorf("empty directory: %v", err)
	}
}

// metricsLines reads metrics.jsonl without the timing fields.
func metricsLines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, ln := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(ln), &m); err != nil {
			t.Fatalf("line %d: %v: %q", i+1, err, ln)
		}
		delete(m, "epoch_s")
		delete(m, "images_per_s")
		s, _ := json.Marshal(m)
		out = append(out, string(s))
	}
	return out
}

// TestMetricsRepairedOnResume (item 12): records written after the last
// checkpoint and a line cut short by a crash are dropped on resume: the
// resumed run's metrics.jsonl holds the records of an uninterrupted run,
// once each.
func TestMetricsRepairedOnResume(t *testing.T) {
	c := small("fa")
	c.Run.MetricsEvery = 4
	full := t.TempDir()
	run(t, build(t, c), full)

	dir := t.TempDir()
	part := c
	part.Run.MaxSteps = 30
	run(t, build(t, part), dir)
	f, err := os.OpenFile(filepath.Join(dir, MetricsName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// What a process killed at step 34 would have left after the checkpoint.
	fmt.Fprintf(f, "{\"kind\":\"align\",\"step\":32,\"rule\":\"fa\",\"layer\":\"fc1\"}\n{\"kind\":\"align\",\"st")
	f.Close()
	tr, _, err := Resume(dir, func(c *Config) error { c.Run.MaxSteps = 0; return nil })
	if err != nil {
		t.Fatal(err)
	}
	run(t, tr, dir)
	got, want := metricsLines(t, dir), metricsLines(t, full)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("metrics.jsonl after resume (%d lines):\n%s\nuninterrupted (%d lines):\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
}

// TestEditedConfigRefused (item 13): an edit of config.toml is refused on
// resume, naming the changed key.
func TestEditedConfigRefused(t *testing.T) {
	c := small("bp")
	c.Run.MaxSteps = 10
	dir := t.TempDir()
	run(t, build(t, c), dir)
	path := filepath.Join(dir, ConfigName)
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), "lr = 0.05", "lr = 0.1", 1)
	if edited == string(b) {
		t.Fatalf("no lr in\n%s", b)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Resume(dir, nil)
	if !errors.Is(err, ErrConfigEdited) || !strings.Contains(err.Error(), "optim.lr = 0.05 → 0.1") {
		t.Errorf("got %v, want ErrConfigEdited naming optim.lr", err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != edited {
		t.Error("the refused resume rewrote config.toml")
	}
}

// TestTempFilesCleaned (item 15): temporary files of interrupted writes
// are removed on resume (and said so), and none is left at the end.
func TestTempFilesCleaned(t *testing.T) {
	c := small("bp")
	c.Run.MaxSteps = 10
	c.Run.CheckpointEvery = 5
	dir := t.TempDir()
	run(t, build(t, c), dir)
	for _, name := range []string{LatestName + ".tmp", "step-000000015.safetensors.tmp", BestName + ".tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tr, _, err := Resume(dir, func(c *Config) error { c.Run.MaxSteps = 0; return nil })
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	tr.Log = &log
	run(t, tr, dir)
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if !strings.Contains(log.String(), "removed") || !strings.Contains(log.String(), "step-000000015.safetensors.tmp") {
		t.Errorf("log %q does not report the removal", log.String())
	}
}

// TestStepCheckpointWrittenOnce (item 25): a numbered checkpoint and latest
// are one file, not two writes.
func TestStepCheckpointWrittenOnce(t *testing.T) {
	c := small("bp")
	c.Run.MaxSteps = 10
	c.Run.CheckpointEvery = 5
	dir := t.TempDir()
	var writes []string
	restore := fault.Set(func(path string) error {
		writes = append(writes, filepath.Base(path))
		return nil
	})
	run(t, build(t, c), dir)
	restore()
	// Step 5: step file + link; step 10: step file + link, then the
	// MaxSteps stop rewrites latest (one full write).
	want := "step-000000005.safetensors.tmp latest.safetensors.tmp step-000000010.safetensors.tmp latest.safetensors.tmp latest.safetensors.tmp"
	if got := strings.Join(writes, " "); got != want {
		t.Errorf("writes %s, want %s", got, want)
	}
}

// TestLock (item 16): a second process on a run directory gets a clear
// error naming the holder; a stale lock (its process ended) is replaced
// and reported; the lock is released at the end.
func TestLock(t *testing.T) {
	c := small("bp")
	c.Run.Epochs = 1
	c.Run.MaxSteps = 3
	dir := t.TempDir()
	lock := filepath.Join(dir, LockName)
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	if err := os.WriteFile(lock, []byte(fmt.Sprintf("%d %s\n", os.Getpid(), host)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, c).Run(context.Background(), dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("got %v, want ErrLocked naming process %d", err, os.Getpid())
	}
	// A lock of a process that has ended.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` command:", err)
	}
	if err := os.WriteFile(lock, []byte(fmt.Sprintf("%d %s\n", cmd.Process.Pid, host)), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := build(t, c)
	var log bytes.Buffer
	tr.Log = &log
	run(t, tr, dir)
	if !strings.Contains(log.String(), "stale lock") {
		t.Errorf("stale lock not reported: %q", log.String())
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock not released: %v", err)
	}

	// A lock of a process that has exited but is not reaped yet (a
	// zombie, as the ranks of a killed MPI job can be) is stale too.
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	z := exec.Command("true")
	if err := z.Start(); err != nil {
		t.Fatal(err)
	}
	defer z.Wait()
	for deadline := time.Now().Add(10 * time.Second); !zombie(z.Process.Pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the child did not become a zombie")
		}
	}
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, LockName), []byte(fmt.Sprintf("%d %s\n", z.Process.Pid, host)), 0o644); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	tr = build(t, c)
	tr.Log = &log
	if _, err := tr.Run(context.Background(), dir2); err != nil {
		t.Errorf("the lock of a zombie process was not taken as stale: %v", err)
	}
	if !strings.Contains(log.String(), "stale lock") {
		t.Errorf("stale lock of a zombie not reported: %q", log.String())
	}
}

// TestInterruptUnsaved (item 17): an interruption whose checkpoint cannot
// be written is not reported as "interrupted, checkpoint saved".
func TestInterruptUnsaved(t *testing.T) {
	c := small("bp")
	dir := t.TempDir()
	tr := build(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	tr.Reporter = cancelAt{step: 17, cancel: cancel, tr: tr}
	restore := fault.Set(func(path string) error {
		if filepath.Base(path) == LatestName+".tmp" {
			return errors.New("no space left on device (simulated)")
		}
		return nil
	})
	_, err := tr.Run(ctx, dir)
	restore()
	if !errors.Is(err, ErrInterruptedUnsaved) || errors.Is(err, ErrInterrupted) {
		t.Fatalf("got %v, want ErrInterruptedUnsaved only", err)
	}
	if !strings.Contains(err.Error(), "no checkpoint was saved") || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("message %q", err)
	}
}

// TestResumeNotesThreads (item 27): Resume, shared by the CLI and the
// experiment runner, notes a thread count that differs from the
// checkpoint's.
func TestResumeNotesThreads(t *testing.T) {
	c := small("bp")
	c.Run.MaxSteps = 5
	dir := t.TempDir()
	run(t, build(t, c), dir)
	_, info, err := Resume(dir, func(c *Config) error { c.Run.Threads = 1; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Notes) != 1 || !strings.Contains(info.Notes[0], "2 threads, this run uses 1") {
		t.Errorf("notes %q", info.Notes)
	}
}
