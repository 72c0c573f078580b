// Package buildinfo describes the running asym binary: its module version
// and the version-control state it was built from, as the Go toolchain
// records them (runtime/debug.ReadBuildInfo; go build stamps the commit
// when it builds inside a git checkout, go test and go run -buildvcs=false
// do not).
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info is what the build recorded about the binary.
type Info struct {
	// Version is the module version ("v0.3.0"), or "devel" for a build
	// from a checkout.
	Version string `json:"version"`
	// Revision is the commit the binary was built from ("" if unknown).
	Revision string `json:"revision,omitempty"`
	// Time is the commit's time (RFC 3339, "" if unknown).
	Time string `json:"time,omitempty"`
	// Modified reports whether the checkout had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built the binary.
	GoVersion string `json:"go_version,omitempty"`
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "devel"}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo extracts an Info from bi.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	i := Info{Version: "devel", GoVersion: bi.GoVersion}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		i.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// String returns the version with the commit, e.g. "devel (commit
// 0123456789ab, modified, 2026-12-06T19:00:00Z; go1.26.0)".
func (i Info) String() string {
	var parts []string
	if i.Revision != "" {
		c := "commit " + i.Revision[:min(12, len(i.Revision))]
		if i.Modified {
			c += ", modified"
		}
		if i.Time != "" {
			c += ", " + i.Time
		}
		parts = append(parts, c)
	} else {
		parts = append(parts, "commit unknown")
	}
	if i.GoVersion != "" {
		parts = append(parts, i.GoVersion)
	}
	return fmt.Sprintf("%s (%s)", i.Version, strings.Join(parts, "; "))
}
