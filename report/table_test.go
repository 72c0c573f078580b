package report_test

import (
	"math"
	"strings"
	"testing"

	"github.com/asymlab/asym/report"
)

func TestCellString(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		c    report.Cell
		want string
	}{
		{"text", report.Text("fa | kp"), "fa | kp"},
		{"number", report.Number(3.14159, 2), "3.14"},
		{"NaN number", report.Number(nan, 2), "— (1 diverged)"},
		{"one value", report.Values([]float64{91.234}, 1), "91.2"},
		// mean 2, sample std 1.
		{"mean ± std", report.Values([]float64{1, 2, 3}, 2), "2.00 ± 1.00"},
		{"with diverged", report.Values([]float64{1, 3, nan}, 1), "2.0 ± 1.4 (1 diverged)"},
		{"none", report.Values(nil, 1), "—"},
		{"stat", report.MeanStd(report.Stat{Mean: 0.5, Std: 0.25, N: 4}, 3), "0.500 ± 0.250"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func sampleTable() *report.Table {
	tab := &report.Table{Title: "Compare", Columns: []string{"rule", "test acc (%)", "note"}, Note: "3 seeds."}
	tab.Add(report.Text("bp"), report.Values([]float64{90, 92}, 1), report.Text("exact"))
	tab.Add(report.Text("fa|dfa"), report.Values([]float64{80}, 1), report.Text("a <b>\nc"))
	return tab
}

func TestTableMarkdown(t *testing.T) {
	got := sampleTable().Markdown()
	want := "**Compare**\n\n" +
		"| rule | test acc (%) | note |\n" +
		"|:---|---:|:---|\n" +
		"| bp | 91.0 ± 1.4 | exact |\n" +
		"| fa\\|dfa | 80.0 | a <b> c |\n" +
		"\n3 seeds.\n"
	if got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
	// Every table row has as many unescaped cell separators as the header.
	lines := strings.Split(strings.TrimSpace(got), "\n")
	rows := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "|") {
			rows++
			if n := strings.Count(l, "|") - strings.Count(l, "\\|"); n != 4 {
				t.Errorf("row %q has %d separators, want 4", l, n)
			}
		}
	}
	if rows != 4 { // header, alignment, 2 rows
		t.Errorf("%d table lines, want 4", rows)
	}
}

func TestTableHTML(t *testing.T) {
	h := string(sampleTable().HTML())
	for _, s := range []string{"<caption>Compare</caption>", `<th class="num">test acc (%)</th>`, `<td class="num">91.0 ± 1.4</td>`,
		"a &lt;b&gt;\nc", `<p class="note">3 seeds.</p>`} {
		if !strings.Contains(h, s) {
			t.Errorf("HTML does not contain %q:\n%s", s, h)
		}
	}
	if strings.Count(h, "<tr>") != 3 {
		t.Errorf("HTML has %d rows, want 3 (header and 2)", strings.Count(h, "<tr>"))
	}
}

func TestTableAddPanics(t *testing.T) {
	defer func() {
		if r, _ := recover().(string); !strings.HasPrefix(r, "report: ") {
			t.Errorf("recovered %q, want a report: panic", r)
		}
	}()
	tab := &report.Table{Columns: []string{"a", "b"}}
	tab.Add(report.Text("only one"))
}

// A numeric column with stub cells ("–", "no B") stays right-aligned.
func TestStubKeepsColumnNumeric(t *testing.T) {
	tab := &report.Table{Columns: []string{"rule", "gap", "note"}}
	tab.Add(report.Text("bp"), report.Stub("–"), report.Text("x"))
	tab.Add(report.Text("fa"), report.Number(1.5, 2), report.Text("y"))
	md := tab.Markdown()
	if !strings.Contains(md, "|:---|---:|:---|") || !strings.Contains(md, "| bp | – | x |") {
		t.Errorf("markdown:\n%s", md)
	}
	if h := string(tab.HTML()); !strings.Contains(h, `<td class="num">–</td>`) {
		t.Errorf("HTML stub cell not right-aligned:\n%s", h)
	}
	only := &report.Table{Columns: []string{"a"}}
	only.Add(report.Stub("–"))
	if !strings.Contains(only.Markdown(), "|:---|") {
		t.Errorf("a column of stubs only is not numeric:\n%s", only.Markdown())
	}
}
