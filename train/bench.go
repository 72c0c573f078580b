package train

import (
	"cmp"
	"fmt"

	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/asymlab/asym/dist"
	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/rules"
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
	Warmup  int // untimed steps
	Steps   int // timed steps
	Seed    uint64
	// Comm, when it has several processes, measures data-parallel steps:
	// each process works on its shard of the batch and the gradients are
	// all-reduced (timed separately).
	Comm dist.Comm
}

// BenchResult is one measurement.
type BenchResult struct {
	Model      string  `json:"model"`
	Rule       string  `json:"rule"`
	Input      []int   `json:"input"`
	Batch      int     `json:"batch"`
	Threads    int     `json:"threads"`
	Backend    string  `json:"backend"`
	Steps      int     `json:"steps"`
	StepMS     float64 `json:"step_ms"` // median step time
	StepMSMean float64 `json:"step_ms_mean"`
	ImagesPerS float64 `json:"images_per_s"` // from the median
	PeakRSSMB  float64 `json:"peak_rss_mb"`  // process high-water mark (0 if unknown)
	Processes  int     `json:"processes"`
	CommShare  float64 `json:"comm_share,omitempty"` // fraction of the step spent all-reducing
	HeapMB     float64 `json:"heap_mb"`
	Params     int     `json:"params"`
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

// Bench builds the model with the rule and times full training steps
// (forward, loss, backward with the rule's update of B, optimizer step) on
// a fixed random batch. It measures cost, not learning: the learning rate
// is small (1e-4) so that no rule drifts into overflow on random data
// within the timed steps.
func Bench(bc BenchConfig) (*BenchResult, error) {
	if bc.Batch <= 0 || bc.Steps <= 0 || bc.Warmup < 0 {
		return nil, fmt.Errorf("%w: bench: batch and steps must be > 0", ErrConfig)
	}
	spec := Config{Model: bc.Model}.modelSpec(bc.In, bc.Classes)
	net, err := models.Build(spec, tensor.NewRand(bc.Seed, streamModel))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	rule, err := rules.New(bc.Rule, bc.Params)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if _, err := rules.Apply(net, rule, rules.Options{}, &rules.Env{Rand: tensor.NewRand(bc.Seed, streamRule), Seed: bc.Seed, WeightDecay: 1e-4}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	opt, err := optim.New(net.Params(), optim.Config{Main: optim.Settings{LR: 1e-4, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4}})
	if err != nil {
		return nil, err
	}
	e := engine.NewCPU(bc.Threads)
	comm := bc.Comm
	if comm == nil {
		comm = dist.Local()
	}
	local := bc.Batch
	if comm.Size() > 1 {
		lo, hi := shard(bc.Batch, comm.Rank(), comm.Size())
		local = hi - lo
		if local == 0 {
			return nil, fmt.Errorf("%w: bench: batch %d is smaller than the %d processes", ErrConfig, bc.Batch, comm.Size())
		}
	}
	var grads []*nn.Param
	n := 0
	for _, p := range opt.Params() {
		grads = append(grads, p)
		n += p.Grad.Len()
	}
	flat := make([]float32, n)
	var commTime time.Duration
	x := tensor.New(append([]int{local}, bc.In...)...)
	rng := tensor.NewRand(bc.Seed, 99)
	if _, tokens := net.Head.(nn.TokenCrossEntropy); tokens {
		for i := range x.Data { // token ids
			x.Data[i] = float32(rng.IntN(bc.Classes))
		}
	} else {
		tensor.FillNormal(x, rng, 1)
	}
	labels := make([]int32, local*net.Head.Targets(net.Out))
	for i := range labels {
		labels[i] = int32(rng.IntN(bc.Classes))
	}
	var dl tensor.Tensor
	times := make([]float64, 0, bc.Steps)
	for s := 0; s < bc.Warmup+bc.Steps; s++ {
		t0 := time.Now()
		c := &nn.Ctx{E: e, Train: true, Seed: bc.Seed, Step: uint64(s)}
		logits := net.Forward(c, x)
		net.Head.Loss(e, &dl, logits, labels, 0)
		net.Backward(c, &dl)
		if comm.Size() > 1 {
			t1 := time.Now()
			k := 0
			for _, p := range grads {
				k += copy(flat[k:], p.Grad.Data)
			}
			if err := comm.AllReduce(flat); err != nil {
				return nil, err
			}
			k = 0
			for _, p := range grads {
				k += copy(p.Grad.Data, flat[k:])
			}
			if s >= bc.Warmup {
				commTime += time.Since(t1)
			}
		}
		opt.Step()
		if s >= bc.Warmup {
			times = append(times, time.Since(t0).Seconds())
		}
	}
	if err := optim.CheckFinite(int64(bc.Warmup+bc.Steps), opt.Params()); err != nil {
		return nil, err
	}
	sort.Float64s(times)
	med := times[len(times)/2]
	mean := 0.0
	for _, v := range times {
		mean += v
	}
	mean /= float64(len(times))
	np := 0
	for _, p := range net.Params() {
		if p.Grad != nil && p.Kind != nn.KindFeedback {
			np += p.Value.Len()
		}
	}
	total := 0.0
	for _, v := range times {
		total += v
	}
	return &BenchResult{Model: bc.Model.Arch, Rule: bc.Rule, Input: bc.In, Batch: bc.Batch, Threads: e.Threads(),
		Backend: e.Name(), Steps: bc.Steps, StepMS: 1000 * med, StepMSMean: 1000 * mean,
		ImagesPerS: float64(bc.Batch) / med, PeakRSSMB: PeakRSSMB(), HeapMB: heapMB(), Params: np,
		Processes: comm.Size(), CommShare: commTime.Seconds() / total}, nil
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
