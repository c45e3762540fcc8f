package ledger

import (
	"os/exec"
	"strings"
	"testing"
)

// The ledger stores enroll's outcomes and knows nothing of how a run is
// rendered: neither report nor, through it, html/template is among its
// dependencies (the chart's width comes from its caller).
func TestLedgerDoesNotDependOnTheReport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/pvenroll/pvenroll/report" || p == "html/template" {
			t.Errorf("the ledger depends on %s", p)
		}
	}
}
