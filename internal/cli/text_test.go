package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTextExitCodes: bad text input exits 1 (a bad file) or 2 (a bad
// setting) and leaves no run directory.
func TestTextExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	latin1 := write("latin1.txt", []byte("caf\xe9"))
	empty := write("empty.txt", nil)
	short := write("short.txt", []byte("0123456789012345678901234567890123456789"))
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"not utf-8", []string{"--data-dir", latin1}, ExitFailure},
		{"empty", []string{"--data-dir", empty}, ExitFailure},
		{"shorter than the context", []string{"--data-dir", short, "--context", "8"}, ExitFailure},
		{"negative context", []string{"--context", "-3"}, ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := filepath.Join(dir, "run-"+tc.name)
			code, _, errs := runCLI(append([]string{"train", "--data", "text", "--run-dir", run}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errs)
			}
			if _, err := os.Stat(run); !os.IsNotExist(err) {
				t.Errorf("run directory written: %v", err)
			}
		})
	}
}
