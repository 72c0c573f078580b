package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asymlab/asym/checkpoint"
	"github.com/asymlab/asym/safetensors"
	"github.com/asymlab/asym/tensor"
)

// File names inside a run directory.
const (
	ConfigName  = "config.toml"
	MetricsName = "metrics.jsonl"
	LatestName  = checkpoint.LatestName
	BestName    = checkpoint.BestName
	SummaryName = "summary.json"
	// LockName is the lock file of a run directory, holding the process
	// ID and host of the process that trains in it.
	LockName = "lock"
)

// Metadata keys of asym checkpoints.
const (
	metaConfig  = "asym.config"
	metaStep    = checkpoint.StepKey
	metaEpoch   = "asym.epoch"
	metaBatch   = "asym.batch"
	metaBest    = "asym.best_test_acc"
	metaSums    = "asym.epoch_sums"
	metaThreads = "asym.threads"
	metaImages  = "asym.images_seen"
	metaTrainS  = "asym.train_seconds"
	metaOptStep = "asym.optim_step"
	// metaMetrics is the length of metrics.jsonl when the checkpoint was
	// saved: a resumed run truncates the file to it, dropping the records
	// written after the checkpoint (they are written again) and any line a
	// crash cut short.
	metaMetrics = "asym.metrics_bytes"
	// metaLast holds the metrics of the last epoch evaluated (lastEpoch),
	// from which a finished run's summary can be rebuilt.
	metaLast = "asym.last_epoch"
	// metaVocab holds the characters of a text run's vocabulary, in id
	// order (data.Vocab.String).
	metaVocab = "asym.vocab"
)

// lastEpoch are the metrics of the last evaluated epoch.
type lastEpoch struct {
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_acc"`
	TestTop5  float64 `json:"test_top5"`
}

// holdsRun reports whether dir holds a run that a new run must not
// replace: one with a checkpoint or a summary. A directory with only the
// config and metrics of a run that failed before its first checkpoint can
// be reused.
func holdsRun(dir string) bool {
	for _, name := range []string{LatestName, BestName, SummaryName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// prepareDir locks the run directory, creates it (refusing to reuse one
// that holds a different run), cleans up after a crash when resuming and
// opens the metrics file for appending.
func (t *Trainer) prepareDir(dir string) error {
	if t.comm().Rank() != 0 {
		return nil // only rank 0 writes
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: run directory: %w", err)
	}
	unlock, err := lockDir(dir, t.Log)
	if err != nil {
		return err
	}
	t.unlock = unlock
	if !t.restored && holdsRun(dir) {
		return fmt.Errorf("%w: %s; pass --resume to continue it or choose another --run-dir", ErrRunExists, dir)
	}
	if t.restored {
		if err := t.cleanTemp(dir, true); err != nil {
			return err
		}
	} else if _, err := os.Stat(filepath.Join(dir, ConfigName)); err == nil && t.Log != nil {
		fmt.Fprintf(t.Log, "asym: %s held a run that stopped before its first checkpoint: starting a new run in it\n", dir)
	}
	if err := writeFileAtomic(filepath.Join(dir, ConfigName), []byte(t.Cfg.String())); err != nil {
		return err
	}
	mode := os.O_CREATE | os.O_RDWR
	if !t.restored {
		mode |= os.O_TRUNC // a run that never reached its first checkpoint starts over
	}
	f, err := os.OpenFile(filepath.Join(dir, MetricsName), mode, 0o644)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if t.restored {
		if t.metricsLen, err = repairMetrics(f, t.metricsLen); err != nil {
			f.Close()
			return fmt.Errorf("train: %s: %w", filepath.Join(dir, MetricsName), err)
		}
	} else {
		t.metricsLen = 0
	}
	if _, err := f.Seek(t.metricsLen, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("train: %w", err)
	}
	t.metrics = f
	return nil
}

// repairMetrics truncates the metrics file of a resumed run to n bytes,
// its length at the checkpoint (n < 0: unknown, from a checkpoint of an
// earlier asym), and then to its last complete line. It returns the new
// length.
func repairMetrics(f *os.File, n int64) (int64, error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return 0, err
	}
	if n >= 0 && n < int64(len(b)) {
		b = b[:n]
	}
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	return int64(len(b)), f.Truncate(int64(len(b)))
}

// cleanTemp removes the temporary files of interrupted writes, saying so
// if report is set.
func (t *Trainer) cleanTemp(dir string, report bool) error {
	removed, err := checkpoint.Dir{Path: dir}.CleanTemp()
	if err != nil {
		return err
	}
	for _, name := range []string{SummaryName + ".tmp", ConfigName + ".tmp"} {
		if err := os.Remove(filepath.Join(dir, name)); err == nil {
			removed = append(removed, name)
		}
	}
	if report && len(removed) > 0 && t.Log != nil {
		fmt.Fprintf(t.Log, "asym: removed %s left in %s by an interrupted write\n", strings.Join(removed, ", "), dir)
	}
	return nil
}

// Kinds of checkpoint saved by Trainer.checkpoint.
const (
	saveLatest   = iota // latest.safetensors only
	saveNumbered        // step-N.safetensors (pruned to Keep), and latest
	saveBest            // best.safetensors, and latest
)

// checkpoint saves the training state into the run directory as kind.
func (t *Trainer) checkpoint(dir string, kind int) error {
	if err := t.averageBuffers(); err != nil {
		return err
	}
	ts, meta, err := t.snapshot()
	if err != nil || ts == nil {
		return err // not rank 0, or replicas out of sync
	}
	step := meta[metaStep]
	delete(meta, metaStep)
	d := checkpoint.Dir{Path: dir, Keep: max(t.Cfg.Run.Keep, 1)}
	switch kind {
	case saveNumbered:
		_, err = d.Save(int(t.step), ts, meta)
	case saveBest:
		err = d.SaveBest(int(t.step), ts, meta)
	default:
		err = d.SaveLatest(int(t.step), ts, meta)
	}
	if err != nil {
		return fmt.Errorf("train: saving checkpoint of step %s: %w", step, err)
	}
	return nil
}

// snapshot returns the tensors and metadata of a checkpoint of the whole
// training state, after checking that the replicas agree. Processes other
// than rank 0 get nil tensors.
func (t *Trainer) snapshot() ([]safetensors.Tensor, map[string]string, error) {
	if err := t.checkInSync(); err != nil {
		return nil, nil, err
	}
	if t.comm().Rank() != 0 {
		return nil, nil, nil
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
		metaMetrics: strconv.FormatInt(t.metricsLen, 10),
	}
	if t.last != nil {
		last, _ := json.Marshal(t.last)
		meta[metaLast] = string(last)
	}
	if t.Info.Vocab != nil {
		meta[metaVocab] = t.Info.Vocab.String()
	}
	return ts, meta, nil
}

// Save writes a checkpoint of the whole training state to path atomically.
// Under data-parallel training only rank 0 writes (after checking that the
// replicas agree); the other ranks return nil.
func (t *Trainer) Save(path string) error {
	ts, meta, err := t.snapshot()
	if err != nil || ts == nil {
		return err
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
	return Decode(strings.NewReader(s), path+" (embedded config)", savedBase())
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
	t.metricsLen = -1 // unknown: checkpoint of an earlier asym
	if _, ok := f.Metadata[metaMetrics]; ok {
		if t.metricsLen, err = metaInt(f.Metadata, metaMetrics, path); err != nil {
			return err
		}
	}
	t.last = nil
	if s, ok := f.Metadata[metaLast]; ok {
		t.last = new(lastEpoch)
		if err := json.Unmarshal([]byte(s), t.last); err != nil {
			return fmt.Errorf("train: %s: bad %s: %v", path, metaLast, err)
		}
	}
	t.restored = true
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

// LoadWeights loads the model's parameters, buffers and rule state from a
// checkpoint (not the optimizer state or the position).
func (t *Trainer) LoadWeights(path string) error {
	f, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if v, ok := f.Metadata[metaVocab]; ok && t.Info.Vocab != nil && v != t.Info.Vocab.String() {
		return fmt.Errorf("train: %s: its vocabulary (%d characters) differs from that of the text %s (%d characters): the text changed since training",
			path, len([]rune(v)), t.Info.Source, t.Info.Vocab.Size())
	}
	for _, p := range t.state {
		if err := loadInto(f, path, p.Name, p.Value); err != nil {
			return err
		}
	}
	return nil
}
