package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is set at build time by make build and make release:
// -ldflags "-X github.com/pvenroll/pvenroll/internal/cli.Version=v1.2.3".
var Version = ""

// buildVersion is what a binary knows of its own source.
type buildVersion struct {
	Version  string // one word: the version, or devel-REVISION, or devel
	Revision string // the VCS commit, when the build recorded it
	Time     string // the commit's time (RFC 3339)
	Modified bool   // built from a tree with uncommitted changes
}

// readVersion decides the version from what the build recorded, best
// first: the version stamped at link time (git describe); the module
// version (`go install ...@v1.2.3`, or the pseudo-version go build derives
// from the checkout's commit); the VCS revision alone. "devel" is left only
// for a build that recorded none of them (go build -buildvcs=false, or
// outside a clone).
func readVersion(stamped string, bi *debug.BuildInfo) buildVersion {
	var v buildVersion
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	switch {
	case stamped != "":
		v.Version = stamped
	case bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		v.Version = bi.Main.Version
	case v.Revision != "":
		v.Version = "devel-" + short(v.Revision)
		if v.Modified {
			v.Version += "+dirty"
		}
	default:
		v.Version = "devel"
	}
	return v
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func thisBuild() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return readVersion(Version, bi)
}

// version is the one word that names this build: in the user agent, the
// version line and summary.json.
func version() string { return thisBuild().Version }

// versionLine is `pvenroll version`'s answer: the version, Go and the
// platform, then the commit the build came from, or why it is not known.
func versionLine() string {
	v := thisBuild()
	line := fmt.Sprintf("pvenroll %s %s %s/%s", v.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	switch {
	case v.Revision != "":
		commit := []string{"commit " + short(v.Revision)}
		if v.Time != "" {
			commit = append(commit, v.Time)
		}
		if v.Modified {
			commit = append(commit, "with uncommitted changes")
		}
		line += "\n" + strings.Join(commit, ", ")
	case v.Version == "devel":
		line += "\nthis build recorded no version: 'make build' stamps git describe's, and go build records the commit of a git clone (unless -buildvcs=false)"
	}
	return line
}
