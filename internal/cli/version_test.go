package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

// A build names its version from the best source it recorded; a build from
// a checkout is never just "devel".
func TestReadVersion(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "4f9da5a92e6b05a9694303332bc9db14f86dc4a2"},
		{Key: "vcs.time", Value: "2026-12-01T14:13:08Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, c := range []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    buildVersion
	}{
		{"make build stamps git describe", "v1.2.0-3-g4f9da5a", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			buildVersion{"v1.2.0-3-g4f9da5a", "4f9da5a92e6b05a9694303332bc9db14f86dc4a2", "2026-12-01T14:13:08Z", true}},
		{"go install module@version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}},
			buildVersion{Version: "v1.2.0"}},
		{"go build in a clone: the pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201141308-4f9da5a92e6b+dirty"}, Settings: vcs},
			buildVersion{"v0.0.0-20261201141308-4f9da5a92e6b+dirty", "4f9da5a92e6b05a9694303332bc9db14f86dc4a2", "2026-12-01T14:13:08Z", true}},
		{"a revision without a module version", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			buildVersion{"devel-4f9da5a92e6b+dirty", "4f9da5a92e6b05a9694303332bc9db14f86dc4a2", "2026-12-01T14:13:08Z", true}},
		{"nothing recorded", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, buildVersion{Version: "devel"}},
		{"no build info", "", nil, buildVersion{Version: "devel"}},
	} {
		if got := readVersion(c.stamped, c.bi); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// The first line's version is one word, as the user agent and scripts
// expect; a build that recorded nothing says why.
func TestVersionLine(t *testing.T) {
	first, rest, _ := strings.Cut(versionLine(), "\n")
	if f := strings.Fields(first); len(f) != 4 || f[0] != "pvenroll" {
		t.Errorf("first line %q: want pvenroll VERSION GO OS/ARCH", first)
	}
	if strings.Fields(first)[1] == "devel" && !strings.Contains(rest, "recorded no version") {
		t.Errorf("a devel build does not say why: %q", rest)
	}
}
