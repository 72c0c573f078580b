package configs

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/asymlab/asym/rules"
	"github.com/asymlab/asym/train"
)

// fidelityRow is one checked row of the table in docs/paper-fidelity.md.
type fidelityRow struct {
	line        int
	key, value  string   // asym key and TOML value
	files       []string // globs on the paper config's file name
	description string
}

// readFidelityTable parses the rows of the table after the fidelity-table
// marker whose asym key and value are given (in backticks).
func readFidelityTable(t *testing.T) []fidelityRow {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "docs", "paper-fidelity.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []fidelityRow
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.Contains(line, "<!-- fidelity-table") {
			in = true
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			if in && len(rows) > 0 && !strings.HasPrefix(line, "|") {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 7 {
			t.Fatalf("paper-fidelity.md:%d: %d columns, want 7: %q", n, len(cells), line)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		unquote := func(s string) (string, bool) {
			if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
				return s[1 : len(s)-1], true
			}
			return "", false
		}
		key, ok := unquote(cells[2])
		if !ok {
			continue // header, separator, or a choice without an asym key
		}
		value, ok := unquote(cells[3])
		if !ok {
			t.Fatalf("paper-fidelity.md:%d: key %s without a `value`", n, key)
		}
		var files []string
		for _, g := range strings.Fields(cells[4]) {
			g = strings.Trim(g, "`")
			if _, err := path.Match(g, ""); err != nil {
				t.Fatalf("paper-fidelity.md:%d: bad file pattern %q", n, g)
			}
			files = append(files, g)
		}
		if len(files) == 0 {
			t.Fatalf("paper-fidelity.md:%d: key %s without files", n, key)
		}
		rows = append(rows, fidelityRow{line: n, key: key, value: value, files: files, description: cells[0]})
	}
	return rows
}

// valueOf returns the value of a dotted key in c: a train.Key, or one
// setting of rule.params (absent settings read as the rule's registered
// default, which is what a run gets).
func valueOf(t *testing.T, c train.Config, key string) any {
	if name, ok := strings.CutPrefix(key, "rule.params."); ok {
		info, ok := rules.Lookup(c.Rule.Name)
		if !ok {
			return c.Rule.Params[name]
		}
		full, err := info.Resolve(c.Rule.Params)
		if err != nil {
			t.Fatal(err)
		}
		return full[name]
	}
	k, ok := train.LookupKey(key)
	if !ok {
		t.Fatalf("no config key %q", key)
	}
	return k.Value(c)
}

// TestPaperConfigsMatchFidelityTable checks every file in configs/paper
// against every row of the table in docs/paper-fidelity.md whose file
// pattern matches it: the file must set exactly the official value the
// table gives. Every row must match some file and every file must be
// checked by rows that fix its rule and architecture.
func TestPaperConfigsMatchFidelityTable(t *testing.T) {
	rows := readFidelityTable(t)
	if len(rows) < 40 {
		t.Fatalf("only %d checked rows in docs/paper-fidelity.md", len(rows))
	}
	files, err := filepath.Glob("paper/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no paper configs: %v", err)
	}
	used := make([]bool, len(rows))
	for _, file := range files {
		cfg, err := train.LoadFile(file, train.Default())
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(file)
		checked := map[string]bool{}
		for i, r := range rows {
			match := false
			for _, g := range r.files {
				if ok, _ := path.Match(g, base); ok {
					match = true
				}
			}
			if !match {
				continue
			}
			used[i] = true
			checked[r.key] = true
			// The official value, decoded as TOML into an empty config.
			want, err := train.Decode(strings.NewReader(r.key+" = "+r.value), "paper-fidelity.md", train.Config{})
			if err != nil {
				t.Fatalf("paper-fidelity.md:%d: %v", r.line, err)
			}
			if got, w := valueOf(t, cfg, r.key), valueOf(t, want, r.key); !reflect.DeepEqual(got, w) {
				t.Errorf("%s: %s = %#v, want the official %#v (paper-fidelity.md:%d, %s)", file, r.key, got, w, r.line, r.description)
			}
		}
		for _, k := range []string{"rule.name", "model.arch", "model.init", "model.fc_init", "optim.lr", "data.test_limit", "rule.bias", "rule.null_border"} {
			if !checked[k] {
				t.Errorf("%s: no row of the table checks %s", file, k)
			}
		}
	}
	for i, r := range rows {
		if !used[i] {
			t.Errorf("paper-fidelity.md:%d: %s matches no file in configs/paper (files %v)", r.line, r.key, r.files)
		}
	}
}
