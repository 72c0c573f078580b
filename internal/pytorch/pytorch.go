// Package pytorch finds the Python that the interoperability and
// reference tests run PyTorch with: $ASYM_PYTHON if set, then Debian's
// /usr/bin/python3 (where python3-torch installs), then python3 on PATH
// (which may be another Python, without torch).
package pytorch

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python returns the first of those Pythons that imports every module of
// modules (e.g. "torch", "torchvision", "numpy"), or skips the test with
// the Debian packages that provide them.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	imp := "import " + strings.Join(modules, ", ")
	for _, p := range []string{os.Getenv("ASYM_PYTHON"), "/usr/bin/python3", "python3"} {
		if p != "" && exec.Command(p, "-c", imp).Run() == nil {
			return p
		}
	}
	var pkgs []string
	for _, m := range modules {
		pkgs = append(pkgs, "python3-"+m)
	}
	t.Skipf("no Python with %s (Debian: apt-get install %s)", strings.Join(modules, ", "), strings.Join(pkgs, " "))
	return ""
}
