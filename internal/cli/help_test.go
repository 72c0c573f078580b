package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/asymlab/asym/experiments"
	"github.com/asymlab/asym/train"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// checkExample checks one example command line ("asym ..."): it names a
// command, its flags parse and its arguments fit the command, and every
// input file it names exists in the repository. Outputs (paths under runs/,
// and the values of --to and --run-dir) and the user's data (paths under
// ~/ or /) need not exist.
func checkExample(t *testing.T, where, line string) {
	t.Helper()
	if strings.ContainsAny(line, `"'$|;&`) {
		t.Errorf("%s: %q: keep examples to plain words (the test splits on spaces)", where, line)
		return
	}
	words := strings.Fields(line)
	if len(words) == 0 || words[0] != "asym" {
		t.Errorf("%s: %q does not start with asym", where, line)
		return
	}
	root := newRoot(&IO{In: strings.NewReader(""), Out: &strings.Builder{}, Err: &strings.Builder{}})
	cmd, rest, err := root.Find(words[1:])
	if err != nil {
		t.Errorf("%s: %q: %v", where, line, err)
		return
	}
	if cmd == root && len(words) > 1 {
		t.Errorf("%s: %q names no command", where, line)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: %q: %v", where, line, err)
		return
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s: %q: %v", where, line, err)
	}
	if cmd.Name() == "train" && cmd.Parent() == root {
		if err := validateTrain(rest); err != nil {
			t.Errorf("%s: %q: %v", where, line, err)
		}
	}
	for i, w := range words {
		if strings.HasPrefix(w, "-") {
			continue
		}
		if i > 0 && (words[i-1] == "--to" || words[i-1] == "--run-dir" || words[i-1] == "--dir") {
			continue
		}
		if strings.HasPrefix(w, "runs/") || strings.HasPrefix(w, "~") || filepath.IsAbs(w) || !(strings.Contains(w, "/") || strings.HasSuffix(w, ".toml")) {
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, w)); err != nil {
			t.Errorf("%s: %q names %s, which is not in the repository", where, line, w)
		}
	}
}

// TestHelpExamples walks every command's --help examples.
func TestHelpExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, line := range strings.Split(c.Example, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				checkExample(t, c.CommandPath()+" --help", line)
				n++
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&IO{}))
	if n < 15 {
		t.Errorf("only %d examples found", n)
	}
}

// TestConfigExamples walks the command lines in the comments of the
// reference configs ("#   asym ...").
func TestConfigExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot, "configs", "*", "*.toml"))
	more, _ := filepath.Glob(filepath.Join(repoRoot, "configs", "*.toml"))
	n := 0
	for _, f := range append(files, more...) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "#"); ok && strings.HasPrefix(strings.TrimSpace(line), "asym ") {
				checkExample(t, f, strings.TrimSpace(line))
				n++
			}
		}
		fh.Close()
	}
	if n == 0 {
		t.Error("no command lines found in configs")
	}
}

// TestRunDirFlag: train and every experiment command name their output
// directory --run-dir; the experiments' old --dir is a hidden alias.
// TestOptimizerFlagMomentum checks that --optimizer chooses the method's
// own momentum (none for adamw, adam, rmsprop, gd), unless --momentum or
// --nesterov say otherwise, over the default config and over a config
// file's method.
func TestOptimizerFlagMomentum(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"--model", "gpt", "--data", "text", "--optimizer", "adamw", "--max-steps", "3"}, true},
		{[]string{"--optimizer", "adam"}, true},
		{[]string{"--optimizer", "rmsprop"}, true},
		{[]string{"--optimizer", "sgd"}, true},
		{[]string{"--optimizer", "adamw", "--momentum", "0.5"}, false},
		{[]string{"--optimizer", "adamw", "--nesterov"}, false},
		{[]string{"--optimizer", "sgd", "--momentum", "0.5", "--nesterov=false"}, true},
	} {
		if err := validateTrain(tc.args); (err == nil) != tc.ok {
			t.Errorf("asym train %s: %v, want ok %v", strings.Join(tc.args, " "), err, tc.ok)
		}
	}
}

func TestRunDirFlag(t *testing.T) {
	root := newRoot(&IO{})
	for _, c := range root.Commands() {
		switch c.Name() {
		case "train":
		default:
			if !slices.Contains(experiments.Kinds, c.Name()) {
				continue
			}
			if d := c.Flags().Lookup("dir"); d == nil || !d.Hidden {
				t.Errorf("%s: --dir should be a hidden alias of --run-dir", c.Name())
			}
		}
		if c.Flags().Lookup("run-dir") == nil {
			t.Errorf("%s has no --run-dir", c.Name())
		}
	}
}

// validateTrain builds the config an `asym train` command line would train
// with — the defaults, its --config file, its flags — and validates it, as
// the command does before it trains (a --resume takes the run's config and
// is left out).
func validateTrain(args []string) error {
	fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
	flags := addConfigFlags(fs, train.Default())
	cfgPath := fs.String("config", "", "")
	resume := fs.Bool("resume", false, "")
	fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil || *resume {
		return err
	}
	if r := fs.Lookup("rule"); r.Changed && !isLower(r.Value.String()) {
		return nil // a placeholder (--rule X, --rule $r): nothing to build
	}
	cfg := train.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = train.LoadFile(filepath.Join(repoRoot, *cfgPath), cfg); err != nil {
			return err
		}
	}
	if err := flags.apply(&cfg); err != nil {
		return err
	}
	return cfg.Validate()
}

// isLower reports whether s is a non-empty word of lower-case letters, as
// every rule name is (placeholders are upper case or shell variables).
func isLower(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return s != ""
}
