// Package provenance describes where a result came from — the command
// line, asym's version and commit, the date, the BLAS, the thread count and
// the machine — so that every summary.json and report says how to
// reproduce it and on what it ran.
package provenance
