package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

// csvColumns are the first columns of [WriteCSV], in this order; other
// fields of the records follow, sorted by name.
var csvColumns = []string{"kind", "step", "epoch", "layer", "rule", "bound", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
	"weight_angle", "projection_angle", "gradient_angle", "end_to_end_angle", "norm_ratio", "regularizer", "no_b"}

// WriteCSV converts a metrics.jsonl stream (name is used in errors) to
// CSV on w, for plotting with other tools: a header, then one row per
// record — per-epoch records ("epoch"), training-loss records every N
// steps ("step") and per-layer alignment records ("align") — with a
// column per field (empty where a record has no such field or its value is
// null). kinds, if not empty, keeps only the records of those kinds. A
// record repeated by a resumed run (same kind, step, epoch and layer)
// appears once, with its last values, where it first appeared. Errors
// wrap [ErrMetrics] and name the line.
func WriteCSV(w io.Writer, rd io.Reader, name string, kinds []string) error {
	type rec struct {
		fields map[string]json.RawMessage
	}
	var recs []rec
	at := map[string]int{}
	extra := map[string]bool{}
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(line, &f); err != nil {
			return fmt.Errorf("%w: %s line %d: not a JSON object: %v", ErrMetrics, name, n, err)
		}
		var kind string
		if err := json.Unmarshal(f["kind"], &kind); err != nil || kind == "" {
			return fmt.Errorf("%w: %s line %d: no \"kind\" field", ErrMetrics, name, n)
		}
		if len(kinds) > 0 && !slices.Contains(kinds, kind) {
			continue
		}
		for k := range f {
			if !slices.Contains(csvColumns, k) {
				extra[k] = true
			}
		}
		key := kind + "\x00" + string(f["step"]) + "\x00" + string(f["epoch"]) + "\x00" + string(f["layer"])
		if i, ok := at[key]; ok {
			recs[i] = rec{f}
			continue
		}
		at[key] = len(recs)
		recs = append(recs, rec{f})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%w: %s line %d: longer than %d bytes", ErrMetrics, name, n+1, MaxLineBytes)
		}
		return fmt.Errorf("report: reading %s: %w", name, err)
	}
	cols := slices.Clone(csvColumns)
	more := make([]string, 0, len(extra))
	for k := range extra {
		more = append(more, k)
	}
	sort.Strings(more)
	cols = append(cols, more...)
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return fmt.Errorf("report: writing CSV: %w", err)
	}
	row := make([]string, len(cols))
	for _, r := range recs {
		for j, c := range cols {
			row[j] = csvCell(r.fields[c])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("report: writing CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: writing CSV: %w", err)
	}
	return nil
}

// csvCell formats a JSON value for a CSV cell: strings unquoted, numbers
// and booleans as written, null and missing values empty, anything else as
// its JSON text.
func csvCell(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return string(v)
}
