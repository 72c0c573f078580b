package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// digitsRow returns a CSV row of 64 values v, v+1, ... (mod 17) and label.
func digitsRow(v, label int) string {
	f := make([]string, 65)
	for i := range 64 {
		f[i] = fmt.Sprint((v + i) % 17)
	}
	f[64] = fmt.Sprint(label)
	return strings.Join(f, ",")
}

func TestParseDigitsCSV(t *testing.T) {
	r0, r1 := digitsRow(0, 3), digitsRow(5, 9)
	good := r0 + "\n" + r1 + "\n"
	tests := []struct {
		name string
		in   string
		n    int    // rows, if valid
		err  error  // wrapped sentinel, if invalid
		msg  string // in the error message
	}{
		{"two rows", good, 2, nil, ""},
		{"no final newline", r0 + "\n" + r1, 2, nil, ""},
		{"crlf", r0 + "\r\n" + r1 + "\r\n", 2, nil, ""},
		{"gzip", string(gz([]byte(good))), 2, nil, ""},
		{"empty", "", 0, ErrBadCSV, "no rows"},
		{"64 fields", good + r0[:strings.LastIndexByte(r0, ',')] + "\n", 0, ErrBadCSV, "line 3: "},
		{"66 fields", r0 + ",1\n", 0, ErrBadCSV, "line 1: "},
		{"value 17", strings.Replace(good, "0,1,2", "0,17,2", 1), 0, ErrBadCSV, "line 1, field 2"},
		{"label 10", r0 + "\n" + r1[:len(r1)-1] + "10\n", 0, ErrLabelRange, "line 2, field 65"},
		{"negative", "-" + good, 0, ErrBadCSV, "line 1, field 1"},
		{"space", " " + good, 0, ErrBadCSV, "line 1, field 1"},
		{"decimal", strings.Replace(good, "0,1,2", "0,1.0,2", 1), 0, ErrBadCSV, "field 2"},
		{"empty field", strings.Replace(good, "0,1,2", "0,,2", 1), 0, ErrBadCSV, "field 2"},
		{"long number", strings.Replace(good, "0,1,2", "0,0001,2", 1), 0, ErrBadCSV, "field 2"},
		{"empty line", r0 + "\n\n" + r1, 0, ErrBadCSV, "line 2: "},
		{"header", "a,b\n" + good, 0, ErrBadCSV, "line 1, field 1"},
		{"long line", good + strings.Repeat("1,", 400) + "\n", 0, ErrBadCSV, "line 3: "},
		{"gzip cut", string(gz([]byte(good))[:40]), 0, ErrTruncated, ""},
		{"gzip corrupt", string(append(slices.Clone(gz([]byte(good))[:10]), 0x07)), 0, ErrCorrupt, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseDigitsCSV(strings.NewReader(tc.in))
			if !errors.Is(err, tc.err) || (err != nil && !strings.Contains(err.Error(), tc.msg)) {
				t.Fatalf("error %v, want %v with %q", err, tc.err, tc.msg)
			}
			if err != nil {
				return
			}
			if m.Len() != tc.n || !slices.Equal(m.Shape(), []int{1, 8, 8}) || m.Label(0) != 3 || m.Label(1) != 9 {
				t.Fatalf("got %d samples of %v", m.Len(), m.Shape())
			}
			buf := make([]float32, 64)
			m.Read(1, buf)
			if buf[0] != 5 || buf[11] != 16 || buf[12] != 0 || buf[63] != float32(68%17) {
				t.Errorf("row 2 read as %v", buf)
			}
		})
	}
}

func TestDigitsEmbedded(t *testing.T) {
	sum := sha256.Sum256(digitsGz)
	if got := hex.EncodeToString(sum[:]); got != "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a" {
		t.Errorf("digits.csv.gz sha256 %s differs from the one in NOTICE", got)
	}
	all := digitsAll()
	if all.Len() != 1797 || !slices.Equal(ClassCounts(all), []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}) {
		t.Fatalf("embedded digits: %d samples, class counts %v", all.Len(), ClassCounts(all))
	}
	train, test := Digits()
	wantTest := []int{36, 36, 35, 37, 36, 36, 36, 36, 35, 36} // round(0.2·n), as documented
	if train.Len() != 1438 || test.Len() != 359 || !slices.Equal(ClassCounts(test), wantTest) {
		t.Fatalf("split %d/%d, test class counts %v; want 1438/359, %v", train.Len(), test.Len(), ClassCounts(test), wantTest)
	}
	// The parts partition the data set, each in file order, and the split
	// is the same on every call.
	seen := make([]int, all.Len())
	for _, part := range []Dataset{train, test} {
		idx := part.(*subset).idx
		if !slices.IsSorted(idx) {
			t.Error("split part not in file order")
		}
		for _, i := range idx {
			seen[i]++
		}
	}
	if slices.ContainsFunc(seen, func(c int) bool { return c != 1 }) {
		t.Error("train and test do not partition the data set")
	}
	_, test2 := Digits()
	if !slices.Equal(test.(*subset).idx, test2.(*subset).idx) {
		t.Error("Digits returned different splits")
	}
}

func FuzzDigitsCSV(f *testing.F) {
	good := digitsRow(0, 3) + "\n" + digitsRow(7, 9) + "\n"
	f.Add([]byte(good))
	f.Add(gz([]byte(good)))
	f.Add([]byte(digitsRow(16, 0) + "\r\n"))
	f.Add([]byte("1,2,3\n"))
	f.Add([]byte(strings.Replace(good, "3\n", "12\n", 1)))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseDigitsCSV(bytes.NewReader(in))
		if err != nil {
			return
		}
		buf := make([]float32, 64)
		for i := range m.Len() {
			m.Read(i, buf)
			if l := m.Label(i); l < 0 || l > 9 || slices.Max(buf) > 16 || slices.Min(buf) < 0 {
				t.Fatalf("accepted sample %d: label %d, values %v", i, l, buf)
			}
		}
	})
}
