package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// tarGz returns a .tar.gz archive of the given entries (a name ending in
// "/" is a directory; typ overrides the type of every entry if not 0).
func tarGz(t testing.TB, typ byte, entries ...string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, name := range entries {
		h := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(name))}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		if typ != 0 {
			h.Typeflag, h.Size, h.Linkname = typ, 0, "target"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(name)) // each file holds its own name
		}
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

func remote(name string, b []byte) RemoteFile {
	s, m := sha256.Sum256(b), md5.Sum(b)
	return RemoteFile{Name: name, Size: int64(len(b)), SHA256: hex.EncodeToString(s[:]), MD5: hex.EncodeToString(m[:])}
}

// fakeServer serves files under /good/, the first half of each (with the
// full Content-Length, then a dropped connection) under /cut/, HTTP 500
// under /fail/, and 404 elsewhere. It records the Range headers received.
type fakeServer struct {
	*httptest.Server
	files map[string][]byte
	mu    sync.Mutex
	log   []string // "path range"
}

func newFakeServer(t *testing.T, files map[string][]byte) *fakeServer {
	s := &fakeServer{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, r.URL.Path+" "+r.Header.Get("Range"))
		s.mu.Unlock()
		dir, name := filepath.Split(r.URL.Path)
		b, ok := files[name]
		switch {
		case !ok:
			http.NotFound(w, r)
		case dir == "/good/":
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
		case dir == "/cut/":
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b[:len(b)/2])
			panic(http.ErrAbortHandler) // drops the connection
		case dir == "/fail/":
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestFetch(t *testing.T) {
	a := bytes.Repeat([]byte("0123456789"), 3000)
	arch := tarGz(t, 0, "set/", "set/x.bin", "set/sub/y.bin", "README")
	srv := newFakeServer(t, map[string][]byte{"a.bin": a, "b.bin": []byte("bbb"), "set.tar.gz": arch, "other.bin": []byte("other")})
	ctx := context.Background()
	plain := Download{Name: "plain", URLs: []string{srv.URL + "/good/"}, Files: []RemoteFile{remote("a.bin", a), remote("b.bin", []byte("bbb"))}}

	t.Run("success", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new")
		var log bytes.Buffer
		if err := Fetch(ctx, plain, dir, FetchOptions{Log: &log}); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "a.bin"))
		if !bytes.Equal(got, a) || !slices.Equal(files(t, dir), []string{"a.bin", "b.bin"}) || !strings.Contains(log.String(), "verified") {
			t.Errorf("files %v, log %q", files(t, dir), log.String())
		}
		// Again: verified, not downloaded.
		n := len(srv.requests())
		if err := Fetch(ctx, plain, dir, FetchOptions{}); err != nil || len(srv.requests()) != n {
			t.Errorf("second fetch: %v, %d requests", err, len(srv.requests())-n)
		}
	})

	t.Run("extract", func(t *testing.T) {
		dir := t.TempDir()
		d := Download{Name: "set", URLs: []string{srv.URL + "/good/"}, Files: []RemoteFile{remote("set.tar.gz", arch)}, Extract: true, Marker: "set/x.bin"}
		if err := Fetch(ctx, d, dir, FetchOptions{}); err != nil {
			t.Fatal(err)
		}
		y, _ := os.ReadFile(filepath.Join(dir, "set", "sub", "y.bin"))
		if !slices.Equal(files(t, dir), []string{"README", "set/sub/y.bin", "set/x.bin"}) || string(y) != "set/sub/y.bin" {
			t.Errorf("unpacked %v", files(t, dir))
		}
		n := len(srv.requests())
		if err := Fetch(ctx, d, dir, FetchOptions{}); err != nil || len(srv.requests()) != n {
			t.Errorf("second fetch: %v, %d requests", err, len(srv.requests())-n)
		}
		// Keep the archive; an existing entry blocks unpacking.
		dir = t.TempDir()
		if err := Fetch(ctx, d, dir, FetchOptions{KeepArchive: true}); err != nil || !slices.Contains(files(t, dir), "set.tar.gz") {
			t.Errorf("keep archive: %v, %v", err, files(t, dir))
		}
		os.Remove(filepath.Join(dir, "set", "x.bin"))
		if err := Fetch(ctx, d, dir, FetchOptions{}); err == nil || !strings.Contains(err.Error(), "is there already") {
			t.Errorf("unpacking over an existing folder: %v", err)
		}
	})

	t.Run("checksum", func(t *testing.T) {
		for _, f := range []RemoteFile{
			{Name: "other.bin", SHA256: strings.Repeat("0", 64)},                                         // wrong sha256, size unknown
			{Name: "other.bin", Size: 5, SHA256: remote("other.bin", []byte("other")).SHA256, MD5: "00"}, // wrong md5
			{Name: "other.bin", Size: 6, SHA256: strings.Repeat("0", 64)},                                // wrong size, announced
		} {
			dir := t.TempDir()
			d := Download{Name: "bad", URLs: []string{srv.URL + "/good/"}, Files: []RemoteFile{f}}
			err := Fetch(ctx, d, dir, FetchOptions{})
			if !errors.Is(err, ErrChecksum) || len(files(t, dir)) != 0 {
				t.Errorf("%+v: error %v, files %v; want ErrChecksum and nothing left", f, err, files(t, dir))
			}
		}
		// A file put there by hand is verified.
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "b.bin"), []byte("bbc"))
		err := Fetch(ctx, plain, dir, FetchOptions{})
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "delete it and run again") {
			t.Errorf("corrupt local file: %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "b.bin")); string(b) != "bbc" {
			t.Error("the local file was changed")
		}
	})

	t.Run("server error", func(t *testing.T) {
		dir := t.TempDir()
		d := plain
		d.URLs = []string{srv.URL + "/fail/"}
		err := Fetch(ctx, d, dir, FetchOptions{})
		if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "500") || len(files(t, dir)) != 0 {
			t.Errorf("error %v, files %v", err, files(t, dir))
		}
		// The next URL serves it.
		d.URLs = []string{srv.URL + "/fail/", srv.URL + "/nothing/", srv.URL + "/good/"}
		if err := Fetch(ctx, d, dir, FetchOptions{}); err != nil || !slices.Equal(files(t, dir), []string{"a.bin", "b.bin"}) {
			t.Errorf("fallback: %v, %v", err, files(t, dir))
		}
		// --mirror replaces the URLs.
		dir = t.TempDir()
		if err := Fetch(ctx, d, dir, FetchOptions{Mirror: srv.URL + "/fail"}); !errors.Is(err, ErrDownload) {
			t.Errorf("mirror: %v", err)
		}
	})

	t.Run("truncated", func(t *testing.T) {
		dir := t.TempDir()
		d := Download{Name: "cut", URLs: []string{srv.URL + "/cut/"}, Files: []RemoteFile{remote("a.bin", a)}}
		err := Fetch(ctx, d, dir, FetchOptions{})
		if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "interrupted") || !strings.Contains(err.Error(), "run the command again to resume") {
			t.Fatalf("error %v", err)
		}
		if got := files(t, dir); !slices.Equal(got, []string{"a.bin.part"}) {
			t.Fatalf("files %v, want only the partial download", got)
		}
		// Resume from the good server: one range request for the rest.
		n := len(srv.requests())
		d.URLs = []string{srv.URL + "/good/"}
		if err := Fetch(ctx, d, dir, FetchOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(filepath.Join(dir, "a.bin"))
		reqs := srv.requests()[n:]
		if !bytes.Equal(got, a) || len(reqs) != 1 || reqs[0] != "/good/a.bin bytes=15000-" {
			t.Errorf("resumed with requests %v; file intact: %v", reqs, bytes.Equal(got, a))
		}
	})

	t.Run("no network", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		dir := t.TempDir()
		err = Fetch(ctx, plain, dir, FetchOptions{Mirror: "http://" + addr})
		if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "check the network") || !strings.Contains(err.Error(), "yourself into") {
			t.Errorf("error %v", err)
		}
	})

	t.Run("bad archives", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			b    []byte
			msg  string
		}{
			{"escape", tarGz(t, 0, "../evil"), "outside the target directory"},
			{"absolute", tarGz(t, 0, "/etc/evil"), "outside the target directory"},
			{"symlink", tarGz(t, tar.TypeSymlink, "link"), "not a regular file or directory"},
			{"not gzip", []byte("plain text, not an archive"), "bad archive"},
			{"cut", arch[:len(arch)-30], "bad archive"},
		} {
			parent := t.TempDir()
			dir := filepath.Join(parent, "d")
			writeFile(t, filepath.Join(dir, "x.tar.gz"), tc.b)
			d := Download{Name: "x", URLs: []string{srv.URL + "/good/"}, Files: []RemoteFile{remote("x.tar.gz", tc.b)}, Extract: true}
			err := Fetch(ctx, d, dir, FetchOptions{})
			if !errors.Is(err, ErrArchive) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: error %v", tc.name, err)
			}
			if got := files(t, parent); !slices.Equal(got, []string{"d/x.tar.gz"}) {
				t.Errorf("%s: files %v after a failed unpacking", tc.name, got)
			}
		}
	})
}

// TestDownloads checks the table: every data set has URLs, sizes and
// well-formed checksums, and those with a registry name open from the
// directory Fetch fills.
func TestDownloads(t *testing.T) {
	for _, d := range Downloads() {
		if len(d.URLs) == 0 || len(d.Files) == 0 || d.Credit == "" || !slices.Contains(Names(), d.Name) || d.Extract != (d.Marker != "") {
			t.Errorf("%+v", d)
		}
		for _, u := range d.URLs {
			if !strings.HasSuffix(u, "/") {
				t.Errorf("%s: URL %s does not end in /", d.Name, u)
			}
		}
		for _, f := range d.Files {
			if _, err := hex.DecodeString(f.SHA256); err != nil || len(f.SHA256) != 64 || len(f.MD5) != 32 || f.Size <= 0 {
				t.Errorf("%s: %+v", d.Name, f)
			}
		}
	}
	if _, err := LookupDownload("imagenet"); !errors.Is(err, ErrUnknownDataset) || !strings.Contains(err.Error(), "cifar10, cifar100, mnist, fashion-mnist") {
		t.Errorf("LookupDownload(imagenet): %v", err)
	}
	d, err := LookupDownload("cifar10")
	if err != nil || d.Files[0].Size != 170052171 {
		t.Errorf("cifar10: %v, %+v", err, d)
	}
	d.Files[0].Size = 1 // a copy
	if d2, _ := LookupDownload("cifar10"); d2.Files[0].Size != 170052171 {
		t.Error("LookupDownload returns the table itself")
	}
}

// TestFetchCIFAR installs a fake CIFAR-10 archive with the real layout and
// opens it.
func TestFetchCIFAR(t *testing.T) {
	src := t.TempDir()
	writeCIFAR10(t, filepath.Join(src, "cifar-10-batches-bin"), "")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, f := range files(t, src) {
		body, _ := os.ReadFile(filepath.Join(src, f))
		tw.WriteHeader(&tar.Header{Name: f, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	tw.Close()
	zw.Close()
	srv := newFakeServer(t, map[string][]byte{"cifar-10-binary.tar.gz": b.Bytes()})
	d, _ := LookupDownload("cifar10")
	d.Files[0] = remote(d.Files[0].Name, b.Bytes())
	dir := t.TempDir()
	if err := Fetch(context.Background(), d, dir, FetchOptions{Mirror: srv.URL + "/good/"}); err != nil {
		t.Fatal(err)
	}
	train, test, _, err := Open("cifar10", dir)
	if err != nil || train.Len() != 10 || test.Len() != 3 {
		t.Errorf("open after fetch: %v", err)
	}
}
