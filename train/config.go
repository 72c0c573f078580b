package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/rules"
)

// Config is everything that defines a training run. It is read from a
// TOML file (unknown keys are errors), overridden by command-line flags,
// and saved as config.toml in the run directory.
type Config struct {
	Model ModelConfig `toml:"model"`
	Data  DataConfig  `toml:"data"`
	Optim OptimConfig `toml:"optim"`
	Rule  RuleConfig  `toml:"rule"`
	Run   RunConfig   `toml:"run"`
}

// ModelConfig selects the architecture (see models.Spec).
type ModelConfig struct {
	Arch             string  `toml:"arch"`
	Hidden           []int   `toml:"hidden,omitempty"`
	Depth            int     `toml:"depth,omitempty"`
	Width            float64 `toml:"width,omitempty"`
	Dropout          float64 `toml:"dropout,omitempty"`
	BatchNorm        bool    `toml:"batch_norm,omitempty"`
	Init             string  `toml:"init,omitempty"`
	Stem             string  `toml:"stem,omitempty"`
	ZeroInitResidual bool    `toml:"zero_init_residual,omitempty"`
	// InitFrom names a safetensors file (PyTorch names, e.g. a torchvision
	// ResNet's weights) whose tensors replace the initial forward
	// parameters; InitSkip lists parameter-name globs to keep (e.g. "fc.*"
	// for a new classifier).
	InitFrom string   `toml:"init_from,omitempty"`
	InitSkip []string `toml:"init_skip,omitempty"`
}

// DataConfig selects the data set and its pipeline.
type DataConfig struct {
	// Name is the data set: digits (embedded), fashion-mnist, mnist, ...
	Name string `toml:"name"`
	// Dir overrides where the data set is looked up.
	Dir string `toml:"dir,omitempty"`
	// Batch is the training batch size.
	Batch int `toml:"batch"`
	// EvalBatch is the evaluation batch size (default: Batch).
	EvalBatch int `toml:"eval_batch,omitempty"`
	// Augment selects the training augmentation: "standard" (the default:
	// the data set's usual one — pad-4 crops and flips for CIFAR,
	// random-resized crops and flips for image folders, none for digits and
	// MNIST — unless crop_pad or flip are set), "none", or "custom"
	// (exactly crop_pad and flip).
	Augment string `toml:"augment,omitempty"`
	// ImageSize is the side of the square images cut from image folders
	// (default 224); other data sets have a fixed size.
	ImageSize int `toml:"image_size,omitempty"`
	// CropPad > 0 enables random crops after zero padding by CropPad.
	CropPad int `toml:"crop_pad,omitempty"`
	// Flip enables random horizontal flips.
	Flip bool `toml:"flip,omitempty"`
	// Workers is the number of data-loading goroutines (default 2).
	Workers int `toml:"workers,omitempty"`
	// TrainLimit and TestLimit keep only the first N samples (0: all).
	TrainLimit int `toml:"train_limit,omitempty"`
	TestLimit  int `toml:"test_limit,omitempty"`
}

// OptimConfig sets the optimizer of W (and, unless Feedback overrides
// it, of the backward weights B).
type OptimConfig struct {
	Method         string       `toml:"method"`
	LR             float64      `toml:"lr"`
	Momentum       float64      `toml:"momentum"`
	Nesterov       bool         `toml:"nesterov"`
	WeightDecay    float64      `toml:"weight_decay"`
	Schedule       string       `toml:"schedule"`
	Milestones     []float64    `toml:"milestones,omitempty"`
	Gamma          float64      `toml:"gamma,omitempty"`
	Floor          float64      `toml:"floor,omitempty"`
	Warmup         float64      `toml:"warmup,omitempty"`
	LabelSmoothing float64      `toml:"label_smoothing,omitempty"`
	Feedback       *FeedbackOpt `toml:"feedback,omitempty"`
}

// FeedbackOpt overrides optimizer settings for the backward weights B.
// Unset fields (nil) take the main optimizer's values.
type FeedbackOpt struct {
	LR          *float64 `toml:"lr,omitempty"`
	Momentum    *float64 `toml:"momentum,omitempty"`
	Nesterov    *bool    `toml:"nesterov,omitempty"`
	WeightDecay *float64 `toml:"weight_decay,omitempty"`
	Schedule    *string  `toml:"schedule,omitempty"`
}

// RuleConfig selects the learning rule of the backward weights.
type RuleConfig struct {
	// Name is a registered rule (asym rules lists them).
	Name string `toml:"name"`
	// Params are the rule's settings (e.g. alpha, beta); unknown names are
	// errors.
	Params map[string]float64 `toml:"params,omitempty"`
	// Layers selects layers: all, hidden, or comma-separated names/globs.
	Layers string `toml:"layers,omitempty"`
	// Exclude lists layers (names/globs) to keep exact.
	Exclude string `toml:"exclude,omitempty"`
	// BInit is how B starts: independent (default) or copy.
	BInit string `toml:"b_init,omitempty"`
	// BScale multiplies the initial B (default 1).
	BScale float64 `toml:"b_scale,omitempty"`
	// Positions is how the data terms of a regularizer reduce over a
	// convolution's output positions: sum (default, the official code) or
	// mean (their step then does not grow with the image size).
	Positions string `toml:"positions,omitempty"`
	// DelayEpochs is a number of epochs during which only B learns (the
	// task loss is off).
	DelayEpochs float64 `toml:"delay_epochs,omitempty"`
	// BEvery updates a trained B on every BEvery-th step only (steps 0,
	// K, 2K, …; 0 and 1: every step), its gradient taken on that step's
	// batch; the other steps skip the rule's update of B entirely and
	// leave B and its optimizer state (momentum) untouched.
	BEvery int `toml:"b_every,omitempty"`
	// BCoast makes the steps between two updates of B (BEvery > 1) step
	// B's optimizer with a zero gradient, as the official code's
	// alternate_step_freq does: momentum and weight decay keep moving B.
	// By default they leave B and its optimizer state untouched.
	BCoast bool `toml:"b_coast,omitempty"`
	// BFraction computes a regularizer's data terms on the first
	// round(BFraction·N) samples of each N-sample batch (0: all; see
	// rules.FractionRows).
	BFraction float64 `toml:"b_fraction,omitempty"`
	// NoiseDist ("normal" or "uniform") and NoiseVariance add noise
	// lr·ε to B's updates (the paper's noisy-update experiment).
	NoiseDist     string  `toml:"noise_dist,omitempty"`
	NoiseVariance float64 `toml:"noise_variance,omitempty"`
}

// RunConfig holds the settings of the run itself.
type RunConfig struct {
	Epochs int    `toml:"epochs"`
	Seed   uint64 `toml:"seed"`
	// Threads is the number of compute goroutines (0: all cores).
	Threads int `toml:"threads"`
	// Dir is the run directory (default runs/<time>-<arch>-<rule>).
	Dir string `toml:"dir,omitempty"`
	// CheckpointEvery saves a checkpoint every N steps (0: every epoch).
	CheckpointEvery int `toml:"checkpoint_every,omitempty"`
	// Keep is the number of step checkpoints kept besides latest (default 2).
	Keep int `toml:"keep,omitempty"`
	// MetricsEvery logs alignment metrics every N steps (0: off).
	MetricsEvery int `toml:"metrics_every,omitempty"`
	// MaxSteps stops after N steps in total (0: no limit); for tests.
	MaxSteps int64 `toml:"max_steps,omitempty"`
	// SyncBN makes batch normalisation use the statistics of the global
	// batch under data-parallel training (mpirun); otherwise each process
	// normalises with its shard's and the running statistics are averaged.
	SyncBN bool `toml:"sync_bn,omitempty"`
}

// Default returns the default configuration: a ConvNet trained with
// backprop on the embedded digits.
func Default() Config {
	return Config{
		Model: ModelConfig{Arch: "mlp", Init: "he"},
		Data:  DataConfig{Name: "digits", Batch: 32, Workers: 2},
		Optim: OptimConfig{Method: "sgd", LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4, Schedule: "cosine"},
		Rule:  RuleConfig{Name: "bp", Layers: "all", BInit: "independent", BScale: 1},
		Run:   RunConfig{Epochs: 30, Seed: 1, Keep: 2},
	}
}

// Decode reads a TOML config over base (keys not in the file keep base's
// values). Unknown keys and wrong types are errors naming them.
func Decode(r io.Reader, name string, base Config) (Config, error) {
	cfg := base
	md, err := toml.NewDecoder(r).Decode(&cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return base, fmt.Errorf("%w: %s: %s", ErrConfig, name, perr.ErrorWithPosition())
		}
		return base, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return base, fmt.Errorf("%w: %s: unknown key(s) %s; valid keys: %s", ErrConfig, name,
			strings.Join(keys, ", "), strings.Join(validKeys(), ", "))
	}
	return cfg, nil
}

// LoadFile reads a TOML config file over base.
func LoadFile(path string, base Config) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return base, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	defer f.Close()
	return Decode(f, path, base)
}

// Encode writes c as TOML.
func (c Config) Encode(w io.Writer) error {
	return toml.NewEncoder(w).Encode(c)
}

// String returns c as TOML.
func (c Config) String() string {
	var b bytes.Buffer
	_ = c.Encode(&b)
	return b.String()
}

func validKeys() []string {
	var out []string
	for sec, keys := range map[string][]string{
		"model": {"arch", "hidden", "depth", "width", "dropout", "batch_norm", "init", "stem", "zero_init_residual", "init_from", "init_skip"},
		"data":  {"name", "dir", "batch", "eval_batch", "augment", "image_size", "crop_pad", "flip", "workers", "train_limit", "test_limit"},
		"optim": {"method", "lr", "momentum", "nesterov", "weight_decay", "schedule", "milestones", "gamma", "floor", "warmup", "label_smoothing",
			"feedback.lr", "feedback.momentum", "feedback.nesterov", "feedback.weight_decay", "feedback.schedule"},
		"rule": {"name", "params.<setting>", "layers", "exclude", "b_init", "b_scale", "positions", "delay_epochs", "noise_dist", "noise_variance"},
		"run":  {"epochs", "seed", "threads", "dir", "checkpoint_every", "keep", "metrics_every", "max_steps", "sync_bn"},
	} {
		for _, k := range keys {
			out = append(out, sec+"."+k)
		}
	}
	sort.Strings(out)
	return out
}

// ErrConfig marks configuration errors (exit code 2 in the CLI).
var ErrConfig = errors.New("config")

// Validate checks every value and returns an error naming the key and the
// valid choices.
func (c Config) Validate() error {
	var errs []error
	bad := func(key string, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrConfig, key, fmt.Sprintf(format, a...)))
	}
	if !models.Valid(c.Model.Arch) {
		bad("model.arch", "unknown architecture %q; valid: %s", c.Model.Arch, strings.Join(models.Names(), ", "))
	}
	if c.Model.Init != "" {
		if _, err := nn.InitializerByName(c.Model.Init); err != nil {
			bad("model.init", "%q; valid: %s", c.Model.Init, strings.Join(nn.InitializerNames(), ", "))
		}
	}
	if c.Model.Dropout < 0 || c.Model.Dropout >= 1 {
		bad("model.dropout", "%v, want in [0, 1)", c.Model.Dropout)
	}
	if c.Model.Width < 0 {
		bad("model.width", "%v, want > 0", c.Model.Width)
	}
	if c.Data.Batch <= 0 {
		bad("data.batch", "%d, want > 0", c.Data.Batch)
	}
	switch c.Data.Augment {
	case "", "standard", "none", "custom":
	default:
		bad("data.augment", "%q; valid: standard, none, custom", c.Data.Augment)
	}
	if c.Data.ImageSize < 0 {
		bad("data.image_size", "%d, want > 0", c.Data.ImageSize)
	}
	if c.Data.EvalBatch < 0 || c.Data.Workers < 0 || c.Data.CropPad < 0 || c.Data.TrainLimit < 0 || c.Data.TestLimit < 0 {
		bad("data", "eval_batch, workers, crop_pad, train_limit and test_limit must be ≥ 0")
	}
	if c.Run.Epochs <= 0 {
		bad("run.epochs", "%d, want > 0", c.Run.Epochs)
	}
	if c.Run.Threads < 0 {
		bad("run.threads", "%d, want ≥ 0 (0: all cores)", c.Run.Threads)
	}
	if c.Run.CheckpointEvery < 0 || c.Run.Keep < 0 || c.Run.MetricsEvery < 0 || c.Run.MaxSteps < 0 {
		bad("run", "checkpoint_every, keep, metrics_every and max_steps must be ≥ 0")
	}
	if info, ok := rules.Lookup(c.Rule.Name); !ok {
		bad("rule.name", "unknown rule %q; valid: %s", c.Rule.Name, strings.Join(rules.Names(), ", "))
	} else if _, err := info.Resolve(c.Rule.Params); err != nil {
		bad("rule.params", "%v", err)
	}
	switch c.Rule.BInit {
	case "", "independent", "copy":
	default:
		bad("rule.b_init", "%q; valid: independent, copy", c.Rule.BInit)
	}
	if c.Rule.BScale < 0 {
		bad("rule.b_scale", "%v, want ≥ 0", c.Rule.BScale)
	}
	switch c.Rule.Positions {
	case "", rules.PositionsSum, rules.PositionsMean:
	default:
		bad("rule.positions", "%q; valid: %s, %s", c.Rule.Positions, rules.PositionsSum, rules.PositionsMean)
	}
	if c.Rule.DelayEpochs < 0 || c.Rule.DelayEpochs >= float64(c.Run.Epochs) && c.Rule.DelayEpochs > 0 {
		bad("rule.delay_epochs", "%v, want in [0, epochs)", c.Rule.DelayEpochs)
	}
	if c.Rule.BEvery < 0 {
		bad("rule.b_every", "%d, want ≥ 1 (0: every step)", c.Rule.BEvery)
	}
	if !(c.Rule.BFraction >= 0 && c.Rule.BFraction <= 1) {
		bad("rule.b_fraction", "%v, want in (0, 1] (0: the whole batch)", c.Rule.BFraction)
	}
	switch c.Rule.NoiseDist {
	case "", "normal", "uniform":
	default:
		bad("rule.noise_dist", "%q; valid: normal, uniform", c.Rule.NoiseDist)
	}
	if c.Rule.NoiseVariance < 0 {
		bad("rule.noise_variance", "%v, want ≥ 0", c.Rule.NoiseVariance)
	}
	if c.Optim.LabelSmoothing < 0 || c.Optim.LabelSmoothing >= 1 {
		bad("optim.label_smoothing", "%v, want in [0, 1)", c.Optim.LabelSmoothing)
	}
	// Check the schedules on a clock of one step per epoch, so that
	// lengths given in epochs compare with the run's.
	if _, err := c.optimConfig(1, int64(max(c.Run.Epochs, 1))); err != nil {
		bad("optim", "%v", err)
	}
	return errors.Join(errs...)
}
