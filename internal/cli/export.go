package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/interop"
	"github.com/asymlab/asym/train"
)

func newExportCmd(s *IO) *cobra.Command {
	var (
		to       string
		feedback bool
	)
	cmd := &cobra.Command{
		Use:   "export CHECKPOINT",
		Short: "Export a trained model's weights to safetensors with PyTorch names",
		Long: `Write the forward weights, biases and batch-norm parameters and statistics
of a checkpoint under PyTorch's names. asym's ResNet-18/34/50/101/152 match
torchvision's, so in Python:

    import torch, torchvision
    from safetensors.torch import load_file   # or any safetensors reader
    model = torchvision.models.resnet18(num_classes=10)
    model.load_state_dict(load_file("model.safetensors"))
    model.eval()

gives the same logits as asym (docs/interop.md has a reader that needs only
numpy, and the check). --feedback adds the backward weights B as
"<layer>.backward_weight" (load with strict=False).`,
		Example: `  asym export runs/r18/best.safetensors --to resnet18.safetensors`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usagef("--to is required")
			}
			cfg, err := train.ReadConfig(args[0])
			if err != nil {
				return err
			}
			cfg.Data.TrainLimit, cfg.Data.TestLimit = 0, 0
			cfg.Model.InitFrom = ""
			t, err := train.New(cfg)
			if err != nil {
				return err
			}
			if err := t.LoadWeights(args[0]); err != nil {
				return err
			}
			in := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(t.Net.In)), ","), "[]")
			meta := map[string]string{"asym.arch": cfg.Model.Arch, "asym.input": in,
				"asym.classes": fmt.Sprint(t.Net.Classes), "asym.rule": cfg.Rule.Name, "asym.source": args[0]}
			if err := interop.Export(to, t.Net, feedback, meta); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "wrote %s (%s, input %s, %d classes)\n", to, cfg.Model.Arch, in, t.Net.Classes)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "output safetensors file")
	cmd.Flags().BoolVar(&feedback, "feedback", false, "also export the backward weights B")
	return cmd
}
