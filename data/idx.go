package data

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Errors wrapped by the parsers and [Open]; test with errors.Is.
var (
	// ErrNotFound: a data set's file or directory does not exist.
	ErrNotFound = errors.New("data set not found")
	// ErrBadMagic: an IDX file does not start with 0x00 0x00 0x08 (unsigned
	// bytes).
	ErrBadMagic = errors.New("not an IDX file of unsigned bytes (bad magic number)")
	// ErrBadDims: an IDX file declares dimensions that are zero, too many,
	// too large or not those of images or labels.
	ErrBadDims = errors.New("bad IDX dimensions")
	// ErrTruncated: a file ends before the data it declares.
	ErrTruncated = errors.New("file truncated")
	// ErrTrailingData: a file goes on after the data it declares.
	ErrTrailingData = errors.New("unexpected data after the end")
	// ErrCorrupt: a gzip stream is damaged (bad header, data or checksum).
	ErrCorrupt = errors.New("corrupt gzip data")
	// ErrLabelRange: a label lies outside 0..classes-1.
	ErrLabelRange = errors.New("label out of range")
	// ErrCountMismatch: an image file and its label file hold different
	// numbers of samples.
	ErrCountMismatch = errors.New("image and label counts differ")
)

// MaxIDXBytes bounds the data size an IDX file may declare (2 GiB). Memory
// grows with the bytes actually read, never with the declared size alone.
const MaxIDXBytes = 1 << 31

// maxIDXDims bounds the number of dimensions of an IDX file.
const maxIDXDims = 4

// decompress returns a reader of r's data, decompressed if they start with
// the gzip magic bytes 0x1f 0x8b.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, readErr(err)
		}
		return zr, nil
	}
	return br, nil
}

// readErr maps the error of a read that came short to ErrTruncated, a gzip
// decoding error to ErrCorrupt, and keeps any other (I/O) error.
func readErr(err error) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return ErrTruncated
	case errors.As(err, &ce) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// ReadIDX reads an IDX file of unsigned bytes (data type 0x08) from r,
// gzip-compressed or raw (told apart by the gzip magic bytes), and returns
// its dimensions and data. It checks the magic number, that there are 1 to 4
// non-zero dimensions whose product is at most [MaxIDXBytes], that the data
// are all there and that nothing follows them (which also makes the gzip
// reader verify its checksum).
func ReadIDX(r io.Reader) (dims []int, data []byte, err error) {
	if r, err = decompress(r); err != nil {
		return nil, nil, err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("header: %w", readErr(err))
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, nil, fmt.Errorf("%w: starts with %#02x %#02x, want 0x00 0x00", ErrBadMagic, hdr[0], hdr[1])
	}
	if hdr[2] != 0x08 {
		return nil, nil, fmt.Errorf("%w: data type %#02x, want 0x08", ErrBadMagic, hdr[2])
	}
	nd := int(hdr[3])
	if nd < 1 || nd > maxIDXDims {
		return nil, nil, fmt.Errorf("%w: %d dimensions, want 1 to %d", ErrBadDims, nd, maxIDXDims)
	}
	raw := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("dimensions: %w", readErr(err))
	}
	dims = make([]int, nd)
	total := uint64(1)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4*i:]))
		if dims[i] == 0 {
			return nil, nil, fmt.Errorf("%w: dimensions %v: one is 0", ErrBadDims, dims[:i+1])
		}
		if total *= uint64(dims[i]); total > MaxIDXBytes { // no overflow: both factors < 2³²
			return nil, nil, fmt.Errorf("%w: dimensions %v declare more than %d bytes", ErrBadDims, dims[:i+1], MaxIDXBytes)
		}
	}
	if data, err = readN(r, int(total)); err != nil {
		return nil, nil, fmt.Errorf("data (%d bytes declared, %d found): %w", total, len(data), readErr(err))
	}
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n > 0 {
		return nil, nil, fmt.Errorf("%w (after %d bytes of data)", ErrTrailingData, total)
	} else if err != io.EOF {
		return nil, nil, readErr(err)
	}
	return dims, data, nil
}

// readN reads exactly n bytes. Its buffer starts at 64 KiB and doubles as
// data arrive, so a false size costs no more memory than the data present.
// On error it returns what it read.
func readN(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, 1<<16))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			b := make([]byte, len(buf), min(2*cap(buf), n))
			copy(b, buf)
			buf = b
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// readIDXFile reads the IDX file at path and checks it has nd dimensions.
func readIDXFile(path string, nd int) ([]int, []byte, error) {
	const hint = "replace it with an intact copy of the data set"
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("data: %s: %w", path, ErrNotFound)
		}
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	dims, data, err := ReadIDX(f)
	if err == nil && len(dims) != nd {
		err = fmt.Errorf("%w: %d dimensions, want %d (images: count, rows, columns; labels: count)", ErrBadDims, len(dims), nd)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w; %s", path, err, hint)
	}
	return dims, data, nil
}

// LoadIDX reads an MNIST-format pair of files, images (IDX, count × rows ×
// columns) and labels (IDX, count), each gzip-compressed or raw, into a data
// set of shape (1, rows, columns) whose labels lie in 0..classes-1.
func LoadIDX(imagesPath, labelsPath string, classes int) (*Memory, error) {
	dims, pix, err := readIDXFile(imagesPath, 3)
	if err != nil {
		return nil, err
	}
	ldims, lab, err := readIDXFile(labelsPath, 1)
	if err != nil {
		return nil, err
	}
	if ldims[0] != dims[0] {
		return nil, fmt.Errorf("data: %s holds %d images but %s holds %d labels: %w; use files of the same data set and split",
			imagesPath, dims[0], labelsPath, ldims[0], ErrCountMismatch)
	}
	labels := make([]int32, len(lab))
	for i, l := range lab {
		if int(l) >= classes {
			return nil, fmt.Errorf("data: %s: label %d of sample %d, want 0..%d: %w; the file does not belong to a %d-class data set",
				labelsPath, l, i, classes-1, ErrLabelRange, classes)
		}
		labels[i] = int32(l)
	}
	return NewMemory([]int{1, dims[1], dims[2]}, classes, pix, labels), nil
}

// idxFiles holds the base names of the four files of an MNIST-format data
// set: training images and labels, test images and labels.
var idxFiles = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// findIDX returns the path of the file base in dir, under any of its
// accepted names.
func findIDX(dir, base string) (string, error) {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	for _, name := range []string{base, base + ".gz", dotted, dotted + ".gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("data: %s: no %s[.gz]: %w", dir, base, ErrNotFound)
}

// LoadIDXDir reads the training and test splits of an MNIST-format data set
// (MNIST, Fashion-MNIST) from dir, which must hold the files
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte
// and t10k-labels-idx1-ubyte, each possibly with a ".gz" suffix or a '.'
// in place of the '-' before "idx" (train-images.idx3-ubyte). It decodes the
// two splits in parallel (see [LoadIDX]).
func LoadIDXDir(dir string, classes int) (train, test *Memory, err error) {
	var paths [4]string
	for i, base := range idxFiles {
		if paths[i], err = findIDX(dir, base); err != nil {
			return nil, nil, err
		}
	}
	done := make(chan error, 1)
	go func() {
		var err error
		test, err = LoadIDX(paths[2], paths[3], classes)
		done <- err
	}()
	train, err = LoadIDX(paths[0], paths[1], classes)
	if terr := <-done; err == nil {
		err = terr
	}
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}
