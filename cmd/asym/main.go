// Command asym trains neural networks with learning rules that need no
// weight symmetry (Kunin et al. 2020) and compares them.
//
// Usage:
//
//	asym train [flags]       train a model (default: the embedded digits)
//	asym eval  CHECKPOINT    evaluate a checkpoint
//	asym bench [flags]       measure training throughput and memory
//	asym rules               list the learning rules
//	asym version             print the version
//
// Run "asym help COMMAND" for the flags of each command.
package main

import (
	"os"

	// Registers OpenBLAS when built with -tags openblas.
	_ "github.com/asymlab/asym/blas/openblas"
	"github.com/asymlab/asym/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
