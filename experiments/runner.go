package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asymlab/asym/report"
	"github.com/asymlab/asym/train"
)

// Job is one training run of an experiment.
type Job struct {
	// ID names the run's directory under runs/ (e.g. "mlp/sa/seed1").
	ID string
	// Cfg is the run's full training configuration.
	Cfg train.Config
	// Rule, Model and Seed describe the run.
	Rule, Model string
	Seed        uint64
	// Group labels the setting the run belongs to (runs of one group
	// differ only by seed).
	Group string
	// X holds the values of the experiment's variables (swept settings,
	// depth, noise variance).
	X map[string]float64
}

// Result is a job's outcome.
type Result struct {
	Job Job
	// Summary is the run's summary (nil if it diverged).
	Summary *train.Summary
	// Diverged is set when the run diverged (a NaN or Inf, an exploding
	// loss or an accuracy back at chance; see train.LossExplosion); Err
	// says where.
	Diverged bool
	Err      string
	// Run holds the logged metrics.
	Run report.Run
}

// Acc returns the final test accuracy in % (NaN if the run diverged).
func (r Result) Acc() float64 {
	if r.Summary == nil {
		return math.NaN()
	}
	return 100 * r.Summary.TestAcc
}

const divergedFile = "diverged.json"

// Execute runs the jobs one after another under dir/runs, skipping the
// finished ones and resuming interrupted ones, and returns their results in
// job order. A run that diverges is recorded and does not stop the
// experiment; an interruption (ctx) stops it with train.ErrInterrupted.
func Execute(ctx context.Context, dir string, jobs []Job, log io.Writer) ([]Result, error) {
	return ExecuteMonitored(ctx, dir, jobs, &Monitor{W: log})
}

// ExecuteMonitored is [Execute] reporting to m: a line per job with the
// estimated time left, and a live status line during each run when
// m.Live.
func ExecuteMonitored(ctx context.Context, dir string, jobs []Job, m *Monitor) ([]Result, error) {
	out := make([]Result, 0, len(jobs))
	m.begin(jobs)
	for i, j := range jobs {
		jdir := filepath.Join(dir, "runs", filepath.FromSlash(j.ID))
		m.start(i, j)
		r, status, err := runJob(ctx, jdir, j, m.W, m)
		if err != nil {
			m.clearLine()
			return out, fmt.Errorf("run %s: %w", j.ID, err)
		}
		m.finish(i, r, status, status != "done earlier")
		out = append(out, r)
	}
	return out, nil
}

// runJob runs (or reads the result of) one job, reporting its progress
// to rep and its notes to log.
func runJob(ctx context.Context, jdir string, j Job, log io.Writer, rep train.Reporter) (Result, string, error) {
	res := Result{Job: j}
	status := "done earlier"
	sumPath := filepath.Join(jdir, "summary.json")
	divPath := filepath.Join(jdir, divergedFile)
	switch {
	case exists(sumPath):
		b, err := os.ReadFile(sumPath)
		if err != nil {
			return res, "", err
		}
		res.Summary = new(train.Summary)
		if err := json.Unmarshal(b, res.Summary); err != nil {
			return res, "", fmt.Errorf("%s: %v", sumPath, err)
		}
	case exists(divPath):
		b, err := os.ReadFile(divPath)
		if err != nil {
			return res, "", err
		}
		res.Diverged, res.Err = true, strings.TrimSpace(string(b))
	default:
		t0 := time.Now()
		var t *train.Trainer
		var err error
		if exists(filepath.Join(jdir, train.LatestName)) || exists(filepath.Join(jdir, train.ConfigName)) {
			var info *train.Resumed
			t, info, err = train.Resume(jdir, func(c *train.Config) error {
				// The job's config, as long as the run was started with it
				// (the thread count and step limit may change between
				// invocations).
				if d := train.ConfigDiff(perInvocation(*c, j.Cfg), j.Cfg); len(d) > 0 {
					return fmt.Errorf("%w: %s was started with another config than the experiment's now (%s); restore the experiment's config or remove the run's directory",
						train.ErrConfig, jdir, strings.Join(d, ", "))
				}
				*c = j.Cfg
				return nil
			})
			if err != nil {
				return res, "", err
			}
			status = "resumed"
			for _, n := range info.Notes {
				if log != nil {
					fmt.Fprintf(log, "%s: note: %s\n", j.ID, n)
				}
			}
			if info.Restart {
				status = "restarted"
			}
		} else {
			if t, err = train.New(j.Cfg); err != nil {
				return res, "", err
			}
			status = "ran"
		}
		t.Log = log
		t.Reporter = rep
		s, err := t.Run(ctx, jdir)
		switch {
		case errors.Is(err, train.ErrDiverged):
			res.Diverged, res.Err = true, err.Error()
			if werr := os.WriteFile(divPath, []byte(strconv.Quote(err.Error())+"\n"), 0o644); werr != nil {
				return res, "", werr
			}
		case err != nil:
			return res, "", err
		default:
			res.Summary = s
		}
		status = fmt.Sprintf("%s in %.1fs", status, time.Since(t0).Seconds())
	}
	run, err := report.ReadRun(jdir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return res, "", err
	}
	run.Name, run.Rule, run.Model, run.Seed, run.Group, run.Diverged = j.ID, j.Rule, j.Model, j.Seed, j.Group, res.Diverged
	res.Run = run
	return res, status, nil
}

// perInvocation returns c with the settings of one invocation (threads,
// step limit) taken from now.
func perInvocation(c, now train.Config) train.Config {
	c.Run.Threads, c.Run.MaxSteps = now.Run.Threads, now.Run.MaxSteps
	return c
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// base returns the training config of a job: the experiment's base with
// the rule, its settings, model and seed, and alignment logging.
func (c Config) base(rule, model string, seed uint64) train.Config {
	t := c.Train
	t.Rule.Name = rule
	t.Rule.Params = nil
	if p := c.Params[rule]; len(p) > 0 {
		t.Rule.Params = map[string]float64{}
		for k, v := range p {
			t.Rule.Params[k] = v
		}
	}
	if model != "" {
		t.Model.Arch = model
	}
	t.Run.Seed = seed
	t.Run.Dir = ""
	return t
}

// withMetrics sets the alignment-logging interval for about n points.
func withMetrics(t train.Config, n int, stepsPerEpoch int) train.Config {
	if n <= 0 {
		t.Run.MetricsEvery = 0
		return t
	}
	total := stepsPerEpoch * t.Run.Epochs
	t.Run.MetricsEvery = max(1, total/n)
	return t
}

// stepsPerEpoch returns the number of steps per epoch of a training
// config (building the data set once).
func stepsPerEpoch(t train.Config) (int, error) {
	tr, err := train.New(t)
	if err != nil {
		return 0, err
	}
	return tr.StepsPerEpoch(), nil
}

func seedID(s uint64) string { return fmt.Sprintf("seed%d", s) }

// addSeriesRows adds one row per series to t: its label, then mean ± std at
// each x of xs ("–" where the series has no point there).
func addSeriesRows(t *report.Table, series []report.Series, xs []float64) {
	for _, s := range series {
		row := []report.Cell{report.Text(s.Label)}
		for _, x := range xs {
			c := report.Stub("–")
			for _, p := range s.Points {
				if p.X == x {
					c = report.MeanStd(p.Stat, 2)
				}
			}
			row = append(row, c)
		}
		t.Add(row...)
	}
}
