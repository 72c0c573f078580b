// Package experiments runs the paper's experiments on asym's training loop:
// rule comparisons, metaparameter sweeps, transfer of tuned settings across
// architectures, depth series and noisy-update series.
//
// # Overview
//
// An experiment is a list of training runs ([Job]) generated from a
// [Config] — rules × models × settings × seeds, all on the same data and
// budget — that [Execute] runs one after another in subdirectories of the
// experiment directory. Finished runs (summary.json present) and diverged
// ones (diverged.json) are skipped, and an interrupted run resumes from its
// checkpoint, so an interrupted experiment continues where it stopped.
// Each kind then builds its report: report.html (self-contained), the
// figures as PNG and SVG, and summary.md with the result tables.
//
// # Kinds
//
//	compare   rules × models: final and best accuracy, train loss, mean
//	          alignment angles, time; learning and alignment curves
//	sweep     a grid (or random search) over rule or optimizer settings
//	          per rule, over seeds; heat maps of accuracy and divergence
//	transfer  the best settings of a sweep on architecture A, run unchanged
//	          on architecture B: the transfer gap per rule
//	depth     rules over a series of ResNet depths: gap to backprop
//	noise     noisy updates of B at several variances: accuracy vs noise
package experiments
