package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/internal/tomlx"
	"github.com/asymlab/asym/models"
	"github.com/asymlab/asym/nn"
	"github.com/asymlab/asym/optim"
	"github.com/asymlab/asym/rules"
)

// Config is everything that defines a training run. It is read from a
// TOML file (unknown keys are errors), overridden by command-line flags,
// and saved as config.toml in the run directory.
//
// Its fields are the one table of settings (see [Key]): every leaf field
// has a toml tag (its key), a flag tag (its command-line flag) and a help
// tag (the flag's help); the valid keys and the flags derive from them.
type Config struct {
	Model ModelConfig `toml:"model"`
	Data  DataConfig  `toml:"data"`
	Optim OptimConfig `toml:"optim"`
	Rule  RuleConfig  `toml:"rule"`
	Run   RunConfig   `toml:"run"`
}

// ModelConfig selects the architecture (see models.Spec).
type ModelConfig struct {
	Arch             string  `toml:"arch" flag:"model" help:"architecture: mlp, convnet, resnet20/32/44/56/110, resnet (with --depth), resnet18/34/50/101/152; a v2 suffix (resnet20v2, resnet50v2) is the pre-activation ResNet; gpt, vit (Transformers)"`
	Hidden           []int   `toml:"hidden,omitempty" flag:"hidden" help:"MLP hidden widths, or ConvNet conv1,conv2,fc widths"`
	Depth            int     `toml:"depth,omitempty" flag:"depth" help:"depth of a CIFAR-style resnet (6n+2), or blocks of gpt/vit (0: 4 gpt, 2 vit)"`
	Width            float64 `toml:"width,omitempty" flag:"width" help:"channel width multiplier of ResNets (0: 1)"`
	Dropout          float64 `toml:"dropout,omitempty" flag:"dropout" help:"dropout before the classifier (MLP, ConvNet)"`
	BatchNorm        bool    `toml:"batch_norm" flag:"batch-norm" help:"BatchNorm after every hidden layer of the MLP"`
	Init             string  `toml:"init" flag:"init" help:"weight initializer: he, lecun, torch"`
	Stem             string  `toml:"stem,omitempty" flag:"stem" help:"ImageNet-style ResNet stem: imagenet, small"`
	ZeroInitResidual bool    `toml:"zero_init_residual,omitempty" flag:"zero-init-residual" help:"start the last BatchNorm of every residual block at γ = 0"`
	// Shortcut, Pool, FCInit and BNMomentum select the official code's
	// ResNet choices (see models.Spec and docs/paper-fidelity.md).
	Shortcut   string  `toml:"shortcut,omitempty" flag:"shortcut" help:"ResNet projection shortcuts: auto (where the shape changes), first (every group's first block, the official code)"`
	Pool       string  `toml:"pool,omitempty" flag:"pool" help:"padding of the ImageNet stem's max pool: torch (1 each side), same (TensorFlow SAME, the official code)"`
	FCInit     string  `toml:"fc_init,omitempty" flag:"fc-init" help:"classifier init: empty (--init), normal (N(0, 0.01²), bias 0: official v1), glorot (bias 0: official v2)"`
	BNMomentum float64 `toml:"bn_momentum,omitempty" flag:"bn-momentum" help:"BatchNorm running-statistics momentum (0: 0.1; official v2: 0.003)"`
	// Transformers (gpt, vit): Depth is their number of blocks.
	Dim     int `toml:"dim,omitempty" flag:"dim" help:"token width of gpt/vit (0: 128 gpt, 64 vit); divisible by --heads"`
	Heads   int `toml:"heads,omitempty" flag:"heads" help:"attention heads of gpt/vit (0: 4)"`
	MLP     int `toml:"mlp,omitempty" flag:"mlp-width" help:"hidden width of the MLP of gpt/vit blocks (0: 4·dim)"`
	Context int `toml:"context,omitempty" flag:"model-context" help:"gpt position-table length (0: the data's sequence length)"`
	Patch   int `toml:"patch,omitempty" flag:"patch" help:"vit patch size (0: 4, or 2 below 16×16 images)"`
	// InitFrom names a safetensors file (PyTorch names, e.g. a torchvision
	// ResNet's weights) whose tensors replace the initial forward
	// parameters; InitSkip lists parameter-name globs to keep (e.g. "fc.*"
	// for a new classifier).
	InitFrom string   `toml:"init_from,omitempty" flag:"init-from" help:"start from the weights in this safetensors file (PyTorch names)"`
	InitSkip []string `toml:"init_skip,omitempty" flag:"init-skip" help:"parameter-name globs not taken from --init-from (e.g. 'fc.*')"`
}

// DataConfig selects the data set and its pipeline.
type DataConfig struct {
	// Name is the data set: digits (embedded), fashion-mnist, mnist, ...
	Name string `toml:"name" flag:"data" help:"data set: digits (embedded), fashion-mnist, mnist, cifar10, cifar100, imagefolder, text (Newton's Opticks, embedded, or --data-dir FILE)"`
	// Dir overrides where the data set is looked up (for text, a UTF-8
	// text file).
	Dir string `toml:"dir,omitempty" flag:"data-dir" help:"directory holding the data set files (text: a UTF-8 text file)"`
	// Context is the window length of the text data set (characters per
	// sample).
	Context int `toml:"context,omitempty" flag:"context" help:"characters per window of the text data set (0: 128)"`
	// Batch is the training batch size.
	Batch int `toml:"batch" flag:"batch" help:"training batch size"`
	// EvalBatch is the evaluation batch size (default: Batch).
	EvalBatch int `toml:"eval_batch,omitempty" flag:"eval-batch" help:"evaluation batch size (0: --batch)"`
	// Augment selects the training augmentation: "standard" (the default:
	// the data set's usual one — pad-4 crops and flips for CIFAR,
	// random-resized crops and flips for image folders, none for digits and
	// MNIST — unless crop_pad or flip are set), "none", or "custom"
	// (exactly crop_pad and flip).
	Augment string `toml:"augment,omitempty" flag:"augment" help:"training augmentation: standard (the data set's usual one), none, custom (--crop-pad, --flip)"`
	// ImageSize is the side of the square images cut from image folders
	// (default 224); other data sets have a fixed size.
	ImageSize int `toml:"image_size,omitempty" flag:"image-size" help:"side of the square images cut from image folders (0: 224)"`
	// CropPad > 0 enables random crops after zero padding by CropPad.
	CropPad int `toml:"crop_pad,omitempty" flag:"crop-pad" help:"random crop after zero padding by this many pixels (0: off)"`
	// Flip enables random horizontal flips.
	Flip bool `toml:"flip,omitempty" flag:"flip" help:"random horizontal flips"`
	// Workers is the number of data-loading goroutines (default 2).
	Workers int `toml:"workers,omitempty" flag:"workers" help:"data-loading goroutines"`
	// TrainLimit and TestLimit keep only the first N samples (0: all).
	TrainLimit int `toml:"train_limit,omitempty" flag:"train-limit" help:"use only the first N training samples (0: all)"`
	TestLimit  int `toml:"test_limit,omitempty" flag:"test-limit" help:"use only the first N test samples (0: all)"`
}

// OptimConfig sets the optimizer of W (and, unless Feedback overrides
// it, of the backward weights B).
type OptimConfig struct {
	Method         string    `toml:"method" flag:"optimizer" help:"optimizer: sgd, gd, adam, rmsprop (TensorFlow 1's), adamw (PyTorch's, decoupled weight decay)"`
	LR             float64   `toml:"lr" flag:"lr" help:"learning rate"`
	Momentum       float64   `toml:"momentum" flag:"momentum" help:"momentum"`
	Nesterov       bool      `toml:"nesterov" flag:"nesterov" help:"Nesterov momentum"`
	WeightDecay    float64   `toml:"weight_decay" flag:"weight-decay" help:"L2 weight decay on forward weights W"`
	Schedule       string    `toml:"schedule" flag:"schedule" help:"learning-rate schedule: constant, step, cosine"`
	Milestones     []float64 `toml:"milestones,omitempty" flag:"milestones" help:"epochs at which the step schedule multiplies the rate by --gamma"`
	Gamma          float64   `toml:"gamma,omitempty" flag:"gamma" help:"factor of the step schedule (e.g. 0.1)"`
	Floor          float64   `toml:"floor,omitempty" flag:"lr-floor" help:"final multiplier of the cosine schedule, in [0, 1]"`
	Warmup         float64   `toml:"warmup,omitempty" flag:"warmup" help:"length of the linear learning-rate warm-up, in --schedule-unit (epochs by default)"`
	LabelSmoothing float64   `toml:"label_smoothing,omitempty" flag:"label-smoothing" help:"label smoothing of the cross-entropy"`
	// ScheduleUnit is the unit of Warmup and Milestones: epoch (default)
	// or step.
	ScheduleUnit string `toml:"schedule_unit,omitempty" flag:"schedule-unit" help:"unit of --warmup and --milestones: epoch (default), step"`
	// Beta1, Beta2 and Eps are the settings of adam and adamw (0: their
	// defaults).
	Beta1 float64 `toml:"beta1,omitempty" flag:"beta1" help:"Adam/AdamW β1 (0: 0.9)"`
	Beta2 float64 `toml:"beta2,omitempty" flag:"beta2" help:"Adam/AdamW β2 or RMSProp ρ (0: 0.999 or 0.9)"`
	Eps   float64 `toml:"eps,omitempty" flag:"eps" help:"Adam/AdamW/RMSProp ε (0: 1e-8 or 1e-10)"`
	// ClipNorm clips the gradients of W, biases and norms (not B) to this
	// global L2 norm before each update.
	ClipNorm float64 `toml:"clip_norm,omitempty" flag:"clip-norm" help:"clip the gradients of W, biases and norms to this global L2 norm (0: off)"`
	// DecayKinds are the parameter kinds W's weight decay applies to (nil:
	// weight); the official code also decays the classifier's bias
	// (["weight", "bias"]; the ResNets' only bias is the classifier's).
	DecayKinds []string `toml:"decay_kinds,omitempty" flag:"decay-kinds" help:"parameter kinds with weight decay: weight, bias, norm (default weight; official: weight,bias)"`
	// ScheduleDelay shifts the learning-rate schedule by rule.delay_epochs,
	// as the official code does: warm-up and milestones count from the end
	// of the delay.
	ScheduleDelay bool         `toml:"schedule_delay,omitempty" flag:"schedule-delay" help:"shift the learning-rate schedule by --delay-epochs (the official code)"`
	Feedback      *FeedbackOpt `toml:"feedback,omitempty"`
}

// FeedbackOpt overrides optimizer settings for the backward weights B.
// Unset fields (nil) take the main optimizer's values.
type FeedbackOpt struct {
	LR          *float64 `toml:"lr,omitempty" flag:"b-lr" help:"learning rate of the backward weights B (default: --lr)"`
	Momentum    *float64 `toml:"momentum,omitempty" flag:"b-momentum" help:"momentum of B (default: --momentum)"`
	Nesterov    *bool    `toml:"nesterov,omitempty" flag:"b-nesterov" help:"Nesterov momentum for B (default: --nesterov)"`
	WeightDecay *float64 `toml:"weight_decay,omitempty" flag:"b-weight-decay" help:"weight decay of B (default: --weight-decay)"`
	Schedule    *string  `toml:"schedule,omitempty" flag:"b-schedule" help:"learning-rate schedule of B (default: --schedule)"`
	// Method, Beta1, Beta2 and Eps select B's own optimizer (the official
	// --alignment_optimizer: adam or rmsprop with TensorFlow 1's updates).
	Method *string  `toml:"method,omitempty" flag:"b-optimizer" help:"optimizer of B: sgd, gd, adam, rmsprop, adamw (default: --optimizer)"`
	Beta1  *float64 `toml:"beta1,omitempty" flag:"b-beta1" help:"Adam β1 of B (0: 0.9)"`
	Beta2  *float64 `toml:"beta2,omitempty" flag:"b-beta2" help:"Adam β2 or RMSProp ρ of B (0: 0.999 or 0.9)"`
	Eps    *float64 `toml:"eps,omitempty" flag:"b-eps" help:"Adam or RMSProp ε of B (0: 1e-8 or 1e-10)"`
}

// RuleConfig selects the learning rule of the backward weights.
type RuleConfig struct {
	// Name is a registered rule (asym rules lists them).
	Name string `toml:"name" flag:"rule" help:"learning rule (see 'asym rules')"`
	// Params are the rule's settings (e.g. alpha, beta); unknown names are
	// errors.
	Params map[string]float64 `toml:"params,omitempty" flag:"rule-param" help:"rule setting NAME=VALUE (repeatable), e.g. alpha=1e-3"`
	// Layers selects layers: all, hidden, or comma-separated names/globs.
	Layers string `toml:"layers" flag:"layers" help:"layers the rule applies to: all, hidden, or names/globs"`
	// Exclude lists layers (names/globs) to keep exact.
	Exclude string `toml:"exclude,omitempty" flag:"exclude" help:"layers (names/globs) kept exact"`
	// BInit is how B starts: independent (default) or copy.
	BInit string `toml:"b_init" flag:"b-init" help:"initial backward weights: independent, copy"`
	// BScale multiplies the initial B (default 1).
	BScale float64 `toml:"b_scale" flag:"b-scale" help:"scale of the initial backward weights"`
	// Positions is how the data terms of a regularizer reduce over a
	// convolution's output positions: mean (default: their step does not
	// grow with the image size) or sum (the official code).
	Positions string `toml:"positions,omitempty" flag:"positions" help:"reduction of the regularizers' data terms over conv positions: mean (default), sum (official code)"`
	// CenterInput, NormalizeInput, BatchCenterBackwardInput and
	// BatchCenterForwardOutput are the input and output options of the official code's AlignmentBase (see
	// rules.InputOptions): per-sample centring, per-sample centring and
	// unit norm, and batch centring of the x in the backward projection Bx.
	CenterInput              bool `toml:"center_input,omitempty" flag:"center-input" help:"regularizers see x centred per sample (official center_input)"`
	NormalizeInput           bool `toml:"normalize_input,omitempty" flag:"normalize-input" help:"regularizers see x centred and scaled to unit norm per sample (official normalize_input)"`
	BatchCenterBackwardInput bool `toml:"batch_center_backward_input,omitempty" flag:"batch-center-backward-input" help:"the backward projection Bx uses x minus its batch mean (official batch_center_backward_input)"`
	// BatchCenterForwardOutput centres y = Wx (and the reconstruction By)
	// over the batch (official batch_center_forward_output).
	BatchCenterForwardOutput bool `toml:"batch_center_forward_output,omitempty" flag:"batch-center-forward-output" help:"the forward projection y = Wx and By are centred over the batch (official batch_center_forward_output)"`
	// DelayEpochs is a number of epochs during which only B learns (the
	// task loss is off).
	DelayEpochs float64 `toml:"delay_epochs,omitempty" flag:"delay-epochs" help:"epochs during which only B learns"`
	// BEvery updates a trained B on every BEvery-th step only (steps 0,
	// K, 2K, …; 0 and 1: every step), its gradient taken on that step's
	// batch; the other steps skip the rule's update of B entirely and
	// leave B and its optimizer state (momentum) untouched.
	BEvery int `toml:"b_every,omitempty" flag:"b-every" help:"update B on every K-th step only (0, 1: every step)"`
	// BCoast makes the steps between two updates of B (BEvery > 1) step
	// B's optimizer with a zero gradient, as the official code's
	// alternate_step_freq does: momentum and weight decay keep moving B.
	// By default they leave B and its optimizer state untouched.
	BCoast bool `toml:"b_coast,omitempty" flag:"b-coast" help:"between updates of B (--b-every), step its optimizer with a zero gradient (momentum coasts)"`
	// BFraction computes a regularizer's data terms on the first
	// round(BFraction·N) samples of each N-sample batch (0: all; see
	// rules.FractionRows).
	BFraction float64 `toml:"b_fraction,omitempty" flag:"b-fraction" help:"fraction of each batch the regularizers' data terms use (0: all)"`
	// NoiseDist ("normal" or "uniform") and NoiseVariance add noise
	// lr·ε to B's updates (the paper's noisy-update experiment).
	NoiseDist     string  `toml:"noise_dist,omitempty" flag:"noise-dist" help:"noise added to B's updates: normal, uniform"`
	NoiseVariance float64 `toml:"noise_variance,omitempty" flag:"noise-variance" help:"variance of the noise added to B's updates (0: 1, the official default)"`
	// NoiseParams is what the noise perturbs: "feedback" (B only, the
	// default) or "all" (every trained parameter, as the official
	// use_noisy_global_opt does for every rule but Kolen–Pollack).
	NoiseParams string `toml:"noise_params,omitempty" flag:"noise-params" help:"parameters the noise perturbs: feedback (B, default), all (official global noise)"`
	// Bias adds the layers' biases to the regularizers' projections (the
	// official use_bias_forward/use_bias_backward).
	Bias bool `toml:"bias,omitempty" flag:"rule-bias" help:"include the layer's bias in y and Bx of the regularizers (official use_bias_forward/backward)"`
	// NullBorder makes Null sum the padded border on strided convolutions
	// (the official fixed padding).
	NullBorder bool `toml:"null_border,omitempty" flag:"null-border" help:"Null includes the padded border of strided convolutions (the official code)"`
	// Schedule varies alpha, beta and gamma over the run (the official
	// rate_scheduler).
	Schedule CoeffScheduleConfig `toml:"schedule"`
}

// CoeffScheduleConfig holds the official code's schedules of the rule
// coefficients alpha, beta and gamma (rules.CoeffSchedule), with the
// official flag names.
type CoeffScheduleConfig struct {
	AlphaType  string  `toml:"alpha_schedule_type,omitempty" flag:"alpha-schedule-type" help:"schedule of alpha: linear, exponential (empty: constant)"`
	AlphaRate  float64 `toml:"alpha_schedule_rate,omitempty" flag:"alpha-schedule-rate" help:"growth (or decay) of alpha per epoch"`
	AlphaStart float64 `toml:"alpha_start,omitempty" flag:"alpha-start" help:"fraction of the run before which alpha is 0"`
	AlphaStop  float64 `toml:"alpha_stop,omitempty" flag:"alpha-stop" help:"fraction of the run after which alpha is 0 (0: 1)"`
	AlphaCycle float64 `toml:"alpha_cycle,omitempty" flag:"alpha-cycle" help:"period in epochs of a triangular cycle of alpha (0: none)"`
	BetaType   string  `toml:"beta_schedule_type,omitempty" flag:"beta-schedule-type" help:"schedule of beta: linear, exponential (empty: constant)"`
	BetaRate   float64 `toml:"beta_schedule_rate,omitempty" flag:"beta-schedule-rate" help:"growth (or decay) of beta per epoch"`
	BetaStart  float64 `toml:"beta_start,omitempty" flag:"beta-start" help:"fraction of the run before which beta is 0"`
	BetaStop   float64 `toml:"beta_stop,omitempty" flag:"beta-stop" help:"fraction of the run after which beta is 0 (0: 1)"`
	BetaCycle  float64 `toml:"beta_cycle,omitempty" flag:"beta-cycle" help:"period in epochs of a triangular cycle of beta (0: none)"`
	GammaType  string  `toml:"gamma_schedule_type,omitempty" flag:"gamma-schedule-type" help:"schedule of gamma: linear, exponential (empty: constant)"`
	GammaRate  float64 `toml:"gamma_schedule_rate,omitempty" flag:"gamma-schedule-rate" help:"growth (or decay) of gamma per epoch"`
	GammaStart float64 `toml:"gamma_start,omitempty" flag:"gamma-start" help:"fraction of the run before which gamma is 0"`
	GammaStop  float64 `toml:"gamma_stop,omitempty" flag:"gamma-stop" help:"fraction of the run after which gamma is 0 (0: 1)"`
	GammaCycle float64 `toml:"gamma_cycle,omitempty" flag:"gamma-cycle" help:"period in epochs of a triangular cycle of gamma (0: none)"`
}

// Schedules returns the schedules that are not constant over the whole
// run, keyed by setting name.
func (s CoeffScheduleConfig) Schedules() map[string]rules.CoeffSchedule {
	out := map[string]rules.CoeffSchedule{}
	for name, cs := range map[string]rules.CoeffSchedule{
		"alpha": {Type: s.AlphaType, Rate: s.AlphaRate, Start: s.AlphaStart, Stop: s.AlphaStop, Cycle: s.AlphaCycle},
		"beta":  {Type: s.BetaType, Rate: s.BetaRate, Start: s.BetaStart, Stop: s.BetaStop, Cycle: s.BetaCycle},
		"gamma": {Type: s.GammaType, Rate: s.GammaRate, Start: s.GammaStart, Stop: s.GammaStop, Cycle: s.GammaCycle},
	} {
		if cs != (rules.CoeffSchedule{}) {
			out[name] = cs
		}
	}
	return out
}

// RunConfig holds the settings of the run itself.
type RunConfig struct {
	Epochs int    `toml:"epochs" flag:"epochs" help:"training epochs"`
	Seed   uint64 `toml:"seed" flag:"seed" help:"random seed"`
	// Threads is the number of compute goroutines (0: all cores).
	Threads int `toml:"threads" flag:"threads" help:"compute threads (0: all cores)"`
	// Dir is the run directory (default runs/<time>-<arch>-<rule>).
	Dir string `toml:"dir,omitempty" flag:"run-dir" help:"run directory (default runs/<time>-<model>-<data>-<rule>)"`
	// CheckpointEvery saves a checkpoint every N steps (0: every epoch).
	CheckpointEvery int `toml:"checkpoint_every,omitempty" flag:"checkpoint-every" help:"checkpoint every N steps (0: every epoch)"`
	// Keep is the number of step checkpoints kept besides latest (default 2).
	Keep int `toml:"keep,omitempty" flag:"keep" help:"step checkpoints kept besides latest"`
	// MetricsEvery logs alignment metrics every N steps (0: off).
	MetricsEvery int `toml:"metrics_every,omitempty" flag:"metrics-every" help:"log alignment metrics every N steps (0: off)"`
	// LogEvery logs the training loss and learning rate every N steps to
	// metrics.jsonl ("step" records; 0: off), besides the per-epoch records.
	LogEvery int `toml:"log_every,omitempty" flag:"log-every" help:"log the training loss and learning rate every N steps to metrics.jsonl (0: off)"`
	// MaxSteps stops after N steps in total (0: no limit); for tests.
	MaxSteps int64 `toml:"max_steps,omitempty" flag:"max-steps" help:"stop after N steps in total (0: no limit)"`
	// SyncBN makes batch normalisation use the statistics of the global
	// batch under data-parallel training (mpirun); otherwise each process
	// normalises with its shard's and the running statistics are averaged.
	SyncBN bool `toml:"sync_bn,omitempty" flag:"sync-bn" help:"under mpirun, normalise with the statistics of the global batch"`
}

// Default returns the default configuration: an MLP with batch
// normalisation after every hidden layer, trained with backprop on the
// embedded digits. Batch normalisation keeps every rule stable at these
// settings (without it, feedback-alignment-like rules let the hidden
// weights grow until some diverge); a rule chosen on the command line
// starts from [RuleDefaults].
func Default() Config {
	momentum, nesterov := MethodMomentum("sgd")
	return Config{
		Model: ModelConfig{Arch: "mlp", Init: "he", BatchNorm: true},
		Data:  DataConfig{Name: "digits", Batch: 32, Workers: 2},
		Optim: OptimConfig{Method: "sgd", LR: 0.05, Momentum: momentum, Nesterov: nesterov, WeightDecay: 1e-4, Schedule: "cosine"},
		Rule:  RuleConfig{Name: "bp", Layers: "all", BInit: "independent", BScale: 1},
		Run:   RunConfig{Epochs: 30, Seed: 1, Keep: 2},
	}
}

// savedBase is the base over which asym reads the configs it saved itself
// (a checkpoint's, a run directory's config.toml): Default, except for
// model.batch_norm, which configs saved before it became true by default
// omit when it is false (they are written whole since).
func savedBase() Config {
	c := Default()
	c.Model.BatchNorm = false
	return c
}

// SmallScaleParams returns the rule settings asym uses for short runs on
// small data: the defaults of a rule chosen on the command line (asym
// train --rule sa) and of the experiment commands. The paper's
// coefficients are tuned for 90-epoch ImageNet runs, where B has hundreds
// of thousands of steps to follow W; with a few thousand, symmetric and
// activation alignment leave B close to its random start. These keep each
// rule's ratio β/2α (hence its fixed point: B = W for both) and scale its
// strength up: SA by 50 (B's lag drops from ~10⁴ to ~200 steps at lr
// 0.05), AA by 10 (more would make its E[xxᵀ]-scaled update unstable on
// input layers). Weight mirror, information alignment and Kolen–Pollack
// keep their defaults: scaled-up WM and IA measured worse on Fashion-MNIST
// (asym sweep), KP needs no coefficient.
func SmallScaleParams() map[string]map[string]float64 {
	return map[string]map[string]float64{
		"sa": {"alpha": 0.05, "beta": 0.1},
		"aa": {"alpha": 0.01, "beta": 0.02},
	}
}

// RuleDefaults returns the settings a run of rule starts from when the rule
// is chosen on the command line (asym train --rule NAME): those of
// [SmallScaleParams], and for custom (which has no defaults of its own)
// the primitives of symmetric alignment at its small-scale coefficients.
// nil means the rule's registered defaults (asym rules lists both).
func RuleDefaults(rule string) map[string]float64 {
	if rule == "custom" {
		sa := SmallScaleParams()["sa"]
		return map[string]float64{"decay": sa["alpha"], "self": sa["beta"]}
	}
	return SmallScaleParams()[rule]
}

// MethodMomentum returns the momentum and Nesterov setting a run starts
// from with optimizer method: SGD's defaults (0.9, Nesterov) for sgd, none
// for the methods that have no momentum (gd; adam and adamw, whose first
// moment is beta1; rmsprop). A config file or command line that chooses a
// method without setting momentum and nesterov gets these, so that
// choosing adamw over the sgd default needs no other setting.
func MethodMomentum(method string) (momentum float64, nesterov bool) {
	if method == "sgd" {
		return 0.9, true
	}
	return 0, false
}

// Decode reads a TOML config over base (keys not in the file keep base's
// values; a file that changes optim.method without setting optim.momentum
// or optim.nesterov gets [MethodMomentum]'s). Unknown keys and wrong types
// are errors naming them.
func Decode(r io.Reader, name string, base Config) (Config, error) {
	cfg := base
	md, err := tomlx.Decode(r, &cfg)
	if err != nil {
		return base, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	if md.IsDefined("optim", "method") && cfg.Optim.Method != base.Optim.Method {
		m, n := MethodMomentum(cfg.Optim.Method)
		if !md.IsDefined("optim", "momentum") {
			cfg.Optim.Momentum = m
		}
		if !md.IsDefined("optim", "nesterov") {
			cfg.Optim.Nesterov = n
		}
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

// checkBatch checks the batch size against the size n of the training set
// (before any buffer is allocated): a batch larger than the data set is a
// mistake (a typo, or a limit that left too few samples), which would
// otherwise train one partial batch per epoch.
func checkBatch(c Config, n int) error {
	if c.Data.Batch > n {
		return fmt.Errorf("%w: data.batch = %d is larger than the training set (%d samples of %s); use at most %d",
			ErrConfig, c.Data.Batch, n, c.Data.Name, n)
	}
	return nil
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
	if !slices.Contains(data.Names(), c.Data.Name) {
		bad("data.name", "unknown data set %q; valid: %s", c.Data.Name, strings.Join(data.Names(), ", "))
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
	if c.Run.CheckpointEvery < 0 || c.Run.Keep < 0 || c.Run.MetricsEvery < 0 || c.Run.LogEvery < 0 || c.Run.MaxSteps < 0 {
		bad("run", "checkpoint_every, keep, metrics_every, log_every and max_steps must be ≥ 0")
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
	switch c.Rule.NoiseParams {
	case "", "feedback", "all":
	default:
		bad("rule.noise_params", "%q; valid: feedback, all", c.Rule.NoiseParams)
	}
	for name, cs := range c.Rule.Schedule.Schedules() {
		if err := cs.Validate(name); err != nil {
			bad("rule.schedule", "%v", err)
		}
	}
	switch c.Model.Shortcut {
	case "", "auto", "first":
	default:
		bad("model.shortcut", "%q; valid: auto, first", c.Model.Shortcut)
	}
	switch c.Model.Pool {
	case "", "torch", "same":
	default:
		bad("model.pool", "%q; valid: torch, same", c.Model.Pool)
	}
	switch c.Model.FCInit {
	case "", "normal", "glorot":
	default:
		bad("model.fc_init", "%q; valid: normal, glorot (or empty)", c.Model.FCInit)
	}
	if !(c.Model.BNMomentum >= 0 && c.Model.BNMomentum <= 1) {
		bad("model.bn_momentum", "%v, want in [0, 1]", c.Model.BNMomentum)
	}
	if c.Data.Context < 0 {
		bad("data.context", "%d, want >= 0 (0: %d)", c.Data.Context, data.DefaultContext)
	}
	if c.Optim.LabelSmoothing < 0 || c.Optim.LabelSmoothing >= 1 {
		bad("optim.label_smoothing", "%v, want in [0, 1)", c.Optim.LabelSmoothing)
	}
	// Check the schedules on a clock of one step per epoch, so that
	// lengths given in epochs compare with the run's (lengths in steps are
	// checked against the run when the trainer knows the epoch's steps).
	total := int64(max(c.Run.Epochs, 1))
	if c.Optim.ScheduleUnit == optim.UnitStep {
		total = math.MaxInt32
	}
	if _, err := c.optimConfig(1, total); err != nil {
		bad("optim", "%v", err)
	}
	return errors.Join(errs...)
}
