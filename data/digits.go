package data

import (
	"bufio"
	"bytes"
	_ "embed" // for the digits data set
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// digitsGz is the UCI digits data set by E. Alpaydin and C. Kaynak (1998),
// CC BY 4.0; see the NOTICE file.
//
//go:embed digits.csv.gz
var digitsGz []byte

// ErrBadCSV: a row of a digits CSV file is malformed.
var ErrBadCSV = errors.New("malformed digits CSV row")

// DigitsSplitSeed seeds the fixed train/test split of the digits data set
// (see [Digits]).
const DigitsSplitSeed = 1998

// DigitsTestFraction is the share of each class that [Digits] puts in the
// test split.
const DigitsTestFraction = 0.2

// Shape and value range of the digits data set.
const (
	digitsSide     = 8
	digitsMaxValue = 16
	digitsClasses  = 10
)

// ParseDigitsCSV reads a digits CSV file, gzip-compressed or not: one row
// per sample, no header, 64 comma-separated integers 0..16 (an 8×8 image,
// row-major) then the label 0..9, "\n" or "\r\n" line ends. Fields are
// plain decimal digits, with no spaces or signs. An error names the line
// and field and wraps [ErrBadCSV] or [ErrLabelRange] (or [ErrTruncated] or
// [ErrCorrupt] for a damaged gzip stream).
func ParseDigitsCSV(r io.Reader) (*Memory, error) {
	r, err := decompress(r)
	if err != nil {
		return nil, err
	}
	er := &errReader{r: r}
	sc := bufio.NewScanner(er)
	sc.Buffer(make([]byte, 0, 512), 512) // a valid row has at most 64·3+2 bytes
	var pix []uint8
	var labels []int32
	line := 0
	for sc.Scan() {
		line++
		field, err := parseDigitsRow(strings.TrimSuffix(sc.Text(), "\r"), &pix, &labels)
		switch {
		case err == nil:
		case er.err != nil: // the scanner passes on the part of a line read before a read error
			return nil, fmt.Errorf("line %d: %w", line, readErr(er.err))
		case field > 0:
			return nil, fmt.Errorf("line %d, field %d: %w", line, field, err)
		default:
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: %w: line too long", line+1, ErrBadCSV)
		}
		return nil, fmt.Errorf("line %d: %w", line+1, readErr(err))
	}
	if line == 0 {
		return nil, fmt.Errorf("%w: no rows", ErrBadCSV)
	}
	return NewMemory([]int{1, digitsSide, digitsSide}, digitsClasses, pix, labels), nil
}

// parseDigitsRow appends the values and the label of a row to pix and
// labels. On error it also returns the number of the field at fault, or 0
// if the error concerns the whole row.
func parseDigitsRow(row string, pix *[]uint8, labels *[]int32) (field int, err error) {
	const fields = digitsSide*digitsSide + 1
	if row == "" {
		return 0, fmt.Errorf("%w: empty line", ErrBadCSV)
	}
	f := 0
	for s := range strings.SplitSeq(row, ",") {
		if f++; f > fields {
			return 0, fmt.Errorf("%w: more than %d fields", ErrBadCSV, fields)
		}
		v, ok := smallUint(s)
		switch {
		case !ok:
			return f, fmt.Errorf("%w: %.10q is not a number of 1 to 3 decimal digits", ErrBadCSV, s)
		case f == fields && v >= digitsClasses:
			return f, fmt.Errorf("%w: label %d, want 0..%d", ErrLabelRange, v, digitsClasses-1)
		case f == fields:
			*labels = append(*labels, int32(v))
		case v > digitsMaxValue:
			return f, fmt.Errorf("%w: value %d, want 0..%d", ErrBadCSV, v, digitsMaxValue)
		default:
			*pix = append(*pix, uint8(v))
		}
	}
	if f != fields {
		return 0, fmt.Errorf("%w: %d fields, want %d", ErrBadCSV, f, fields)
	}
	return 0, nil
}

// errReader records the first error of its reader other than io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// smallUint parses 1 to 3 decimal digits.
func smallUint(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = 10*v + int(c-'0')
	}
	return v, true
}

var digitsAll = sync.OnceValue(func() *Memory {
	m, err := ParseDigitsCSV(bytes.NewReader(digitsGz))
	if err != nil { // the embedded file is checked by the tests
		panic("data: embedded digits.csv.gz: " + err.Error())
	}
	return m
})

// Digits returns the training and test splits of the embedded UCI digits
// data set (1×8×8 images, values 0..16, 10 classes): the fixed split
// StratifiedSplit(all, DigitsTestFraction, DigitsSplitSeed), which holds
// 1438 training and 359 test samples. The file is parsed once per process;
// the splits share its memory.
func Digits() (train, test Dataset) {
	return StratifiedSplit(digitsAll(), DigitsTestFraction, DigitsSplitSeed)
}
