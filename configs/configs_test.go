// Package configs holds asym's reference configuration files; its test
// checks that every one of them decodes strictly and validates, so that
// they cannot rot as the code changes.
package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asymlab/asym/experiments"
	"github.com/asymlab/asym/train"
)

func TestConfigsDecodeAndValidate(t *testing.T) {
	files, err := filepath.Glob("*.toml")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("paper/*.toml")
	files = append(files, more...)
	for _, f := range files {
		c, err := train.LoadFile(f, train.Default())
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	exps, _ := filepath.Glob("experiments/*.toml")
	for _, f := range exps {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		kind := ""
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "kind = "); ok {
				kind = strings.Trim(v, `"`)
			}
		}
		c, err := experiments.LoadFile(f, experiments.Default(kind))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if err := c.Train.Validate(); err != nil {
			t.Errorf("%s [train]: %v", f, err)
		}
	}
	if len(files) < 5 || len(exps) < 5 {
		t.Errorf("found %d train and %d experiment configs", len(files), len(exps))
	}
}

// TestReadmeConfig decodes every ```toml block of README.md and docs/*.md
// strictly and validates it, so that the documented examples cannot rot.
func TestReadmeConfig(t *testing.T) {
	docs, _ := filepath.Glob("../docs/*.md")
	n := 0
	for _, f := range append([]string{"../README.md"}, docs...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(string(b), "```toml\n")
		for i, blk := range blocks[1:] {
			body, _, ok := strings.Cut(blk, "```")
			if !ok {
				t.Fatalf("%s: toml block %d is not closed", f, i+1)
			}
			if strings.Contains(body, "kind = ") { // an experiment config
				continue
			}
			n++
			c, err := train.Decode(strings.NewReader(body), f, train.Default())
			if err != nil {
				t.Errorf("%s: toml block %d: %v", f, i+1, err)
				continue
			}
			if err := c.Validate(); err != nil {
				t.Errorf("%s: toml block %d: %v", f, i+1, err)
			}
		}
	}
	if n == 0 {
		t.Error("no toml block in README.md")
	}
}
