package enroll_test

import (
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	"github.com/pvenroll/pvenroll/report"
)

// A consent cell that records no consent (a placeholder date, a flag, a
// date before the floor) goes the no-consent path: nothing is accepted for
// the customer, and the row's detail says why its cell was not used. A
// real consent beside it is still posted.
func TestPlaceholderConsentIsNoConsent(t *testing.T) {
	for _, tt := range []struct{ cell, why string }{
		{"1900-01-01", "no consent: 1900-01-01 looks like an empty date in the export"},
		{"0001-01-01T00:00:00", "looks like an empty date"},
		{"9999-12-31", "looks like an empty date"},
		{"1899-12-30", "looks like an empty date"},
		{"1999-06-01", "is not after 2000-01-01"},
		{"2126-01-01", "is in the future"},
		{"yes", `"yes" is not a date`},
		{"1", `"1" is not a date`},
		{"N/A", `"N/A" is not a date`},
	} {
		t.Run(tt.cell, func(t *testing.T) {
			s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
			defer s.Close()
			data := "email,consent\nconsent@x.co," + tt.cell + "\nconsent2@x.co,2026-11-20T10:04:00Z\n"
			got, _, _ := run(t, s, runCase{csv: data, consent: "consent"})
			if r := got[0]; r.Outcome != report.NeedsAgreement || !strings.Contains(r.Detail, tt.why) || strings.Contains(strings.Join(r.Actions, ";"), enroll.ActionAccepted) {
				t.Errorf("placeholder row: %s %v (%s), want %s without acceptance, detail holding %q", r.Outcome, r.Actions, r.Detail, report.NeedsAgreement, tt.why)
			}
			if r := got[1]; r.Outcome != report.Joined {
				t.Errorf("consenting row: %s (%s), want joined", r.Outcome, r.Detail)
			}
			for _, u := range s.State().Users {
				if u.UserID == 106 && len(u.AcceptedAgreements) > 0 {
					t.Errorf("user 106: terms accepted from the cell %q", tt.cell)
				}
			}
		})
	}
}
