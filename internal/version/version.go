// Package version says which gitvend a binary is: the release and commit
// stamped at build time by the release build (-ldflags -X), or else what Go
// recorded in the binary (a `go install module@version` build).
package version

import (
	"runtime/debug"
	"strings"
)

// Set by the release build:
//
//	-ldflags "-X github.com/gitvend/gitvend/internal/version.version=v0.1.0
//	          -X github.com/gitvend/gitvend/internal/version.commit=<sha>"
var (
	version string
	commit  string
)

// Devel is the version of a binary built from a checkout without stamps.
const Devel = "(devel)"

// Info is the version and commit of the running binary.
type Info struct {
	// Version is the release, such as v0.1.0, or Devel.
	Version string `json:"version"`
	// Commit is the full commit hash the binary was built from, or empty
	// when unknown.
	Commit string `json:"commit,omitempty"`
}

// Get reports the running binary's version: the build-time stamps when
// present, else the module version and VCS revision Go recorded.
func Get() Info {
	info, _ := debug.ReadBuildInfo()
	return resolve(version, commit, info)
}

// resolve prefers the stamps; each one that is missing comes from the build
// information.
func resolve(stampVersion, stampCommit string, bi *debug.BuildInfo) Info {
	out := Info{Version: strings.TrimSpace(stampVersion), Commit: strings.TrimSpace(stampCommit)}
	if bi != nil {
		if out.Version == "" && bi.Main.Version != "" {
			out.Version = bi.Main.Version
		}
		if out.Commit == "" {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					out.Commit = s.Value
				}
			}
		}
	}
	if out.Version == "" {
		out.Version = Devel
	}
	return out
}

// String is the version as `gitvend version` prints it after the program's
// name: the release, then the first 12 characters of the commit when known,
// such as "v0.1.0 0123456789ab".
func (i Info) String() string {
	if i.Commit == "" {
		return i.Version
	}
	c := i.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	return i.Version + " " + c
}

// String is Get().String().
func String() string { return Get().String() }
