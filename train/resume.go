package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Errors of Resume.
var (
	// ErrNoRun is returned by Resume when the directory holds neither a
	// checkpoint nor the config of a run.
	ErrNoRun = errors.New("train: no run to resume")
	// ErrConfigEdited is returned by Resume when the run directory's
	// config.toml no longer matches the configuration stored in the
	// checkpoint.
	ErrConfigEdited = errors.New("train: the run's config.toml was edited")
)

// Resumed describes the run that Resume opened.
type Resumed struct {
	// Dir is the run directory.
	Dir string
	// Checkpoint is the checkpoint the trainer was restored from; empty
	// when the run had none (Restart).
	Checkpoint string
	// Restart is set when the run failed before its first checkpoint:
	// it starts over from the beginning with the directory's config.toml.
	Restart bool
	// Complete is set when the checkpoint is the end of the run: Run then
	// trains nothing and (re)writes summary.json from the checkpoint.
	Complete bool
	// Summary is the run's summary.json when it is complete and has one
	// (nil otherwise).
	Summary *Summary
	// Notes are things the user should be told (a different thread count).
	Notes        []string
	epoch, batch int
	step         int64
	epochs       int
}

// String describes what resuming does, in one line.
func (r *Resumed) String() string {
	switch {
	case r.Restart:
		return fmt.Sprintf("%s has no checkpoint (the run stopped before its first one): starting it over from the beginning with its config.toml", r.Dir)
	case r.Complete && r.Summary != nil:
		return fmt.Sprintf("%s is complete (%d of %d epochs, step %d): nothing to resume", r.Dir, r.epoch, r.epochs, r.step)
	case r.Complete:
		return fmt.Sprintf("%s is complete (%d of %d epochs, step %d) but has no %s: rebuilding it from %s", r.Dir, r.epoch, r.epochs, r.step, SummaryName, r.Checkpoint)
	}
	return fmt.Sprintf("resuming %s at epoch %d, batch %d (step %d)", r.Dir, r.epoch+1, r.batch, r.step)
}

// Resume builds the trainer that continues the run in dir, the one place
// where a resume is assembled (the CLI's --resume and the experiment
// runner both call it). The configuration is the one stored in the latest
// checkpoint; edit, if not nil, may change it (flags given on resume) and
// must leave it valid. Resume refuses (ErrConfigEdited) when the
// directory's config.toml was edited since the checkpoint, naming the
// changed keys. A directory whose run stopped before its first checkpoint
// is restarted from the beginning with its config.toml (Resumed.Restart).
// Resume writes nothing: Trainer.Run locks the directory and repairs it
// (metrics after the checkpoint, temporary files) before it trains.
func Resume(dir string, edit func(*Config) error) (*Trainer, *Resumed, error) {
	r := &Resumed{Dir: dir}
	latest := filepath.Join(dir, LatestName)
	cfgPath := filepath.Join(dir, ConfigName)
	var cfg Config
	switch _, err := os.Stat(latest); {
	case err == nil:
		if cfg, err = ReadConfig(latest); err != nil {
			return nil, nil, err
		}
		if err := checkEdits(cfgPath, cfg); err != nil {
			return nil, nil, err
		}
		r.Checkpoint = latest
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("train: %w", err)
	default:
		if _, err := os.Stat(cfgPath); err != nil {
			return nil, nil, fmt.Errorf("%w: %s has no checkpoint (%s) and no %s", ErrNoRun, dir, LatestName, ConfigName)
		}
		if cfg, err = LoadFile(cfgPath, savedBase()); err != nil {
			return nil, nil, err
		}
		r.Restart = true
	}
	if edit != nil {
		if err := edit(&cfg); err != nil {
			return nil, nil, err
		}
	}
	t, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	if r.Restart {
		return t, r, nil
	}
	if n, err := CheckpointThreads(latest); err == nil && n != t.E.Threads() {
		r.Notes = append(r.Notes, fmt.Sprintf("the checkpoint was written with %d threads, this run uses %d; results will not be bit-identical to an uninterrupted run", n, t.E.Threads()))
	}
	if err := t.Restore(latest); err != nil {
		return nil, nil, err
	}
	r.epoch, r.batch, r.step, r.epochs = t.epoch, t.batch, t.step, t.Cfg.Run.Epochs
	r.Complete = t.epoch >= t.Cfg.Run.Epochs
	if r.Complete {
		if b, err := os.ReadFile(filepath.Join(dir, SummaryName)); err == nil {
			s := new(Summary)
			if json.Unmarshal(b, s) == nil && s.Steps == t.step {
				r.Summary = s
			}
		}
	}
	return t, r, nil
}

// checkEdits compares the run directory's config.toml with the config
// stored in its checkpoint.
func checkEdits(path string, stored Config) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil // Run writes it again
	}
	onDisk, err := LoadFile(path, savedBase())
	if err != nil {
		return fmt.Errorf("%w (%s must stay as the run wrote it; the checkpoint holds the run's config)", err, path)
	}
	if d := ConfigDiff(stored, onDisk); len(d) > 0 {
		return fmt.Errorf("%w: %s differs from the config stored in the checkpoint in %s; a resumed run keeps the checkpoint's settings: undo the edit, pass the setting as a flag with --resume if it may change mid-run (e.g. --epochs), or start a new run with --config %s",
			ErrConfigEdited, path, strings.Join(d, ", "), path)
	}
	return nil
}

// ConfigDiff returns the keys (section.key) whose values differ between a
// and b, each with both values ("optim.lr = 0.05 → 0.1"), sorted.
func ConfigDiff(a, b Config) []string {
	fa, fb := flatConfig(a), flatConfig(b)
	keys := slices.Sorted(maps.Keys(fa))
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		va, oka := fa[k]
		vb, okb := fb[k]
		if oka && okb && va == vb {
			continue
		}
		if !oka {
			va = "(unset)"
		}
		if !okb {
			vb = "(unset)"
		}
		out = append(out, fmt.Sprintf("%s = %s → %s", k, va, vb))
	}
	return out
}

// flatConfig maps "section.key" to the TOML value of every key c sets.
func flatConfig(c Config) map[string]string {
	var m map[string]any
	if _, err := toml.Decode(c.String(), &m); err != nil {
		panic(fmt.Sprintf("train: a config does not decode its own encoding: %v", err))
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if sub, ok := v.(map[string]any); ok {
			for k, x := range sub {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				walk(key, x)
			}
			return
		}
		out[prefix] = fmt.Sprint(v)
	}
	walk("", m)
	return out
}
