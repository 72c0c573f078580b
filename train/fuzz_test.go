package train

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeConfig: any input decodes to a config or to an error wrapping
// ErrConfig, never a panic; a decoded config validates or fails with
// ErrConfig too.
func FuzzDecodeConfig(f *testing.F) {
	f.Add(Default().String())
	f.Add("[model]\narch = \"resnet\"\ndepth = 20\n")
	f.Add("[rule]\nname = \"wm\"\n[rule.params]\nalpha = 1e-3\n")
	f.Add("[optim.feedback]\nlr = 0.1\n")
	f.Add("[data]\nbatch = -1\n")
	// BurntSushi/toml v1.6.0's ErrorWithPosition panics on these (an error
	// it places at line 0).
	for _, s := range malformedTOML {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Decode(strings.NewReader(s), "fuzz.toml", Default())
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("decode error does not wrap ErrConfig: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil && !errors.Is(err, ErrConfig) {
			t.Fatalf("validation error does not wrap ErrConfig: %v", err)
		}
	})
}

// malformedTOML are inputs that made the TOML library panic.
var malformedTOML = []string{`"\`, `a = "\`, "\"\r\n", "[model]\narch = \"\\"}

// TestDecodeMalformed: the inputs that made the TOML library panic give a
// config error with a position.
func TestDecodeMalformed(t *testing.T) {
	for _, s := range malformedTOML {
		_, err := Decode(strings.NewReader(s), "bad.toml", Default())
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "bad.toml: toml:") || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: %v, want a config error naming the file and the line", s, err)
		}
	}
}
