package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/asymlab/asym/metrics"
	"github.com/asymlab/asym/rules"
)

// MetricsFile is the name of a run directory's metrics file.
const MetricsFile = "metrics.jsonl"

// MaxLineBytes bounds one line of a metrics file.
const MaxLineBytes = 1 << 20

// ErrMetrics is wrapped by every error about the contents of a metrics
// file.
var ErrMetrics = errors.New("report: bad metrics file")

// Run is one training run as the report sees it: who it is and what it
// logged. It does not depend on the training loop; [ReadRun] fills it
// from a run directory.
type Run struct {
	// Name identifies the run (its directory name).
	Name string
	// Rule, Model and Seed describe the run.
	Rule, Model string
	Seed        uint64
	// Group, if set, is the label under which runs are aggregated over
	// seeds; by default runs are grouped by Rule (and Model when the runs
	// span several models). See [GroupRuns].
	Group string
	// Diverged marks a run stopped by a NaN or infinite loss.
	Diverged bool
	// Epochs holds the per-epoch metrics, in epoch order.
	Epochs []EpochPoint
	// Align holds the per-layer alignment metrics, in step order and,
	// within a step, in the order logged (the network's layer order).
	Align []AlignPoint
}

// EpochPoint is one "epoch" line of metrics.jsonl.
type EpochPoint struct {
	// Epoch counts from 1 (the number of epochs done).
	Epoch int
	// Step is the number of optimizer steps done.
	Step int64
	// TrainLoss and TrainAcc are the epoch's training loss and accuracy
	// (accuracies are fractions in [0, 1]).
	TrainLoss, TrainAcc float64
	// TestLoss and TestAcc are measured on the test set after the epoch;
	// TestTop5 is the top-5 accuracy (0 in runs written before it).
	TestLoss, TestAcc, TestTop5 float64
}

// AlignPoint is one "align" line of metrics.jsonl (see
// [metrics.Line]); metrics not computed are NaN.
type AlignPoint struct {
	// Step is the training step the metrics were taken at.
	Step int64
	// Layer is the weight layer's name.
	Layer string
	// Bound reports whether the rule is bound to the layer.
	Bound bool
	// Angles in degrees.
	WeightAngle, ProjectionAngle, GradientAngle, EndToEndAngle float64
	// NormRatio is ‖B‖/‖W‖.
	NormRatio float64
	// Regularizer is the rule's regularizer for the layer, NaN if none.
	Regularizer float64
	// NoB marks a rule without backward weights (direct feedback
	// alignment): the metrics of B are NaN and shown as "no B".
	NoB bool
}

// NoB reports whether the run's rule has no backward weights (its
// alignment lines say so, or the registered rule of that name does, for
// runs logged before the lines carried it): the metrics of B do not exist
// for it.
func (r Run) NoB() bool {
	if info, ok := rules.Lookup(r.Rule); ok && r.Rule != "" && info.NoB {
		return true
	}
	for _, p := range r.Align {
		if p.NoB {
			return true
		}
	}
	return false
}

// FinalTestAcc returns the test accuracy after the last epoch, NaN if no
// epoch was logged.
func (r Run) FinalTestAcc() float64 {
	if len(r.Epochs) == 0 {
		return math.NaN()
	}
	return r.Epochs[len(r.Epochs)-1].TestAcc
}

// BestTestAcc returns the best test accuracy over the epochs, NaN if none.
func (r Run) BestTestAcc() float64 {
	best := math.NaN()
	for _, e := range r.Epochs {
		if math.IsNaN(best) || e.TestAcc > best {
			best = e.TestAcc
		}
	}
	return best
}

// FinalTrainLoss returns the training loss of the last epoch, NaN if none.
func (r Run) FinalTrainLoss() float64 {
	if len(r.Epochs) == 0 {
		return math.NaN()
	}
	return r.Epochs[len(r.Epochs)-1].TrainLoss
}

// epochLine is the part of an "epoch" line the report reads (written by
// package train).
type epochLine struct {
	Epoch     *int        `json:"epoch"`
	Step      int64       `json:"step"`
	TrainLoss metrics.Num `json:"train_loss"`
	TrainAcc  metrics.Num `json:"train_acc"`
	TestLoss  metrics.Num `json:"test_loss"`
	TestAcc   metrics.Num `json:"test_acc"`
	TestTop5  metrics.Num `json:"test_top5"`
}

// ReadRun reads dir/metrics.jsonl into a Run named after the directory.
// Rule is taken from the alignment lines when they name it; Model and Seed
// are left for the caller (they live in the run's config).
func ReadRun(dir string) (Run, error) {
	path := filepath.Join(dir, MetricsFile)
	f, err := os.Open(path)
	if err != nil {
		return Run{}, fmt.Errorf("report: run %s: %w (is it a run directory?)", dir, err)
	}
	defer f.Close()
	r, err := ReadMetrics(f, path)
	if err != nil {
		return Run{}, err
	}
	r.Name = filepath.Base(filepath.Clean(dir))
	return r, nil
}

// ReadMetrics parses a metrics.jsonl stream; name (the file's path) is
// used in errors. It keeps lines of kind "epoch" and "align", ignores
// other kinds and blank lines, and returns an error wrapping [ErrMetrics]
// that names the file and line for anything else (bad JSON, no kind, an
// epoch line without its epoch, a line over [MaxLineBytes]). When a
// resumed run logged an epoch, or a step's layer, twice, the later line
// wins.
func ReadMetrics(rd io.Reader, name string) (Run, error) {
	var run Run
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	epochAt := map[int]int{}
	type key struct {
		step  int64
		layer string
	}
	alignAt := map[key]int{}
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%w: %s line %d: %s", ErrMetrics, name, n, fmt.Sprintf(format, a...))
		}
		var head struct {
			Kind *string `json:"kind"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return Run{}, bad("not a JSON object: %v", err)
		}
		if head.Kind == nil {
			return Run{}, bad("no \"kind\" field")
		}
		switch *head.Kind {
		case "epoch":
			var e epochLine
			if err := json.Unmarshal(line, &e); err != nil {
				return Run{}, bad("epoch line: %v", err)
			}
			if e.Epoch == nil || *e.Epoch < 0 {
				return Run{}, bad("epoch line without a valid \"epoch\"")
			}
			p := EpochPoint{Epoch: *e.Epoch, Step: e.Step, TrainLoss: float64(e.TrainLoss), TrainAcc: float64(e.TrainAcc),
				TestLoss: float64(e.TestLoss), TestAcc: float64(e.TestAcc), TestTop5: float64(e.TestTop5)}
			if i, ok := epochAt[p.Epoch]; ok {
				run.Epochs[i] = p
			} else {
				epochAt[p.Epoch] = len(run.Epochs)
				run.Epochs = append(run.Epochs, p)
			}
		case metrics.KindAlign:
			l := metrics.Line{WeightAngle: nan, NormRatio: nan, ProjectionAngle: nan, GradientAngle: nan, EndToEndAngle: nan}
			if err := json.Unmarshal(line, &l); err != nil {
				return Run{}, bad("align line: %v", err)
			}
			if l.Layer == "" {
				return Run{}, bad("align line without a \"layer\"")
			}
			if l.Rule != "" {
				run.Rule = l.Rule
			}
			m := l.Metrics()
			p := AlignPoint{Step: l.Step, Layer: l.Layer, Bound: l.Bound, WeightAngle: m.WeightAngle,
				ProjectionAngle: m.ProjectionAngle, GradientAngle: m.GradientAngle, EndToEndAngle: m.EndToEndAngle,
				NormRatio: m.NormRatio, Regularizer: m.Regularizer, NoB: m.NoB}
			k := key{l.Step, l.Layer}
			if i, ok := alignAt[k]; ok {
				run.Align[i] = p
			} else {
				alignAt[k] = len(run.Align)
				run.Align = append(run.Align, p)
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Run{}, fmt.Errorf("%w: %s line %d: longer than %d bytes", ErrMetrics, name, n+1, MaxLineBytes)
		}
		return Run{}, fmt.Errorf("report: reading %s: %w", name, err)
	}
	sort.SliceStable(run.Epochs, func(i, j int) bool { return run.Epochs[i].Epoch < run.Epochs[j].Epoch })
	sort.SliceStable(run.Align, func(i, j int) bool { return run.Align[i].Step < run.Align[j].Step })
	return run, nil
}

var nan = metrics.Num(math.NaN())
