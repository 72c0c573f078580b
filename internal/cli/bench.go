package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/asymlab/asym/dist"
	"github.com/asymlab/asym/train"
)

func newBenchCmd(s *IO) *cobra.Command {
	var (
		modelNames, ruleNames []string
		in                    []int
		bc                    train.BenchConfig
		asJSON, child         bool
		isolate               bool
		hidden                []int
		depth, rounds         int
		width                 float64
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure training throughput (images/s) and peak memory per model and rule",
		Long: `Time full training steps (forward, loss, backward with the rule's update of
B, optimizer step) on a fixed random batch, for every model × rule given.
Each case runs in its own process (unless --isolate=false) so that its peak
resident memory is its own. Ratios are step times relative to bp on the
same model, measured in the same run. On a shared machine use --rounds:
every case is measured once per round, the rounds interleaved, and the
median round is reported with the spread.`,
		Example: `  asym bench --model mlp,convnet,resnet20 --batch 128 --threads 2
  asym bench --model convnet --rule bp,fa,dfa,kp,sa,aa,wm,ia --json
  asym bench --model resnet20 --rule bp,sa,aa --rounds 5`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(in) != 3 {
				return usagef("--input wants C,H,W, got %v", in)
			}
			bc.In = in
			bc.Model.Hidden, bc.Model.Depth, bc.Model.Width = hidden, depth, width
			comm, err := dist.Init()
			if err != nil {
				return err
			}
			defer comm.Close()
			if comm.Size() > 1 {
				// Under mpirun: every process measures the same cases in
				// place; rank 0 prints.
				bc.Comm = comm
				child, isolate = false, false
				if comm.Rank() != 0 {
					s = &IO{In: s.In, Out: io.Discard, Err: io.Discard}
				}
			}
			if child {
				bc.Model.Arch, bc.Rule = modelNames[0], ruleNames[0]
				r, err := train.Bench(bc)
				if err != nil {
					return err
				}
				return json.NewEncoder(s.Out).Encode(r)
			}
			if rounds < 1 {
				return usagef("--rounds wants at least 1, got %d", rounds)
			}
			cases := len(modelNames) * len(ruleNames)
			all := make([][]*train.BenchResult, cases) // per case, one result a round
			for round := 0; round < rounds; round++ {
				for i := 0; i < cases; i++ {
					m, r := modelNames[i/len(ruleNames)], ruleNames[i%len(ruleNames)]
					c := bc
					c.Model.Arch, c.Rule = m, r
					var res *train.BenchResult
					var err error
					if isolate {
						res, err = benchChild(cmd, m, r)
					} else {
						res, err = train.Bench(c)
					}
					if err != nil {
						return fmt.Errorf("bench %s/%s: %w", m, r, err)
					}
					all[i] = append(all[i], res)
					if !asJSON {
						fmt.Fprintf(s.Err, "  round %d/%d %s/%s: %.1f ms/step\n", round+1, rounds, m, r, res.StepMS)
					}
				}
			}
			results := make([]*train.BenchResult, cases)
			for i, rs := range all {
				results[i] = train.MedianRound(rs)
			}
			return printBench(s, results, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&modelNames, "model", []string{"mlp", "convnet", "resnet20"}, "models (comma-separated)")
	f.StringSliceVar(&ruleNames, "rule", []string{"bp"}, "rules (comma-separated)")
	f.IntSliceVar(&in, "input", []int{1, 28, 28}, "per-sample input shape C,H,W")
	f.IntVar(&bc.Classes, "classes", 10, "number of classes")
	f.IntVar(&bc.Batch, "batch", 128, "batch size")
	f.IntVar(&bc.Threads, "threads", 2, "compute threads")
	f.IntVar(&bc.Steps, "steps", 20, "timed steps")
	f.IntVar(&bc.Warmup, "warmup", 3, "untimed warm-up steps")
	f.IntVar(&rounds, "rounds", 1, "measure every case this many times, interleaved; report the median round")
	f.Uint64Var(&bc.Seed, "seed", 1, "seed of the weights and the batch")
	f.IntSliceVar(&hidden, "hidden", nil, "MLP hidden widths / ConvNet widths")
	f.IntVar(&depth, "depth", 0, "depth of a CIFAR-style resnet")
	f.Float64Var(&width, "width", 1, "ResNet width multiplier")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	f.BoolVar(&isolate, "isolate", true, "run each case in its own process (own peak memory)")
	f.BoolVar(&child, "child", false, "internal: run one case and print its JSON")
	_ = f.MarkHidden("child")
	return cmd
}

// benchChild reruns this executable for one case.
func benchChild(cmd *cobra.Command, model, rule string) (*train.BenchResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"bench", "--child", "--model", model, "--rule", rule}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "model", "rule", "json", "isolate", "child", "rounds":
			return
		}
		v := fl.Value.String()
		if strings.HasSuffix(fl.Value.Type(), "Slice") {
			v = strings.Trim(v, "[]") // slice flags print as [a,b]
		}
		args = append(args, "--"+fl.Name+"="+v)
	})
	if b := cmd.Flag("blas"); b != nil && b.Changed {
		args = append(args, "--blas="+b.Value.String())
	}
	var out, errb bytes.Buffer
	c := exec.Command(exe, args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	var r train.BenchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("reading the child's result: %v", err)
	}
	return &r, nil
}

func printBench(s *IO, rs []*train.BenchResult, asJSON bool) error {
	bp := map[string]float64{}
	for _, r := range rs {
		if r.Rule == "bp" {
			bp[r.Model] = r.StepMS
		}
	}
	if asJSON {
		type row struct {
			*train.BenchResult
			RatioVsBP float64 `json:"ratio_vs_bp,omitempty"`
		}
		var out []row
		for _, r := range rs {
			x := row{BenchResult: r}
			if b, ok := bp[r.Model]; ok {
				x.RatioVsBP = r.StepMS / b
			}
			out = append(out, x)
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(s.Out, string(b))
		return err
	}
	tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\trule\tinput\tbatch\tprocs×threads\tms/step\trounds\timages/s\tpeak RSS MiB\tcomm\tvs bp\t")
	for _, r := range rs {
		ratio := "-"
		if b, ok := bp[r.Model]; ok {
			ratio = fmt.Sprintf("%.3f", r.StepMS/b)
		}
		comm := "-"
		if r.Processes > 1 {
			comm = fmt.Sprintf("%.1f%%", 100*r.CommShare)
		}
		spread := "1"
		if len(r.RoundsMS) > 1 {
			spread = fmt.Sprintf("%d: %.1f–%.1f", len(r.RoundsMS), slices.Min(r.RoundsMS), slices.Max(r.RoundsMS))
		}
		fmt.Fprintf(tw, "%s\t%s\t%dx%dx%d\t%d\t%d×%d\t%.2f\t%s\t%.0f\t%.0f\t%s\t%s\t\n", r.Model, r.Rule, r.Input[0], r.Input[1], r.Input[2],
			r.Batch, max(r.Processes, 1), r.Threads, r.StepMS, spread, r.ImagesPerS, r.PeakRSSMB, comm, ratio)
	}
	if len(rs) > 0 {
		fmt.Fprintf(tw, "backend: %s\t\t\t\t\t\t\t\t\t\t\t\n", rs[0].Backend)
	}
	return tw.Flush()
}
