package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/asymlab/asym/train"
)

// configFlags are the flags that override keys of a train.Config. Only
// flags given on the command line override the config file.
type configFlags struct {
	fs *pflag.FlagSet
	c  train.Config // holds the flag values
	rp []string     // --rule-param k=v
	fb struct {
		lr float64
	}
}

func addConfigFlags(fs *pflag.FlagSet) *configFlags {
	f := &configFlags{fs: fs, c: train.Default()}
	c := &f.c
	fs.StringVar(&c.Model.Arch, "model", c.Model.Arch, "architecture: mlp, convnet, resnet20/32/44/56/110, resnet (with --depth), resnet18/34/50/101/152")
	fs.IntSliceVar(&c.Model.Hidden, "hidden", c.Model.Hidden, "MLP hidden widths, or ConvNet conv1,conv2,fc widths")
	fs.IntVar(&c.Model.Depth, "depth", 0, "depth of a CIFAR-style resnet (6n+2)")
	fs.Float64Var(&c.Model.Width, "width", 1, "channel width multiplier of ResNets")
	fs.Float64Var(&c.Model.Dropout, "dropout", 0, "dropout before the classifier (MLP, ConvNet)")
	fs.BoolVar(&c.Model.BatchNorm, "batch-norm", false, "BatchNorm after every hidden layer of the MLP")
	fs.StringVar(&c.Model.Init, "init", c.Model.Init, "weight initializer: he, lecun, torch")
	fs.StringVar(&c.Model.Stem, "stem", "", "ImageNet-style ResNet stem: imagenet, small")
	fs.StringVar(&c.Model.InitFrom, "init-from", "", "start from the weights in this safetensors file (PyTorch names)")
	fs.StringSliceVar(&c.Model.InitSkip, "init-skip", nil, "parameter-name globs not taken from --init-from (e.g. 'fc.*')")
	fs.StringVar(&c.Data.Name, "data", c.Data.Name, "data set: digits (embedded), fashion-mnist, mnist, cifar10, cifar100, imagefolder")
	fs.StringVar(&c.Data.Augment, "augment", "", "training augmentation: standard (the data set's usual one), none, custom (--crop-pad, --flip)")
	fs.IntVar(&c.Data.ImageSize, "image-size", 0, "side of the square images cut from image folders (default 224)")
	fs.StringVar(&c.Data.Dir, "data-dir", "", "directory holding the data set files")
	fs.IntVar(&c.Data.Batch, "batch", c.Data.Batch, "training batch size")
	fs.IntVar(&c.Data.CropPad, "crop-pad", 0, "random crop after zero padding by this many pixels (0: off)")
	fs.BoolVar(&c.Data.Flip, "flip", false, "random horizontal flips")
	fs.IntVar(&c.Data.Workers, "workers", c.Data.Workers, "data-loading goroutines")
	fs.IntVar(&c.Data.TrainLimit, "train-limit", 0, "use only the first N training samples (0: all)")
	fs.IntVar(&c.Data.TestLimit, "test-limit", 0, "use only the first N test samples (0: all)")
	fs.StringVar(&c.Optim.Method, "optimizer", c.Optim.Method, "optimizer: sgd, gd")
	fs.Float64Var(&c.Optim.LR, "lr", c.Optim.LR, "learning rate")
	fs.Float64Var(&c.Optim.Momentum, "momentum", c.Optim.Momentum, "momentum")
	fs.BoolVar(&c.Optim.Nesterov, "nesterov", c.Optim.Nesterov, "Nesterov momentum")
	fs.Float64Var(&c.Optim.WeightDecay, "weight-decay", c.Optim.WeightDecay, "L2 weight decay on forward weights W")
	fs.StringVar(&c.Optim.Schedule, "schedule", c.Optim.Schedule, "learning-rate schedule: constant, step, cosine")
	fs.Float64SliceVar(&c.Optim.Milestones, "milestones", nil, "epochs at which the step schedule multiplies the rate by --gamma")
	fs.Float64Var(&c.Optim.Gamma, "gamma", 0.1, "factor of the step schedule")
	fs.Float64Var(&c.Optim.Warmup, "warmup", 0, "epochs of linear learning-rate warm-up")
	fs.Float64Var(&c.Optim.LabelSmoothing, "label-smoothing", 0, "label smoothing of the cross-entropy")
	fs.Float64Var(&f.fb.lr, "b-lr", 0, "learning rate of the backward weights B (default: --lr)")
	fs.StringVar(&c.Rule.Name, "rule", c.Rule.Name, "learning rule (see 'asym rules')")
	fs.StringArrayVar(&f.rp, "rule-param", nil, "rule setting NAME=VALUE (repeatable), e.g. alpha=1e-3")
	fs.StringVar(&c.Rule.Layers, "layers", c.Rule.Layers, "layers the rule applies to: all, hidden, or names/globs")
	fs.StringVar(&c.Rule.Exclude, "exclude", "", "layers (names/globs) kept exact")
	fs.StringVar(&c.Rule.BInit, "b-init", c.Rule.BInit, "initial backward weights: independent, copy")
	fs.Float64Var(&c.Rule.BScale, "b-scale", c.Rule.BScale, "scale of the initial backward weights")
	fs.StringVar(&c.Rule.Positions, "positions", "", "reduction of the regularizers' data terms over conv positions: sum (default), mean")
	fs.Float64Var(&c.Rule.DelayEpochs, "delay-epochs", 0, "epochs during which only B learns")
	fs.IntVar(&c.Rule.BEvery, "b-every", 0, "update B on every K-th step only (0, 1: every step)")
	fs.BoolVar(&c.Rule.BCoast, "b-coast", false, "between updates of B, step its optimizer with a zero gradient (momentum coasts)")
	fs.Float64Var(&c.Rule.BFraction, "b-fraction", 0, "fraction of each batch the regularizers' data terms use (0: all)")
	fs.StringVar(&c.Rule.NoiseDist, "noise-dist", "", "noise added to B's updates: normal, uniform")
	fs.Float64Var(&c.Rule.NoiseVariance, "noise-variance", 0, "variance of the noise added to B's updates")
	fs.IntVar(&c.Run.Epochs, "epochs", c.Run.Epochs, "training epochs")
	fs.Uint64Var(&c.Run.Seed, "seed", c.Run.Seed, "random seed")
	fs.IntVar(&c.Run.Threads, "threads", 0, "compute threads (0: all cores)")
	fs.IntVar(&c.Run.CheckpointEvery, "checkpoint-every", 0, "checkpoint every N steps (0: every epoch)")
	fs.IntVar(&c.Run.MetricsEvery, "metrics-every", 0, "log alignment metrics every N steps (0: off)")
	fs.Int64Var(&c.Run.MaxSteps, "max-steps", 0, "stop after N steps in total (0: no limit)")
	fs.BoolVar(&c.Run.SyncBN, "sync-bn", false, "under mpirun, normalise with the statistics of the global batch")
	return f
}

// apply copies the flags given on the command line into cfg.
func (f *configFlags) apply(cfg *train.Config) error {
	c := &f.c
	set := map[string]func(){
		"model": func() { cfg.Model.Arch = c.Model.Arch }, "hidden": func() { cfg.Model.Hidden = c.Model.Hidden },
		"depth": func() { cfg.Model.Depth = c.Model.Depth }, "width": func() { cfg.Model.Width = c.Model.Width },
		"dropout":    func() { cfg.Model.Dropout = c.Model.Dropout },
		"batch-norm": func() { cfg.Model.BatchNorm = c.Model.BatchNorm }, "init": func() { cfg.Model.Init = c.Model.Init },
		"stem": func() { cfg.Model.Stem = c.Model.Stem }, "init-from": func() { cfg.Model.InitFrom = c.Model.InitFrom },
		"init-skip": func() { cfg.Model.InitSkip = c.Model.InitSkip },
		"data":      func() { cfg.Data.Name = c.Data.Name }, "augment": func() { cfg.Data.Augment = c.Data.Augment },
		"image-size": func() { cfg.Data.ImageSize = c.Data.ImageSize }, "data-dir": func() { cfg.Data.Dir = c.Data.Dir },
		"batch": func() { cfg.Data.Batch = c.Data.Batch }, "crop-pad": func() { cfg.Data.CropPad = c.Data.CropPad },
		"flip": func() { cfg.Data.Flip = c.Data.Flip }, "workers": func() { cfg.Data.Workers = c.Data.Workers },
		"train-limit": func() { cfg.Data.TrainLimit = c.Data.TrainLimit }, "test-limit": func() { cfg.Data.TestLimit = c.Data.TestLimit },
		"optimizer": func() { cfg.Optim.Method = c.Optim.Method }, "lr": func() { cfg.Optim.LR = c.Optim.LR },
		"momentum": func() { cfg.Optim.Momentum = c.Optim.Momentum }, "nesterov": func() { cfg.Optim.Nesterov = c.Optim.Nesterov },
		"weight-decay": func() { cfg.Optim.WeightDecay = c.Optim.WeightDecay }, "schedule": func() { cfg.Optim.Schedule = c.Optim.Schedule },
		"milestones": func() { cfg.Optim.Milestones = c.Optim.Milestones }, "gamma": func() { cfg.Optim.Gamma = c.Optim.Gamma },
		"warmup": func() { cfg.Optim.Warmup = c.Optim.Warmup }, "label-smoothing": func() { cfg.Optim.LabelSmoothing = c.Optim.LabelSmoothing },
		"b-lr": func() {
			if cfg.Optim.Feedback == nil {
				cfg.Optim.Feedback = &train.FeedbackOpt{}
			}
			v := f.fb.lr
			cfg.Optim.Feedback.LR = &v
		},
		"rule":   func() { cfg.Rule.Name = c.Rule.Name },
		"layers": func() { cfg.Rule.Layers = c.Rule.Layers }, "exclude": func() { cfg.Rule.Exclude = c.Rule.Exclude },
		"b-init": func() { cfg.Rule.BInit = c.Rule.BInit }, "b-scale": func() { cfg.Rule.BScale = c.Rule.BScale },
		"positions":    func() { cfg.Rule.Positions = c.Rule.Positions },
		"delay-epochs": func() { cfg.Rule.DelayEpochs = c.Rule.DelayEpochs },
		"b-every":      func() { cfg.Rule.BEvery = c.Rule.BEvery }, "b-fraction": func() { cfg.Rule.BFraction = c.Rule.BFraction },
		"b-coast":    func() { cfg.Rule.BCoast = c.Rule.BCoast },
		"noise-dist": func() { cfg.Rule.NoiseDist = c.Rule.NoiseDist }, "noise-variance": func() { cfg.Rule.NoiseVariance = c.Rule.NoiseVariance },
		"epochs": func() { cfg.Run.Epochs = c.Run.Epochs }, "seed": func() { cfg.Run.Seed = c.Run.Seed },
		"threads": func() { cfg.Run.Threads = c.Run.Threads }, "checkpoint-every": func() { cfg.Run.CheckpointEvery = c.Run.CheckpointEvery },
		"metrics-every": func() { cfg.Run.MetricsEvery = c.Run.MetricsEvery }, "max-steps": func() { cfg.Run.MaxSteps = c.Run.MaxSteps },
		"sync-bn": func() { cfg.Run.SyncBN = c.Run.SyncBN },
	}
	if f.fs.Changed("rule") && c.Rule.Name != cfg.Rule.Name {
		// A different rule chosen on the command line starts from its own
		// defaults, not from the settings of the config file's rule.
		cfg.Rule.Params = nil
	}
	for name, fn := range set {
		if f.fs.Changed(name) {
			fn()
		}
	}
	for _, kv := range f.rp {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return usagef("--rule-param %q: want NAME=VALUE", kv)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return usagef("--rule-param %s: %q is not a number", k, v)
		}
		if cfg.Rule.Params == nil {
			cfg.Rule.Params = map[string]float64{}
		}
		cfg.Rule.Params[strings.TrimSpace(k)] = x
	}
	return nil
}
