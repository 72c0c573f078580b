package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/asymlab/asym/blas"
	"github.com/asymlab/asym/data"
	"github.com/asymlab/asym/experiments"
	"github.com/asymlab/asym/internal/buildinfo"
	"github.com/asymlab/asym/train"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitDiverged    = 3
	ExitInterrupted = 130
)

// usageError marks errors that are the user's (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// IO bundles the streams of a command.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// ErrTTY reports whether Err is a terminal (live progress).
	ErrTTY bool
}

// printJSON writes v as one line of JSON to Out.
func (s *IO) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(s.Out, string(b))
	return err
}

// Main runs the asym command line with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := &IO{In: stdin, Out: stdout, Err: stderr}
	if f, ok := stderr.(*os.File); ok {
		s.ErrTTY = term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
	}
	root := newRoot(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "asym: %v\n", err)
	return exitCode(err)
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case errors.Is(err, train.ErrInterrupted):
		return ExitInterrupted
	case errors.Is(err, train.ErrDiverged):
		return ExitDiverged
	case errors.As(err, &ue), errors.Is(err, train.ErrConfig), errors.Is(err, train.ErrRunExists),
		errors.Is(err, train.ErrNoRun), errors.Is(err, train.ErrConfigEdited), errors.Is(err, data.ErrUnknownDataset):
		return ExitUsage
	case strings.HasPrefix(err.Error(), "unknown command "):
		// cobra's error for a command that does not exist (it has no
		// error type of its own).
		return ExitUsage
	}
	return ExitFailure
}

// noArgs is noArgs with a usage error (exit 2) naming the argument.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return usagef("unknown command %q for %q; valid: %s", args[0], cmd.CommandPath(), strings.Join(names, ", "))
	}
	return usagef("%s takes no arguments, got %q (usage: %s)", cmd.Name(), args[0], cmd.UseLine())
}

// exactArgs is cobra.ExactArgs with a usage error (exit 2) that names the
// missing or extra argument; the names come from the command's Use line
// ("eval CHECKPOINT").
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		if len(args) > n {
			return usagef("%s takes %d argument(s), got an extra one: %q (usage: %s)", cmd.Name(), n, args[n], cmd.UseLine())
		}
		var names []string
		for _, w := range strings.Fields(cmd.Use)[1:] {
			if !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "[") && strings.ToUpper(w) == w {
				names = append(names, w)
			}
		}
		missing := fmt.Sprint(len(args) + 1)
		if len(args) < len(names) {
			missing = names[len(args)]
		}
		return usagef("%s: missing argument %s (usage: %s)", cmd.Name(), missing, cmd.UseLine())
	}
}

func newRoot(s *IO) *cobra.Command {
	var blasName string
	root := &cobra.Command{
		Use:   "asym",
		Short: "Train neural networks with credit assignment that needs no weight symmetry",
		Long: `asym trains MLPs, ConvNets and ResNets with learning rules that send errors
backward through learned or random backward weights B instead of the
transpose of the forward weights (Kunin et al., ICML 2020, arXiv 2003.01513).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			name := blasName
			if !cmd.Flags().Changed("blas") {
				name = os.Getenv("ASYM_BLAS")
			}
			if err := blas.Use(name); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	root.Version = buildinfo.Read().String()
	root.SetVersionTemplate("asym {{.Version}}\n")
	root.PersistentFlags().StringVar(&blasName, "blas", "auto", "BLAS implementation: auto, go, openblas (env ASYM_BLAS)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%v (run '%s --help' for usage)", err, c.CommandPath())}
	})
	root.AddCommand(newTrainCmd(s), newEvalCmd(s), newSampleCmd(s), newBenchCmd(s), newRulesCmd(s), newDataCmd(s), newExportCmd(s), newMetricsCmd(s), newVersionCmd(s))
	for _, k := range experiments.Kinds {
		root.AddCommand(newExperimentCmd(s, k))
	}
	return root
}

// Version returns the module version from the build information.
func Version() string { return buildinfo.Read().Version }

func newVersionCmd(s *IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit it was built from and the BLAS",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(s.Out, "asym %s\nBLAS: %s (available: %s)\n", buildinfo.Read(), blas.CurrentName(), strings.Join(blas.Names(), ", "))
			return nil
		},
	}
}
