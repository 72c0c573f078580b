package doccheck

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLinks(t *testing.T) {
	tests := []struct {
		name string
		md   string
		want []Link
	}{
		{"inline link", "see [the docs](docs/a.md) now", []Link{{1, "docs/a.md"}}},
		{"image", "![fig](img/x.png)", []Link{{1, "img/x.png"}}},
		{"title and fragment", `[a](b.md#sec "t") [c](d.md?x=1)`, []Link{{1, "b.md"}, {1, "d.md"}}},
		{"two on a line, second line", "x\n[a](a.md) and ![b](b.png)", []Link{{2, "a.md"}, {2, "b.png"}}},
		{"link around code", "[`configs/`](configs)", []Link{{1, "configs"}}},
		{"reference definition", "[ref]: ../x/y.go", []Link{{1, "../x/y.go"}}},
		{"html image", `<img alt="a" src="img/z.svg">`, []Link{{1, "img/z.svg"}}},
		{"absolute urls skipped", "[a](https://x.org/a) [m](mailto:a@b) [f](#top)", nil},
		{"code span skipped", "run `[a](nothere.md)`", nil},
		{"fenced block skipped", "```\n[a](nothere.md)\n```\n[b](b.md)", []Link{{4, "b.md"}}},
		{"tilde fence skipped", "~~~toml\n[a](nothere.md)\n~~~", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Links([]byte(tc.md)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Links(%q) = %v, want %v", tc.md, got, tc.want)
			}
		})
	}
}

func TestCheckReportsMissing(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "docs", "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "docs", "img", "ok.png"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	md := "[ok](img/ok.png)\n![gone](img/gone.png)\n[up](../README.md)\n[out](../../etc/passwd)\n[abs](/etc/passwd)\n"
	path := filepath.Join(root, "docs", "a.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	bad, err := Check(root, path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{":2: link \"img/gone.png\"", ":3: link \"../README.md\"", ":4: link \"../../etc/passwd\" points outside", ":5: link \"/etc/passwd\" is an absolute"}
	if len(bad) != len(want) {
		t.Fatalf("Check reported %d problems, want %d: %v", len(bad), len(want), bad)
	}
	for i, w := range want {
		if !strings.Contains(bad[i].Error(), w) {
			t.Errorf("problem %d = %q, want it to contain %q", i, bad[i], w)
		}
	}
}

// TestRepositoryDocs checks every relative link and image of README.md
// and docs/*.md: the file or directory it names must exist in the
// repository.
func TestRepositoryDocs(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md"))
	if len(files) < 6 {
		t.Fatalf("found only %v", files)
	}
	links := 0
	for _, f := range files {
		md, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		links += len(Links(md))
		bad, err := Check(root, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range bad {
			t.Error(e)
		}
	}
	if links < 20 {
		t.Errorf("found only %d relative links in %d files; is the parser broken?", links, len(files))
	}
}
