package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/train"
)

func newSampleCmd(s *IO) *cobra.Command {
	var (
		o       train.SampleOptions
		dataDir string
		threads int
	)
	cmd := &cobra.Command{
		Use:   "sample CHECKPOINT",
		Short: "Print text sampled from a language model's checkpoint",
		Long: `Generate text with a language model trained on the text data set (asym train
--model gpt --data text): --length characters that continue --prompt, each
drawn from the model's softmax at --temperature (0: the most likely one),
with the generator seeded by --seed. The vocabulary comes from the run's
text (Newton's Opticks, or the file it was trained on, which --data-dir can
relocate); a checkpoint of another model or data set is an error.`,
		Example: `  asym sample runs/gpt/best.safetensors --prompt Light --length 200
  asym sample runs/gpt/latest.safetensors --temperature 0.8 --seed 7`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := train.ReadConfig(args[0])
			if err != nil {
				return err
			}
			if cfg.Data.Name != "text" {
				return usagef("%s is a checkpoint of model %s trained on %s; asym sample needs a language model trained on --data text",
					args[0], cfg.Model.Arch, cfg.Data.Name)
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
			text, err := t.Sample(o)
			switch {
			case errors.Is(err, train.ErrNotLanguageModel), errors.Is(err, data.ErrUnknownChar), errors.Is(err, data.ErrNotUTF8):
				return usageError{err}
			case err != nil:
				return err
			}
			_, err = fmt.Fprintln(s.Out, o.Prompt+text)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Prompt, "prompt", "", "text to continue (its characters must be in the vocabulary)")
	f.IntVar(&o.Length, "length", 200, "characters to generate")
	f.Float64Var(&o.Temperature, "temperature", 1, "softmax temperature (0: greedy)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the draws")
	f.StringVar(&dataDir, "data-dir", "", "the text file the model was trained on, if it moved")
	f.IntVar(&threads, "threads", 0, "compute threads (0: all cores)")
	return cmd
}
