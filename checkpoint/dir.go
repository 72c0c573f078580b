package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/asymlab/asym/internal/fault"
	"github.com/asymlab/asym/safetensors"
)

// File names in a run directory.
const (
	// LatestName is the name of the last checkpoint saved.
	LatestName = "latest.safetensors"
	// BestName is the name of the checkpoint marked best.
	BestName = "best.safetensors"
)

// Dir manages the checkpoints of one training run in a directory: numbered
// step checkpoints, latest and best (see the package documentation).
type Dir struct {
	// Path is the directory; Save creates it if needed.
	Path string
	// Keep is the number of numbered checkpoints to keep; older ones are
	// deleted by Save. Zero or less keeps them all.
	Keep int
}

// StepPath returns the path of the checkpoint of the given step,
// "step-000000123.safetensors" in the directory. (Numbered checkpoints with
// other zero paddings are recognised too.)
func (d Dir) StepPath(step int) string {
	return filepath.Join(d.Path, fmt.Sprintf("step-%09d.safetensors", step))
}

// LatestPath returns the path of latest.safetensors.
func (d Dir) LatestPath() string { return filepath.Join(d.Path, LatestName) }

// BestPath returns the path of best.safetensors.
func (d Dir) BestPath() string { return filepath.Join(d.Path, BestName) }

// Save saves the checkpoint of the given step (see [Save]; the step is
// recorded under [StepKey]), points latest.safetensors at it and prunes
// the numbered checkpoints to the Keep newest. The checkpoint just saved is
// always kept, even when higher-numbered ones exist (a run resumed from an
// earlier step). It returns the checkpoint's path.
func (d Dir) Save(step int, tensors []safetensors.Tensor, meta map[string]string) (string, error) {
	path := d.StepPath(step)
	if err := d.save(path, step, tensors, meta); err != nil {
		return "", err
	}
	if err := linkAtomic(path, d.LatestPath()); err != nil {
		return path, err
	}
	return path, d.prune(step)
}

// save writes one checkpoint of the given step at path.
func (d Dir) save(path string, step int, tensors []safetensors.Tensor, meta map[string]string) error {
	if step < 0 {
		return fmt.Errorf("checkpoint: negative step %d", step)
	}
	for _, k := range []string{FormatKey, ChecksumKey, StepKey} {
		if _, ok := meta[k]; ok {
			return fmt.Errorf("checkpoint: saving step %d in %s: metadata key %q is set by the checkpoint package: %w", step, d.Path, k, ErrReserved)
		}
	}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	m := maps.Clone(meta)
	if m == nil {
		m = make(map[string]string, 3)
	}
	m[StepKey] = strconv.Itoa(step)
	return save(path, tensors, m)
}

// SaveLatest saves the checkpoint of the given step as latest.safetensors
// only (no numbered checkpoint), atomically.
func (d Dir) SaveLatest(step int, tensors []safetensors.Tensor, meta map[string]string) error {
	return d.save(d.LatestPath(), step, tensors, meta)
}

// SaveBest saves the checkpoint of the given step as best.safetensors and
// then points latest.safetensors at it (one write, two names). The order
// keeps the pair consistent across a crash: a crash between the two leaves
// latest at the previous checkpoint, so the run resumes before this step
// and, replaying it, saves the same best again; latest never records a
// best that best.safetensors does not hold.
func (d Dir) SaveBest(step int, tensors []safetensors.Tensor, meta map[string]string) error {
	if err := d.save(d.BestPath(), step, tensors, meta); err != nil {
		return err
	}
	return linkAtomic(d.BestPath(), d.LatestPath())
}

// CleanTemp removes the temporary files (*.tmp) that writes interrupted by
// a crash left in the directory and returns their names. Call it only
// while no other process writes into the directory.
func (d Dir) CleanTemp() ([]string, error) {
	m, err := filepath.Glob(filepath.Join(d.Path, "*.safetensors.tmp"))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var removed []string
	for _, p := range m {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("checkpoint: removing a stale temporary file: %w", err)
		}
		removed = append(removed, filepath.Base(p))
	}
	return removed, nil
}

// MarkBest makes best.safetensors a copy of the checkpoint of the given
// step, atomically. Pruning never deletes best.safetensors.
func (d Dir) MarkBest(step int) error { return linkAtomic(d.StepPath(step), d.BestPath()) }

// LoadLatest loads latest.safetensors (see [Load]).
func (d Dir) LoadLatest() (*File, error) { return Load(d.LatestPath()) }

// LoadBest loads best.safetensors (see [Load]).
func (d Dir) LoadBest() (*File, error) { return Load(d.BestPath()) }

// Steps returns the steps of the numbered checkpoints in the directory,
// in increasing order. A missing directory has none.
func (d Dir) Steps() ([]int, error) {
	names, err := d.numbered()
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(names)), nil
}

// numbered returns the file names of the numbered checkpoints by step.
func (d Dir) numbered() (map[int]string, error) {
	entries, err := os.ReadDir(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	names := map[int]string{}
	for _, e := range entries {
		if s, ok := parseStepName(e.Name()); ok && e.Type().IsRegular() {
			names[s] = e.Name()
		}
	}
	return names, nil
}

// parseStepName parses "step-<digits>.safetensors".
func parseStepName(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "step-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".safetensors")
	if !ok || s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// Prune deletes all but the Keep highest-numbered checkpoints. latest and
// best are separate files and are never deleted.
func (d Dir) Prune() error { return d.prune(-1) }

// prune keeps the checkpoint of step current (if >= 0) and the highest
// numbered others, Keep in all.
func (d Dir) prune(current int) error {
	if d.Keep <= 0 {
		return nil
	}
	names, err := d.numbered()
	if err != nil {
		return err
	}
	steps := slices.Sorted(maps.Keys(names))
	kept := 0
	if slices.Contains(steps, current) {
		kept = 1
	}
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s == current {
			continue
		}
		if kept < d.Keep {
			kept++
			continue
		}
		if err := os.Remove(filepath.Join(d.Path, names[s])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("checkpoint: pruning: %w", err)
		}
	}
	return nil
}

// Step returns the step recorded in a checkpoint saved by [Dir.Save].
func Step(f *File) (int, bool) {
	s, ok := f.Metadata[StepKey]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// link makes hard links; tests replace it to exercise the copy fallback.
var link = os.Link

// linkAtomic makes dst a hard link to src (a copy if the file system has no
// hard links), replacing dst atomically.
func linkAtomic(src, dst string) error {
	tmp := dst + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := link(src, tmp); err == nil {
		if err := fault.At(tmp); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("checkpoint: %w", err)
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("checkpoint: %w", err)
		}
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return fmt.Errorf("checkpoint: %s: %w", dst, err)
		}
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer in.Close()
	return writeAtomic(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
