package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors of [Fetch].
var (
	// ErrChecksum: a file does not have its published size or checksum.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrDownload: a file could not be downloaded (no network, an HTTP
	// error, an interrupted transfer).
	ErrDownload = errors.New("download failed")
	// ErrArchive: an archive cannot be unpacked (damaged, or with entries
	// that would land outside the target directory).
	ErrArchive = errors.New("bad archive")
)

// RemoteFile is a file of a data set on the web.
type RemoteFile struct {
	// Name is the file's name, the last element of its URL.
	Name string
	// Size is its size in bytes (0: unknown).
	Size int64
	// SHA256 is the hex SHA-256 of its bytes; MD5, if not empty, the hex
	// MD5 the publisher lists. Both are checked.
	SHA256, MD5 string
}

// Download says where a data set is published and how to install it.
type Download struct {
	// Name is the data set's registry name (see [Open]).
	Name string
	// URLs are base URLs (ending in "/") of the folder holding the files,
	// tried in order; the first is the publisher's.
	URLs []string
	// Files are the files to download.
	Files []RemoteFile
	// Extract says the files are .tar.gz archives to unpack into the
	// target directory (and then delete).
	Extract bool
	// Marker is a path, relative to the target directory, whose presence
	// shows that an archive was unpacked, so that Fetch has nothing to do.
	Marker string
	// Credit names the authors and the terms of use.
	Credit string
}

// Checksums: the MD5 values are those the publishers list (Toronto's CIFAR
// page, the Fashion-MNIST README, torchvision for MNIST); the SHA-256 values
// and sizes are those recorded by several independent projects
// (TensorFlow Datasets, torchvision, MLDatasets.jl). They could not be
// checked against the files here, the network being closed.
var downloads = []Download{
	{
		Name: "cifar10",
		URLs: []string{"https://www.cs.toronto.edu/~kriz/"},
		Files: []RemoteFile{{Name: "cifar-10-binary.tar.gz", Size: 170052171,
			SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
			MD5:    "c32a1d4ab5d03f1284b67883e8d87530"}},
		Extract: true,
		Marker:  "cifar-10-batches-bin/test_batch.bin",
		Credit:  "CIFAR-10, A. Krizhevsky, V. Nair, G. Hinton (2009), https://www.cs.toronto.edu/~kriz/cifar.html",
	},
	{
		Name: "cifar100",
		URLs: []string{"https://www.cs.toronto.edu/~kriz/"},
		Files: []RemoteFile{{Name: "cifar-100-binary.tar.gz", Size: 168513733,
			SHA256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
			MD5:    "03b5dce01913d631647c71ecec9e9cb8"}},
		Extract: true,
		Marker:  "cifar-100-binary/test.bin",
		Credit:  "CIFAR-100, A. Krizhevsky, V. Nair, G. Hinton (2009), https://www.cs.toronto.edu/~kriz/cifar.html",
	},
	{
		Name: "mnist",
		// yann.lecun.com no longer serves the files reliably; these are the
		// mirrors torchvision and TensorFlow use, byte-identical copies.
		URLs: []string{"https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"},
		Files: []RemoteFile{
			{Name: "train-images-idx3-ubyte.gz", Size: 9912422,
				SHA256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", MD5: "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
			{Name: "train-labels-idx1-ubyte.gz", Size: 28881,
				SHA256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", MD5: "d53e105ee54ea40749a09fcbcd1e9432"},
			{Name: "t10k-images-idx3-ubyte.gz", Size: 1648877,
				SHA256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", MD5: "9fb629c4189551a2d022fa330f9573f3"},
			{Name: "t10k-labels-idx1-ubyte.gz", Size: 4542,
				SHA256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", MD5: "ec29112dd5afa0611ce80d1b7f02629c"},
		},
		Credit: "MNIST, Y. LeCun, C. Cortes, C. J. C. Burges, http://yann.lecun.com/exdb/mnist/",
	},
	{
		Name: "fashion-mnist",
		URLs: []string{"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
			"https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"},
		Files: []RemoteFile{
			{Name: "train-images-idx3-ubyte.gz", Size: 26421880,
				SHA256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", MD5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
			{Name: "train-labels-idx1-ubyte.gz", Size: 29515,
				SHA256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", MD5: "25c81989df183df01b3e8a0aad5dffbe"},
			{Name: "t10k-images-idx3-ubyte.gz", Size: 4422102,
				SHA256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", MD5: "bef4ecab320f06d8554ea6380940ec79"},
			{Name: "t10k-labels-idx1-ubyte.gz", Size: 5148,
				SHA256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", MD5: "bb300cfdad3c16e7a12a480ee83cd310"},
		},
		Credit: "Fashion-MNIST, H. Xiao, K. Rasul, R. Vollgraf, Zalando Research (2017), MIT licence",
	},
}

// Downloads returns the data sets [Fetch] knows how to download.
func Downloads() []Download {
	out := make([]Download, len(downloads))
	for i, d := range downloads {
		d.URLs, d.Files = slices.Clone(d.URLs), slices.Clone(d.Files)
		out[i] = d
	}
	return out
}

// LookupDownload returns the download of the named data set, or an error
// wrapping [ErrUnknownDataset] that lists the names it knows.
func LookupDownload(name string) (Download, error) {
	for _, d := range Downloads() {
		if d.Name == name {
			return d, nil
		}
	}
	var names []string
	for _, d := range downloads {
		names = append(names, d.Name)
	}
	return Download{}, fmt.Errorf("data: %w %q for download; known: %s (digits is embedded; image folders are installed by hand)",
		ErrUnknownDataset, name, strings.Join(names, ", "))
}

// FetchOptions are the settings of [Fetch].
type FetchOptions struct {
	// Mirror, if not empty, is a base URL that replaces the download's URLs
	// (a local copy of the files, or a test server).
	Mirror string
	// Client makes the requests (nil: a client with 30 s timeouts to
	// connect and to get an answer). Whatever the client, a transfer that
	// receives no data for 60 s is abandoned (and resumable).
	Client *http.Client
	// Log, if not nil, receives one line per step and progress lines.
	Log io.Writer
	// KeepArchive keeps the downloaded archives after unpacking them.
	KeepArchive bool
}

// Fetch installs the data set d into dir (created if needed): for each
// file, unless dir already holds it, it streams the file from the first
// URL that serves it into dir/NAME.part, checks its size and checksums,
// then renames it to dir/NAME; archives are then unpacked into a
// temporary directory inside dir whose top-level entries are renamed into
// dir, and deleted. Nothing is left under a final name that has not been
// verified.
//
// An interrupted transfer keeps its .part file, and the next Fetch resumes
// it with an HTTP range request (starting over if the server ignores it).
// A file that fails its checks is deleted. A file put into dir by hand
// under its final name is verified instead of downloaded, which is how to
// install a data set on a machine without network access. Errors wrap
// [ErrDownload], [ErrChecksum] or [ErrArchive] and say what to do.
func Fetch(ctx context.Context, d Download, dir string, opt FetchOptions) error {
	if d.Marker != "" {
		if _, err := os.Stat(filepath.Join(dir, d.Marker)); err == nil {
			logf(opt.Log, "%s: already in %s (%s exists)\n", d.Name, dir, d.Marker)
			return nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: fetch %s: %w", d.Name, err)
	}
	urls := d.URLs
	if opt.Mirror != "" {
		urls = []string{strings.TrimSuffix(opt.Mirror, "/") + "/"}
	}
	if len(urls) == 0 {
		return fmt.Errorf("data: fetch %s: %w: no URL to download from", d.Name, ErrDownload)
	}
	client := opt.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		}}
	}
	for _, f := range d.Files {
		if err := fetchFile(ctx, client, d, f, urls, dir, opt.Log); err != nil {
			return err
		}
	}
	if !d.Extract {
		return nil
	}
	for _, f := range d.Files {
		p := filepath.Join(dir, f.Name)
		if err := extractTarGz(p, dir); err != nil {
			return fmt.Errorf("data: fetch %s: %w", d.Name, err)
		}
		logf(opt.Log, "%s: unpacked %s\n", d.Name, p)
		if !opt.KeepArchive {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("data: fetch %s: %w", d.Name, err)
			}
		}
	}
	return nil
}

func logf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}

// fetchFile makes sure dir/f.Name exists and is verified.
func fetchFile(ctx context.Context, client *http.Client, d Download, f RemoteFile, urls []string, dir string, log io.Writer) error {
	final := filepath.Join(dir, f.Name)
	if _, err := os.Stat(final); err == nil {
		if err := verify(final, f); err != nil {
			return fmt.Errorf("data: fetch %s: %s is there but %w; delete it and run again", d.Name, final, err)
		}
		logf(log, "%s: %s already there, verified\n", d.Name, final)
		return nil
	}
	part := final + ".part"
	var err error
	for _, base := range urls {
		u := base + f.Name
		logf(log, "%s: downloading %s (%s)\n", d.Name, u, sizeString(f.Size))
		if err = download(ctx, client, u, part, f, log); err == nil {
			break
		}
		logf(log, "%s: %v\n", d.Name, err)
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		again := "run the command again"
		if st, serr := os.Stat(part); serr == nil && st.Size() > 0 {
			again += " to resume the download"
		} else {
			os.Remove(part)
		}
		return fmt.Errorf("data: fetch %s: %w; %s, or download %s yourself into %s (it is then verified, not downloaded), "+
			"or pass --mirror with a URL that serves it", d.Name, err, again, urls[0]+f.Name, dir)
	}
	if err := verify(part, f); err != nil {
		os.Remove(part)
		return fmt.Errorf("data: fetch %s: the download of %s %w; it was deleted: run again, and if it fails again the file "+
			"changed upstream or a proxy alters it", d.Name, f.Name, err)
	}
	if err := os.Rename(part, final); err != nil {
		return fmt.Errorf("data: fetch %s: %w", d.Name, err)
	}
	logf(log, "%s: %s verified (sha256 %s)\n", d.Name, final, f.SHA256)
	return nil
}

func sizeString(n int64) string {
	if n <= 0 {
		return "size unknown"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// stallTimeout is how long a transfer may go without receiving data.
const stallTimeout = 60 * time.Second

// download appends to part, from its current length on, the rest of the
// file at url (or rewrites it if the server does not honour the range).
func download(ctx context.Context, client *http.Client, url, part string, f RemoteFile, log io.Writer) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("no data received for %v", stallTimeout)
	watchdog := time.AfterFunc(stallTimeout, func() { cancel(stalled) })
	defer watchdog.Stop()
	out, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	have, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if f.Size > 0 && have > f.Size {
		if err := out.Truncate(0); err != nil {
			return err
		}
		have = 0
	}
	if f.Size > 0 && have == f.Size {
		return nil // complete: verified next
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDownload, err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := client.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); cause == stalled {
			err = cause
		}
		return fmt.Errorf("%w: %v (check the network connection)", ErrDownload, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have)) {
			return fmt.Errorf("%w: %s answered range %d- with %q", ErrDownload, url, have, resp.Header.Get("Content-Range"))
		}
		logf(log, "resuming after %d bytes\n", have)
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		return nil // part holds the whole file or more: verified next
	case resp.StatusCode == http.StatusOK:
		if err := out.Truncate(0); err != nil {
			return err
		}
		if _, err := out.Seek(0, io.SeekStart); err != nil {
			return err
		}
		have = 0
		if f.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != f.Size {
			return fmt.Errorf("%w: %w: %s has %d bytes, want %d", ErrDownload, ErrChecksum, url, resp.ContentLength, f.Size)
		}
	default:
		return fmt.Errorf("%w: %s: HTTP %s", ErrDownload, url, resp.Status)
	}
	total := f.Size
	if total <= 0 && resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	pw := &progressWriter{w: out, n: have, total: total, log: log, next: time.Now().Add(5 * time.Second),
		tick: func() { watchdog.Reset(stallTimeout) }}
	n, err := io.Copy(pw, resp.Body)
	if cause := context.Cause(ctx); err != nil && cause != nil {
		err = cause
	}
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = out.Sync()
	}
	if err != nil {
		return fmt.Errorf("%w: %s: transfer interrupted after %d of %s: %v", ErrDownload, url, have+n, sizeString(total), err)
	}
	return nil
}

// progressWriter writes to w, calls tick and logs the progress every 5 s.
type progressWriter struct {
	w        io.Writer
	n, total int64
	log      io.Writer
	next     time.Time
	tick     func()
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.tick()
	if p.log != nil && time.Now().After(p.next) {
		p.next = time.Now().Add(5 * time.Second)
		if p.total > 0 {
			logf(p.log, "  %.1f of %.1f MB (%.0f%%)\n", float64(p.n)/1e6, float64(p.total)/1e6, 100*float64(p.n)/float64(p.total))
		} else {
			logf(p.log, "  %.1f MB\n", float64(p.n)/1e6)
		}
	}
	return n, err
}

// verify checks the size and checksums of the file at p against f.
func verify(p string, f RemoteFile) error {
	in, err := os.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	hs, hm := sha256.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(hs, hm), in)
	if err != nil {
		return err
	}
	if f.Size > 0 && n != f.Size {
		return fmt.Errorf("has %d bytes, want %d (%w)", n, f.Size, ErrChecksum)
	}
	if got := hex.EncodeToString(hs.Sum(nil)); !strings.EqualFold(got, f.SHA256) {
		return fmt.Errorf("has sha256 %s, want %s (%w)", got, f.SHA256, ErrChecksum)
	}
	if got := hex.EncodeToString(hm.Sum(nil)); f.MD5 != "" && !strings.EqualFold(got, f.MD5) {
		return fmt.Errorf("has md5 %s, want %s (%w)", got, f.MD5, ErrChecksum)
	}
	return nil
}

// maxExtractBytes bounds what an archive may unpack to (16 GiB).
const maxExtractBytes = 1 << 34

// extractTarGz unpacks the .tar.gz archive at p into a temporary directory
// inside dir, then renames its top-level entries into dir. Only regular
// files and directories are accepted, with relative paths that stay inside
// the directory; an entry that exists in dir already is an error.
func extractTarGz(p, dir string) error {
	in, err := os.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", p, ErrArchive, err)
	}
	tmp, err := os.MkdirTemp(dir, ".unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tr := tar.NewReader(zr)
	var tops []string
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w: %v", p, ErrArchive, err)
		}
		name := path.Clean(h.Name)
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(h.Name, `\`) {
			return fmt.Errorf("%s: %w: entry %q would land outside the target directory", p, ErrArchive, h.Name)
		}
		target := filepath.Join(tmp, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if total += h.Size; total > maxExtractBytes {
				return fmt.Errorf("%s: %w: unpacks to more than %d bytes", p, ErrArchive, int64(maxExtractBytes))
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeEntry(target, tr, h.Size); err != nil {
				return fmt.Errorf("%s: %s: %w", p, h.Name, err)
			}
		default:
			return fmt.Errorf("%s: %w: entry %q is not a regular file or directory (type %q)", p, ErrArchive, h.Name, h.Typeflag)
		}
		if top, _, _ := strings.Cut(name, "/"); !slices.Contains(tops, top) {
			tops = append(tops, top)
		}
	}
	if _, err := io.Copy(io.Discard, zr); err != nil { // checks the gzip trailer
		return fmt.Errorf("%s: %w: %v", p, ErrArchive, err)
	}
	for _, top := range tops {
		if _, err := os.Lstat(filepath.Join(dir, top)); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %s is there already: remove it, or unpack into another directory", p, filepath.Join(dir, top))
		}
	}
	for _, top := range tops {
		if err := os.Rename(filepath.Join(tmp, top), filepath.Join(dir, top)); err != nil {
			return err
		}
	}
	return nil
}

// writeEntry writes the n bytes of r into a new file at target.
func writeEntry(target string, r io.Reader, n int64) error {
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(out, r, n); err != nil {
		out.Close()
		return fmt.Errorf("%w: %v", ErrArchive, err)
	}
	return out.Close()
}
