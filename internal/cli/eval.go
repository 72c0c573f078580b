package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/train"
)

func newEvalCmd(s *IO) *cobra.Command {
	var (
		split  string
		asJSON bool
		flags  *configFlags
	)
	cmd := &cobra.Command{
		Use:   "eval CHECKPOINT",
		Short: "Evaluate a checkpoint on a data set",
		Long: `Evaluate the model stored in a checkpoint (a .safetensors file written by
asym train) on the test split of its data set, or of another one with --data.`,
		Example: `  asym eval runs/my-run/best.safetensors
  asym eval runs/my-run/latest.safetensors --split train --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := train.ReadConfig(args[0])
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("threads") {
				cfg.Run.Threads = 0 // all cores, not the training run's count
			}
			if err := flags.apply(&cfg); err != nil {
				return err
			}
			cfg.Data.TrainLimit, cfg.Data.TestLimit = 0, 0
			t, err := train.New(cfg)
			if err != nil {
				return err
			}
			if err := t.LoadWeights(args[0]); err != nil {
				return err
			}
			ds := t.TestSet
			switch split {
			case "test":
			case "train":
				ds = t.TrainSet
			default:
				return usagef("--split %q; valid: test, train", split)
			}
			start := time.Now()
			ev, err := t.EvaluateAll(ds)
			if err != nil {
				return err
			}
			rate := float64(ds.Len()) / time.Since(start).Seconds()
			res := struct {
				Checkpoint string  `json:"checkpoint"`
				Data       string  `json:"data"`
				Split      string  `json:"split"`
				Samples    int     `json:"samples"`
				Accuracy   float64 `json:"accuracy"`
				Top5       float64 `json:"top5"`
				Loss       float64 `json:"loss"`
				ImagesPerS float64 `json:"images_per_s"`
			}{args[0], cfg.Data.Name, split, ds.Len(), ev.Acc, ev.Top5, ev.Loss, rate}
			if asJSON {
				return s.printJSON(res)
			}
			if cfg.Data.Name == "text" { // a language model: per character, no top-5
				_, err = fmt.Fprintf(s.Out, "%s on %s/%s (%d windows): accuracy %.2f%%, loss %.4f, %.3f bits per character\n",
					args[0], cfg.Data.Name, split, ds.Len(), 100*ev.Acc, ev.Loss, data.BitsPerChar(ev.Loss))
				return err
			}
			_, err = fmt.Fprintf(s.Out, "%s on %s/%s (%d samples): accuracy %.2f%%, top-5 %.2f%%, loss %.4f (%.0f images/s)\n",
				args[0], cfg.Data.Name, split, ds.Len(), 100*ev.Acc, 100*ev.Top5, ev.Loss, rate)
			return err
		},
	}
	// The checkpoint's settings, with these flags on top.
	flags = addSomeConfigFlags(cmd.Flags(), train.Config{}, "data.name", "data.dir", "data.eval_batch", "data.workers", "run.threads")
	cmd.Flags().StringVar(&split, "split", "test", "split to evaluate: test, train")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	return cmd
}
