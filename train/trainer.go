package train

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/dist"
	"github.com/asymlab/asym/engine"
	"github.com/asymlab/asym/interop"
	"github.com/asymlab/asym/metrics"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/provenance"
	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/tensor"
)

// Errors returned by a run.
var (
	// ErrInterrupted is returned when the context is cancelled; a
	// checkpoint has been saved.
	ErrInterrupted = errors.New("train: interrupted")
	// ErrInterruptedUnsaved is returned when the context is cancelled but
	// the checkpoint of the current position could not be saved: the
	// steps since the last checkpoint are lost. It does not wrap
	// ErrInterrupted.
	ErrInterruptedUnsaved = errors.New("train: interrupted, but the checkpoint could not be saved")
	// ErrDiverged is wrapped by divergence errors (NaN or Inf).
	ErrDiverged = optim.ErrDiverged
	// ErrRunExists is returned when the run directory already holds a run
	// and the run is not a resume.
	ErrRunExists = errors.New("train: run directory already holds a run")
)

// RNG streams derived from the run seed.
const (
	streamModel = 1
	streamRule  = 2
)

// Trainer holds a run: the model, its rule bindings, the optimizer, the
// data and the position in training.
type Trainer struct {
	// Cfg is the effective configuration.
	Cfg Config
	// Net is the model.
	Net *nn.Network
	// Bound is the learning rule bound to the model.
	Bound *rules.Bound
	// Opt updates W, biases, normalisation parameters and trained B's.
	Opt *optim.SGD
	// E is the compute backend.
	E engine.Backend
	// TrainSet and TestSet are the data.
	TrainSet, TestSet data.Dataset
	// Info describes the data set.
	Info data.Info
	// Reporter receives progress (nil: silent).
	Reporter Reporter
	// Log receives notes about the run directory (a stale lock or
	// temporary files removed); nil discards them.
	Log io.Writer
	// Comm is the group of processes training together (nil: this
	// process alone). Every process runs the same trainer on the same
	// batches; each works on its shard of every batch, the gradients are
	// all-reduced, and only rank 0 writes files.
	Comm dist.Comm

	loader, evalLoader *data.Loader
	evalCfg            data.Config
	stepsPerEpoch      int
	delaySteps         int64
	step               int64 // optimizer steps done
	epoch, batch       int   // position of the next batch
	sums               epochSums
	best               float64
	trainTime          time.Duration
	commTime           time.Duration // spent all-reducing gradients
	imagesSeen         int64
	dl                 tensor.Tensor
	targets            []int32 // next-token targets of the current text batch
	state              []*nn.Param
	metrics            *os.File
	reduceBuf          []float32
	collector          metrics.Collector
	restored           bool       // the state comes from a checkpoint
	metricsLen         int64      // bytes in metrics.jsonl (-1: unknown)
	last               *lastEpoch // metrics of the last evaluated epoch
	unlock             func()     // releases the run directory's lock
	guard              guard      // watches for exploding losses and collapsing accuracy
}

// epochSums accumulate the training metrics of the current epoch.
type epochSums struct {
	Loss    float64 `json:"loss"`
	Correct int64   `json:"correct"`
	Count   int64   `json:"count"`
	Seconds float64 `json:"seconds"`
}

// New builds a trainer from cfg: it opens the data, builds the model, binds
// the rule and creates the optimizer. It writes nothing to disk.
func New(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	trainSet, testSet, info, err := data.OpenWith(cfg.Data.Name, data.Options{Dir: cfg.Data.Dir, ImageSize: cfg.Data.ImageSize, Context: cfg.Data.Context})
	if err != nil {
		return nil, err
	}
	if cfg.Data.TrainLimit > 0 {
		trainSet = data.Take(trainSet, cfg.Data.TrainLimit)
	}
	if cfg.Data.TestLimit > 0 {
		testSet = data.Take(testSet, cfg.Data.TestLimit)
	}
	return newTrainer(cfg, trainSet, testSet, info)
}

// newTrainer is New on data sets already open (cfg is valid).
func newTrainer(cfg Config, trainSet, testSet data.Dataset, info data.Info) (*Trainer, error) {
	t := &Trainer{Cfg: cfg, E: engine.NewCPU(cfg.Run.Threads), best: math.NaN(), TrainSet: trainSet, TestSet: testSet, Info: info}
	if err := checkBatch(cfg, t.TrainSet.Len()); err != nil {
		return nil, err
	}
	seed := cfg.Run.Seed
	var err error
	t.Net, err = models.Build(cfg.modelSpec(t.inputShape(), t.Info.Classes), tensor.NewRand(seed, streamModel))
	if err != nil {
		return nil, fmt.Errorf("%w: model: %v%s", ErrConfig, err, t.textHint())
	}
	if err := t.checkText(); err != nil {
		return nil, err
	}
	if cfg.Model.InitFrom != "" {
		if _, err := interop.Import(cfg.Model.InitFrom, t.Net, cfg.Model.InitSkip); err != nil {
			return nil, err
		}
	}
	rule, err := rules.New(cfg.Rule.Name, cfg.Rule.Params)
	if err != nil {
		return nil, fmt.Errorf("%w: rule: %v", ErrConfig, err)
	}
	env := &rules.Env{Rand: tensor.NewRand(seed, streamRule), Seed: seed, WeightDecay: cfg.Optim.WeightDecay}
	t.Bound, err = rules.Apply(t.Net, rule, rules.Options{Layers: cfg.Rule.Layers, Exclude: cfg.Rule.Exclude,
		BInit: cfg.Rule.BInit, BScale: cfg.Rule.BScale, Positions: cfg.Rule.Positions, Fraction: cfg.Rule.BFraction,
		Bias: cfg.Rule.Bias, NullBorder: cfg.Rule.NullBorder,
		Schedules: cfg.Rule.Schedule.Schedules(), Settings: cfg.Rule.Params,
		Input: rules.InputOptions{Center: cfg.Rule.CenterInput, Normalize: cfg.Rule.NormalizeInput, BatchCenter: cfg.Rule.BatchCenterBackwardInput,
			BatchCenterOutput: cfg.Rule.BatchCenterForwardOutput}}, env)
	if err != nil {
		return nil, fmt.Errorf("%w: rule: %v", ErrConfig, err)
	}
	t.state = append(t.Net.Params(), t.Bound.State...)

	aug := data.Augment{Pad: cfg.Data.CropPad, FlipH: cfg.Data.Flip}
	switch cfg.Data.Augment {
	case "", "standard":
		if aug == (data.Augment{}) {
			aug = t.Info.Augment
		}
	case "none":
		aug = data.Augment{NoAugmenter: true}
	}
	dcfg := data.Config{BatchSize: cfg.Data.Batch, Shuffle: true, DropLast: false, Seed: seed, Norm: t.Info.Norm,
		Augment: aug, Workers: cfg.Data.Workers}
	if t.loader, err = data.NewLoader(t.TrainSet, dcfg); err != nil {
		return nil, err
	}
	ecfg := dcfg
	ecfg.Shuffle, ecfg.Augment = false, data.Augment{NoAugmenter: true}
	if cfg.Data.EvalBatch > 0 {
		ecfg.BatchSize = cfg.Data.EvalBatch
	}
	t.evalCfg = ecfg
	if t.evalLoader, err = data.NewLoader(t.TestSet, ecfg); err != nil {
		return nil, err
	}
	t.stepsPerEpoch = t.loader.NumBatches()
	t.delaySteps = int64(math.Round(cfg.Rule.DelayEpochs * float64(t.stepsPerEpoch)))
	t.Bound.SetClock(t.stepsPerEpoch, float64(cfg.Run.Epochs))
	ocfg, err := cfg.optimConfig(int64(t.stepsPerEpoch), int64(t.stepsPerEpoch*cfg.Run.Epochs))
	if err != nil {
		return nil, fmt.Errorf("%w: optim: %v", ErrConfig, err)
	}
	ocfg.Seed = seed
	if t.Opt, err = optim.New(t.Net.Params(), ocfg); err != nil {
		return nil, fmt.Errorf("%w: optim: %v", ErrConfig, err)
	}
	return t, nil
}

func (c Config) modelSpec(in []int, classes int) models.Spec {
	m := c.Model
	return models.Spec{Arch: m.Arch, In: in, Classes: classes, Hidden: m.Hidden, Depth: m.Depth, Width: m.Width,
		Dropout: m.Dropout, BatchNorm: m.BatchNorm, Init: m.Init, Stem: m.Stem, ZeroInitResidual: m.ZeroInitResidual,
		Shortcut: m.Shortcut, Pool: m.Pool, FCInit: m.FCInit, BNMomentum: m.BNMomentum,
		Dim: m.Dim, Heads: m.Heads, MLP: m.MLP, Context: m.Context, Patch: m.Patch}
}

// optimConfig maps the config onto the optimizer's.
func (c Config) optimConfig(stepsPerEpoch, total int64) (optim.Config, error) {
	o := c.Optim
	main := optim.Settings{Method: o.Method, LR: o.LR, Momentum: o.Momentum, Nesterov: o.Nesterov, WeightDecay: o.WeightDecay,
		Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, ClipNorm: o.ClipNorm,
		Schedule: optim.Schedule{Name: o.Schedule, Unit: cmp.Or(o.ScheduleUnit, optim.UnitEpoch), Milestones: o.Milestones, Gamma: o.Gamma,
			Floor: o.Floor, Warmup: o.Warmup}, DecayKinds: o.DecayKinds}
	if o.ScheduleDelay {
		main.Schedule.Offset = c.Rule.DelayEpochs
	}
	fb := main
	fb.ClipNorm = 0 // clipping is W's
	if f := o.Feedback; f != nil {
		if f.LR != nil {
			fb.LR = *f.LR
		}
		if f.Momentum != nil {
			fb.Momentum = *f.Momentum
		}
		if f.Nesterov != nil {
			fb.Nesterov = *f.Nesterov
		}
		if f.WeightDecay != nil {
			fb.WeightDecay = *f.WeightDecay
			fb.DecayKinds = []string{nn.KindFeedback.String()}
		}
		if f.Schedule != nil {
			fb.Schedule.Name = *f.Schedule
			fb.Schedule.Offset = 0 // B's own schedule runs from the first step
		}
		if f.Method != nil {
			fb.Method = *f.Method
			if fb.Method != optim.MethodAdam && fb.Method != optim.MethodAdamW && fb.Method != optim.MethodRMSProp {
				fb.Beta1, fb.Beta2, fb.Eps = 0, 0, 0 // W's adaptive settings do not apply
			}
			if fb.Method == optim.MethodAdam || fb.Method == optim.MethodAdamW || fb.Method == optim.MethodRMSProp {
				// Adaptive methods do not inherit W's (Nesterov) momentum.
				if f.Momentum == nil {
					fb.Momentum = 0
				}
				if f.Nesterov == nil {
					fb.Nesterov = false
				}
			}
		}
		for _, v := range []struct {
			dst *float64
			src *float64
		}{{&fb.Beta1, f.Beta1}, {&fb.Beta2, f.Beta2}, {&fb.Eps, f.Eps}} {
			if v.src != nil {
				*v.dst = *v.src
			}
		}
	}
	if c.Rule.NoiseDist != "" {
		variance := c.Rule.NoiseVariance
		if variance == 0 {
			variance = 1 // the official default
		}
		fb.Noise = optim.Noise{Distribution: c.Rule.NoiseDist, Variance: variance}
		// The official use_noisy_global_opt perturbs every variable the
		// optimizer updates, except under Kolen–Pollack, whose noise it
		// filters to the backward weights (params.py).
		if info, _ := rules.Lookup(c.Rule.Name); c.Rule.NoiseParams == "all" && !info.GlobalNoiseOnB {
			main.Noise = fb.Noise
		}
	}
	cfg := optim.Config{Main: main, Feedback: &fb, Clock: optim.Clock{StepsPerEpoch: stepsPerEpoch, TotalSteps: total}}
	return cfg, cfg.Validate()
}

// StepsPerEpoch returns the number of optimizer steps in one epoch.
func (t *Trainer) StepsPerEpoch() int { return t.stepsPerEpoch }

// Step returns the number of optimizer steps done.
func (t *Trainer) Step() int64 { return t.step }

// Epoch returns the current epoch (0-based) and the index of the next batch
// in it.
func (t *Trainer) Epoch() (epoch, batch int) { return t.epoch, t.batch }

// TrainStep runs one training step on a batch: forward, loss, backward
// (with the rule's updates of B) and the optimizer. It returns the batch
// loss and number of correct predictions, or a divergence error naming the
// step and the parameter. Under data-parallel training (see [Trainer.Comm])
// every process passes the same global batch and works on its shard; the
// returned loss and count are those of the global batch.
func (t *Trainer) TrainStep(x *tensor.Tensor, labels []int32) (float64, int, error) {
	loss, correct, _, err := t.step1(x, labels, false)
	return loss, correct, err
}

// step1 is TrainStep with a stop request: it also returns whether any
// process asked to stop (all processes agree, so they stop at the same
// step).
func (t *Trainer) step1(x *tensor.Tensor, labels []int32, stop bool) (loss float64, correct int, stopAll bool, err error) {
	comm := t.comm()
	n := x.Shape[0]
	tps := t.Net.Head.Targets(t.Net.Out) // targets per sample
	lo, hi := shard(n, comm.Rank(), comm.Size())
	c := &nn.Ctx{E: t.E, Train: true, Seed: t.Cfg.Run.Seed, Step: uint64(t.step), Offset: lo}
	xl := x
	if comm.Size() > 1 {
		if n < comm.Size() {
			// Too small a batch to give every process a sample: all of
			// them skip it alike.
			return 0, 0, stop, nil
		}
		per := x.RowLen()
		xl = tensor.FromData(x.Data[lo*per:hi*per], append([]int{hi - lo}, x.Shape[1:]...)...)
		labels = labels[lo*tps : hi*tps]
		c.Share = float64(hi-lo) / float64(n)
		if t.Cfg.Run.SyncBN {
			c.Sync = comm.AllReduce64
		}
	}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(nn.SyncError)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("train: step %d: %w", t.step, se)
		}
	}()
	logits := t.Net.Forward(c, xl)
	loss, correct, _ = t.Net.Head.Loss(t.E, &t.dl, logits, labels, float32(t.Cfg.Optim.LabelSmoothing))
	finite := !math.IsNaN(loss) && !math.IsInf(loss, 0)
	delayed := t.step < t.delaySteps
	updateB := t.updatesB()
	c.KeepFeedback = !updateB
	if finite {
		if delayed {
			t.Net.UpdateFeedback(c)
		} else {
			t.Net.Backward(c, &t.dl)
			if every := t.Cfg.Run.MetricsEvery; every > 0 && t.step%int64(every) == 0 && t.metrics != nil {
				snap := t.collector.Collect(c, t.Net, t.Bound, &t.dl)
				snap.Step = t.step
				for _, ln := range snap.Lines() {
					if err := t.writeMetrics(ln); err != nil {
						return loss, correct, stop, err
					}
				}
			}
		}
	}
	if comm.Size() > 1 {
		var bad bool
		t0 := time.Now()
		loss, correct, bad, stopAll, err = t.allReduceGrads(c.Share, loss, correct, !finite, stop)
		t.commTime += time.Since(t0)
		if err != nil {
			return loss, correct, stopAll, err
		}
		finite = !bad
	} else {
		stopAll = stop
	}
	if !finite {
		where := t.Net.FirstNonFinite(c, xl)
		if where == "" {
			where = "loss"
		}
		return loss, correct, stopAll, fmt.Errorf("%w: step %d: the loss is %v (first non-finite output in layer %s)", ErrDiverged, t.step, loss, where)
	}
	switch {
	case delayed:
		t.Opt.StepGroups(optim.FeedbackGroup)
	case !updateB && t.Cfg.Rule.BCoast:
		for _, p := range t.Opt.Params() {
			if p.Kind == nn.KindFeedback {
				clear(p.Grad.Data)
			}
		}
		t.Opt.Step()
	case !updateB:
		t.Opt.StepGroups(optim.MainGroup)
	default:
		t.Opt.Step()
	}
	if err := optim.CheckFinite(t.step, t.Opt.Params()); err != nil {
		return loss, correct, stopAll, err
	}
	t.step++
	return loss, correct, stopAll, nil
}

// updatesB reports whether the current step updates B: every step while
// the task loss is delayed, otherwise every rule.b_every-th step.
func (t *Trainer) updatesB() bool {
	k := int64(t.Cfg.Rule.BEvery)
	return k <= 1 || t.step < t.delaySteps || t.step%k == 0
}

// Evaluate returns the mean loss and the accuracy of the model on ds.
func (t *Trainer) Evaluate(ds data.Dataset) (loss, acc float64, err error) {
	ev, err := t.EvaluateAll(ds)
	return ev.Loss, ev.Acc, err
}

// Eval is the result of an evaluation.
type Eval struct {
	// Loss is the mean cross-entropy.
	Loss float64
	// Acc is the top-1 accuracy, Top5 the fraction of samples whose label
	// is among the five largest logits (1 with five classes or fewer).
	Acc, Top5 float64
}

// EvaluateAll returns the mean loss and the top-1 and top-5 accuracies of
// the model on ds.
func (t *Trainer) EvaluateAll(ds data.Dataset) (Eval, error) {
	l := t.evalLoader
	if ds != t.TestSet {
		var err error
		if l, err = data.NewLoader(ds, t.evalCfg); err != nil {
			return Eval{}, err
		}
	}
	c := &nn.Ctx{E: t.E, Train: false}
	var sum float64
	var correct, top5, n int
	for b, err := range l.Ordered() {
		if err != nil {
			return Eval{}, err
		}
		x, labels := t.inputs(b)
		logits := t.Net.Forward(c, x)
		bl, bc, bn := t.Net.Head.Loss(t.E, nil, logits, labels, 0)
		sum += bl * float64(bn)
		correct += bc
		if _, classifier := t.Net.Head.(nn.Classification); classifier {
			top5 += engine.TopKCorrect(logits, b.Labels, 5)
		}
		n += bn
	}
	if n == 0 {
		return Eval{}, fmt.Errorf("train: evaluation set is empty")
	}
	return Eval{Loss: sum / float64(n), Acc: float64(correct) / float64(n), Top5: float64(top5) / float64(n)}, nil
}

// Summary is the result of a run.
type Summary struct {
	TestAcc     float64 `json:"test_acc"`
	TestTop5    float64 `json:"test_top5"`
	TestLoss    float64 `json:"test_loss"`
	BestTestAcc float64 `json:"best_test_acc"`
	TrainLoss   float64 `json:"train_loss"`
	TrainAcc    float64 `json:"train_acc"`
	Epochs      int     `json:"epochs"`
	Steps       int64   `json:"steps"`
	ImagesPerS  float64 `json:"images_per_s"`
	WallS       float64 `json:"wall_s"`
	RunDir      string  `json:"run_dir"`
	Model       string  `json:"model"`
	Data        string  `json:"data"`
	Rule        string  `json:"rule"`
	Seed        uint64  `json:"seed"`
	Threads     int     `json:"threads"`
	// SkippedTrain and SkippedTest count the samples that could not be
	// read (undecodable images) and were left out, with their paths in
	// the run's log.
	SkippedTrain int `json:"skipped_train,omitempty"`
	SkippedTest  int `json:"skipped_test,omitempty"`
	// For the text data set (accuracies and losses are then per
	// character, the test split is the validation split): the validation
	// loss in bits per character, and the unigram entropy of the
	// validation text in bits per character, the level of a model that
	// ignores the context.
	ValBitsPerChar     float64 `json:"val_bits_per_char,omitempty"`
	UnigramBitsPerChar float64 `json:"unigram_bits_per_char,omitempty"`
	// Provenance says how and where the run was made: command line, asym
	// version and commit, date, BLAS, threads, CPU.
	Provenance provenance.Info `json:"provenance"`
}

// DefaultDir returns runs/<time>-<arch>-<data>-<rule> for a new run, with
// a numeric suffix if that directory exists already.
func DefaultDir(cfg Config, now time.Time) string {
	base := filepath.Join("runs", fmt.Sprintf("%s-%s-%s-%s", now.Format("20060102-150405"),
		strings.ToLower(cfg.Model.Arch), cfg.Data.Name, cfg.Rule.Name))
	dir := base
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return dir
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// Run trains until the configured number of epochs (or MaxSteps), writing
// into the run directory dir. If resume is false, dir must not hold an
// earlier run. It returns the summary, or an error wrapping ErrInterrupted
// (a checkpoint was saved), ErrDiverged (the last good checkpoint is
// kept) or another failure.
func (t *Trainer) Run(ctx context.Context, dir string) (*Summary, error) {
	defer func() {
		if t.metrics != nil {
			t.metrics.Close()
			t.metrics = nil
		}
		if t.unlock != nil {
			t.unlock()
			t.unlock = nil
		}
	}()
	if err := t.prepareDir(dir); err != nil {
		return nil, err
	}
	start := time.Now()
	complete := t.epoch >= t.Cfg.Run.Epochs
	cfg := t.Cfg
	var lastTrainLoss, lastTrainAcc, testLoss, testAcc, testTop5 float64
	evaluated := false
	for t.epoch < cfg.Run.Epochs {
		epochStart := time.Now()
		for b, err := range t.loader.Epoch(t.epoch, t.batch) {
			if err != nil {
				return nil, err
			}
			stop := ctx.Err() != nil
			if stop && t.comm().Size() == 1 {
				return nil, t.interrupted(dir)
			}
			stepStart := time.Now()
			lr := t.Opt.LR(optim.MainGroup) // the rate this step uses
			x, labels := t.inputs(b)
			loss, correct, stopAll, err := t.step1(x, labels, stop)
			if err != nil {
				return nil, t.divergence(err, dir)
			}
			if err := t.checkLoss(loss, b.X, dir); err != nil {
				return nil, err
			}

			d := time.Since(stepStart)
			t.trainTime += d
			n := len(labels) // samples, or tokens for a language model
			t.imagesSeen += int64(n)
			t.sums.Loss += loss * float64(n)
			t.sums.Correct += int64(correct)
			t.sums.Count += int64(n)
			t.sums.Seconds += d.Seconds()
			t.batch++
			if every := cfg.Run.LogEvery; every > 0 && t.step%int64(every) == 0 {
				if err := t.writeMetrics(StepMetrics{Kind: "step", Step: t.step, Epoch: t.epoch + 1, LR: lr, TrainLoss: loss}); err != nil {
					return nil, err
				}
			}
			if t.Reporter != nil && t.comm().Rank() == 0 {
				t.Reporter.Step(t.progress(loss, correct, n))
			}
			if stopAll {
				// Some process was interrupted: all stop after this step.
				return nil, t.interrupted(dir)
			}
			if cfg.Run.CheckpointEvery > 0 && t.step%int64(cfg.Run.CheckpointEvery) == 0 {
				if err := t.checkpoint(dir, saveNumbered); err != nil {
					return nil, err
				}
			}
			if cfg.Run.MaxSteps > 0 && t.step >= cfg.Run.MaxSteps {
				break
			}
		}
		if cfg.Run.MaxSteps > 0 && t.step >= cfg.Run.MaxSteps && t.batch < t.stepsPerEpoch {
			// Stopped mid-epoch: save the position so the run can resume.
			if err := t.checkpoint(dir, saveLatest); err != nil {
				return nil, err
			}
			break
		}
		if err := t.averageBuffers(); err != nil {
			return nil, err
		}
		ev, err := t.EvaluateAll(t.TestSet)
		testLoss, testAcc, testTop5 = ev.Loss, ev.Acc, ev.Top5
		if err != nil {
			return nil, err
		}
		if math.IsNaN(testLoss) || math.IsInf(testLoss, 0) {
			return nil, fmt.Errorf("%w: step %d: the test loss is %v (the network's outputs overflow in evaluation); %s",
				ErrDiverged, t.step, testLoss, t.lastGood(dir))
		}
		if err := t.checkCollapse(testAcc, dir); err != nil {
			return nil, err
		}
		evaluated = true
		lastTrainLoss = t.sums.Loss / math.Max(float64(t.sums.Count), 1)
		lastTrainAcc = float64(t.sums.Correct) / math.Max(float64(t.sums.Count), 1)
		m := EpochMetrics{Kind: "epoch", Epoch: t.epoch + 1, Step: t.step, LR: t.Opt.LR(optim.MainGroup),
			TrainLoss: lastTrainLoss, TrainAcc: lastTrainAcc, TestLoss: testLoss, TestAcc: testAcc, TestTop5: testTop5,
			EpochS: time.Since(epochStart).Seconds(), ImagesPerS: float64(t.sums.Count) / math.Max(t.sums.Seconds, 1e-9)}
		if err := t.writeMetrics(m); err != nil {
			return nil, err
		}
		if t.Reporter != nil && t.comm().Rank() == 0 {
			t.Reporter.Epoch(m)
		}
		improved := math.IsNaN(t.best) || testAcc > t.best
		if improved {
			t.best = testAcc
		}
		t.last = &lastEpoch{TrainLoss: lastTrainLoss, TrainAcc: lastTrainAcc, TestLoss: testLoss, TestAcc: testAcc, TestTop5: testTop5}
		t.epoch++
		t.batch = 0
		t.sums = epochSums{}
		kind := saveLatest
		if improved {
			kind = saveBest // best.safetensors, then latest (see checkpoint.Dir.SaveBest)
		}
		if err := t.checkpoint(dir, kind); err != nil {
			return nil, err
		}
		if cfg.Run.MaxSteps > 0 && t.step >= cfg.Run.MaxSteps {
			break
		}
	}
	switch {
	case complete && t.batch == 0 && t.last != nil:
		// A resumed finished run: rebuild its summary from the last epoch.
		lastTrainLoss, lastTrainAcc, testLoss, testAcc, testTop5 = t.last.TrainLoss, t.last.TrainAcc, t.last.TestLoss, t.last.TestAcc, t.last.TestTop5
	case t.batch > 0 || !evaluated:
		// Stopped mid-epoch (MaxSteps), or nothing left to train (a resumed
		// finished run from a checkpoint without its last epoch's metrics):
		// evaluate the model as it stands.
		if err := t.averageBuffers(); err != nil {
			return nil, err
		}
		ev, err := t.EvaluateAll(t.TestSet)
		if err != nil {
			return nil, err
		}
		testLoss, testAcc, testTop5 = ev.Loss, ev.Acc, ev.Top5
		lastTrainLoss = t.sums.Loss / math.Max(float64(t.sums.Count), 1)
		lastTrainAcc = float64(t.sums.Correct) / math.Max(float64(t.sums.Count), 1)
	}
	if math.IsNaN(t.best) {
		t.best = testAcc
	}
	s := &Summary{TestAcc: testAcc, TestTop5: testTop5, TestLoss: testLoss, BestTestAcc: t.best, TrainLoss: lastTrainLoss, TrainAcc: lastTrainAcc,
		Epochs: t.epoch, Steps: t.step, ImagesPerS: float64(t.imagesSeen) / math.Max(t.trainTime.Seconds(), 1e-9),
		WallS: time.Since(start).Seconds(), RunDir: dir, Model: cfg.Model.Arch, Data: cfg.Data.Name, Rule: cfg.Rule.Name,
		Seed: cfg.Run.Seed, Threads: t.E.Threads(), SkippedTrain: t.loader.SkipCount(), SkippedTest: t.evalLoader.SkipCount(),
		Provenance: provenance.Collect(t.E.Threads(), time.Now())}
	t.textSummary(s)
	if t.comm().Rank() == 0 {
		if err := writeJSONFile(filepath.Join(dir, SummaryName), s); err != nil {
			return nil, err
		}
		if err := t.cleanTemp(dir, false); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// interrupted saves a checkpoint at the current position and returns the
// interruption error.
// If the checkpoint cannot be saved it returns ErrInterruptedUnsaved.
func (t *Trainer) interrupted(dir string) error {
	if err := t.checkpoint(dir, saveLatest); err != nil {
		return fmt.Errorf("%w at step %d: %v; the steps since the last checkpoint are lost; %s",
			ErrInterruptedUnsaved, t.step, err, t.lastGood(dir))
	}
	return fmt.Errorf("%w at step %d; resume with --resume --run-dir %s", ErrInterrupted, t.step, dir)
}

// lastGood names the checkpoint a failed run can resume from, or says
// that there is none.
func (t *Trainer) lastGood(dir string) string {
	latest := filepath.Join(dir, LatestName)
	if _, err := os.Stat(latest); err == nil {
		return "the last good checkpoint is " + latest
	}
	return fmt.Sprintf("no checkpoint was saved (%s may be reused for a new run, or --resume starts it over)", dir)
}

// divergence reports a divergence, naming the layer, and keeps the last
// good checkpoint.
func (t *Trainer) divergence(err error, dir string) error {
	var de *optim.DivergenceError
	if errors.As(err, &de) {
		layer := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(de.Param, ".weight"), ".bias"), ".backward_weight")
		return fmt.Errorf("%w in layer %s: %v; %s", ErrDiverged, layer, de, t.lastGood(dir))
	}
	return fmt.Errorf("%w; %s", err, t.lastGood(dir))
}

func (t *Trainer) progress(loss float64, correct, n int) Progress {
	return Progress{Epoch: t.epoch, Epochs: t.Cfg.Run.Epochs, Batch: t.batch, Batches: t.stepsPerEpoch, Step: t.step,
		Loss: loss, Acc: float64(correct) / float64(n),
		ImagesPerS: float64(t.sums.Count) / math.Max(t.sums.Seconds, 1e-9),
		Remaining:  time.Duration(float64(int64(t.Cfg.Run.Epochs)*int64(t.stepsPerEpoch)-t.step) * t.sums.Seconds / math.Max(float64(t.batch), 1) * float64(time.Second))}
}

// Skipped returns the samples left out of training and evaluation batches
// so far because they could not be read (each with its error, which names
// the file).
func (t *Trainer) Skipped() (train, test []data.Skip) {
	return t.loader.Skipped(), t.evalLoader.Skipped()
}
