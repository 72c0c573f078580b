// Package rules holds asym's learning rules for the backward weights: the
// rules of Kunin et al. (2020) and of the field, and rules composed from
// the paper's regularization primitives.
//
// # Convention
//
// A weight layer maps input x ∈ ℝⁿ to y = Wx ∈ ℝᵐ (a convolution: the same
// at every spatial position, x being the input patch). B has W's shape
// (m×n). Backward: the input gradient is δx = Bᵀδy, the weight gradient is
// the true local one, δy xᵀ. Backprop is B ≡ W.
//
// B learns by gradient descent on a layer-wise regularizer R(B; x, W, y)
// whose inputs x, W, y are constants (no gradient flows from R into W or
// into earlier layers). E is the mean over the batch; for convolutions the
// terms are summed over channels and, by default, averaged over output
// positions (Options.Positions = "mean"), so that B's step does not grow
// with the image size. Options.Positions = "sum" sums them over positions
// as the official code does; Decay and Self are the same either way (so
// rules that mix them with data terms, wm and ia, have their fixed points
// where the chosen reduction puts them). Options.Input adds the official
// code's centring and normalisation of x.
// The primitives (no ½ factors, as in the official code):
//
//	primitive  R                     ∇_B R              locality
//	Decay      ‖B‖²                  2B                 local
//	Amp        −E[yᵀBx]              −E[y xᵀ] (Hebbian)  local
//	Null       E‖Bᵀy‖²               2E[y yᵀ]B          local
//	Sparse     E‖Bx‖² (+ const in W) 2B E[x xᵀ]         non-local
//	Self       −Σ W⊙B                −W                 non-local
//
// "Local" means a synapse of B could compute its update from what it sees
// (its pre- and post-synaptic activity and its own weight); Sparse needs x
// sent forward through B and Self needs W itself.
//
// Three options reproduce the official code exactly (docs/paper-fidelity.md):
// Options.Bias adds the layer's bias to y and to Bx (use_bias_forward,
// use_bias_backward); Options.NullBorder makes Null on strided, padded
// convolutions sum the padded border of Bᵀy too (the official explicit
// padding; through [nn.Bordered]); Options.Schedules varies the settings
// over the run like the official rate_scheduler ([CoeffSchedule]).
//
// # Rules
//
// Each rule is one small type in one file whose doc comment gives the
// update of B and the input gradient as formulas, whether it is local, and
// its source. Rules register themselves by name ([Register]); [New] builds
// one from a name and settings, rejecting unknown names and settings with
// the valid choices. [Names] and [Lookup] list them (the CLI's "asym
// rules").
//
// # Binding
//
// [Apply] binds a rule to the weight layers of a network selected by
// [Options] (for example, every layer but the last). Binding gives each
// layer its own B (an independent draw from W's initializer by default) and
// an [nn.Feedback] that the network calls around every backward pass. The
// layers never see the rule: adding a rule touches no layer.
package rules
