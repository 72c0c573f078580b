package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/asymlab/asym/blas/sgemm"
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
		dim, heads            int
		width                 float64
		everies               []int
		fractions             []float64
		gemm                  bool
		gemmTime              time.Duration
		gemmKernel            string
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
median round is reported with the spread; "cpu ms/step" is the process's
CPU time per step (all threads), which does not grow while other
processes hold the cores, and "cpu vs bp" its ratio. --b-every and
--b-fraction take lists: every rule but bp is measured at each
combination. Next to the training rate, "eval img/s" is that of one
evaluation pass and "load img/s" that of one pass of the training loader
(pad-4 crops, flips) over synthetic data sets of 4 batches.

With --gemm it measures instead the GEMM rate (GFLOP/s) of every BLAS built
in (the pure-Go one, and OpenBLAS with -tags openblas) at the shapes of the
models' dense products, through the engine's MatMul on 1 and --threads
workers, the cases interleaved in every round.`,
		Example: `  asym bench --model mlp,convnet,resnet20 --batch 128 --threads 2
  asym bench --model convnet --rule bp,fa,dfa,kp,sa,aa,wm,ia --json
  asym bench --model resnet20 --rule bp,sa,aa --rounds 5
  asym bench --model resnet20 --rule bp,aa,ia --b-every 1,2,4 --b-fraction 1,0.5 --rounds 3
  asym bench --model gpt --input 128 --classes 91 --batch 32 --rule bp,kp
  asym bench --gemm --threads 2 --rounds 3`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if gemm {
				if rounds < 1 {
					return usagef("--rounds wants at least 1, got %d", rounds)
				}
				if gemmKernel != "" {
					if err := sgemm.UseKernel(gemmKernel); err != nil {
						return usagef("--gemm-kernel: %v", err)
					}
				}
				return benchGEMM(s, bc.Threads, rounds, gemmTime, asJSON)
			}
			if len(in) != 3 && len(in) != 1 {
				return usagef("--input wants C,H,W (or T, the sequence length of gpt), got %v", in)
			}
			bc.In = in
			bc.Model.Hidden, bc.Model.Depth, bc.Model.Width = hidden, depth, width
			bc.Model.Dim, bc.Model.Heads = dim, heads
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
			if len(everies) == 0 || len(fractions) == 0 {
				return usagef("--b-every and --b-fraction want at least one value")
			}
			if child {
				bc.Model.Arch, bc.Rule, bc.BEvery, bc.BFraction = modelNames[0], ruleNames[0], everies[0], fractions[0]
				r, err := train.Bench(bc)
				if err != nil {
					return err
				}
				return json.NewEncoder(s.Out).Encode(r)
			}
			if rounds < 1 {
				return usagef("--rounds wants at least 1, got %d", rounds)
			}
			var cases []train.BenchConfig
			for _, m := range modelNames {
				for _, r := range ruleNames {
					for i, k := range everies {
						for j, f := range fractions {
							if r == "bp" && i+j > 0 {
								continue // B ≡ W: nothing to vary
							}
							c := bc
							c.Model.Arch, c.Rule, c.BEvery, c.BFraction = m, r, k, f
							cases = append(cases, c)
						}
					}
				}
			}
			all := make([][]*train.BenchResult, len(cases)) // per case, one result a round
			for round := 0; round < rounds; round++ {
				for i, c := range cases {
					var res *train.BenchResult
					var err error
					if isolate {
						res, err = benchChild(cmd, c)
					} else {
						res, err = train.Bench(c)
					}
					if err != nil {
						return fmt.Errorf("bench %s/%s: %w", c.Model.Arch, ruleLabel(c.Rule, c.BEvery, c.BFraction), err)
					}
					all[i] = append(all[i], res)
					if !asJSON {
						fmt.Fprintf(s.Err, "  round %d/%d %s/%s: %.1f ms/step, %.1f cpu ms/step\n", round+1, rounds, c.Model.Arch,
							ruleLabel(c.Rule, c.BEvery, c.BFraction), res.StepMS, res.StepCPUMS)
					}
				}
			}
			results := make([]*train.BenchResult, len(cases))
			for i, rs := range all {
				results[i] = train.MedianRound(rs)
			}
			return printBench(s, results, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&modelNames, "model", []string{"mlp", "convnet", "resnet20"}, "models (comma-separated)")
	f.StringSliceVar(&ruleNames, "rule", []string{"bp"}, "rules (comma-separated)")
	f.IntSliceVar(&in, "input", []int{1, 28, 28}, "per-sample input shape C,H,W (gpt: T, the sequence length; --classes is then the vocabulary)")
	f.IntVar(&bc.Classes, "classes", 10, "number of classes")
	f.IntVar(&bc.Batch, "batch", 128, "batch size")
	f.IntVar(&bc.Threads, "threads", 2, "compute threads")
	f.IntVar(&bc.Steps, "steps", 20, "timed steps")
	f.IntVar(&bc.Warmup, "warmup", 3, "untimed warm-up steps")
	f.IntSliceVar(&everies, "b-every", []int{1}, "update B every K steps (rule.b_every; a list measures each)")
	f.Float64SliceVar(&fractions, "b-fraction", []float64{1}, "fraction of the batch the regularizers' data terms use (rule.b_fraction; a list measures each)")
	f.IntVar(&rounds, "rounds", 1, "measure every case this many times, interleaved; report the median round")
	f.Uint64Var(&bc.Seed, "seed", 1, "seed of the weights and the batch")
	f.IntSliceVar(&hidden, "hidden", nil, "MLP hidden widths / ConvNet widths")
	f.IntVar(&depth, "depth", 0, "depth of a CIFAR-style resnet")
	f.Float64Var(&width, "width", 1, "ResNet width multiplier")
	f.IntVar(&dim, "dim", 0, "token width of gpt/vit (0: their default)")
	f.IntVar(&heads, "heads", 0, "attention heads of gpt/vit (0: 4)")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	f.BoolVar(&gemm, "gemm", false, "measure GEMM GFLOP/s of every BLAS built in at the models' product shapes, on 1 and --threads workers")
	f.DurationVar(&gemmTime, "gemm-time", 200*time.Millisecond, "with --gemm: timed duration of each case per round")
	f.StringVar(&gemmKernel, "gemm-kernel", "", "with --gemm: the pure-Go BLAS's micro-kernel (avx512, avx2, generic; default the fastest supported)")
	f.BoolVar(&isolate, "isolate", true, "run each case in its own process (own peak memory)")
	f.BoolVar(&child, "child", false, "internal: run one case and print its JSON")
	_ = f.MarkHidden("child")
	return cmd
}

// benchChild reruns this executable for one case.
func benchChild(cmd *cobra.Command, c train.BenchConfig) (*train.BenchResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"bench", "--child", "--model", c.Model.Arch, "--rule", c.Rule,
		"--b-every", fmt.Sprint(c.BEvery), "--b-fraction", fmt.Sprint(c.BFraction)}
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "model", "rule", "json", "isolate", "child", "rounds", "b-every", "b-fraction":
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
	run := exec.Command(exe, args...)
	run.Stdout, run.Stderr = &out, &errb
	if err := run.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	var r train.BenchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("reading the child's result: %v", err)
	}
	return &r, nil
}

// ruleLabel names a rule with its non-default B-update options.
func ruleLabel(rule string, every int, frac float64) string {
	if every > 1 {
		rule += fmt.Sprintf(" K=%d", every)
	}
	if frac > 0 && frac < 1 {
		rule += fmt.Sprintf(" f=%g", frac)
	}
	return rule
}

func printBench(s *IO, rs []*train.BenchResult, asJSON bool) error {
	bp, bpCPU := map[string]float64{}, map[string]float64{}
	for _, r := range rs {
		if r.Rule == "bp" {
			bp[r.Model], bpCPU[r.Model] = r.StepMS, r.StepCPUMS
		}
	}
	if asJSON {
		type row struct {
			*train.BenchResult
			CPURatioVsBP float64 `json:"cpu_ratio_vs_bp,omitempty"`
			RatioVsBP    float64 `json:"ratio_vs_bp,omitempty"`
		}
		var out []row
		for _, r := range rs {
			x := row{BenchResult: r}
			if b, ok := bp[r.Model]; ok {
				x.RatioVsBP = r.StepMS / b
			}
			if b := bpCPU[r.Model]; b > 0 {
				x.CPURatioVsBP = r.StepCPUMS / b
			}
			out = append(out, x)
		}
		return s.printJSON(out)
	}
	tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\trule\tinput\tbatch\tprocs×threads\tms/step\trounds\timages/s\teval img/s\tload img/s\tpeak RSS MiB\tcomm\tvs bp\tcpu ms/step\tcpu vs bp\t")
	for _, r := range rs {
		ratio := "-"
		if b, ok := bp[r.Model]; ok {
			ratio = fmt.Sprintf("%.3f", r.StepMS/b)
		}
		cpuRatio := "-"
		if b := bpCPU[r.Model]; b > 0 {
			cpuRatio = fmt.Sprintf("%.3f", r.StepCPUMS/b)
		}
		comm := "-"
		if r.Processes > 1 {
			comm = fmt.Sprintf("%.1f%%", 100*r.CommShare)
		}
		spread := "1"
		if len(r.RoundsMS) > 1 {
			spread = fmt.Sprintf("%d: %.1f–%.1f", len(r.RoundsMS), slices.Min(r.RoundsMS), slices.Max(r.RoundsMS))
		}
		dims := make([]string, len(r.Input))
		for i, d := range r.Input {
			dims[i] = strconv.Itoa(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d×%d\t%.2f\t%s\t%.0f\t%s\t%s\t%.0f\t%s\t%s\t%.2f\t%s\t\n", r.Model, ruleLabel(r.Rule, r.BEvery, r.BFraction),
			strings.Join(dims, "x"), r.Batch, max(r.Processes, 1), r.Threads, r.StepMS, spread, r.ImagesPerS,
			rate(r.EvalImagesPerS), rate(r.LoadImagesPerS), r.PeakRSSMB, comm, ratio, r.StepCPUMS, cpuRatio)
	}
	if len(rs) > 0 {
		fmt.Fprintf(tw, "backend: %s\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\n", rs[0].Backend)
	}
	return tw.Flush()
}

// rate prints an images/s figure, "-" when it was not measured.
func rate(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
}
