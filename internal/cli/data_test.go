package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/asymlab/asym/data"
)

// runData runs `asym data ARGS` (the command on its own, whether or not the
// root registers it).
func runData(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	cmd := newDataCmd(&IO{In: strings.NewReader(""), Out: &o, Err: &e})
	cmd.SetArgs(args)
	cmd.SetOut(&o)
	cmd.SetErr(&e)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return o.String(), e.String(), err
}

func TestDataInfo(t *testing.T) {
	out, _, err := runData("info", "digits")
	if err != nil || !strings.Contains(out, "1438 training, 359 test, shape [1 8 8]") || !strings.Contains(out, "classes: 10: 0, 1,") {
		t.Errorf("info digits: %v\n%s", err, out)
	}
	out, _, err = runData("info", "digits", "--json")
	var res struct {
		Name  string    `json:"name"`
		Train int       `json:"train"`
		Mean  []float32 `json:"mean"`
	}
	if err != nil || json.Unmarshal([]byte(out), &res) != nil || res.Name != "digits" || res.Train != 1438 || len(res.Mean) != 1 {
		t.Errorf("info --json: %v, %q", err, out)
	}
	if _, _, err := runData("info", "cifar10", "--data-dir", t.TempDir()); !errors.Is(err, data.ErrNotFound) ||
		!strings.Contains(err.Error(), "asym data fetch cifar10") {
		t.Errorf("info cifar10 in an empty directory: %v", err)
	}
}

func TestDataFetch(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("not the real file")) // its size announces the mismatch
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "mnist")

	_, _, err := runData("fetch", "imagenet", "--to", dir)
	var ue usageError
	if !errors.As(err, &ue) || !errors.Is(err, data.ErrUnknownDataset) {
		t.Errorf("unknown name: %v", err)
	}
	if _, _, err := runData("fetch", "mnist"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--to") {
		t.Errorf("no --to: %v", err)
	}
	_, stderr, err := runData("fetch", "mnist", "--to", dir, "--mirror", srv.URL)
	if !errors.Is(err, data.ErrChecksum) || hits.Load() == 0 || !strings.Contains(stderr, "downloading "+srv.URL+"/train-images-idx3-ubyte.gz") {
		t.Errorf("fetch from a server with other files: %v (%d requests)\n%s", err, hits.Load(), stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left after a failed fetch", len(entries))
	}
	// The mirror may come from the environment.
	t.Setenv(mirrorEnv, srv.URL+"/")
	n := hits.Load()
	if _, _, err := runData("fetch", "fashion-mnist", "--to", dir); !errors.Is(err, data.ErrChecksum) || hits.Load() == n {
		t.Errorf("mirror from %s: %v", mirrorEnv, err)
	}
}
