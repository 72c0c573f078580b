package checkpoint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/asymlab/asym/internal/fault"
	"github.com/asymlab/asym/safetensors"
)

// Metadata keys written by this package. Save refuses metadata that sets
// FormatKey or ChecksumKey; Dir.Save also refuses StepKey, which it sets.
const (
	// FormatKey records the checkpoint format version.
	FormatKey = "asym.format"
	// ChecksumKey records the hex SHA-256 of the data buffer.
	ChecksumKey = "asym.sha256"
	// StepKey records the training step. [Dir.Save] sets it; callers of
	// [Save] may set it themselves. [Step] reads it.
	StepKey = "asym.step"
)

// FormatVersion is the checkpoint format this package writes. Version 2
// checksums the metadata and the data; Load also reads version 1
// ([FormatVersion1]), whose checksum covers the data only.
const FormatVersion = "2"

// FormatVersion1 is the first checkpoint format: its checksum covers the
// data buffer but not the metadata. Load still reads it, so checkpoints of
// earlier asym versions stay usable, but cannot detect a damaged header
// value in them.
const FormatVersion1 = "1"

// Errors returned by this package, wrapped with the path; test with
// [errors.Is]. Damaged files also give the errors of package safetensors.
var (
	// ErrFormat reports a safetensors file that is not an asym checkpoint
	// (no format version) or has a version this build cannot read.
	ErrFormat = errors.New("unsupported checkpoint format")
	// ErrChecksum reports a checkpoint whose data does not match its
	// recorded checksum (or that records none): its bytes were corrupted
	// after it was written.
	ErrChecksum = errors.New("checkpoint checksum mismatch")
	// ErrReserved reports metadata that sets a key Save writes itself.
	ErrReserved = errors.New("reserved checkpoint metadata key")
)

// File is a loaded checkpoint: a validated safetensors file. Read its
// tensors with Float32, Float32Into or Int64 and its metadata from
// Metadata.
type File = safetensors.File

// Test hooks: wrap the temporary file's writer; run before the rename.
var (
	hookWriter       func(io.Writer) io.Writer
	hookBeforeRename func(tmp string) error
)

// Save writes tensors and meta as a checkpoint at path, atomically (see the
// package documentation). It adds [FormatKey] and [ChecksumKey] to the
// metadata (meta itself is not modified) and returns an error wrapping
// ErrReserved if meta already sets one of the reserved keys.
func Save(path string, tensors []safetensors.Tensor, meta map[string]string) error {
	for _, k := range []string{FormatKey, ChecksumKey} {
		if _, ok := meta[k]; ok {
			return fmt.Errorf("checkpoint: saving %s: metadata key %q is set by the checkpoint package: %w", path, k, ErrReserved)
		}
	}
	return save(path, tensors, meta)
}

func save(path string, tensors []safetensors.Tensor, meta map[string]string) error {
	m := maps.Clone(meta)
	if m == nil {
		m = make(map[string]string, 2)
	}
	m[FormatKey] = FormatVersion
	sum, err := Checksum(tensors, m)
	if err != nil {
		return fmt.Errorf("checkpoint: saving %s: %w", path, err)
	}
	m[ChecksumKey] = sum
	return writeAtomic(path, func(w io.Writer) error { return safetensors.Write(w, tensors, m) })
}

// Checksum returns the value Save records under [ChecksumKey] for tensors
// and meta: the hex SHA-256 of the metadata (every key but ChecksumKey, in
// sorted order, each key and value preceded by its length) followed by the
// data buffer safetensors.Write would write for tensors.
func Checksum(tensors []safetensors.Tensor, meta map[string]string) (string, error) {
	h := sha256.New()
	hashMeta(h, meta)
	if _, err := safetensors.WriteData(h, tensors); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashMeta writes the canonical encoding of meta (without ChecksumKey)
// into h.
func hashMeta(h hash.Hash, meta map[string]string) {
	var n [binary.MaxVarintLen64]byte
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		if k == ChecksumKey {
			continue
		}
		for _, s := range []string{k, meta[k]} {
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
			io.WriteString(h, s)
		}
	}
}

// Verify recomputes the checksum of f (its metadata and data buffer; the
// data buffer alone for format version 1) and compares it with the one
// recorded in f's metadata. It returns an error wrapping ErrChecksum if
// they differ or if f records no checksum.
func Verify(f *File) error {
	want, ok := f.Metadata[ChecksumKey]
	if !ok {
		return fmt.Errorf("checkpoint: %s: no %q in the metadata: %w", f.Name(), ChecksumKey, ErrChecksum)
	}
	h := sha256.New()
	what := "data"
	if f.Metadata[FormatKey] != FormatVersion1 {
		hashMeta(h, f.Metadata)
		what = "metadata and data"
	}
	if _, err := io.Copy(h, f.Data()); err != nil {
		return fmt.Errorf("checkpoint: %s: reading data: %w", f.Name(), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("checkpoint: %s: the SHA-256 of its %s is %s but the file records %s; the file is corrupt (a header value or a data byte changed after it was written), load an earlier checkpoint: %w", f.Name(), what, got, want, ErrChecksum)
	}
	return nil
}

// Load reads the checkpoint at path into memory and validates it: the
// safetensors structure, the format version and the data checksum. Read
// the tensors with the File's methods (Float32, Float32Into, Int64).
func Load(path string) (*File, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	v, ok := f.Metadata[FormatKey]
	if !ok {
		return nil, fmt.Errorf("checkpoint: %s: not an asym checkpoint (no %q in the metadata): %w", path, FormatKey, ErrFormat)
	}
	if v != FormatVersion && v != FormatVersion1 {
		return nil, fmt.Errorf("checkpoint: %s: format version %q, this build reads versions %s and %s; use a matching asym: %w", path, v, FormatVersion1, FormatVersion, ErrFormat)
	}
	if err := Verify(f); err != nil {
		return nil, err
	}
	return f, nil
}

// writeAtomic writes path through write: into path+".tmp", fsynced, then
// renamed over path, then the directory fsynced. On error the temporary
// file is removed and path is untouched.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	tmp := path + ".tmp"
	// A stale tmp may be a hard link to another checkpoint (left by a crash
	// in linkAtomic): unlink it rather than truncate what it points to.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checkpoint: saving %s: %w", path, err)
	}
	fd, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("checkpoint: saving %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			if fd != nil {
				fd.Close()
			}
			os.Remove(tmp)
			err = fmt.Errorf("checkpoint: saving %s: %w", path, err)
		}
	}()
	var w io.Writer = fd
	if hookWriter != nil {
		w = hookWriter(w)
	}
	if err := write(w); err != nil {
		return err
	}
	if err := fd.Sync(); err != nil {
		return err
	}
	err = fd.Close()
	fd = nil
	if err != nil {
		return err
	}
	if hookBeforeRename != nil {
		if err := hookBeforeRename(tmp); err != nil {
			return err
		}
	}
	if err := fault.At(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a directory so that a rename in it is durable. File
// systems that cannot sync directories are tolerated.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing directory: %w", err)
	}
	return nil
}
