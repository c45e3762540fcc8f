package enroll_test

import (
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
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
			if r := got[0]; r.Outcome != enroll.NeedsAgreement || !strings.Contains(r.Detail, tt.why) || strings.Contains(strings.Join(r.Actions, ";"), enroll.ActionAccepted) {
				t.Errorf("placeholder row: %s %v (%s), want %s without acceptance, detail holding %q", r.Outcome, r.Actions, r.Detail, enroll.NeedsAgreement, tt.why)
			}
			if r := got[1]; r.Outcome != enroll.Joined {
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

// A created member carries the row's home location and join date, and an
// inactive one its cancel date, as ISO 8601; a date that does not parse is
// not sent, and the row's detail says so. The membership upsert carries
// them too.
func TestMemberFieldsReachTheRecord(t *testing.T) {
	data := "email,member id,status,home club,member since,cancel date\n" +
		"new1@x.co,N-1,Active,Downtown,3/15/2021,10/31/2026\n" +
		"new2@x.co,N-2,Expired,Uptown,2019-06-01 00:00,2026-08-31\n" +
		"new3@x.co,N-3,active,Downtown,31/12/2020,\n" +
		"lapsed@x.co,M-104,Active,Riverside,2020-02-02,\n"
	w := smallWorld()
	w.ExternalMembers = append(w.ExternalMembers, sandbox.ExternalMember{ID: 2, ExternalSystemID: "SYS", ExternalMemberID: "M-104", UserID: 104, Created: 1})
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: data, policy: enroll.Policy{CreateMissing: true, SyncMembership: true, SystemID: "SYS"}})
	if r := got[2]; !strings.Contains(r.Detail, `join date not sent: line 4, column 5 (member since) "31/12/2020" is not a date`) {
		t.Errorf("unparsable join date: %s (%s)", r.Outcome, r.Detail)
	}
	want := map[string]string{
		"N-1":   "ACTIVE Downtown 2021-03-15 ", // an active member's expiration is no cancellation
		"N-2":   "INACTIVE Uptown 2019-06-01 2026-08-31",
		"N-3":   "ACTIVE Downtown  ",
		"M-104": "ACTIVE Riverside 2020-02-02 ", // the sync's upsert
	}
	seen := 0
	for _, m := range s.State().ExternalMembers {
		w, ok := want[m.ExternalMemberID]
		if !ok {
			continue
		}
		seen++
		if got := strings.Join([]string{m.MembershipStatus, m.HomeLocation, m.JoinDate, m.CancelDate}, " "); got != w {
			t.Errorf("member %s: %q, want %q", m.ExternalMemberID, got, w)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of %d members found", seen, len(want))
	}
}
