package provenance

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"asym", "compare", "--threads", "1"}, "asym compare --threads 1"},
		{[]string{"asym", "train", "--init-skip", "fc.*"}, "asym train --init-skip 'fc.*'"},
		{[]string{"asym", "--dir", "my runs", ""}, "asym --dir 'my runs' ''"},
		{[]string{"a", "it's"}, `a 'it'\''s'`},
	} {
		if got := CommandLine(tc.args); got != tc.want {
			t.Errorf("CommandLine(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.00GHz\nprocessor\t: 1\nmodel name\t: other\n", "Intel(R) Xeon(R) CPU @ 2.00GHz"},
		{"arm", "processor\t: 0\nBogoMIPS\t: 50.00\n\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4\n", "BCM2835"},
		{"none", "processor: 0\n", ""},
	} {
		if got := cpuModel(strings.NewReader(tc.in)); got != tc.want {
			t.Errorf("%s: cpuModel = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/asymlab/asym", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "18629a7"}, {Key: "vcs.modified", Value: "true"}}}
	v, c, m := fromBuildInfo(bi)
	if v != "v0.3.0" || c != "18629a7" || !m {
		t.Errorf("fromBuildInfo = %q %q %v", v, c, m)
	}
	v, c, m = fromBuildInfo(&debug.BuildInfo{})
	if v != "(devel)" || c != "" || m {
		t.Errorf("empty build info: %q %q %v", v, c, m)
	}
}

// Collect fills every field a reader needs to cite the result, and they
// survive JSON.
func TestCollect(t *testing.T) {
	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.FixedZone("x", 3600))
	i := Collect(3, now)
	if i.Date != "2026-12-06T19:00:00Z" || i.Threads != 3 || i.Cores < 1 || i.CPU == "" || i.BLAS == "" ||
		i.GoVersion == "" || i.Version == "" || i.Command == "" || i.OS == "" {
		t.Errorf("Collect = %+v", i)
	}
	if d := Collect(0, now); d.Threads != runtime.GOMAXPROCS(0) {
		t.Errorf("Collect(0) records %d threads, want the default %d", d.Threads, runtime.GOMAXPROCS(0))
	}
	b, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"command"`, `"version"`, `"date"`, `"blas"`, `"threads"`, `"cpu"`, `"cores"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
	labels := map[string]bool{}
	for _, p := range i.Pairs() {
		labels[p[0]] = p[1] != ""
	}
	for _, k := range []string{"command", "asym version", "commit", "date", "BLAS", "threads", "CPU"} {
		if !labels[k] {
			t.Errorf("Pairs lacks %q: %v", k, i.Pairs())
		}
	}
}
