package main

import (
	"os/exec"
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
