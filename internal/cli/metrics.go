package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/asymlab/asym/report"
)

func newMetricsCmd(s *IO) *cobra.Command {
	var (
		out   string
		csv   bool
		kinds []string
	)
	cmd := &cobra.Command{
		Use:   "metrics RUN_DIR",
		Short: "Export a run's metrics as CSV",
		Long: `Convert a run directory's metrics.jsonl to CSV, for plotting with other tools:
one row per record — per-epoch records (kind "epoch": train and test loss and
accuracy, learning rate), training loss and learning rate every --log-every
steps (kind "step") and per-layer alignment metrics every --metrics-every
steps (kind "align") — one column per field, empty where a record has no
such field. --kind keeps only some kinds. Records repeated by a resumed run
appear once.`,
		Example: `  asym metrics runs/my-run --csv
  asym metrics runs/my-run --csv --kind epoch --out epochs.csv`,
		Args: oneRunDirArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !csv {
				return usagef("--csv is required (CSV is the one export format)")
			}
			for _, k := range kinds {
				if k != "epoch" && k != "step" && k != "align" {
					return usagef("--kind %q: want epoch, step or align", k)
				}
			}
			path := filepath.Join(args[0], report.MetricsFile)
			f, err := os.Open(path)
			if err != nil {
				return fmt.Errorf("%w (is %s a run directory?)", err, args[0])
			}
			defer f.Close()
			if out == "" {
				w := bufio.NewWriter(s.Out)
				if err := report.WriteCSV(w, f, path, kinds); err != nil {
					return err
				}
				return w.Flush()
			}
			var b strings.Builder
			if err := report.WriteCSV(&b, f, path, kinds); err != nil {
				return err
			}
			if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().BoolVar(&csv, "csv", false, "write CSV (required)")
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "keep only these kinds of records: epoch, step, align")
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of stdout")
	return cmd
}

// oneRunDirArg requires exactly one argument, naming it in the error.
func oneRunDirArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s takes one argument, RUN_DIR; got %d (run '%s --help' for usage)", cmd.CommandPath(), len(args), cmd.CommandPath())
	}
	return nil
}
