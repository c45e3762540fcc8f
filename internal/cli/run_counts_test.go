package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// A resumed run's table says which of a count it decided and which it
// resumed, from which runs; the ledger credits it with its own rows only.
func TestCountsBelongToTheirRun(t *testing.T) {
	s := report.NewSummary()
	for _, r := range []enroll.Result{{Outcome: enroll.Joined}, {Outcome: enroll.Joined}, {Outcome: enroll.Joined},
		{Outcome: enroll.Joined, Resumed: true, ResumedFrom: 2}, {Outcome: enroll.Joined, Resumed: true, ResumedFrom: 4},
		{Outcome: enroll.AlreadyActive}, {Outcome: enroll.NeedsAgreement, Resumed: true, ResumedFrom: 4}} {
		s.Add(r)
	}

	var out bytes.Buffer
	printTable(&out, s, false)
	for _, want := range []string{
		"joined                     5  3 in this run, 2 resumed from runs 2, 4 (joined the program)\n",
		"already-active             1  already in the program; nothing written\n",
		"needs-agreement            1  0 in this run, 1 resumed from run 4 (must accept the program terms themselves)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	own := s.Resumed.Own(s.Counts)
	if own[enroll.Joined] != 3 || own[enroll.AlreadyActive] != 1 || len(own) != 2 {
		t.Errorf("the run's own counts: %v, want joined 3, already-active 1", own)
	}
}
