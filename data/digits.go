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
	const fields = digitsSide*digitsSide + 1
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), 512) // a valid row has at most 64·3+2 bytes
	var pix []uint8
	var labels []int32
	line := 0
	for sc.Scan() {
		line++
		row := strings.TrimSuffix(sc.Text(), "\r")
		f := 0
		for field := range strings.SplitSeq(row, ",") {
			if f++; f > fields {
				return nil, fmt.Errorf("line %d: %w: more than %d fields", line, ErrBadCSV, fields)
			}
			v, ok := smallUint(field)
			switch {
			case !ok:
				return nil, fmt.Errorf("line %d, field %d: %w: %.10q is not a number of 1 to 3 decimal digits", line, f, ErrBadCSV, field)
			case f == fields && v >= digitsClasses:
				return nil, fmt.Errorf("line %d, field %d: %w: label %d, want 0..%d", line, f, ErrLabelRange, v, digitsClasses-1)
			case f == fields:
				labels = append(labels, int32(v))
			case v > digitsMaxValue:
				return nil, fmt.Errorf("line %d, field %d: %w: value %d, want 0..%d", line, f, ErrBadCSV, v, digitsMaxValue)
			default:
				pix = append(pix, uint8(v))
			}
		}
		if f != fields {
			return nil, fmt.Errorf("line %d: %w: %d fields, want %d", line, ErrBadCSV, f, fields)
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
