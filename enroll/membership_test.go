package enroll_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// membershipWorld: customers whose membership in the export differs from
// Perkville's, in each connection state.
func membershipWorld() *sandbox.World {
	w := smallWorld()
	accepted := []sandbox.Accepted{{AgreementID: 7}}
	conn := func(id int64, status, membership string) *sandbox.Connection {
		return &sandbox.Connection{ConnectionID: id, Status: status, ExternalMembershipStatus: membership}
	}
	w.Users = []sandbox.User{
		{UserID: 201, Emails: []string{"renewed@x.co"}, AcceptedAgreements: accepted, Connection: conn(2001, pv.StatusImported, pv.StatusInactive)},
		{UserID: 202, Emails: []string{"ended@x.co"}, AcceptedAgreements: accepted, Connection: conn(2002, pv.StatusActive, pv.StatusActive)},
		{UserID: 203, Emails: []string{"same@x.co"}, AcceptedAgreements: accepted, Connection: conn(2003, pv.StatusImported, pv.StatusActive)},
		{UserID: 204, Emails: []string{"left@x.co"}, AcceptedAgreements: accepted, Connection: conn(2004, pv.StatusInactive, pv.StatusActive)},
		{UserID: 205, Emails: []string{"noid@x.co"}, AcceptedAgreements: accepted, Connection: conn(2005, pv.StatusImported, pv.StatusInactive)},
	}
	w.ExternalMembers = []sandbox.ExternalMember{
		{ID: 1, ExternalSystemID: "SYS", ExternalMemberID: "R-1", UserID: 201, MembershipStatus: pv.StatusInactive, Created: 1},
		{ID: 2, ExternalSystemID: "SYS", ExternalMemberID: "E-1", UserID: 202, MembershipStatus: pv.StatusActive, Created: 1},
	}
	return w
}

const membershipCSV = `email,member id,membership status,membership type
renewed@x.co,R-1,active,Gold
ended@x.co,E-1,cancelled,Gold
same@x.co,S-1,active,
left@x.co,L-1,inactive,
noid@x.co,,active,
`

type rowWant struct {
	outcome  enroll.Outcome
	actions  string
	attempts int
	differs  bool
}

func checkRows(t *testing.T, got []enroll.Result, want []rowWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		r := got[i]
		if r.Outcome != w.outcome || strings.Join(r.Actions, ";") != w.actions || (w.attempts >= 0 && r.Attempts != w.attempts) || r.MembershipDiffers != w.differs {
			t.Errorf("%s: %s %q attempts=%d differs=%v (%s), want %s %q %d %v", r.Email, r.Outcome, strings.Join(r.Actions, ";"),
				r.Attempts, r.MembershipDiffers, r.Detail, w.outcome, w.actions, w.attempts, w.differs)
		}
	}
}

func TestSyncMembershipBeforeTheJoin(t *testing.T) {
	s := sandbox.NewServer(membershipWorld(), sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: membershipCSV, workers: 1, policy: enroll.Policy{SystemID: "SYS", SyncMembership: true}})
	checkRows(t, got, []rowWant{
		{enroll.Joined, "synced-membership;activated", 4, false}, // find, upsert, read back, join
		{enroll.AlreadyActive, "synced-membership", 3, false},    // the membership ended; the connection stays
		{enroll.Joined, "activated", 2, false},                   // nothing differs: nothing extra
		{enroll.OptedOut, "synced-membership", 3, false},         // left: never rejoined
		{enroll.MembershipInactive, "", 2, true},                 // no member id: no upsert
	})
	st := s.State()
	members := map[string]sandbox.ExternalMember{}
	for _, m := range st.ExternalMembers {
		members[m.ExternalMemberID] = m
	}
	if m := members["R-1"]; m.MembershipStatus != pv.StatusActive || m.MembershipType != "Gold" || m.Created != 1 {
		t.Errorf("renewed member %+v", m)
	}
	if m := members["E-1"]; m.MembershipStatus != pv.StatusInactive {
		t.Errorf("ended member %+v", m)
	}
	for _, u := range st.Users {
		switch u.UserID {
		case 202:
			if u.Connection.Status != pv.StatusActive || u.Connection.ExternalMembershipStatus != pv.StatusInactive {
				t.Errorf("ended: connection %+v, want ACTIVE with an INACTIVE membership", u.Connection)
			}
		case 204:
			if u.Connection.Status != pv.StatusInactive || u.Connection.ExternalMembershipStatus != pv.StatusInactive {
				t.Errorf("left: connection %+v, want INACTIVE with an INACTIVE membership", u.Connection)
			}
		}
	}
	for _, e := range s.Log() {
		if e.Method == http.MethodPatch && (strings.Contains(e.Path, "/2002/") || strings.Contains(e.Path, "/2004/")) {
			t.Errorf("%s %s: the connection of an ended membership or an opt-out was written", e.Method, e.Path)
		}
	}
}

func TestWithoutSyncMembershipNothingIsUpsertedAndDifferencesAreCounted(t *testing.T) {
	s := sandbox.NewServer(membershipWorld(), sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: membershipCSV, workers: 2, policy: enroll.Policy{SystemID: "SYS"}})
	checkRows(t, got, []rowWant{
		{enroll.MembershipInactive, "", 2, true},
		{enroll.AlreadyActive, "", 1, true},
		{enroll.Joined, "activated", 2, false},
		{enroll.OptedOut, "", 1, true},
		{enroll.MembershipInactive, "", 2, true},
	})
	for _, e := range s.Log() {
		if e.Method == http.MethodPost && !isAdminProbe(e) {
			t.Errorf("%s %s without --sync-membership", e.Method, e.Path)
		}
	}
	if d := got[0].Detail; !strings.Contains(d, enroll.MembershipDiffersNote) || !strings.Contains(d, "export ACTIVE, Perkville INACTIVE") {
		t.Errorf("detail %q", d)
	}
	// the system id is set (as a preset sets it): the detail does not ask for it
	if d := got[0].Detail; !strings.Contains(d, "; --sync-membership updates it)") || strings.Contains(d, "--system-id") {
		t.Errorf("with a system id, the detail %q asks for more than --sync-membership", d)
	}
	s2 := sandbox.NewServer(membershipWorld(), sandbox.Faults{})
	defer s2.Close()
	bare, _, _ := run(t, s2, runCase{csv: membershipCSV, workers: 2})
	if d := bare[0].Detail; !strings.Contains(d, "--sync-membership with --system-id updates it") {
		t.Errorf("without a system id, the detail %q does not ask for one", d)
	}
	sum := report.NewSummary()
	for _, r := range got {
		sum.Add(r)
	}
	if sum.MembershipDiffers != 4 {
		t.Errorf("summary counts %d differing rows, want 4", sum.MembershipDiffers)
	}
}

func TestDryRunPredictsTheMembershipSync(t *testing.T) {
	s := sandbox.NewServer(membershipWorld(), sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: membershipCSV, workers: 2, policy: enroll.Policy{DryRun: true, SystemID: "SYS", SyncMembership: true}})
	checkRows(t, got, []rowWant{
		{enroll.WouldJoin, "would-sync-membership;would-activate", -1, false},
		{enroll.AlreadyActive, "would-sync-membership", -1, false},
		{enroll.WouldJoin, "would-activate", -1, false},
		{enroll.OptedOut, "would-sync-membership", -1, false},
		{enroll.WouldJoin, "would-activate", -1, true},
	})
	for _, e := range s.Log() {
		if e.Method != http.MethodGet && !isAdminProbe(e) {
			t.Errorf("dry run sent %s %s", e.Method, e.Path)
		}
	}
	if !strings.Contains(got[4].Detail, "membership is INACTIVE") {
		t.Errorf("a dry run without the sync should warn of the refusal: %q", got[4].Detail)
	}
}

// With --state a row stays unchanged, and free, until its membership
// status changes; switching the sync on looks up the rows it would change.
func TestSyncMembershipWithState(t *testing.T) {
	s := sandbox.NewServer(membershipWorld(), sandbox.Faults{})
	defer s.Close()
	path := filepath.Join(t.TempDir(), "state.db")
	data := "email,member id,membership status\nended@x.co,E-1,cancelled\nsame@x.co,S-1,active\n"
	sync := enroll.Policy{SystemID: "SYS", SyncMembership: true}

	first, _ := runState(t, s, path, data, enroll.Policy{SystemID: "SYS"}, nil)
	checkRows(t, first, []rowWant{{enroll.AlreadyActive, "", 1, true}, {enroll.Joined, "activated", 2, false}})
	second, _ := runState(t, s, path, data, sync, nil)
	checkRows(t, second, []rowWant{{enroll.AlreadyActive, "synced-membership", 3, false}, {enroll.AlreadyActive, "", 0, false}})
	third, _ := runState(t, s, path, data, sync, nil)
	checkRows(t, third, []rowWant{{enroll.AlreadyActive, "", 0, false}, {enroll.AlreadyActive, "", 0, false}})
	if !third[0].Skipped || !third[1].Skipped {
		t.Errorf("unchanged rows not skipped: %+v", third)
	}
	renewed := strings.Replace(data, "cancelled", "active", 1)
	fourth, _ := runState(t, s, path, renewed, sync, nil)
	checkRows(t, fourth, []rowWant{{enroll.AlreadyActive, "synced-membership", 3, false}, {enroll.AlreadyActive, "", 0, false}})
}

// A preset's rule is the row's membership status: a change of the cells it
// reads is a change of the row.
func TestPresetRuleChangeIsAChangeOfTheRow(t *testing.T) {
	s := sandbox.NewServer(membershipWorld(), sandbox.Faults{})
	defer s.Close()
	path := filepath.Join(t.TempDir(), "state.db")
	preset, err := export.LookupPreset("abc-ignite")
	if err != nil {
		t.Fatal(err)
	}
	sync := enroll.Policy{SystemID: "SYS", SyncMembership: true}
	active := "email,memberId,isActive,joinStatus\nended@x.co,E-1,true,Member\n"
	first, _ := runState(t, s, path, active, sync, preset)
	checkRows(t, first, []rowWant{{enroll.AlreadyActive, "", 1, false}})
	ended := "email,memberId,isActive,joinStatus\nended@x.co,E-1,true,Prospect\n"
	second, _ := runState(t, s, path, ended, sync, preset)
	checkRows(t, second, []rowWant{{enroll.AlreadyActive, "synced-membership", 3, false}})
	again, _ := runState(t, s, path, ended, sync, preset)
	checkRows(t, again, []rowWant{{enroll.AlreadyActive, "", 0, false}})
}

func runState(t *testing.T, s *sandbox.Server, path, data string, policy enroll.Policy, preset *export.Preset) ([]enroll.Result, *enroll.RunInfo) {
	t.Helper()
	l, err := ledger.Open(path, policy.DryRun)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken), ReadOnly: policy.DryRun})
	en := enroll.New(api, business(t, api), policy)
	ro := export.ReaderOptions{Name: "t.csv", Preset: preset}
	read := beginRun(t, l, en, ro, time.Now())
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, data, ro, en, sink, enroll.Options{Workers: 4, Memory: l, Read: read})
	if err := l.Finish(out.End, "", ledger.RunFinished, nil, 0, 0); err != nil {
		t.Fatal(err)
	}
	return sink.ordered(t), out
}
