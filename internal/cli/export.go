package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/interop"
	"github.com/asymlab/asym/train"
)

func newExportCmd(s *IO) *cobra.Command {
	var (
		to       string
		feedback bool
		force    bool
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
"<layer>.backward_weight" (load with strict=False).

export never overwrites its input (nor a file hard-linked to it, as
latest.safetensors and best.safetensors can be), and overwrites a training
checkpoint only with --force.`,
		Example: `  asym export runs/r18/best.safetensors --to resnet18.safetensors`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usagef("--to is required")
			}
			if err := checkExportTarget(args[0], to, force); err != nil {
				return err
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
	cmd.Flags().BoolVar(&force, "force", false, "overwrite --to even if it is a training checkpoint (never the input)")
	return cmd
}

// checkExportTarget refuses an export that would overwrite its input or,
// without force, a training checkpoint.
func checkExportTarget(in, to string, force bool) error {
	st, err := os.Stat(to)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if ist, err := os.Stat(in); err == nil && os.SameFile(ist, st) {
		return usagef("export: --to %s is the input checkpoint %s; choose another output file", to, in)
	}
	if force {
		return nil
	}
	if _, err := train.ReadConfig(to); err == nil {
		return usagef("export: %s is a training checkpoint (it can be resumed and evaluated; the export cannot); choose another output file, or pass --force to replace it", to)
	}
	return nil
}
