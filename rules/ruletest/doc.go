// Package ruletest is the conformance suite every learning rule of package
// rules must pass.
//
// # Overview
//
// [Run] takes the name of a registered rule and checks, on a small MLP, a
// small ConvNet and a small ResNet-8:
//
//   - its [rules.Info] is complete (summary, formulas, locality, source,
//     documented settings with valid defaults);
//   - [rules.New] fills in defaults, wires every setting, and rejects unknown
//     settings (listing the valid ones), non-finite values and negative
//     values of non-negative settings;
//   - [rules.Apply] gives every selected layer a B of W's shape (distinct
//     from W unless the rule is listed in [SharedB]), honours the layer
//     selection options (all, hidden, names, globs, exclude, b_init,
//     b_scale) and rejects bad patterns;
//   - a few training steps (forward, cross-entropy, backward with the rule,
//     plain SGD on W and B) keep every value finite, train W, and train B
//     when the rule gives it a gradient;
//   - the same seeds give bit-identical parameters.
//
// A test in package rules runs the suite over [rules.Names], so a newly
// registered rule is checked without further code.
package ruletest
