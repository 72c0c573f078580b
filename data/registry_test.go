package data

import (
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := writeIDXDir(t, 40, 20, 2, 3)
	tests := []struct {
		name, dir string
		err       error
		msg       string // in the error message
		n, m      int
		source    string
	}{
		{"digits", "", nil, "", 1438, 359, "embedded"},
		{"mnist", dir, nil, "", 40, 20, dir},
		{"fashion-mnist", dir, nil, "", 40, 20, dir},
		{"mnist", "", ErrNotFound, "--data-dir", 0, 0, ""},
		{"mnist", t.TempDir(), ErrNotFound, "--data-dir", 0, 0, ""},
		{"fashion-mnist", t.TempDir(), ErrNotFound, "apt-get install dataset-fashion-mnist", 0, 0, ""},
		{"cifar", "", ErrUnknownDataset, "valid names: digits, fashion-mnist, mnist", 0, 0, ""},
	}
	for _, tc := range tests {
		train, test, info, err := Open(tc.name, tc.dir)
		if !errors.Is(err, tc.err) || (err != nil && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("Open(%q, %q): error %v, want %v with %q", tc.name, tc.dir, err, tc.err, tc.msg)
			continue
		}
		if err != nil {
			continue
		}
		if train.Len() != tc.n || test.Len() != tc.m || info.Name != tc.name || info.Source != tc.source ||
			info.Classes != 10 || len(info.ClassNames) != 10 || !slices.Equal(info.Shape, train.Shape()) {
			t.Errorf("Open(%q): %d/%d samples, info %+v", tc.name, train.Len(), test.Len(), info)
		}
		if want, _ := ComputeNorm(train); !slices.Equal(info.Norm.Mean, want.Mean) || !slices.Equal(info.Norm.Std, want.Std) {
			t.Errorf("Open(%q): norm %v, want %v", tc.name, info.Norm, want)
		}
	}
}

// TestFashionMNIST reads the real data set where Debian's
// dataset-fashion-mnist package installed it.
func TestFashionMNIST(t *testing.T) {
	if _, err := os.Stat(FashionMNISTDir); err != nil {
		t.Skipf("Fashion-MNIST not installed (%v): apt-get install dataset-fashion-mnist", err)
	}
	if testing.Short() {
		t.Skip("decoding 30 MB of gzip takes about a second")
	}
	train, test, info, err := Open("fashion-mnist", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ds       Dataset
		n, per   int
		first    int32
		splitTag string
	}{{train, 60000, 6000, 9, "train"}, {test, 10000, 1000, 9, "test"}} {
		counts := ClassCounts(c.ds)
		if c.ds.Len() != c.n || slices.Min(counts) != c.per || slices.Max(counts) != c.per || c.ds.Label(0) != c.first {
			t.Errorf("%s: %d samples, class counts %v, first label %d", c.splitTag, c.ds.Len(), counts, c.ds.Label(0))
		}
	}
	// Published statistics: mean 0.2860 and std 0.3530 of the [0, 1]-scaled
	// training images, i.e. 72.93 and 90.02 on the raw scale, rounded to 4
	// digits: allow half a unit of the last digit (×255).
	if m, s := float64(info.Norm.Mean[0]), float64(info.Norm.Std[0]); math.Abs(m-0.2860*255) > 0.00005*255 || math.Abs(s-0.3530*255) > 0.00005*255 {
		t.Errorf("norm %v", info.Norm)
	}
	if !slices.Equal(info.Shape, []int{1, 28, 28}) || info.ClassNames[9] != "Ankle boot" {
		t.Errorf("info %+v", info)
	}
}
