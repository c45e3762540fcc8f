package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// `go install ./...` installs the main packages of the module: pvenroll
// only (the bench is a test binary).
func TestOnlyPvenrollIsInstalled(t *testing.T) {
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
