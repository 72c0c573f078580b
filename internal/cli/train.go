package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/dist"
	"github.com/asymlab/asym/train"
)

func newTrainCmd(s *IO) *cobra.Command {
	var (
		cfgPath string
		resume  bool
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model (default: an MLP with backprop on the embedded digits)",
		Long: `Train a model on a data set with a learning rule for the backward weights.

Settings come from the defaults, then the --config file (TOML; unknown keys
are errors), then the flags given. The effective config is saved as
config.toml in the run directory, with metrics.jsonl, checkpoints and
summary.json. --resume continues the run in --run-dir from its latest
checkpoint (same seed and threads give bit-identical results).`,
		Example: `  asym train
  asym train --data fashion-mnist --model convnet --epochs 10 --batch 128 --lr 0.05
  asym train --rule sa --config configs/fashion-convnet.toml --run-dir runs/sa
  asym train --resume --run-dir runs/sa`,
		Args: noArgs,
	}
	flags := addConfigFlags(cmd.Flags(), train.Default())
	cmd.Flags().StringVar(&cfgPath, "config", "", "TOML config file")
	cmd.Flags().BoolVar(&resume, "resume", false, "continue the run in --run-dir from its latest checkpoint")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the final summary as one JSON object on stdout")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg := train.Default()
		var err error
		var latest string
		runDir := flags.c.Run.Dir // --run-dir
		switch {
		case resume:
			if runDir == "" {
				return usagef("--resume needs --run-dir")
			}
			latest = filepath.Join(runDir, train.LatestName)
			if _, err := os.Stat(latest); errors.Is(err, fs.ErrNotExist) {
				return usagef("--resume: %s has no checkpoint (%s)", runDir, train.LatestName)
			}
			if cfg, err = train.ReadConfig(latest); err != nil {
				return err
			}
			if cfgPath != "" {
				return usagef("--resume takes the run's own config; do not pass --config")
			}
			// A step limit stops one invocation, not the run.
			cfg.Run.MaxSteps = 0
		case cfgPath != "":
			if cfg, err = train.LoadFile(cfgPath, cfg); err != nil {
				return err
			}
		}
		if err := flags.apply(&cfg); err != nil {
			return err
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		runDir = cfg.Run.Dir
		if runDir == "" {
			runDir = train.DefaultDir(cfg, time.Now())
		}
		cfg.Run.Dir = runDir
		comm, err := dist.Init()
		if err != nil {
			return err
		}
		defer comm.Close()
		quiet := comm.Rank() != 0
		errw := s.Err
		if quiet {
			errw = io.Discard
		}
		t, err := train.New(cfg)
		if err != nil {
			return abortOthers(comm, err)
		}
		t.Comm = comm
		if resume {
			if n, err := train.CheckpointThreads(latest); err == nil && n != t.E.Threads() {
				fmt.Fprintf(errw, "asym: note: the checkpoint was written with %d threads, this run uses %d; results will not be bit-identical to an uninterrupted run\n", n, t.E.Threads())
			}
			if err := t.Restore(latest); err != nil {
				return abortOthers(comm, err)
			}
			ep, b := t.Epoch()
			fmt.Fprintf(errw, "resuming %s at epoch %d, batch %d (step %d)\n", runDir, ep+1, b, t.Step())
		}
		t.Reporter = &reporter{w: errw, tty: s.ErrTTY}
		procs := ""
		if comm.Size() > 1 {
			procs = fmt.Sprintf(" × %d processes (%s; global batch %d)", comm.Size(), comm.Name(), cfg.Data.Batch)
		}
		fmt.Fprintf(errw, "training %s on %s (%d train / %d test) with rule %s: %d epochs of %d steps, %s, %d threads%s; run dir %s\n",
			cfg.Model.Arch, cfg.Data.Name, t.TrainSet.Len(), t.TestSet.Len(), cfg.Rule.Name, cfg.Run.Epochs, t.StepsPerEpoch(),
			t.E.Name(), t.E.Threads(), procs, runDir)
		sum, err := t.Run(cmd.Context(), runDir)
		if !quiet {
			reportSkipped(s, t)
		}
		if err != nil {
			if errors.Is(err, train.ErrInterrupted) {
				return err // every process stopped at the same step
			}
			return abortOthers(comm, err)
		}
		if quiet {
			return nil
		}
		return printSummary(s, sum, asJSON)
	}
	return cmd
}

func printSummary(s *IO, sum *train.Summary, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(s.Out, string(b))
		return err
	}
	_, err := fmt.Fprintf(s.Out, "test accuracy %.2f%% (loss %.4f; best %.2f%%) after %d epochs, %d steps: %s on %s, rule %s, %.0f img/s, %.1fs; run dir %s\n",
		100*sum.TestAcc, sum.TestLoss, 100*sum.BestTestAcc, sum.Epochs, sum.Steps, sum.Model, sum.Data, sum.Rule,
		sum.ImagesPerS, sum.WallS, sum.RunDir)
	return err
}

// reportSkipped lists on stderr the samples that could not be read.
func reportSkipped(s *IO, t *train.Trainer) {
	tr, te := t.Skipped()
	for _, x := range []struct {
		split string
		list  []data.Skip
	}{{"training", tr}, {"test", te}} {
		if len(x.list) == 0 {
			continue
		}
		fmt.Fprintf(s.Err, "asym: %d %s samples could not be read and were left out:\n", len(x.list), x.split)
		for i, k := range x.list {
			if i == 10 {
				fmt.Fprintf(s.Err, "  ... and %d more\n", len(x.list)-10)
				break
			}
			fmt.Fprintf(s.Err, "  %v\n", k.Err)
		}
	}
}

// abortOthers ends the other processes of a data-parallel run after an
// error on this one (they would otherwise wait for it forever).
func abortOthers(comm dist.Comm, err error) error {
	if comm.Size() > 1 {
		fmt.Fprintf(os.Stderr, "asym: rank %d: %v\n", comm.Rank(), err)
		comm.Abort(exitCode(err))
	}
	return err
}
