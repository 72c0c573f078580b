package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CIFARKind selects a CIFAR binary format and the labels read from it.
type CIFARKind int

// The CIFAR binary formats (https://www.cs.toronto.edu/~kriz/cifar.html).
// Every record holds its label byte(s) then 3072 pixel bytes: the 1024 red
// values of the 32×32 image row by row, then the green, then the blue ones,
// which is the (3, 32, 32) layout of a sample.
const (
	// CIFAR10 records have 1 label byte (0..9): 3073 bytes.
	CIFAR10 CIFARKind = iota
	// CIFAR100 records have a coarse (0..19) then a fine (0..99) label
	// byte: 3074 bytes. CIFAR100 reads the fine labels.
	CIFAR100
	// CIFAR100Coarse reads the coarse labels (20 superclasses) of CIFAR-100
	// records.
	CIFAR100Coarse
)

// cifarPixels is the number of pixel bytes of a CIFAR record.
const cifarPixels = 3 * 32 * 32

// MaxCIFARBytes bounds the size of a CIFAR file (1 GiB; the largest
// official one, CIFAR-100's train.bin, has 153.7 MB).
const MaxCIFARBytes = 1 << 30

// ErrBadClassNames: a class-name file does not hold one name per class.
var ErrBadClassNames = errors.New("bad class-name file")

// cifarSpec describes the files of one CIFAR data set.
type cifarSpec struct {
	title      string   // for messages
	registry   string   // name for [Open] and `asym data fetch`
	subdir     string   // directory the official archive unpacks to
	train      []string // training files, in order
	test       string
	namesFile  string
	labelBytes int
	labelAt    int // index of the label byte used
	classes    int
	names      []string // fallback class names, if any
}

var cifarSpecs = [...]cifarSpec{
	CIFAR10: {
		title: "CIFAR-10", registry: "cifar10", subdir: "cifar-10-batches-bin",
		train: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		test:  "test_batch.bin", namesFile: "batches.meta.txt", labelBytes: 1, labelAt: 0, classes: 10,
		names: []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"},
	},
	CIFAR100: {
		title: "CIFAR-100", registry: "cifar100", subdir: "cifar-100-binary",
		train: []string{"train.bin"}, test: "test.bin", namesFile: "fine_label_names.txt",
		labelBytes: 2, labelAt: 1, classes: 100,
	},
	CIFAR100Coarse: {
		title: "CIFAR-100 (coarse labels)", registry: "cifar100", subdir: "cifar-100-binary",
		train: []string{"train.bin"}, test: "test.bin", namesFile: "coarse_label_names.txt",
		labelBytes: 2, labelAt: 0, classes: 20,
	},
}

func (k CIFARKind) spec() *cifarSpec {
	if k < 0 || int(k) >= len(cifarSpecs) {
		panic(fmt.Sprintf("data: unknown CIFARKind %d", int(k)))
	}
	return &cifarSpecs[k]
}

// RecordSize returns the number of bytes of a record.
func (k CIFARKind) RecordSize() int { return k.spec().labelBytes + cifarPixels }

// Classes returns the number of classes of the labels read.
func (k CIFARKind) Classes() int { return k.spec().classes }

// String returns the format's name.
func (k CIFARKind) String() string { return k.spec().title }

// ParseCIFAR parses CIFAR records held in b into a data set of shape
// (3, 32, 32) with raw values 0..255. b must hold a whole, non-zero number
// of records whose labels lie in range; errors wrap [ErrTruncated] or
// [ErrLabelRange].
func ParseCIFAR(b []byte, kind CIFARKind) (*Memory, error) {
	rec := kind.RecordSize()
	if err := cifarSize(int64(len(b)), kind); err != nil {
		return nil, err
	}
	n := len(b) / rec
	pix, labels := make([]uint8, n*cifarPixels), make([]int32, n)
	for r := range n {
		if err := cifarRecord(b[r*rec:(r+1)*rec], r, kind, pix[r*cifarPixels:], labels); err != nil {
			return nil, err
		}
	}
	return NewMemory([]int{3, 32, 32}, kind.Classes(), pix, labels), nil
}

// cifarSize checks that size bytes are a whole, non-zero number of records
// and at most MaxCIFARBytes.
func cifarSize(size int64, kind CIFARKind) error {
	rec := int64(kind.RecordSize())
	switch {
	case size == 0:
		return fmt.Errorf("%w: the file is empty", ErrTruncated)
	case size > MaxCIFARBytes:
		return fmt.Errorf("%w: %d bytes, more than the %d a CIFAR file may have", ErrTrailingData, size, int64(MaxCIFARBytes))
	case size%rec != 0:
		return fmt.Errorf("%w: %d bytes is not a whole number of %d-byte %s records (%d records and %d bytes)",
			ErrTruncated, size, rec, kind, size/rec, size%rec)
	}
	return nil
}

// cifarRecord splits record r into its pixels (copied into pix) and its
// label (stored in labels[r]).
func cifarRecord(rec []byte, r int, kind CIFARKind, pix []uint8, labels []int32) error {
	s := kind.spec()
	l := rec[s.labelAt]
	if int(l) >= s.classes {
		return fmt.Errorf("%w: record %d has label %d, want 0..%d", ErrLabelRange, r, l, s.classes-1)
	}
	labels[r] = int32(l)
	copy(pix[:cifarPixels], rec[s.labelBytes:])
	return nil
}

// LoadCIFAR reads CIFAR binary files of one format, in order, into one data
// set of shape (3, 32, 32). Each file must hold a whole, non-zero number of
// records with labels in range; an error names the file and says what to
// do. Memory is allocated from the files' sizes, that is, from the bytes
// actually present.
func LoadCIFAR(kind CIFARKind, paths ...string) (*Memory, error) {
	rec := kind.RecordSize()
	hint := fmt.Sprintf("replace it with an intact copy (asym data fetch %s --to DIR)", kind.spec().registry)
	files := make([]*os.File, len(paths))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	counts := make([]int, len(paths))
	total := int64(0)
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("data: %s: %w", p, ErrNotFound)
			}
			return nil, fmt.Errorf("data: %w", err)
		}
		files[i] = f
		st, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("data: %s: not a regular file; give the directory holding the %s files", p, kind)
		}
		if err := cifarSize(st.Size(), kind); err != nil {
			return nil, fmt.Errorf("data: %s: %w; %s", p, err, hint)
		}
		if total += st.Size(); total > MaxCIFARBytes {
			return nil, fmt.Errorf("data: %s: %w: the files hold more than %d bytes together", p, ErrTrailingData, int64(MaxCIFARBytes))
		}
		counts[i] = int(st.Size()) / rec
	}
	n := int(total) / rec
	pix, labels := make([]uint8, n*cifarPixels), make([]int32, n)
	buf := make([]byte, rec)
	r0 := 0
	for i, f := range files {
		br := bufio.NewReaderSize(f, 1<<16)
		for r := range counts[i] {
			if _, err := io.ReadFull(br, buf); err != nil {
				return nil, fmt.Errorf("data: %s: record %d: %w (the file shrank while being read); %s", paths[i], r, readErr(err), hint)
			}
			if err := cifarRecord(buf, r, kind, pix[(r0+r)*cifarPixels:], labels[r0:]); err != nil {
				return nil, fmt.Errorf("data: %s: %w; the file is not a %s file or is damaged: %s", paths[i], err, kind, hint)
			}
		}
		r0 += counts[i]
	}
	return NewMemory([]int{3, 32, 32}, kind.Classes(), pix, labels), nil
}

// cifarDir returns the directory holding the files of kind: dir itself or
// its sub-directory named as in the official archive.
func cifarDir(dir string, kind CIFARKind) (string, error) {
	s := kind.spec()
	for _, d := range []string{dir, filepath.Join(dir, s.subdir)} {
		if _, err := os.Stat(filepath.Join(d, s.test)); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("data: %s: no %s (nor %s/%s): %w", dir, s.test, s.subdir, s.test, ErrNotFound)
}

// LoadCIFARDir reads the training and test splits of a CIFAR data set in
// its official binary format from dir, or from dir's sub-directory
// cifar-10-batches-bin or cifar-100-binary (where the official archives
// unpack): data_batch_1.bin to data_batch_5.bin and test_batch.bin for
// CIFAR-10, train.bin and test.bin for CIFAR-100. It also returns the class
// names, read from batches.meta.txt, fine_label_names.txt or
// coarse_label_names.txt if present (else CIFAR-10's standard names, or
// the label numbers).
func LoadCIFARDir(dir string, kind CIFARKind) (train, test *Memory, classNames []string, err error) {
	s := kind.spec()
	if dir, err = cifarDir(dir, kind); err != nil {
		return nil, nil, nil, err
	}
	paths := make([]string, len(s.train))
	for i, f := range s.train {
		paths[i] = filepath.Join(dir, f)
	}
	if classNames, err = readClassNames(filepath.Join(dir, s.namesFile), s.classes); err != nil {
		return nil, nil, nil, err
	}
	if classNames == nil {
		classNames = s.names
	}
	if classNames == nil {
		classNames = make([]string, s.classes)
		for i := range classNames {
			classNames[i] = fmt.Sprint(i)
		}
	}
	done := make(chan error, 1)
	go func() {
		var err error
		test, err = LoadCIFAR(kind, filepath.Join(dir, s.test))
		done <- err
	}()
	train, err = LoadCIFAR(kind, paths...)
	if terr := <-done; err == nil {
		err = terr
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return train, test, append([]string(nil), classNames...), nil
}

// readClassNames reads a file of class names, one a line (blank lines at
// the end are ignored). It returns nil, nil if the file does not exist.
func readClassNames(path string, classes int) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	var names []string
	for sc.Scan() {
		names = append(names, strings.TrimSpace(sc.Text()))
		if len(names) > classes+1000 {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data: %s: %w: %v", path, ErrBadClassNames, err)
	}
	for len(names) > 0 && names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	if len(names) != classes {
		return nil, fmt.Errorf("data: %s: %w: %d lines, want one name for each of %d classes; fix or delete the file",
			path, ErrBadClassNames, len(names), classes)
	}
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("data: %s: %w: line %d is empty; fix or delete the file", path, ErrBadClassNames, i+1)
		}
	}
	return names, nil
}

// Standard per-channel normalisation constants (R, G, B) on the raw 0..255
// scale: the mean and population standard deviation of the pixel values of
// CIFAR's training splits, and the ImageNet constants used by torchvision
// (0.485, 0.456, 0.406 and 0.229, 0.224, 0.225 times 255); the CIFAR
// values are the commonly published ones, rounded to 4 digits (the
// official files are not at hand to check them). [Open] computes CIFAR's
// constants from the training split it reads; it uses ImageNetNorm for
// image folders, whose statistics would take an epoch of decoding.
var (
	CIFAR10Norm  = Norm{Mean: scale255(0.4914, 0.4822, 0.4465), Std: scale255(0.2470, 0.2435, 0.2616)}
	CIFAR100Norm = Norm{Mean: scale255(0.5071, 0.4865, 0.4409), Std: scale255(0.2673, 0.2564, 0.2762)}
	ImageNetNorm = Norm{Mean: scale255(0.485, 0.456, 0.406), Std: scale255(0.229, 0.224, 0.225)}
)

func scale255(v ...float32) []float32 {
	for i := range v {
		v[i] *= 255
	}
	return v
}
