package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Cell is one table cell: text, or a number or mean ± std.
type Cell struct {
	// Text is shown as is when Numeric is false.
	Text string
	// Numeric marks a number cell (right-aligned): Value formatted with
	// Digits decimals, with " ± Std" when Value.N ≥ 2.
	Numeric bool
	Value   Stat
	Digits  int
	// Stub marks a text cell standing in a numeric column for a value
	// that does not exist ("–", "no B"): the column stays right-aligned.
	Stub bool
}

// Text returns a text cell.
func Text(s string) Cell { return Cell{Text: s} }

// Stub returns a text cell that stands for a missing value in a numeric
// column ("–" where a value does not apply, "no B" for a rule without
// backward weights); it does not make the column a text column.
func Stub(s string) Cell { return Cell{Text: s, Stub: true} }

// Number returns a cell with one value.
func Number(v float64, digits int) Cell {
	s := Stat{Mean: v, N: 1}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s = Stat{Mean: math.NaN(), Bad: 1}
	}
	return Cell{Numeric: true, Value: s, Digits: digits}
}

// MeanStd returns a cell showing s as mean ± std.
func MeanStd(s Stat, digits int) Cell { return Cell{Numeric: true, Value: s, Digits: digits} }

// Values returns a cell with the mean ± std of xs (see [Summarize]).
func Values(xs []float64, digits int) Cell { return MeanStd(Summarize(xs), digits) }

// String formats the cell: "12.34 ± 0.56" for several values, "12.34" for
// one, "—" when there is no finite value, and " (k diverged)" appended
// when k values were NaN or infinite.
func (c Cell) String() string {
	if !c.Numeric {
		return c.Text
	}
	v := c.Value
	var s string
	switch {
	case v.N == 0:
		s = "—"
	case v.N == 1:
		s = fmt.Sprintf("%.*f", c.Digits, v.Mean)
	default:
		s = fmt.Sprintf("%.*f ± %.*f", c.Digits, v.Mean, c.Digits, v.Std)
	}
	if v.Bad > 0 {
		s += fmt.Sprintf(" (%d diverged)", v.Bad)
	}
	return s
}

// Table is a result table.
type Table struct {
	// Title is shown above the table.
	Title string
	// Columns are the column headers.
	Columns []string
	// Rows hold the cells, one per column.
	Rows [][]Cell
	// Note is shown under the table.
	Note string
}

// Add appends a row. It panics if the row's length differs from the
// number of columns (a programmer error).
func (t *Table) Add(cells ...Cell) {
	if len(cells) != len(t.Columns) {
		panic(fmt.Sprintf("report: table %q: row of %d cells for %d columns", t.Title, len(cells), len(t.Columns)))
	}
	t.Rows = append(t.Rows, cells)
}

// numericColumn reports whether every cell of column j is numeric or a
// stub, and at least one is numeric.
func (t *Table) numericColumn(j int) bool {
	num := false
	for _, r := range t.Rows {
		if !r[j].Numeric && !r[j].Stub {
			return false
		}
		num = num || r[j].Numeric
	}
	return num
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "|", "\\|")
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// Markdown renders the table as a GitHub-flavoured Markdown table
// (numeric columns right-aligned), preceded by its title in bold and
// followed by its note, if any.
func (t *Table) Markdown() string {
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "**%s**\n\n", mdEscape(t.Title))
	}
	b.WriteString("|")
	for _, c := range t.Columns {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString("\n|")
	for j := range t.Columns {
		if t.numericColumn(j) {
			b.WriteString("---:|")
		} else {
			b.WriteString(":---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + mdEscape(c.String()) + " |")
		}
		b.WriteString("\n")
	}
	if t.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", t.Note)
	}
	return b.String()
}

var tableTmpl = template.Must(template.New("table").Parse(`<table>
{{- if .Title}}<caption>{{.Title}}</caption>{{end}}
<thead><tr>{{range .Head}}<th{{if .Num}} class="num"{{end}}>{{.Text}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range .}}<td{{if .Num}} class="num"{{end}}>{{.Text}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- if .Note}}
<p class="note">{{.Note}}</p>
{{- end}}`))

type htmlCell struct {
	Text string
	Num  bool
}

// HTML renders the table as an HTML <table> (text escaped).
func (t *Table) HTML() template.HTML {
	data := struct {
		Title, Note string
		Head        []htmlCell
		Rows        [][]htmlCell
	}{Title: t.Title, Note: t.Note}
	for j, c := range t.Columns {
		data.Head = append(data.Head, htmlCell{c, t.numericColumn(j)})
	}
	for _, r := range t.Rows {
		row := make([]htmlCell, len(r))
		for j, c := range r {
			row[j] = htmlCell{c.String(), c.Numeric || c.Stub}
		}
		data.Rows = append(data.Rows, row)
	}
	var b bytes.Buffer
	if err := tableTmpl.Execute(&b, data); err != nil {
		panic("report: table template: " + err.Error()) // the template is fixed
	}
	return template.HTML(b.String())
}
