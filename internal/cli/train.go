package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
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
checkpoint (same seed and threads give bit-identical results); it refuses
a run whose config.toml was edited, restarts a run that stopped before its
first checkpoint, and only reports a complete run (rebuilding a missing
summary.json). One process at a time trains in a run directory (lock file
"lock"; a stale one, left by a killed process, is removed).`,
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
		runDir := flags.c.Run.Dir // --run-dir
		if resume {
			if runDir == "" {
				return usagef("--resume needs --run-dir")
			}
			if cfgPath != "" {
				return usagef("--resume takes the run's own config; do not pass --config")
			}
		}
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
		var t *train.Trainer
		var cfg train.Config
		if resume {
			var info *train.Resumed
			t, info, err = train.Resume(runDir, func(c *train.Config) error {
				c.Run.MaxSteps = 0 // a step limit stops one invocation, not the run
				if err := flags.apply(c); err != nil {
					return err
				}
				c.Run.Dir = runDir
				return c.Validate()
			})
			if err != nil {
				return abortOthers(comm, err)
			}
			for _, n := range info.Notes {
				fmt.Fprintf(errw, "asym: note: %s\n", n)
			}
			fmt.Fprintln(errw, info)
			if info.Complete && info.Summary != nil {
				if quiet {
					return nil
				}
				return printSummary(s, info.Summary, asJSON)
			}
			cfg = t.Cfg
		} else {
			cfg = train.Default()
			if cfgPath != "" {
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
			if t, err = train.New(cfg); err != nil {
				return abortOthers(comm, err)
			}
		}
		t.Comm = comm
		t.Log = errw
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
		return s.printJSON(sum)
	}
	if sum.Data == "text" {
		_, err := fmt.Fprintf(s.Out, "validation loss %.4f, %.3f bits per character (unigram %.3f), accuracy %.2f%% after %d epochs, %d steps: %s on %s, rule %s, %.0f characters/s, %.1fs; run dir %s\n",
			sum.TestLoss, sum.ValBitsPerChar, sum.UnigramBitsPerChar, 100*sum.TestAcc, sum.Epochs, sum.Steps, sum.Model, sum.Data, sum.Rule,
			sum.ImagesPerS, sum.WallS, sum.RunDir)
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
