package train

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Progress describes the run after one step.
type Progress struct {
	Epoch, Epochs  int // current epoch (0-based) and total
	Batch, Batches int // batches done in this epoch and per epoch
	Step           int64
	Loss, Acc      float64 // of the last batch
	ImagesPerS     float64 // training throughput in this epoch
	Remaining      time.Duration
}

// EpochMetrics is one line of metrics.jsonl.
type EpochMetrics struct {
	Kind       string  `json:"kind"`
	Epoch      int     `json:"epoch"`
	Step       int64   `json:"step"`
	LR         float64 `json:"lr"`
	TrainLoss  float64 `json:"train_loss"`
	TrainAcc   float64 `json:"train_acc"`
	TestLoss   float64 `json:"test_loss"`
	TestAcc    float64 `json:"test_acc"`
	TestTop5   float64 `json:"test_top5"`
	EpochS     float64 `json:"epoch_s"`
	ImagesPerS float64 `json:"images_per_s"`
}

// StepMetrics is a "step" line of metrics.jsonl, written every
// run.log_every steps: the loss of the step's batch (averaged over the
// processes of a data-parallel run) and the learning rate it used.
type StepMetrics struct {
	Kind string `json:"kind"`
	// Step is the number of optimizer steps done; Epoch the epoch the step
	// belongs to (from 1).
	Step  int64 `json:"step"`
	Epoch int   `json:"epoch"`
	// LR is the main parameter group's learning rate for the step.
	LR        float64 `json:"lr"`
	TrainLoss float64 `json:"train_loss"`
}

// Reporter receives a run's progress.
type Reporter interface {
	// Step is called after every training step.
	Step(p Progress)
	// Epoch is called after every epoch's evaluation.
	Epoch(m EpochMetrics)
}

func (t *Trainer) writeMetrics(v any) error {
	if t.metrics == nil {
		return nil // not rank 0
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	n, err := t.metrics.Write(append(b, '\n'))
	t.metricsLen += int64(n)
	if err != nil {
		return fmt.Errorf("train: writing metrics: %w", err)
	}
	return nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic replaces path with b through a temporary file, so that a
// crash leaves either the old or the new content.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}
