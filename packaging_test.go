package main

import (
	"go/version"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// `go install ./...` installs the main packages of the module: pvenroll
// only (the bench is a test binary).
func TestOnlyPvenrollIsInstalled(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if got := strings.Fields(string(out)); len(got) != 1 || got[0] != "github.com/pvenroll/pvenroll" {
		t.Errorf("go install ./... would install %v, want only github.com/pvenroll/pvenroll", got)
	}
}

// The Windows nightly wrapper acts on every exit code the shell wrapper
// acts on, and alerts on the same ones.
func TestWindowsWrapperKnowsEveryExitCode(t *testing.T) {
	sh, err := os.ReadFile("samples/deploy/pvenroll-nightly.sh")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := os.ReadFile("samples/deploy/windows/pvenroll-nightly.ps1")
	if err != nil {
		t.Fatal(err)
	}
	shCases := caseActions(string(sh), regexp.MustCompile(`(?m)^\s+(\d+)\) (\w+)`))
	psCases := caseActions(string(ps), regexp.MustCompile(`(?m)^\s+(\d+) \{ (\w+)`))
	if len(shCases) < 7 {
		t.Fatalf("read %d cases of the shell wrapper: %v", len(shCases), shCases)
	}
	for code, action := range shCases {
		if got := strings.ToLower(psCases[code]); got != action {
			t.Errorf("exit %s: the shell wrapper does %q, the PowerShell one %q", code, action, got)
		}
	}
	for code := range psCases {
		if _, ok := shCases[code]; !ok {
			t.Errorf("exit %s: only the PowerShell wrapper handles it", code)
		}
	}
}

// caseActions maps each exit code of a wrapper's case statement to its
// first word: note or alert.
func caseActions(script string, re *regexp.Regexp) map[string]string {
	m := map[string]string{}
	for _, c := range re.FindAllStringSubmatch(script, -1) {
		m[c[1]] = strings.ToLower(c[2])
	}
	return m
}

// The image's Go toolchain can build the module: the official golang
// images set GOTOOLCHAIN=local, so a go.mod asking for a newer Go fails
// `make image` at its go mod download step.
func TestImageGoIsTheModulesGo(t *testing.T) {
	docker := readFile(t, "Dockerfile")
	gomod := readFile(t, "go.mod")
	image := submatch(t, "Dockerfile", docker, `(?m)^ARG GO_VERSION=(\S+)$`)
	module := submatch(t, "go.mod", gomod, `(?m)^go (\S+)$`)
	if version.Compare("go"+image, "go"+module) < 0 {
		t.Errorf("the Dockerfile builds with Go %s; go.mod needs %s", image, module)
	}
}

// make build/release and the Dockerfile stamp the version into the same
// variable, and a binary linked so says it: -X of a name that does not
// exist is silently ignored by the linker.
func TestStampedVersionIsShown(t *testing.T) {
	t.Parallel()
	stamp := regexp.MustCompile(`-X (\S+)=\$[({]VERSION[)}]`)
	makefileVar := submatch(t, "Makefile", readFile(t, "Makefile"), stamp.String())
	dockerfileVar := submatch(t, "Dockerfile", readFile(t, "Dockerfile"), stamp.String())
	if makefileVar != dockerfileVar {
		t.Fatalf("the Makefile stamps %s, the Dockerfile %s", makefileVar, dockerfileVar)
	}
	if testing.Short() {
		t.Skip("builds pvenroll")
	}
	bin := filepath.Join(t.TempDir(), "pvenroll")
	build := exec.Command("go", "build", "-ldflags", "-X "+makefileVar+"=v9.8.7-stamp", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("pvenroll version: %v", err)
	}
	if !strings.HasPrefix(string(out), "pvenroll v9.8.7-stamp ") {
		t.Errorf("pvenroll version says %q, want the stamped v9.8.7-stamp", out)
	}
}

// Windows PowerShell 5.1 reads a script without a byte-order mark in the
// machine's ANSI code page: a non-ASCII character (a dash, a typographic
// quote, which PowerShell even takes for a quote) would change the script.
func TestWindowsScriptsAreASCII(t *testing.T) {
	scripts, err := filepath.Glob("samples/deploy/windows/*.ps1")
	if err != nil || len(scripts) < 2 {
		t.Fatalf("found %v (%v), want the two Windows scripts", scripts, err)
	}
	for _, p := range scripts {
		for i, line := range strings.Split(readFile(t, p), "\n") {
			for col, r := range line {
				if r > 0x7e || (r < 0x20 && r != '\t' && r != '\r') {
					t.Errorf("%s:%d:%d: %q is not printable ASCII", p, i+1, col+1, r)
				}
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// submatch is the first group of re's first match in text (read from name).
func submatch(t *testing.T, name, text, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("%s: no line matches %s", name, re)
	}
	return m[1]
}
