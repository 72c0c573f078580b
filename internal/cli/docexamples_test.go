package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docCommand returns the asym command line in one shell line or code span
// of the docs, or "" when it runs no asym command. It drops what launches
// asym ("go run ./cmd/asym", "./asym", "mpirun -np 2 asym", VAR=x …) down
// to the word asym, a trailing "# comment" and elisions (...); quoted words lose their
// quotes and shell variables ($seed, ${rule}) become 1, so that the words
// are what asym's flag parser would see.
func docCommand(line string) string {
	line = strings.TrimPrefix(strings.TrimSpace(line), "$ ")
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	if strings.ContainsAny(line, "|;&<>`") {
		return ""
	}
	line = shellVar.ReplaceAllString(line, "1")
	line = strings.NewReplacer(`'`, "", `"`, "").Replace(line)
	words := slices.DeleteFunc(strings.Fields(line), func(w string) bool { return w == "..." || w == "…" })
	for i, w := range words {
		if w == "asym" || w == "./asym" || w == "./cmd/asym" {
			if i > 0 && !launchesAsym(words[:i]) {
				return ""
			}
			return strings.Join(append([]string{"asym"}, words[i+1:]...), " ")
		}
	}
	return ""
}

var (
	shellVar = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
	codeSpan = regexp.MustCompile("`([^`]+)`")
	fence    = regexp.MustCompile("(?m)^\\s*```([a-z]*)\\s*$")
)

// launchesAsym reports whether the words before "asym" launch it: go run
// (with build flags), mpirun with its options, or environment assignments.
func launchesAsym(pre []string) bool {
	switch pre[0] {
	case "go":
		return len(pre) >= 2 && pre[1] == "run"
	case "mpirun", "time", "nohup":
		return true
	}
	for _, w := range pre {
		if !strings.Contains(w, "=") {
			return false
		}
	}
	return true
}

// TestDocExamples runs checkExample on every asym command of README.md and
// docs/*.md, in shell blocks and in code spans: the command exists, its
// flags parse and the files it names are in the repository.
func TestDocExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	files = append([]string{filepath.Join(repoRoot, "README.md")}, files...)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Alternate between prose and fenced blocks.
		parts := fence.Split(string(b), -1)
		langs := fence.FindAllStringSubmatch(string(b), -1)
		for i, part := range parts {
			if i%2 == 1 { // inside a fence
				if lang := langs[i-1][1]; lang != "sh" && lang != "bash" && lang != "console" && lang != "" {
					continue
				}
				part = strings.ReplaceAll(part, "\\\n", " ")
				for _, line := range strings.Split(part, "\n") {
					if cmd := docCommand(line); cmd != "" {
						checkExample(t, f, cmd)
						n++
					}
				}
				continue
			}
			for _, m := range codeSpan.FindAllStringSubmatch(part, -1) {
				cmd := docCommand(strings.ReplaceAll(m[1], "\n", " "))
				switch {
				case cmd == "":
				case checkReference(t, f, cmd):
				default:
					checkExample(t, f, cmd)
				}
				if cmd != "" {
					n++
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d doc examples found", n)
	}
}

// checkReference checks a code span that names a command in prose rather
// than running it ("asym export", "asym train --config"): the command
// exists and the one flag it may name is the command's. It reports false,
// checking nothing, when the span is an example to check in full.
func checkReference(t *testing.T, where, line string) bool {
	t.Helper()
	root := newRoot(&IO{In: strings.NewReader(""), Out: &strings.Builder{}, Err: &strings.Builder{}})
	cmd, rest, err := root.Find(strings.Fields(line)[1:])
	if err != nil || len(rest) > 1 || (len(rest) == 1 && !strings.HasPrefix(rest[0], "--")) {
		return false
	}
	cmd.InitDefaultHelpFlag()
	cmd.InitDefaultVersionFlag()
	if len(rest) == 1 && cmd.Flags().Lookup(strings.TrimPrefix(rest[0], "--")) == nil {
		t.Errorf("%s: %q: %s has no flag %s", where, line, cmd.CommandPath(), rest[0])
	}
	return true
}
