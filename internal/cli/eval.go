package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/train"
)

func newEvalCmd(s *IO) *cobra.Command {
	var (
		dataName, dataDir, split string
		asJSON                   bool
		threads                  int
	)
	cmd := &cobra.Command{
		Use:   "eval CHECKPOINT",
		Short: "Evaluate a checkpoint on a data set",
		Long: `Evaluate the model stored in a checkpoint (a .safetensors file written by
asym train) on the test split of its data set, or of another one with --data.`,
		Example: `  asym eval runs/my-run/best.safetensors
  asym eval runs/my-run/latest.safetensors --split train --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := train.ReadConfig(args[0])
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("data") {
				cfg.Data.Name = dataName
			}
			if cmd.Flags().Changed("data-dir") {
				cfg.Data.Dir = dataDir
			}
			cfg.Run.Threads = threads
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
			loss, acc, err := t.Evaluate(ds)
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
				Loss       float64 `json:"loss"`
				ImagesPerS float64 `json:"images_per_s"`
			}{args[0], cfg.Data.Name, split, ds.Len(), acc, loss, rate}
			if asJSON {
				b, _ := json.Marshal(res)
				_, err = fmt.Fprintln(s.Out, string(b))
				return err
			}
			_, err = fmt.Fprintf(s.Out, "%s on %s/%s (%d samples): accuracy %.2f%%, loss %.4f (%.0f images/s)\n",
				args[0], cfg.Data.Name, split, ds.Len(), 100*acc, loss, rate)
			return err
		},
	}
	cmd.Flags().StringVar(&dataName, "data", "", "data set (default: the checkpoint's)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "directory holding the data set files")
	cmd.Flags().StringVar(&split, "split", "test", "split to evaluate: test, train")
	cmd.Flags().IntVar(&threads, "threads", 0, "compute threads (0: all cores)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	return cmd
}
