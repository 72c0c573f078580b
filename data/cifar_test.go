package data

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarRecords returns CIFAR records of kind with the given labels (for
// CIFAR-100, the fine label is l and the coarse one l/5) and pixel bytes
// drawn from a generator seeded by seed.
func cifarRecords(kind CIFARKind, seed uint64, labels ...int) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	var b []byte
	for _, l := range labels {
		if kind == CIFAR10 {
			b = append(b, byte(l))
		} else {
			b = append(b, byte(l/5), byte(l))
		}
		for range cifarPixels {
			b = append(b, byte(rng.Uint32()))
		}
	}
	return b
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParseCIFAR(t *testing.T) {
	two := cifarRecords(CIFAR10, 1, 3, 9)
	c100 := cifarRecords(CIFAR100, 2, 99, 0, 42)
	tests := []struct {
		name   string
		in     []byte
		kind   CIFARKind
		labels []int32
		err    error
	}{
		{"cifar10", two, CIFAR10, []int32{3, 9}, nil},
		{"cifar100 fine", c100, CIFAR100, []int32{99, 0, 42}, nil},
		{"cifar100 coarse", c100, CIFAR100Coarse, []int32{19, 0, 8}, nil},
		{"empty", nil, CIFAR10, nil, ErrTruncated},
		{"cut", two[:len(two)-1], CIFAR10, nil, ErrTruncated},
		{"extra byte", append(slices.Clone(two), 0), CIFAR10, nil, ErrTruncated},
		// CIFAR-100 records read as CIFAR-10: 3·3074 bytes are not 3073-byte records.
		{"wrong format", c100, CIFAR10, nil, ErrTruncated},
		{"label 10", cifarRecords(CIFAR10, 3, 1, 10), CIFAR10, nil, ErrLabelRange},
		{"label 255", cifarRecords(CIFAR10, 3, 255), CIFAR10, nil, ErrLabelRange},
		{"fine 100", cifarRecords(CIFAR100, 4, 100), CIFAR100, nil, ErrLabelRange},
		// Fine label 104 has coarse label 20: out of range for the coarse reading only.
		{"coarse 20", cifarRecords(CIFAR100, 4, 104), CIFAR100Coarse, nil, ErrLabelRange},
	}
	for _, tc := range tests {
		m, err := ParseCIFAR(tc.in, tc.kind)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		got := make([]int32, m.Len())
		for i := range got {
			got[i] = m.Label(i)
		}
		if !slices.Equal(got, tc.labels) || !slices.Equal(m.Shape(), []int{3, 32, 32}) || m.Classes() != tc.kind.Classes() {
			t.Errorf("%s: labels %v, shape %v, %d classes", tc.name, got, m.Shape(), m.Classes())
		}
		// Sample 1's pixels are the record's bytes after its label(s): red
		// plane first, so value (c, y, x) is byte c·1024 + y·32 + x.
		rec, lb := tc.kind.RecordSize(), 1+int(min(tc.kind, 1))
		x := make([]float32, cifarPixels)
		m.Read(1, x)
		for _, v := range []int{0, 31, 32, 1023, 1024, 2048 + 5*32 + 7, 3071} {
			if x[v] != float32(tc.in[rec+lb+v]) {
				t.Errorf("%s: value %d is %v, want %v", tc.name, v, x[v], tc.in[rec+lb+v])
			}
		}
	}
}

// writeCIFAR10 writes a small CIFAR-10 data set into dir: five training
// batches of 2, 3, 1, 2, 2 records and a test batch of 3, with labels
// 0, 1, 2, ... in file order.
func writeCIFAR10(t testing.TB, dir string, meta string) {
	l := 0
	next := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i], l = l%10, l+1
		}
		return s
	}
	for i, n := range []int{2, 3, 1, 2, 2} {
		writeFile(t, filepath.Join(dir, cifarSpecs[CIFAR10].train[i]), cifarRecords(CIFAR10, uint64(i), next(n)...))
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarRecords(CIFAR10, 9, next(3)...))
	if meta != "" {
		writeFile(t, filepath.Join(dir, "batches.meta.txt"), []byte(meta))
	}
}

func TestLoadCIFARDir(t *testing.T) {
	flat := t.TempDir()
	writeCIFAR10(t, flat, "")
	nested := t.TempDir()
	names := "plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n\n"
	writeCIFAR10(t, filepath.Join(nested, "cifar-10-batches-bin"), names)
	for _, dir := range []string{flat, nested} {
		train, test, classes, err := LoadCIFARDir(dir, CIFAR10)
		if err != nil {
			t.Fatal(err)
		}
		if train.Len() != 10 || test.Len() != 3 {
			t.Fatalf("%d training, %d test samples, want 10 and 3", train.Len(), test.Len())
		}
		for i := range 10 {
			if train.Label(i) != int32(i) {
				t.Errorf("training sample %d has label %d: files read out of order", i, train.Label(i))
			}
		}
		// Sample 2 is the first record of data_batch_2.bin.
		b2, _ := os.ReadFile(filepath.Join(dir, "data_batch_2.bin"))
		if b2 == nil {
			b2, _ = os.ReadFile(filepath.Join(dir, "cifar-10-batches-bin", "data_batch_2.bin"))
		}
		if !slices.Equal(train.Pixels(2), b2[1:cifarPixels+1]) || test.Label(2) != 2 {
			t.Error("pixels of training sample 2 differ from data_batch_2.bin's first record")
		}
		want := "airplane"
		if dir == nested {
			want = "plane"
		}
		if len(classes) != 10 || classes[0] != want || classes[9] != "truck" {
			t.Errorf("class names %v", classes)
		}
	}

	c100 := t.TempDir()
	writeFile(t, filepath.Join(c100, "cifar-100-binary", "train.bin"), cifarRecords(CIFAR100, 1, 5, 17, 99))
	writeFile(t, filepath.Join(c100, "cifar-100-binary", "test.bin"), cifarRecords(CIFAR100, 2, 64))
	train, test, classes, err := LoadCIFARDir(c100, CIFAR100)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 3 || test.Len() != 1 || train.Label(1) != 17 || test.Label(0) != 64 || len(classes) != 100 || classes[64] != "64" {
		t.Errorf("CIFAR-100: %d/%d samples, labels %d %d, %d names", train.Len(), test.Len(), train.Label(1), test.Label(0), len(classes))
	}
	_, test, classes, err = LoadCIFARDir(c100, CIFAR100Coarse)
	if err != nil || test.Label(0) != 12 || len(classes) != 20 {
		t.Errorf("CIFAR-100 coarse: %v, label %d, %d names", err, test.Label(0), len(classes))
	}
}

func TestLoadCIFARErrors(t *testing.T) {
	good := cifarRecords(CIFAR10, 1, 1, 2, 3)
	tests := []struct {
		name  string
		file  string // file to replace
		data  []byte
		err   error
		inMsg []string
	}{
		{"truncated", "data_batch_3.bin", good[:len(good)-100], ErrTruncated,
			[]string{"data_batch_3.bin", "not a whole number of 3073-byte CIFAR-10 records", "asym data fetch cifar10"}},
		{"empty", "test_batch.bin", []byte{}, ErrTruncated, []string{"test_batch.bin", "empty"}},
		{"label", "data_batch_5.bin", cifarRecords(CIFAR10, 1, 1, 2, 12), ErrLabelRange,
			[]string{"data_batch_5.bin", "record 2 has label 12, want 0..9"}},
		{"names", "batches.meta.txt", []byte("a\nb\n"), ErrBadClassNames, []string{"batches.meta.txt", "2 lines"}},
		{"blank name", "batches.meta.txt", []byte("a\n\nc\nd\ne\nf\ng\nh\ni\nj\n"), ErrBadClassNames, []string{"line 2 is empty"}},
		{"missing", "data_batch_4.bin", nil, ErrNotFound, []string{"data_batch_4.bin"}},
		{"no test", "test_batch.bin", nil, ErrNotFound, []string{"test_batch.bin", "cifar-10-batches-bin"}},
	}
	for _, tc := range tests {
		dir := t.TempDir()
		writeCIFAR10(t, dir, "")
		p := filepath.Join(dir, tc.file)
		if tc.data == nil {
			os.Remove(p)
		} else {
			writeFile(t, p, tc.data)
		}
		_, _, _, err := LoadCIFARDir(dir, CIFAR10)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			continue
		}
		for _, s := range tc.inMsg {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, s)
			}
		}
	}
	if _, err := LoadCIFAR(CIFAR10, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as a file: %v", err)
	}
}

func TestOpenCIFAR(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR10(t, filepath.Join(dir, "cifar-10-batches-bin"), "")
	train, test, info, err := Open("cifar10", dir)
	if err != nil {
		t.Fatal(err)
	}
	norm, _ := ComputeNorm(train)
	if train.Len() != 10 || test.Len() != 3 || info.Classes != 10 || info.ClassNames[1] != "automobile" ||
		!slices.Equal(info.Shape, []int{3, 32, 32}) || info.Augment != (Augment{Pad: 4, FlipH: true}) ||
		!slices.Equal(info.Norm.Mean, norm.Mean) || len(info.Norm.Std) != 3 || info.Source != dir {
		t.Errorf("info %+v", info)
	}
	for _, name := range []string{"cifar10", "cifar100"} {
		_, _, _, err = Open(name, t.TempDir())
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "asym data fetch "+name) {
			t.Errorf("%s in an empty directory: %v", name, err)
		}
	}
	// The standard constants are on the raw scale.
	if m := CIFAR10Norm.Mean[0]; m < 125 || m > 126 {
		t.Errorf("CIFAR10Norm.Mean[0] = %v, want 0.4914·255", m)
	}
}

// FuzzCIFAR checks that ParseCIFAR never panics and that what it accepts
// is exactly the input's records.
func FuzzCIFAR(f *testing.F) {
	f.Add(cifarRecords(CIFAR10, 1, 0, 9), uint8(0))
	f.Add(cifarRecords(CIFAR100, 1, 7, 99), uint8(1))
	f.Add(cifarRecords(CIFAR100, 1, 80), uint8(2))
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{10}, uint8(0))
	f.Add(cifarRecords(CIFAR10, 2, 3)[:3072], uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, k uint8) {
		kind := CIFARKind(k % 3)
		m, err := ParseCIFAR(b, kind)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrLabelRange) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		rec := kind.RecordSize()
		if m.Len()*rec != len(b) || m.Len() == 0 {
			t.Fatalf("%d samples from %d bytes", m.Len(), len(b))
		}
		for i := range m.Len() {
			if int(m.Label(i)) >= kind.Classes() || !slices.Equal(m.Pixels(i), b[(i+1)*rec-cifarPixels:(i+1)*rec]) {
				t.Fatalf("sample %d differs from its record", i)
			}
		}
	})
}
