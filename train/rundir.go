package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asymlab/asym/checkpoint"
	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/safetensors"
	"github.com/asymlab/asym/tensor"
)

// File names inside a run directory.
const (
	ConfigName  = "config.toml"
	MetricsName = "metrics.jsonl"
	LatestName  = "latest.safetensors"
	BestName    = "best.safetensors"
)

// Metadata keys of asym checkpoints.
const (
	metaConfig  = "asym.config"
	metaStep    = "asym.step"
	metaEpoch   = "asym.epoch"
	metaBatch   = "asym.batch"
	metaBest    = "asym.best_test_acc"
	metaSums    = "asym.epoch_sums"
	metaThreads = "asym.threads"
	metaImages  = "asym.images_seen"
	metaTrainS  = "asym.train_seconds"
	metaOptStep = "asym.optim_step"
)

// prepareDir creates the run directory (refusing to reuse one that holds
// a different run) and opens the metrics file for appending.
func (t *Trainer) prepareDir(dir string) error {
	if t.comm().Rank() != 0 {
		return nil // only rank 0 writes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: run directory: %w", err)
	}
	cfgPath := filepath.Join(dir, ConfigName)
	if t.step == 0 && t.epoch == 0 && t.batch == 0 {
		if _, err := os.Stat(cfgPath); err == nil {
			return fmt.Errorf("%w: %s; pass --resume to continue it or choose another --run-dir", ErrRunExists, dir)
		}
	}
	if err := os.WriteFile(cfgPath, []byte(t.Cfg.String()), 0o644); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, MetricsName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	t.metrics = f
	return nil
}

// checkpoint saves latest (and, for step checkpoints, a numbered copy
// pruned to Keep).
func (t *Trainer) checkpoint(dir string, numbered bool) error {
	if err := t.averageBuffers(); err != nil {
		return err
	}
	if err := t.Save(filepath.Join(dir, LatestName)); err != nil {
		return err
	}
	if !numbered || t.comm().Rank() != 0 {
		return nil
	}
	if err := t.Save(filepath.Join(dir, fmt.Sprintf("step-%09d.safetensors", t.step))); err != nil {
		return err
	}
	return pruneSteps(dir, max(t.Cfg.Run.Keep, 1))
}

func pruneSteps(dir string, keep int) error {
	m, err := filepath.Glob(filepath.Join(dir, "step-*.safetensors"))
	if err != nil {
		return err
	}
	for i := 0; i < len(m)-keep; i++ { // names sort by step
		if err := os.Remove(m[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("train: pruning checkpoints: %w", err)
		}
	}
	return nil
}

// Save writes a checkpoint of the whole training state to path atomically.
// Under data-parallel training only rank 0 writes (after checking that the
// replicas agree); the other ranks return nil.
func (t *Trainer) Save(path string) error {
	if err := t.checkInSync(); err != nil {
		return err
	}
	if t.comm().Rank() != 0 {
		return nil
	}
	var ts []safetensors.Tensor
	for _, p := range t.state {
		ts = append(ts, safetensors.FromTensor(p.Name, p.Value))
	}
	st := t.Opt.State()
	for _, s := range st.Tensors {
		ts = append(ts, safetensors.FromTensor(s.Name, s.Value))
	}
	sums, _ := json.Marshal(t.sums)
	meta := map[string]string{
		metaConfig:  t.Cfg.String(),
		metaStep:    strconv.FormatInt(t.step, 10),
		metaOptStep: strconv.FormatInt(st.Step, 10),
		metaEpoch:   strconv.Itoa(t.epoch),
		metaBatch:   strconv.Itoa(t.batch),
		metaBest:    strconv.FormatFloat(t.best, 'g', -1, 64),
		metaSums:    string(sums),
		metaThreads: strconv.Itoa(t.E.Threads()),
		metaImages:  strconv.FormatInt(t.imagesSeen, 10),
		metaTrainS:  strconv.FormatFloat(t.trainTime.Seconds(), 'g', -1, 64),
	}
	if err := checkpoint.Save(path, ts, meta); err != nil {
		return fmt.Errorf("train: saving checkpoint: %w", err)
	}
	return nil
}

// ReadConfig returns the configuration stored in a checkpoint.
func ReadConfig(path string) (Config, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	s, ok := f.Metadata[metaConfig]
	if !ok {
		return Config{}, fmt.Errorf("train: %s is not an asym training checkpoint (no %s metadata)", path, metaConfig)
	}
	// Configs saved before model.batch_norm was always written omit it
	// when it is false.
	base := Default()
	base.Model.BatchNorm = false
	return Decode(strings.NewReader(s), path+" (embedded config)", base)
}

// Restore loads the training state saved by Save. The trainer must have
// been built from the same model, rule and optimizer configuration.
func (t *Trainer) Restore(path string) error {
	f, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range t.state {
		if err := loadInto(f, path, p.Name, p.Value); err != nil {
			return err
		}
	}
	st := t.Opt.State()
	if st.Step, err = metaInt(f.Metadata, metaOptStep, path); err != nil {
		return err
	}
	for i := range st.Tensors {
		v := tensor.New(st.Tensors[i].Value.Shape...)
		if err := loadInto(f, path, st.Tensors[i].Name, v); err != nil {
			return err
		}
		st.Tensors[i].Value = v
	}
	if err := t.Opt.SetState(st); err != nil {
		return fmt.Errorf("train: %s: %w", path, err)
	}
	if t.step, err = metaInt(f.Metadata, metaStep, path); err != nil {
		return err
	}
	ep, err := metaInt(f.Metadata, metaEpoch, path)
	if err != nil {
		return err
	}
	b, err := metaInt(f.Metadata, metaBatch, path)
	if err != nil {
		return err
	}
	t.epoch, t.batch = int(ep), int(b)
	if t.imagesSeen, err = metaInt(f.Metadata, metaImages, path); err != nil {
		return err
	}
	if t.best, err = strconv.ParseFloat(f.Metadata[metaBest], 64); err != nil {
		return fmt.Errorf("train: %s: bad %s: %v", path, metaBest, err)
	}
	secs, err := strconv.ParseFloat(f.Metadata[metaTrainS], 64)
	if err != nil || math.IsNaN(secs) {
		return fmt.Errorf("train: %s: bad %s", path, metaTrainS)
	}
	t.trainTime = time.Duration(secs * float64(time.Second))
	if err := json.Unmarshal([]byte(f.Metadata[metaSums]), &t.sums); err != nil {
		return fmt.Errorf("train: %s: bad %s: %v", path, metaSums, err)
	}
	if t.batch > t.stepsPerEpoch || t.epoch < 0 || t.batch < 0 {
		return fmt.Errorf("train: %s: position epoch %d batch %d does not fit %d batches per epoch (was the data set or batch size changed?)", path, t.epoch, t.batch, t.stepsPerEpoch)
	}
	return nil
}

// CheckpointThreads returns the thread count a checkpoint was written
// with (bit-identical resumption needs the same count).
func CheckpointThreads(path string) (int, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := metaInt(f.Metadata, metaThreads, path)
	return int(n), err
}

func loadInto(f *checkpoint.File, path, name string, dst *tensor.Tensor) error {
	src, err := f.Float32(name)
	if err != nil {
		return fmt.Errorf("train: %s: %w (was the model or rule changed?)", path, err)
	}
	if !src.SameShape(dst) {
		return fmt.Errorf("train: %s: %s has shape %v, the model wants %v (was the model or data changed?)", path, name, src.Shape, dst.Shape)
	}
	copy(dst.Data, src.Data)
	return nil
}

func metaInt(m map[string]string, key, path string) (int64, error) {
	v, ok := m[key]
	if !ok {
		return 0, fmt.Errorf("train: %s: metadata %s is missing", path, key)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("train: %s: metadata %s = %q: %v", path, key, v, err)
	}
	return n, nil
}

var _ = optim.MainGroup

// LoadWeights loads the model's parameters, buffers and rule state from a
// checkpoint (not the optimizer state or the position).
func (t *Trainer) LoadWeights(path string) error {
	f, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range t.state {
		if err := loadInto(f, path, p.Name, p.Value); err != nil {
			return err
		}
	}
	return nil
}
