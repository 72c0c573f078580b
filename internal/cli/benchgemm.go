package cli

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/blas/sgemm"
	"github.com/asymlab/asym/engine"
)

// gemmShape is one dense product of a model: c (m×n) = op(a)·op(b).
type gemmShape struct {
	Name           string
	TransA, TransB bool
	M, N, K        int
}

// gemmShapes are the products the benchmark models run through the BLAS
// at batch 128 on 1×28×28 inputs (the dense layers, and the convolutions
// that take the im2col path: 1×1 shortcuts always, 3×3 convolutions on
// CPUs without AVX-512, with the engine's grouping of samples into about
// 1024 columns), and those of a GPT-like Transformer of width 128 (1024
// tokens, MLP width 512).
var gemmShapes = []gemmShape{
	{"mlp fc1 forward", false, true, 128, 256, 784},
	{"mlp fc1 weight grad", true, false, 256, 784, 128},
	{"mlp fc2 forward", false, true, 128, 128, 256},
	{"mlp fc2 input grad", false, false, 128, 256, 128},
	{"convnet fc1 forward", false, true, 128, 128, 3136},
	{"convnet fc1 input grad", false, false, 128, 3136, 128},
	{"convnet fc1 weight grad", true, false, 128, 3136, 128},
	{"convnet conv2 im2col", false, false, 64, 1176, 288},
	{"resnet20 conv 16 im2col", false, false, 16, 1568, 144},
	{"resnet20 conv 64 im2col", false, false, 64, 1029, 576},
	{"resnet20 shortcut forward", false, false, 64, 1029, 32},
	{"resnet20 shortcut input grad", true, false, 32, 1029, 64},
	{"resnet20 shortcut weight grad", false, true, 64, 32, 1029},
	{"gpt128 qkv forward", false, true, 1024, 384, 128},
	{"gpt128 mlp up forward", false, true, 1024, 512, 128},
	{"gpt128 mlp down forward", false, true, 1024, 128, 512},
	{"gpt128 mlp up weight grad", true, false, 512, 128, 1024},
	{"gpt128 attention scores", false, true, 64, 64, 32},
}

// gemmRate is the measured rate of one shape on one BLAS and thread count.
type gemmRate struct {
	gemmShape
	BLAS    string    `json:"blas"`
	Threads int       `json:"threads"`
	GFLOPS  float64   `json:"gflops"`  // median round
	Rounds  []float64 `json:"rounds"`  // every round's GFLOP/s (of its fastest call)
	Ratio   float64   `json:"ratio"`   // GFLOP/s over the last BLAS's (openblas when built in)
	Kernel  string    `json:"kernel"`  // the pure-Go micro-kernel
	Seconds float64   `json:"seconds"` // timed seconds per round
}

// benchGEMM measures every shape of gemmShapes through the engine's MatMul
// (which splits a product over its workers, the BLAS running single-
// threaded under it) on every registered BLAS and on 1 and threads
// workers. Every round measures every case once, the cases interleaved, so
// that a shared machine's load falls on all of them alike. A round's rate
// is that of its fastest call: on a loaded machine most calls are
// interrupted, the fastest is the one least disturbed. The median round
// is reported.
func benchGEMM(s *IO, threads, rounds int, minTime time.Duration, asJSON bool) error {
	prev := blas.CurrentName()
	defer func() { _ = blas.Use(prev) }()
	impls := blas.Names()
	slices.SortFunc(impls, func(a, b string) int { // "go" first, openblas last
		if a == b {
			return 0
		}
		if a == "go" {
			return -1
		}
		if b == "go" {
			return 1
		}
		if a < b {
			return -1
		}
		return 1
	})
	ths := []int{1}
	if threads > 1 {
		ths = append(ths, threads)
	}
	type key struct{ shape, impl, threads int }
	got := map[key][]float64{}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([][3][]float32, len(gemmShapes))
	for i, sh := range gemmShapes {
		for j, n := range []int{sh.M * sh.K, sh.K * sh.N, sh.M * sh.N} {
			data[i][j] = make([]float32, n)
			for l := range data[i][j] {
				data[i][j][l] = rng.Float32()*2 - 1
			}
		}
	}
	engines := map[int]*engine.CPU{}
	for _, t := range ths {
		engines[t] = engine.NewCPU(t)
	}
	for round := 0; round < rounds; round++ {
		for i, sh := range gemmShapes {
			a, b, c := data[i][0], data[i][1], data[i][2]
			for ti, t := range ths {
				for ii, name := range impls {
					if err := blas.Use(name); err != nil {
						return err
					}
					e := engines[t]
					run := func() { e.MatMul(sh.TransA, sh.TransB, sh.M, sh.N, sh.K, 1, a, b, 0, c) }
					run()
					best := time.Duration(1<<63 - 1)
					for start := time.Now(); time.Since(start) < minTime; {
						t0 := time.Now()
						run()
						best = min(best, time.Since(t0))
					}
					k := key{i, ii, ti}
					got[k] = append(got[k], 2*float64(sh.M*sh.N*sh.K)/best.Seconds()/1e9)
				}
			}
		}
		if !asJSON {
			fmt.Fprintf(s.Err, "  round %d/%d done\n", round+1, rounds)
		}
	}
	var out []gemmRate
	for i, sh := range gemmShapes {
		for ti, t := range ths {
			last := median(got[key{i, len(impls) - 1, ti}])
			for ii, name := range impls {
				rs := got[key{i, ii, ti}]
				out = append(out, gemmRate{gemmShape: sh, BLAS: name, Threads: t, GFLOPS: median(rs), Rounds: rs,
					Ratio: median(rs) / last, Kernel: sgemm.Kernel(), Seconds: minTime.Seconds()})
			}
		}
	}
	if asJSON {
		return s.printJSON(out)
	}
	tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "product\top\tm×n×k\t"
	for _, t := range ths {
		for _, name := range impls {
			head += fmt.Sprintf("%s %dt\t", name, t)
		}
		if len(impls) > 1 {
			head += fmt.Sprintf("%s/%s %dt\t", impls[0], impls[len(impls)-1], t)
		}
	}
	fmt.Fprintln(tw, head)
	for i := 0; i < len(out); {
		sh := out[i].gemmShape
		op := map[bool]string{false: "N", true: "T"}
		line := fmt.Sprintf("%s\t%s%s\t%d×%d×%d\t", sh.Name, op[sh.TransA], op[sh.TransB], sh.M, sh.N, sh.K)
		for range ths {
			for range impls {
				line += fmt.Sprintf("%.1f\t", out[i].GFLOPS)
				i++
			}
			if len(impls) > 1 {
				line += fmt.Sprintf("%.2f\t", out[i-len(impls)].Ratio)
			}
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(s.Out, "GFLOP/s through the engine's MatMul (fastest call of a round), median of %d interleaved rounds; pure-Go micro-kernel: %s\n", rounds, sgemm.Kernel())
	return err
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
