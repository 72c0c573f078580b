package train

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/dist"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/tensor"
)

// BenchConfig describes a throughput measurement on synthetic data.
type BenchConfig struct {
	Model   ModelConfig
	In      []int // per-sample input shape
	Classes int
	Batch   int
	Threads int
	Rule    string
	Params  map[string]float64
	// BEvery and BFraction are rule.b_every and rule.b_fraction.
	BEvery    int
	BFraction float64
	Warmup    int // untimed steps
	Steps     int // timed steps
	Seed      uint64
	// Comm, when it has several processes, measures data-parallel steps:
	// each process works on its shard of the batch and the gradients are
	// all-reduced (timed separately).
	Comm dist.Comm
}

// BenchResult is one measurement.
type BenchResult struct {
	Model      string  `json:"model"`
	Rule       string  `json:"rule"`
	BEvery     int     `json:"b_every,omitempty"`
	BFraction  float64 `json:"b_fraction,omitempty"`
	Input      []int   `json:"input"`
	Batch      int     `json:"batch"`
	Threads    int     `json:"threads"`
	Backend    string  `json:"backend"`
	Steps      int     `json:"steps"`
	StepMS     float64 `json:"step_ms"` // median step time (per step, over cycles of b_every steps)
	StepMSMean float64 `json:"step_ms_mean"`
	ImagesPerS float64 `json:"images_per_s"` // from the median
	// StepCPUMS is the median CPU time of a step (all threads, user +
	// system; per step over cycles of b_every steps): unlike the wall
	// time it does not grow while other processes hold the cores, so its
	// ratios stay meaningful on a busy machine (0 where not available).
	StepCPUMS float64 `json:"step_cpu_ms,omitempty"`
	// EvalImagesPerS is the rate of Trainer.Evaluate (loader and
	// inference) over a synthetic test set; LoadImagesPerS that of the
	// training loader alone (reading, pad-4 crops, flips, normalisation)
	// over a synthetic training set. 0 when not measured (data-parallel).
	EvalImagesPerS float64 `json:"eval_images_per_s,omitempty"`
	LoadImagesPerS float64 `json:"load_images_per_s,omitempty"`
	PeakRSSMB      float64 `json:"peak_rss_mb"` // process high-water mark (0 if unknown)
	Processes      int     `json:"processes"`
	CommShare      float64 `json:"comm_share,omitempty"` // fraction of the step spent all-reducing
	HeapMB         float64 `json:"heap_mb"`
	Params         int     `json:"params"`
	// RoundsMS holds the median step time of every round when a case
	// was measured several times (MedianRound); StepMS is then their median.
	RoundsMS []float64 `json:"rounds_ms,omitempty"`
}

// MedianRound merges several measurements of one case: the result of the
// round with the median step time (the lower middle one for an even
// count), its peak memory raised to the highest of all rounds, and every
// round's step time in RoundsMS.
func MedianRound(rs []*BenchResult) *BenchResult {
	if len(rs) == 0 {
		panic("train: MedianRound of no results")
	}
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b *BenchResult) int { return cmp.Compare(a.StepMS, b.StepMS) })
	m := *sorted[(len(sorted)-1)/2]
	m.RoundsMS = nil
	if len(rs) > 1 {
		for _, r := range rs {
			m.RoundsMS = append(m.RoundsMS, r.StepMS)
			m.PeakRSSMB = max(m.PeakRSSMB, r.PeakRSSMB)
		}
	}
	return &m
}

// benchSamples is the number of batches in the synthetic data sets that
// the evaluation and loader rates are measured on.
const benchSamples = 4

// Bench builds a [Trainer] for the model and rule on synthetic data and
// times [Trainer.TrainStep] (forward, loss, backward with the rule's update
// of B, all-reduce under data-parallel training, optimizer step) on a fixed
// random batch: what is measured is what trains. It measures cost, not
// learning: the learning rate is small (1e-4, constant) so that no rule
// drifts into overflow on random data within the timed steps. With
// BEvery = K > 1 the warm-up and the timed steps are whole cycles of K
// steps starting at a step that updates B, and the step time is the mean
// of a cycle (the median over cycles). It also times one evaluation pass
// and one loader pass over synthetic data sets of a few batches.
func Bench(bc BenchConfig) (*BenchResult, error) {
	if bc.Batch <= 0 || bc.Steps <= 0 || bc.Warmup < 0 || len(bc.In) == 0 || bc.Classes < 1 {
		return nil, fmt.Errorf("%w: bench: batch, steps, input shape and classes must be > 0", ErrConfig)
	}
	cfg := Default()
	cfg.Model = bc.Model
	cfg.Data = DataConfig{Name: "synthetic", Batch: bc.Batch, Workers: cfg.Data.Workers}
	cfg.Optim = OptimConfig{Method: "sgd", LR: 1e-4, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4, Schedule: "constant"}
	cfg.Rule.Name, cfg.Rule.Params, cfg.Rule.BEvery, cfg.Rule.BFraction = bc.Rule, bc.Params, bc.BEvery, bc.BFraction
	cfg.Run.Threads, cfg.Run.Seed, cfg.Run.Epochs = bc.Threads, bc.Seed, 1
	comm := bc.Comm
	if comm == nil {
		comm = dist.Local()
	}
	if comm.Size() > 1 && bc.Batch < comm.Size() {
		return nil, fmt.Errorf("%w: bench: batch %d is smaller than the %d processes", ErrConfig, bc.Batch, comm.Size())
	}
	rng := tensor.NewRand(bc.Seed, 99)
	synth := syntheticSet(bc.In, bc.Classes, benchSamples*bc.Batch, rng)
	nm, ns := make([]float32, bc.In[0]), make([]float32, bc.In[0])
	for i := range nm {
		nm[i], ns[i] = 127.5, 73.9 // of uniform bytes
	}
	info := data.Info{Name: "synthetic", Shape: bc.In, Classes: bc.Classes, Norm: data.Norm{Mean: nm, Std: ns}}
	if len(bc.In) == 3 {
		info.Augment = data.Augment{Pad: 4, FlipH: true} // the CIFAR augmentation
	}
	t, err := newTrainer(cfg, synth, synth, info)
	if err != nil {
		return nil, err
	}
	t.Comm = bc.Comm

	x := tensor.New(append([]int{bc.Batch}, bc.In...)...)
	_, tokens := t.Net.Head.(nn.TokenCrossEntropy)
	if tokens {
		for i := range x.Data { // token ids
			x.Data[i] = float32(rng.IntN(bc.Classes))
		}
	} else {
		tensor.FillNormal(x, rng, 1)
	}
	labels := make([]int32, bc.Batch*t.Net.Head.Targets(t.Net.Out))
	for i := range labels {
		labels[i] = int32(rng.IntN(bc.Classes))
	}
	k := max(bc.BEvery, 1)
	warmup := (bc.Warmup + k - 1) / k * k
	steps := (bc.Steps + k - 1) / k * k
	for s := 0; s < warmup; s++ {
		if _, _, err := t.TrainStep(x, labels); err != nil {
			return nil, err
		}
	}
	t.commTime = 0
	times := make([]float64, 0, steps)
	cpu := make([]float64, 0, steps)
	for s := 0; s < steps; s++ {
		t0, c0 := time.Now(), processCPU()
		if _, _, err := t.TrainStep(x, labels); err != nil {
			return nil, err
		}
		times = append(times, time.Since(t0).Seconds())
		cpu = append(cpu, (processCPU() - c0).Seconds())
	}
	med, total := cycleMedian(times, k)
	cpuMed, _ := cycleMedian(cpu, k)
	mean := total / float64(steps)
	np := 0
	for _, p := range t.Net.Params() {
		if p.Grad != nil && p.Kind != nn.KindFeedback {
			np += p.Value.Len()
		}
	}
	r := &BenchResult{Model: bc.Model.Arch, Rule: bc.Rule, BEvery: bc.BEvery, BFraction: bc.BFraction, Input: bc.In, Batch: bc.Batch,
		Threads: t.E.Threads(), Backend: t.E.Name(), Steps: steps, StepMS: 1000 * med, StepMSMean: 1000 * mean,
		ImagesPerS: float64(bc.Batch) / med, StepCPUMS: 1000 * cpuMed, PeakRSSMB: PeakRSSMB(), HeapMB: heapMB(), Params: np,
		Processes: comm.Size(), CommShare: t.commTime.Seconds() / total}
	if comm.Size() == 1 && !tokens {
		if r.EvalImagesPerS, r.LoadImagesPerS, err = t.benchData(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// cycleMedian returns the median over consecutive cycles of k steps of
// their mean step time, and the sum of all.
func cycleMedian(times []float64, k int) (med, total float64) {
	cycles := make([]float64, 0, len(times)/k)
	for i := 0; i+k <= len(times); i += k {
		c := 0.0
		for _, v := range times[i : i+k] {
			c += v
		}
		total += c
		cycles = append(cycles, c/float64(k))
	}
	sort.Float64s(cycles)
	return cycles[len(cycles)/2], total
}

// benchData returns the images/s of one evaluation pass over the test set
// and of one loader pass over the training set.
func (t *Trainer) benchData() (eval, load float64, err error) {
	t0 := time.Now()
	if _, _, err := t.Evaluate(t.TestSet); err != nil {
		return 0, 0, err
	}
	eval = float64(t.TestSet.Len()) / time.Since(t0).Seconds()
	t0 = time.Now()
	n := 0
	for b, err := range t.loader.Epoch(0, 0) {
		if err != nil {
			return 0, 0, err
		}
		n += len(b.Labels)
	}
	return eval, float64(n) / time.Since(t0).Seconds(), nil
}

// syntheticSet returns n samples of uniformly random bytes with random
// labels.
func syntheticSet(shape []int, classes, n int, rng *rand.Rand) data.Dataset {
	pix := make([]uint8, n*tensor.Numel(shape))
	for i := range pix {
		pix[i] = uint8(rng.Uint32())
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(classes))
	}
	return data.NewMemory(shape, classes, pix, labels)
}

// PeakRSSMB returns the process's peak resident set size in MiB from
// /proc/self/status (VmHWM), or 0 where that is not available.
func PeakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}
