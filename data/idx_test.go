package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// idxFile returns an IDX file of data type typ with the given dimensions
// and data.
func idxFile(typ byte, dims []int, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

// gz returns b gzip-compressed.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// seq returns n bytes 0, 1, 2, ... (mod 256).
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestReadIDX(t *testing.T) {
	good := idxFile(8, []int{3, 2, 4}, seq(24))
	gzGood := gz(good)
	badCRC := slices.Clone(gzGood)
	badCRC[len(badCRC)-8] ^= 0xff // CRC-32 in the gzip trailer
	badHeader := slices.Clone(gzGood)
	badHeader[2] = 0 // compression method: not deflate
	tests := []struct {
		name string
		in   []byte
		dims []int
		err  error
	}{
		{"raw", good, []int{3, 2, 4}, nil},
		{"gzip", gzGood, []int{3, 2, 4}, nil},
		{"labels", idxFile(8, []int{5}, seq(5)), []int{5}, nil},
		{"empty", nil, nil, ErrTruncated},
		{"short header", []byte{0, 0}, nil, ErrTruncated},
		{"magic", append([]byte{1}, good[1:]...), nil, ErrBadMagic},
		{"magic gzip", gz(append([]byte{0, 7}, good[2:]...)), nil, ErrBadMagic},
		{"type", idxFile(9, []int{3, 2, 4}, seq(24)), nil, ErrBadMagic},
		{"no dims", idxFile(8, nil, nil), nil, ErrBadDims},
		{"5 dims", idxFile(8, []int{1, 1, 1, 1, 1}, seq(1)), nil, ErrBadDims},
		{"dims cut", good[:9], nil, ErrTruncated},
		{"zero dim", idxFile(8, []int{3, 0, 4}, nil), nil, ErrBadDims},
		{"over limit", idxFile(8, []int{1 << 16, 1 << 16}, nil), nil, ErrBadDims},
		{"overflow", idxFile(8, []int{1<<32 - 1, 1<<32 - 1, 1<<32 - 1}, nil), nil, ErrBadDims},
		{"data cut", good[:len(good)-1], nil, ErrTruncated},
		{"data cut gzip", gz(good[:len(good)-1]), nil, ErrTruncated},
		{"trailing", append(slices.Clone(good), 0), nil, ErrTrailingData},
		{"trailing gzip", gz(append(slices.Clone(good), 0)), nil, ErrTrailingData},
		{"gzip cut", gzGood[:len(gzGood)-10], nil, ErrTruncated},
		{"gzip magic only", []byte{0x1f, 0x8b}, nil, ErrTruncated},
		{"gzip checksum", badCRC, nil, ErrCorrupt},
		{"gzip header", badHeader, nil, ErrCorrupt},
		// A deflate block of the reserved type 3 (BFINAL=1, BTYPE=11).
		{"deflate", append(slices.Clone(gzGood[:10]), 0x07, 0, 0, 0), nil, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dims, data, err := ReadIDX(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				return
			}
			if !slices.Equal(dims, tc.dims) || !bytes.Equal(data, seq(len(data))) || len(data) != prod(dims) {
				t.Errorf("got dims %v, %d bytes; want %v", dims, len(data), tc.dims)
			}
		})
	}
}

func prod(d []int) int {
	p := 1
	for _, v := range d {
		p *= v
	}
	return p
}

// TestReadIDXBoundedAlloc checks that a header declaring 1 GiB followed by a
// few bytes does not make ReadIDX allocate that much.
func TestReadIDXBoundedAlloc(t *testing.T) {
	in := idxFile(8, []int{1 << 15, 1 << 15}, seq(100))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadIDX(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("error %v, want ErrTruncated", err)
	}
	// The first buffer is 64 KiB; the bufio and gzip-sniffing reader add a
	// few KiB. 1 MiB leaves room for test-runtime noise yet is 1000 times
	// less than the declared size.
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("allocated %d bytes for a truncated 1 GiB declaration", got)
	}
}

// writeIDXDir writes an MNIST-format data set into a new directory: n
// training and m test samples of 1×h×w, labels i mod 10, the training
// images gzip-compressed, the test images raw with the dotted file names.
func writeIDXDir(t *testing.T, n, m, h, w int) string {
	t.Helper()
	dir := t.TempDir()
	labels := func(k int) []byte {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte(i % 10)
		}
		return b
	}
	files := map[string][]byte{
		"train-images-idx3-ubyte.gz": gz(idxFile(8, []int{n, h, w}, seq(n*h*w))),
		"train-labels-idx1-ubyte.gz": gz(idxFile(8, []int{n}, labels(n))),
		"t10k-images.idx3-ubyte":     idxFile(8, []int{m, h, w}, seq(m*h*w)),
		"t10k-labels-idx1-ubyte":     idxFile(8, []int{m}, labels(m)),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadIDXDir(t *testing.T) {
	dir := writeIDXDir(t, 30, 12, 3, 5)
	train, test, err := LoadIDXDir(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ds *Memory
		n  int
	}{{train, 30}, {test, 12}} {
		if c.ds.Len() != c.n || !slices.Equal(c.ds.Shape(), []int{1, 3, 5}) || c.ds.Classes() != 10 {
			t.Fatalf("got %d samples of %v, %d classes; want %d of [1 3 5], 10", c.ds.Len(), c.ds.Shape(), c.ds.Classes(), c.n)
		}
		buf := make([]float32, 15)
		for i := range c.n {
			c.ds.Read(i, buf)
			if c.ds.Label(i) != int32(i%10) || buf[0] != float32(byte(15*i)) || buf[14] != float32(byte(15*i+14)) {
				t.Fatalf("sample %d: label %d, values %v", i, c.ds.Label(i), buf)
			}
		}
	}
}

func TestLoadIDXErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	img := write("img", idxFile(8, []int{4, 2, 2}, seq(16)))
	lab := write("lab", gz(idxFile(8, []int{4}, []byte{0, 1, 2, 3})))
	tests := []struct {
		name, images, labels string
		classes              int
		err                  error
		mention              string // a file the message must name
	}{
		{"ok", img, lab, 4, nil, ""},
		{"label range", img, lab, 3, ErrLabelRange, lab},
		{"count", img, write("lab3", idxFile(8, []int{3}, []byte{0, 1, 2})), 4, ErrCountMismatch, img},
		{"labels as images", lab, lab, 4, ErrBadDims, lab},
		{"images as labels", img, img, 4, ErrBadDims, img},
		{"missing", filepath.Join(dir, "nope"), lab, 4, ErrNotFound, "nope"},
		{"gzip cut", write("cut", gz(idxFile(8, []int{4, 2, 2}, seq(16)))[:20]), lab, 4, ErrTruncated, "cut"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := LoadIDX(tc.images, tc.labels, tc.classes)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil {
				if m.Len() != 4 || m.Label(3) != 3 {
					t.Errorf("got %d samples, last label %d", m.Len(), m.Label(3))
				}
				return
			}
			if !strings.Contains(err.Error(), tc.mention) || !strings.HasPrefix(err.Error(), "data: ") {
				t.Errorf("error %q does not name %s", err, tc.mention)
			}
		})
	}
	if _, _, err := LoadIDXDir(dir, 10); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), idxFiles[0]) {
		t.Errorf("LoadIDXDir of a directory without the files: %v", err)
	}
}

func FuzzIDX(f *testing.F) {
	good := idxFile(8, []int{2, 3, 3}, seq(18))
	f.Add(good)
	f.Add(gz(good))
	f.Add(idxFile(8, []int{4}, seq(4)))
	f.Add(good[:10])
	f.Add(idxFile(8, []int{1 << 20, 1 << 10}, seq(8)))
	f.Add(append(slices.Clone(good), 1))
	f.Fuzz(func(t *testing.T, in []byte) {
		dims, data, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			return
		}
		if len(dims) < 1 || len(dims) > maxIDXDims || prod(dims) != len(data) {
			t.Fatalf("accepted dims %v with %d bytes", dims, len(data))
		}
	})
}
