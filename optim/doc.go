// Package optim holds asym's optimizer: stochastic gradient descent with
// momentum, Nesterov momentum and L2 weight decay over parameter groups,
// learning-rate schedules with linear warm-up, the paper's noisy updates,
// checkpointable state and a divergence check.
//
// # Overview
//
// An [SGD] updates a list of parameter groups. Each group has its own
// [Settings]: method ("sgd" or the momentum-free "gd"), base learning rate,
// momentum, Nesterov, weight decay and the parameter kinds it applies to, a
// learning-rate [Schedule] and optional [Noise]. [New] builds the layout the
// paper's official code uses (Kunin et al. 2020, arXiv 2003.01513,
// neuroailab/Neural-Alignment): a "main" group with every trainable
// parameter that is not a backward weight, and a "feedback" group with the
// trainable backward weights B (nn.KindFeedback with a non-nil Grad). By
// default the feedback group shares the main settings (one optimizer for W
// and B, as in the official code); [Config].Feedback gives B its own.
// [NewGroups] builds any other grouping. Parameters with a nil Grad
// (buffers, fixed B) are never updated.
//
// # Update
//
// For each parameter p with gradient g in a group with learning rate
// lr_t = LR·schedule(t), momentum μ and weight decay wd (PyTorch's
// torch.optim.SGD with dampening 0, which equals TensorFlow's
// MomentumOptimizer):
//
//	d   = g + wd·p            (wd only for the decayed kinds; g is not modified)
//	buf = μ·buf + d           (momentum buffer, zero before the first step)
//	d'  = d + μ·buf           (Nesterov)   or   d' = buf   (classical)
//	p  -= lr_t·d'
//
// With μ = 0 (and for method "gd") the update is p -= lr_t·d and no buffer
// is kept. Noisy updates then add p += lr_t·ε with ε drawn from N(0, v) or
// U(±√(12v)/2) (the official NoisyOptimizer), from a generator seeded by
// (seed, step, parameter index) so that a resumed run repeats the noise.
//
// Method "adamw" is PyTorch's AdamW (see [MethodAdamW]): decoupled weight
// decay on the kinds in DecayKinds (weights by default, so biases and
// normalisation parameters are not decayed), Adam moments with bias
// correction; with weight decay 0 it is Adam. The feedback group may use
// another method (e.g. "sgd" for B while W uses "adamw"). A group with
// ClipNorm > 0 first scales its gradients to that global L2 norm
// ([ClipGlobalNorm]; [SGD.GradNorm] reports the norm before clipping).
//
// # Schedules
//
// A [Schedule] is a pure function of (step, steps per epoch, total steps):
// "constant", "step" (×γ at each milestone) or "cosine" (to a floor), times
// an optional linear warm-up from 0. Resume is exact because nothing but
// the step counter is needed to recompute the learning rate.
//
// # State
//
// [SGD.State] exports the step counter and the momentum buffers, named
// "optim.momentum.<param name>" (AdamW's first moment), and AdamW's second
// moments, "optim.second_moment.<param name>"; [SGD.SetState] checks names and shapes and
// imports them, so that a resumed run is bit-identical to an uninterrupted
// one (given the same parameters, gradients and configuration).
//
// # Errors
//
// Configuration errors wrap [ErrConfig] and name the field
// ("feedback.schedule.gamma") and its valid range; state mismatches wrap
// [ErrState]; [CheckFinite] returns a [*DivergenceError] wrapping
// [ErrDiverged]. Programmer errors (a gradient whose size differs from its
// parameter's) panic with a message that begins with "optim: ".
package optim
