package provenance

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/asymlab/asym/blas"
)

// Info is the provenance of a result.
type Info struct {
	// Command is the command line, arguments quoted where the shell needs it.
	Command string `json:"command"`
	// Version is asym's module version ("(devel)" for a build from a
	// checkout); Commit the VCS revision it was built from, with Modified
	// set when the working tree had uncommitted changes; both empty when
	// the binary carries no VCS information (go run, go test).
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Date is when the result was produced (RFC 3339, UTC).
	Date string `json:"date"`
	// BLAS is the BLAS in use ("go", "openblas").
	BLAS string `json:"blas"`
	// Threads is the number of threads the run used.
	Threads int `json:"threads"`
	// CPU is the processor model and Cores the number of logical CPUs.
	CPU   string `json:"cpu"`
	Cores int    `json:"cores"`
	// OS is GOOS/GOARCH.
	OS string `json:"os"`
}

// Collect returns the provenance of a result produced now by this process
// with the given thread count (≤ 0: the engine's default,
// runtime.GOMAXPROCS(0), which is what is recorded).
func Collect(threads int, now time.Time) Info {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	i := Info{Command: CommandLine(os.Args), Version: "(unknown)", GoVersion: runtime.Version(),
		Date: now.UTC().Format(time.RFC3339), BLAS: blas.CurrentName(), Threads: threads,
		CPU: CPUModel(), Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		i.Version, i.Commit, i.Modified = fromBuildInfo(bi)
	}
	return i
}

// fromBuildInfo returns the main module's version and the VCS revision
// and modified flag the go command stamped into the binary.
func fromBuildInfo(bi *debug.BuildInfo) (version, commit string, modified bool) {
	version = bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return version, commit, modified
}

// CommandLine joins args as a shell would read them back: arguments with
// spaces, quotes or other special characters are single-quoted.
func CommandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CPUModel returns the processor's model name (from /proc/cpuinfo on
// Linux), or GOARCH where it cannot be read.
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	if m := cpuModel(f); m != "" {
		return m
	}
	return runtime.GOARCH
}

// cpuModel returns the first "model name" (x86) or "Model" / "Hardware"
// (ARM) of a /proc/cpuinfo listing, or "".
func cpuModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	fallback := ""
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name":
			return v
		case "Model", "Hardware":
			if fallback == "" {
				fallback = v
			}
		}
	}
	return fallback
}

// Pairs returns the provenance as labelled values, in display order, for
// reports.
func (i Info) Pairs() [][2]string {
	commit := i.Commit
	switch {
	case commit == "":
		commit = "(not recorded: built without VCS information, e.g. by go run or with -buildvcs=false)"
	case i.Modified:
		commit += " (with uncommitted changes)"
	}
	return [][2]string{
		{"command", i.Command},
		{"asym version", i.Version},
		{"commit", commit},
		{"date", i.Date},
		{"BLAS", i.BLAS},
		{"threads", fmt.Sprint(i.Threads)},
		{"CPU", fmt.Sprintf("%s, %d logical cores", i.CPU, i.Cores)},
		{"Go", i.GoVersion + " " + i.OS},
	}
}
