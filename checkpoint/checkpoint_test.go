package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/asymlab/asym/internal/fault"
	"github.com/asymlab/asym/safetensors"
	"github.com/asymlab/asym/tensor"
)

// model returns a small set of checkpoint tensors whose values depend on
// seed, so that two versions can be told apart.
func model(seed uint64) ([]safetensors.Tensor, *tensor.Tensor) {
	rng := tensor.NewRand(seed, 0)
	w := tensor.New(16, 8)
	tensor.FillNormal(w, rng, 1)
	b := tensor.New(16)
	tensor.FillUniform(b, rng, 1)
	return []safetensors.Tensor{
		safetensors.FromTensor("fc.weight", w),
		safetensors.FromTensor("fc.bias", b),
		safetensors.Int64s("rng", []int{2}, []int64{int64(seed), 7}),
	}, w
}

// checkHolds fails unless the checkpoint at path loads and holds w.
func checkHolds(t *testing.T, path string, w *tensor.Tensor) {
	t.Helper()
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got, err := f.Float32("fc.weight")
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.Equal(got, w) {
		t.Fatalf("%s holds %v, want %v", path, got, w)
	}
}

func TestSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	ts, w := model(1)
	meta := map[string]string{"rule": "sign-symmetry"}
	if err := Save(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	if len(meta) != 1 {
		t.Errorf("Save modified the caller's metadata: %v", meta)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["rule"] != "sign-symmetry" || f.Metadata[FormatKey] != FormatVersion || len(f.Metadata[ChecksumKey]) != 64 {
		t.Errorf("metadata = %v", f.Metadata)
	}
	sum, err := Checksum(ts, f.Metadata)
	if err != nil || sum != f.Metadata[ChecksumKey] {
		t.Errorf("Checksum = %s, %v; file records %s", sum, err, f.Metadata[ChecksumKey])
	}
	checkHolds(t, path, w)
	rng, _, err := f.Int64("rng")
	if err != nil || !slices.Equal(rng, []int64{1, 7}) {
		t.Errorf("rng = %v, %v", rng, err)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestSaveRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	ts, _ := model(1)
	for _, k := range []string{FormatKey, ChecksumKey} {
		if err := Save(path, ts, map[string]string{k: "x"}); !errors.Is(err, ErrReserved) {
			t.Errorf("Save with %q: err = %v, want ErrReserved", k, err)
		}
	}
	bad := []safetensors.Tensor{safetensors.FromTensor("a", tensor.New(2)), safetensors.FromTensor("a", tensor.New(2))}
	if err := Save(path, bad, nil); !errors.Is(err, safetensors.ErrName) {
		t.Errorf("Save with duplicate names: err = %v, want ErrName", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed saves created %s", path)
	}
	// Plain Save leaves StepKey to the caller.
	if err := Save(path, ts, map[string]string{StepKey: "12"}); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := Step(f); !ok || s != 12 {
		t.Errorf("Step = %d, %v; want 12", s, ok)
	}
}

// failAfter is a writer that fails once n bytes have been written, like a
// full disk.
type failAfter struct {
	w io.Writer
	n int
}

var errDiskFull = errors.New("simulated: no space left on device")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// TestSaveIsAtomic checks that a save that fails, or a process that dies,
// at any point leaves the previous checkpoint intact and loadable.
func TestSaveIsAtomic(t *testing.T) {
	errCrash := errors.New("simulated crash before rename")
	// Size of the second checkpoint, to fail on its very last byte.
	scratch := filepath.Join(t.TempDir(), "scratch.safetensors")
	ts2, _ := model(2)
	if err := Save(scratch, ts2, nil); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(scratch)
	if err != nil {
		t.Fatal(err)
	}
	size := int(st.Size())
	tests := []struct {
		name   string
		writer func(io.Writer) io.Writer
		rename func(string) error
		want   error
	}{
		{"write fails in header", func(w io.Writer) io.Writer { return &failAfter{w, 3} }, nil, errDiskFull},
		{"write fails in data", func(w io.Writer) io.Writer { return &failAfter{w, 400} }, nil, errDiskFull},
		{"write fails at last byte", func(w io.Writer) io.Writer { return &failAfter{w, size - 1} }, nil, errDiskFull},
		{"crash before rename", nil, func(string) error { return errCrash }, errCrash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ck.safetensors")
			ts1, w1 := model(1)
			if err := Save(path, ts1, nil); err != nil {
				t.Fatal(err)
			}
			ts2, w2 := model(2)
			hookWriter, hookBeforeRename = tc.writer, tc.rename
			err := Save(path, ts2, nil)
			hookWriter, hookBeforeRename = nil, nil
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Save error = %v, want %v naming the path", err, tc.want)
			}
			checkHolds(t, path, w1)
			if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("failed save left its temporary file: %v", err)
			}
			// The next save works and replaces the checkpoint.
			if err := Save(path, ts2, nil); err != nil {
				t.Fatal(err)
			}
			checkHolds(t, path, w2)
		})
	}

	// A process killed mid-write leaves a partial PATH.tmp and PATH as it
	// was; the next save overwrites the leftover.
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	ts1, w1 := model(1)
	if err := Save(path, ts1, nil); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, path, w1)
	ts2, w2 := model(2)
	if err := Save(path, ts2, nil); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, path, w2)
}

// TestLoadDetectsDamage damages a valid checkpoint in various ways and
// checks that Load reports each with the right error and the path.
func TestLoadDetectsDamage(t *testing.T) {
	ts, _ := model(3)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := Save(good, ts, map[string]string{"asym.epoch": "5", "asym.config": "lr = 0.05\n"}); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	dataStart := len(full) - int(f.DataSize())
	sumAt := strings.Index(string(full[:dataStart]), f.Metadata[ChecksumKey])
	epochAt := strings.Index(string(full[:dataStart]), `"asym.epoch":"5"`) + len(`"asym.epoch":"`)
	lrAt := strings.Index(string(full[:dataStart]), `lr = 0.05`) + len(`lr = 0.0`)
	versionAt := strings.Index(string(full[:dataStart]), `"asym.format":"2"`) + len(`"asym.format":"`)
	if epochAt < 20 || lrAt < 20 || versionAt < 20 {
		t.Fatalf("metadata not found in the header %q", full[:dataStart])
	}

	flip := func(i int) []byte {
		b := slices.Clone(full)
		b[i] ^= 0x01
		return b
	}
	plain := func(meta map[string]string) []byte {
		var sb strings.Builder
		if err := safetensors.Write(&sb, ts, meta); err != nil {
			t.Fatal(err)
		}
		return []byte(sb.String())
	}
	sum, _ := Checksum(ts, nil)
	// A version-1 checkpoint (earlier asym): the checksum covers the data only.
	v1 := map[string]string{FormatKey: FormatVersion1, "asym.epoch": "5"}
	h := sha256.New()
	if _, err := safetensors.WriteData(h, ts); err != nil {
		t.Fatal(err)
	}
	v1[ChecksumKey] = hex.EncodeToString(h.Sum(nil))
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, safetensors.ErrTruncated},
		{"cut in length", full[:5], safetensors.ErrTruncated},
		{"cut in header", full[:dataStart-10], safetensors.ErrTruncated},
		{"cut after header", full[:dataStart], safetensors.ErrTruncated},
		{"cut in data", full[:dataStart+100], safetensors.ErrTruncated},
		{"last byte missing", full[:len(full)-1], safetensors.ErrTruncated},
		{"byte appended", append(slices.Clone(full), 0), safetensors.ErrOffsets},
		{"first data byte flipped", flip(dataStart), ErrChecksum},
		{"middle data byte flipped", flip(dataStart + int(f.DataSize())/2), ErrChecksum},
		{"last data byte flipped", flip(len(full) - 1), ErrChecksum},
		{"recorded checksum flipped", flip(sumAt), ErrChecksum},
		{"epoch in the metadata flipped", flip(epochAt), ErrChecksum},             // "5" → "4"
		{"learning rate in the embedded config flipped", flip(lrAt), ErrChecksum}, // 0.05 → 0.04
		{"format version flipped", flip(versionAt), ErrFormat},                    // "2" → "3"
		{"header brace flipped", flip(8), safetensors.ErrHeader},
		{"plain safetensors file", plain(nil), ErrFormat},
		{"future version", plain(map[string]string{FormatKey: "3", ChecksumKey: sum}), ErrFormat},
		{"version 1 with a flipped data byte", func() []byte {
			b := plain(v1)
			b[len(b)-1] ^= 1
			return b
		}(), ErrChecksum},
		{"no checksum", plain(map[string]string{FormatKey: FormatVersion}), ErrChecksum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.safetensors")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load error = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
		})
	}
	// Version-1 checkpoints stay readable.
	old := filepath.Join(dir, "v1.safetensors")
	if err := os.WriteFile(old, plain(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := Load(old); err != nil || f.Metadata["asym.epoch"] != "5" {
		t.Errorf("version-1 checkpoint: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.safetensors")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestDir(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), "run"), Keep: 2}
	if steps, err := d.Steps(); err != nil || steps != nil {
		t.Fatalf("Steps of a missing directory = %v, %v", steps, err)
	}
	if _, err := d.LoadLatest(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadLatest with no checkpoint: %v", err)
	}
	weights := map[int]*tensor.Tensor{}
	save := func(step int) {
		t.Helper()
		ts, w := model(uint64(step))
		weights[step] = w
		path, err := d.Save(step, ts, map[string]string{"epoch": fmt.Sprint(step / 10)})
		if err != nil {
			t.Fatal(err)
		}
		if path != d.StepPath(step) {
			t.Errorf("Save returned %s, want %s", path, d.StepPath(step))
		}
	}
	checkLatest := func(step int) {
		t.Helper()
		f, err := d.LoadLatest()
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := Step(f); !ok || s != step {
			t.Errorf("latest is step %d (%v), want %d", s, ok, step)
		}
		checkHolds(t, d.LatestPath(), weights[step])
	}
	steps := func() []int {
		t.Helper()
		s, err := d.Steps()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	for _, s := range []int{10, 20, 30} {
		save(s)
		checkLatest(s)
	}
	if err := d.MarkBest(20); err != nil {
		t.Fatal(err)
	}
	for _, s := range []int{40, 50} {
		save(s)
	}
	if got := steps(); !slices.Equal(got, []int{40, 50}) {
		t.Errorf("Steps = %v, want [40 50]", got)
	}
	checkLatest(50)
	best, err := d.LoadBest()
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := Step(best); s != 20 {
		t.Errorf("best is step %d, want 20", s)
	}
	checkHolds(t, d.BestPath(), weights[20])

	// Resuming from an earlier step keeps the checkpoint just saved.
	save(45)
	if got := steps(); !slices.Equal(got, []int{45, 50}) {
		t.Errorf("Steps after resaving 45 = %v, want [45 50]", got)
	}
	checkLatest(45)

	// Step numbers past six digits, and files that are not checkpoints.
	save(1234567)
	for _, name := range []string{"step-12.safetensors.tmp", "step-.safetensors", "step-x1.safetensors", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(d.Path, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := steps(); !slices.Equal(got, []int{50, 1234567}) {
		t.Errorf("Steps = %v, want [50 1234567]", got)
	}
	d.Keep = 1
	if err := d.Prune(); err != nil {
		t.Fatal(err)
	}
	if got := steps(); !slices.Equal(got, []int{1234567}) {
		t.Errorf("Steps after Prune = %v, want [1234567]", got)
	}
	checkHolds(t, d.BestPath(), weights[20])

	if _, err := d.Save(5, nil, map[string]string{StepKey: "1"}); !errors.Is(err, ErrReserved) {
		t.Errorf("Dir.Save with %s: %v", StepKey, err)
	}
	if _, err := d.Save(-1, nil, nil); err == nil {
		t.Error("Dir.Save accepted a negative step")
	}
	if err := d.MarkBest(999); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("MarkBest of a missing step: %v", err)
	}
}

func TestParseStepName(t *testing.T) {
	tests := []struct {
		name string
		step int
		ok   bool
	}{
		{"step-000123.safetensors", 123, true},
		{"step-0.safetensors", 0, true},
		{"step-1234567.safetensors", 1234567, true},
		{"step-.safetensors", 0, false},
		{"step--1.safetensors", 0, false},
		{"step-+1.safetensors", 0, false},
		{"step-1.safetensors.tmp", 0, false},
		{"latest.safetensors", 0, false},
		{"step-99999999999999999999999.safetensors", 0, false},
	}
	for _, tc := range tests {
		step, ok := parseStepName(tc.name)
		if step != tc.step || ok != tc.ok {
			t.Errorf("parseStepName(%q) = %d, %v; want %d, %v", tc.name, step, ok, tc.step, tc.ok)
		}
	}
}

// TestDirWithoutHardLinks runs a Dir on a file system without hard links:
// latest and best are then copies, and still survive pruning.
func TestDirWithoutHardLinks(t *testing.T) {
	link = func(string, string) error { return errors.New("simulated: hard links not supported") }
	defer func() { link = os.Link }()
	d := Dir{Path: t.TempDir(), Keep: 1}
	ts1, w1 := model(1)
	if _, err := d.Save(1, ts1, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkBest(1); err != nil {
		t.Fatal(err)
	}
	ts2, w2 := model(2)
	if _, err := d.Save(2, ts2, nil); err != nil {
		t.Fatal(err)
	}
	if steps, _ := d.Steps(); !slices.Equal(steps, []int{2}) {
		t.Errorf("Steps = %v, want [2]", steps)
	}
	checkHolds(t, d.LatestPath(), w2)
	checkHolds(t, d.BestPath(), w1)
	for _, p := range []string{d.LatestPath(), d.BestPath()} {
		if _, err := os.Stat(p + ".tmp"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s.tmp left behind", p)
		}
	}
}

// TestSaveBestCrash fails the write of best.safetensors (as a crash between
// the two names would): latest must still be the previous checkpoint, so
// that a resumed run replays the step and writes best again. Then a
// successful SaveBest makes latest and best the same checkpoint.
func TestSaveBestCrash(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	ts1, w1 := model(1)
	if err := d.SaveLatest(1, ts1, nil); err != nil {
		t.Fatal(err)
	}
	ts2, w2 := model(2)
	restore := fault.Set(func(path string) error {
		if filepath.Base(path) == BestName+".tmp" {
			return errors.New("simulated crash")
		}
		return nil
	})
	err := d.SaveBest(2, ts2, nil)
	restore()
	if err == nil {
		t.Fatal("SaveBest succeeded through the injected fault")
	}
	checkHolds(t, d.LatestPath(), w1)
	if _, err := os.Stat(d.BestPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("best.safetensors after a failed write: %v", err)
	}
	if err := d.SaveBest(2, ts2, nil); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, d.LatestPath(), w2)
	checkHolds(t, d.BestPath(), w2)
	// The next latest replaces latest only.
	ts3, w3 := model(3)
	if err := d.SaveLatest(3, ts3, nil); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, d.LatestPath(), w3)
	checkHolds(t, d.BestPath(), w2)
}

// TestStaleLinkedTemp: a crash inside linkAtomic can leave latest.safetensors.tmp
// as a hard link to best; the next save must not write through it.
func TestStaleLinkedTemp(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	ts1, w1 := model(1)
	if err := d.SaveBest(1, ts1, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(d.BestPath(), d.LatestPath()+".tmp"); err != nil {
		t.Skip("no hard links:", err)
	}
	ts2, w2 := model(2)
	if err := d.SaveLatest(2, ts2, nil); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, d.BestPath(), w1)
	checkHolds(t, d.LatestPath(), w2)
}

func TestCleanTemp(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	for _, name := range []string{"latest.safetensors.tmp", "step-000000010.safetensors.tmp", "notes.tmp", "best.safetensors"} {
		if err := os.WriteFile(filepath.Join(d.Path, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := d.CleanTemp()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"latest.safetensors.tmp", "step-000000010.safetensors.tmp"}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	left, _ := filepath.Glob(filepath.Join(d.Path, "*"))
	if len(left) != 2 {
		t.Errorf("left %v, want notes.tmp and best.safetensors", left)
	}
}
