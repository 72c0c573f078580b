package train

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// summary.json records how and where the run was made (issue 9, item 21).
func TestSummaryProvenance(t *testing.T) {
	c := small("bp")
	c.Run.Epochs = 1
	c.Run.Threads = 1
	c.Data.TrainLimit, c.Data.TestLimit = 128, 64
	dir := filepath.Join(t.TempDir(), "run")
	s := run(t, build(t, c), dir)
	if s.Provenance.Threads != 1 || s.Provenance.Command == "" || s.Provenance.Date == "" || s.Provenance.BLAS == "" ||
		s.Provenance.CPU == "" || s.Provenance.Cores < 1 || s.Provenance.Version == "" {
		t.Errorf("summary provenance %+v", s.Provenance)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk struct {
		Provenance map[string]any `json:"provenance"`
	}
	if err := json.Unmarshal(b, &onDisk); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"command", "version", "go_version", "date", "blas", "threads", "cpu", "cores", "os"} {
		if _, ok := onDisk.Provenance[k]; !ok {
			t.Errorf("summary.json provenance lacks %q: %s", k, b)
		}
	}
}
