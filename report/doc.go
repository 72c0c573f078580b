// Package report turns training runs into figures, tables and a
// self-contained HTML report.
//
// Inputs are plain data, independent of the training loop: a [Run] holds
// a run's per-epoch metrics and per-layer alignment metrics, as read from
// its metrics.jsonl by [ReadRun]. Runs that differ only in their seed are
// aggregated into a [Group] (mean ± sample standard deviation, see
// [Summarize]).
//
// Figures are drawn with gonum.org/v1/plot and rendered as PNG (at [DPI])
// and SVG:
//
//   - [LearningCurves]: test accuracy and training loss per epoch, one line
//     per group with a ± std band;
//   - [AlignmentCurves]: one panel per alignment metric, one line per layer
//     (one group) or per rule (several);
//   - [Heatmap]: a 2-D sweep's results, diverged cells marked;
//   - [LinePlot], [GapVsDepth], [AccuracyVsNoise]: means with error bars.
//
// A [Table] renders to Markdown and HTML with mean ± std cells. A [Report]
// gathers a title, the configuration, tables and figures, and writes
// report.html (one file: CSS inline, figures as base64 PNG data URIs, no
// script, no external reference), summary.md and the figure files.
package report
