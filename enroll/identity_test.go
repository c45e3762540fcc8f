package enroll_test

import (
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// identityWorld: customers a row may be mistaken for. Every connection is
// IMPORTED (not joined) unless said otherwise; every membership ACTIVE;
// nobody has accepted the terms, so only a row's own consent lets a
// customer join.
func identityWorld() *sandbox.World {
	w := smallWorld()
	conn := func(id int64, status string) *sandbox.Connection {
		return &sandbox.Connection{ConnectionID: id, Status: status, ExternalMembershipStatus: pv.StatusActive}
	}
	w.Users = []sandbox.User{
		{UserID: 301, Emails: []string{"ann@x.co"}, Connection: conn(3001, pv.StatusImported)},
		{UserID: 302, Emails: []string{"bob@x.co"}, Connection: conn(3002, pv.StatusImported)},
		{UserID: 303, Emails: []string{"cat@x.co"}, Connection: conn(3003, pv.StatusImported)},
		{UserID: 304, Emails: []string{"left@x.co"}, Connection: conn(3004, pv.StatusInactive)},
		{UserID: 305, Emails: []string{"two@x.co", "second@x.co"}, Connection: conn(3005, pv.StatusImported)},
		{UserID: 306, Emails: []string{"owner@x.co"}, Connection: conn(3006, pv.StatusImported)},
	}
	w.ExternalMembers = []sandbox.ExternalMember{{ID: 1, ExternalSystemID: "SYS", ExternalMemberID: "M-306", UserID: 306, Created: 1}}
	return w
}

// identityRun runs data (its consent column "consent") with policy after
// the preflight, so that the sandbox's log holds the run's requests only.
func identityRun(t *testing.T, s *sandbox.Server, data string, policy enroll.Policy, workers int, wire http.RoundTripper) []enroll.Result {
	t.Helper()
	api, err := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken), ReadOnly: policy.DryRun, Wire: wire})
	if err != nil {
		t.Fatal(err)
	}
	en := enroll.New(api, business(t, api), policy)
	s.ResetLog()
	sink := &memSink{rows: map[int]enroll.Result{}}
	runRows(t, data, export.ReaderOptions{Name: "t.csv", ConsentColumn: "consent"}, en, sink, enroll.Options{Workers: max(workers, 1)})
	return sink.ordered(t)
}

// writes lists the run's requests other than GET, as "METHOD path".
func writes(s *sandbox.Server) []string {
	var out []string
	for _, e := range s.Log() {
		if e.Method != http.MethodGet {
			out = append(out, e.Method+" "+e.Path)
		}
	}
	return out
}

// accepted lists the users who accepted terms, and joined, the users whose
// connection is ACTIVE: the figures no run may move for anyone but a row's
// own customer.
func acceptedAndActive(s *sandbox.Server) (accepted, active []int64) {
	for _, u := range s.State().Users {
		if len(u.AcceptedAgreements) > 0 {
			accepted = append(accepted, u.UserID)
		}
		if u.Connection != nil && u.Connection.Status == pv.StatusActive {
			active = append(active, u.UserID)
		}
	}
	return accepted, active
}

const consentAt = "2026-11-20T10:04:00Z"

// A row whose email and Perkville user id are two customers' writes
// nothing, and is a conflict naming both; so is a row whose user id has a
// connection its email does not find, and an INACTIVE customer's row with
// a stale user id. A row whose two ids agree joins.
func TestRowOfTwoCustomersWritesNothing(t *testing.T) {
	s := sandbox.NewServer(identityWorld(), sandbox.Faults{})
	defer s.Close()
	data := "email,perkville user id,member id,consent\n" +
		"ann@x.co,302,A-1," + consentAt + "\n" + // ann's email, bob's user id
		"nobody@x.co,303,N-1," + consentAt + "\n" + // an unknown email, cat's user id
		"left@x.co,999999,L-1," + consentAt + "\n" + // left the program; a stale user id
		"second@x.co,305,T-1," + consentAt + "\n" // two ids of one customer
	got := identityRun(t, s, data, enroll.Policy{CreateMissing: true, SystemID: "SYS", RejoinInactive: true}, 4, nil)
	for i, want := range []string{
		"the email ann@x.co finds Perkville user 301 (connection 3001), not the row's user id 302",
		"the user id 303 has connection 3003, but the email nobody@x.co finds no connection",
		"the email left@x.co finds Perkville user 304 (connection 3004), not the row's user id 999999",
	} {
		if r := got[i]; r.Outcome != enroll.Conflict || !strings.Contains(r.Detail, want) || len(r.Actions) > 0 {
			t.Errorf("line %d: %s %v (%s), want a conflict saying %q, nothing written", r.Line, r.Outcome, r.Actions, r.Detail, want)
		}
	}
	if r := got[3]; r.Outcome != enroll.Joined || r.ConnectionID != 3005 {
		t.Errorf("line 5: %s %d (%s), want joined on connection 3005", r.Outcome, r.ConnectionID, r.Detail)
	}
	accepted, active := acceptedAndActive(s)
	if !slices.Equal(accepted, []int64{305}) || !slices.Equal(active, []int64{305}) {
		t.Errorf("accepted %v, active %v: only user 305's row consented for its own customer", accepted, active)
	}
	if w := writes(s); len(w) != 2 {
		t.Errorf("writes %v: only line 5's acceptance and join", w)
	}
}

// hiddenLookup answers the first lookup of an email with an empty page, as
// a lookup that misses a customer the upsert then finds (an email matched
// otherwise, a replica behind): the create lands on an existing customer.
type hiddenLookup struct {
	email string
	once  sync.Once
}

func (h *hiddenLookup) RoundTrip(req *http.Request) (*http.Response, error) {
	hide := false
	if req.Method == http.MethodGet && req.URL.Query().Get(pv.QueryEmail) == h.email {
		h.once.Do(func() { hide = true })
	}
	if !hide {
		return http.DefaultTransport.RoundTrip(req)
	}
	body := `{"meta":{"limit":2,"offset":0,"next":null,"total_count":0},"objects":[]}`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// After a create, the connection read back decides, not the answer: a
// create that lands on a customer who left is opted-out (joined only with
// --rejoin-inactive); an answer that names another customer than the one
// the row's email finds is a conflict, with nothing further written; an
// answer without the connection is found by the email.
func TestCreateIsBelievedOnlyAsReadBack(t *testing.T) {
	for _, tt := range []struct {
		name    string
		row     string
		setup   func(*sandbox.World)
		hide    string
		rejoin  bool
		outcome enroll.Outcome
		detail  string
		active  []int64
	}{
		{"lands on one who left", "left@x.co,L-1", nil, "left@x.co", false, enroll.OptedOut, "connection is INACTIVE", nil},
		{"lands on one who left, rejoin", "left@x.co,L-1", nil, "left@x.co", true, enroll.Joined, "", []int64{304}},
		{"lands on another's record", "new@x.co,M-306", func(w *sandbox.World) { w.ExternalMembers[0].MatchesAnyEmail = true }, "", true,
			enroll.Conflict, `was for new@x.co, but the answer names connection "/v2/connections/3006/" of user "/v2/users/306/", and the email finds no connection`, nil},
		{"answer without connection", "new@x.co,N-1", func(w *sandbox.World) { w.Business.CreateAnswersWithoutConnection = true }, "", false, enroll.Joined, "", []int64{1000000}},
		{"answer without connection, another's record", "new@x.co,M-306", func(w *sandbox.World) {
			w.Business.CreateAnswersWithoutConnection = true
			w.ExternalMembers[0].MatchesAnyEmail = true
		}, "", false, enroll.Conflict, "the email finds no connection", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := identityWorld()
			if tt.setup != nil {
				tt.setup(w)
			}
			s := sandbox.NewServer(w, sandbox.Faults{})
			defer s.Close()
			var wire http.RoundTripper
			if tt.hide != "" {
				wire = &hiddenLookup{email: tt.hide}
			}
			got := identityRun(t, s, "email,member id,consent\n"+tt.row+","+consentAt+"\n",
				enroll.Policy{CreateMissing: true, SystemID: "SYS", RejoinInactive: tt.rejoin}, 1, wire)
			r := got[0]
			if r.Outcome != tt.outcome || !strings.Contains(r.Detail, tt.detail) {
				t.Fatalf("%s %v (%s), want %s with %q", r.Outcome, r.Actions, r.Detail, tt.outcome, tt.detail)
			}
			accepted, active := acceptedAndActive(s)
			if !slices.Equal(active, tt.active) || !slices.Equal(accepted, tt.active) {
				t.Errorf("accepted %v, active %v; want %v", accepted, active, tt.active)
			}
			if w := writes(s); tt.outcome != enroll.Joined && len(w) != 1 {
				t.Errorf("writes %v: the create only", w)
			}
		})
	}
}

// Claim first, write after: of two rows that reach one customer (two
// emails of one user; one member id for two new emails), one writes and
// the other writes nothing and names the line that holds the customer.
func TestTheRowThatLosesTheClaimWritesNothing(t *testing.T) {
	for _, tt := range []struct {
		name, csv string
		policy    enroll.Policy
		wantPosts int // external-member POSTs
	}{
		// Perkville holds the membership INACTIVE: each row would upsert it.
		{"two emails of one user, each would sync the membership", "email,member id,membership status,consent\n" +
			"two@x.co,T-1,active," + consentAt + "\nsecond@x.co,T-2,active," + consentAt + "\n",
			enroll.Policy{SystemID: "SYS", SyncMembership: true}, 1},
		{"one member id, two new emails", "email,member id,membership status,consent\n" +
			"new1@x.co,N-7,active," + consentAt + "\nnew2@x.co,N-7,active," + consentAt + "\n",
			enroll.Policy{SystemID: "SYS", CreateMissing: true}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for range 5 { // rows race for the claim: either may win, never both
				w := identityWorld()
				w.Users[4].Connection.ExternalMembershipStatus = pv.StatusInactive // two@x.co, second@x.co
				s := sandbox.NewServer(w, sandbox.Faults{})
				got := identityRun(t, s, tt.csv, tt.policy, 2, nil)
				st := s.State()
				s.Close()
				lost := slices.IndexFunc(got, func(r enroll.Result) bool { return r.Outcome == enroll.Conflict })
				if lost < 0 || got[1-lost].Outcome != enroll.Joined {
					t.Fatalf("outcomes %s, %s: want one joined, one conflict", got[0].Outcome, got[1].Outcome)
				}
				r, winner := got[lost], got[1-lost]
				if len(r.Actions) > 0 || !strings.Contains(r.Detail, "line "+strconv.Itoa(winner.Line)+" holds") {
					t.Fatalf("the loser: %v (%s), want nothing written, naming line %d", r.Actions, r.Detail, winner.Line)
				}
				posts, membershipWrites := 0, 0 // created or updated records
				for _, m := range st.ExternalMembers {
					posts += m.Created + m.Updated
					if m.ExternalMemberID != "M-306" {
						membershipWrites += m.Created + m.Updated
					}
				}
				if membershipWrites != tt.wantPosts || posts != tt.wantPosts+1 { // the world's own record counts 1
					t.Fatalf("%d external-member writes for the rows, want %d", membershipWrites, tt.wantPosts)
				}
			}
		})
	}
}

// An upsert answered but not applied is never synced-membership: the
// connection read back says what Perkville holds, and decides the join.
func TestMembershipNotApplied(t *testing.T) {
	w := membershipWorld()
	w.Business.UpsertsIgnoreMembership = true
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: membershipCSV, workers: 1, policy: enroll.Policy{SystemID: "SYS", SyncMembership: true}})
	checkRows(t, got, []rowWant{
		{enroll.MembershipInactive, "membership-not-applied", 4, true}, // find, upsert, read back, join refused
		{enroll.AlreadyActive, "membership-not-applied", 3, true},
		{enroll.Joined, "activated", 2, false},
		{enroll.OptedOut, "membership-not-applied", 3, true},
		{enroll.MembershipInactive, "", 2, true},
	})
	if r := got[0]; !strings.Contains(r.Detail, "the membership update to ACTIVE was answered, but Perkville still holds INACTIVE") {
		t.Errorf("detail %q does not say what Perkville holds", r.Detail)
	}
}

// A membership upsert whose answer names another customer (it landed on
// someone else's record) is a conflict: nothing more is written for the
// row, neither its acceptance nor its join.
func TestMembershipUpsertAnsweredForAnotherCustomer(t *testing.T) {
	w := identityWorld()
	w.ExternalMembers[0].MatchesAnyEmail = true                        // M-306, owner@x.co's
	w.Users[0].Connection.ExternalMembershipStatus = pv.StatusInactive // ann@x.co
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	got := identityRun(t, s, "email,member id,membership status,consent\nann@x.co,M-306,active,"+consentAt+"\n",
		enroll.Policy{SystemID: "SYS", SyncMembership: true}, 1, nil)
	r := got[0]
	want := `was for ann@x.co, but the answer names connection "/v2/connections/3006/" of user "/v2/users/306/", and the email finds connection 3001 of user 301 (after: membership-not-applied)`
	if r.Outcome != enroll.Conflict || !strings.Contains(r.Detail, want) {
		t.Fatalf("%s %v (%s), want a conflict saying %q", r.Outcome, r.Actions, r.Detail, want)
	}
	if w := writes(s); len(w) != 1 {
		t.Errorf("writes %v: the upsert only", w)
	}
	if accepted, active := acceptedAndActive(s); len(accepted)+len(active) > 0 {
		t.Errorf("accepted %v, active %v: nobody", accepted, active)
	}
}

// A listing that ignores its status filter: a listed connection counts as
// ACTIVE only if its own status is, so a customer who left since is
// looked up again (opted-out), never reported still in the program.
func TestListedObjectCountsOnlyByItsOwnStatus(t *testing.T) {
	w := identityWorld()
	w.Business.ListingIgnoresStatus = true
	for i := range w.Users[:2] {
		w.Users[i].AcceptedAgreements = []sandbox.Accepted{{AgreementID: 7}}
	}
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	path := filepath.Join(t.TempDir(), "state.db")
	data := "email\nann@x.co\nbob@x.co\n"
	first, _ := runState(t, s, path, data, enroll.Policy{}, nil)
	if first[0].Outcome != enroll.Joined || first[1].Outcome != enroll.Joined {
		t.Fatalf("first run: %s, %s", first[0].Outcome, first[1].Outcome)
	}
	// Bob leaves the program.
	req, _ := http.NewRequest(http.MethodPatch, s.URL+pv.ConnectionPath(3002), strings.NewReader(`{"status":"INACTIVE"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("opting bob out: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	second, _ := runState(t, s, path, data, enroll.Policy{}, nil)
	if r := second[0]; r.Outcome != enroll.AlreadyActive || !r.Skipped || strings.HasSuffix(r.Detail, "; ") {
		t.Errorf("ann: %s skipped=%v (%q), want already-active from the listing", r.Outcome, r.Skipped, r.Detail)
	}
	if r := second[1]; r.Outcome != enroll.OptedOut || r.Skipped {
		t.Errorf("bob: %s skipped=%v (%s), want opted-out, looked up", r.Outcome, r.Skipped, r.Detail)
	}
}

// An earlier line's member id is its customer's: a later row that would
// create with that member id under another email writes nothing (a later
// found row only skips its membership upsert), even against a server whose upsert keys on the
// member id alone and would land on the earlier line's customer, giving
// them the other row's membership. So is it in the dry run.
func TestAnEarlierLineHoldsItsMemberID(t *testing.T) {
	for _, dry := range []bool{false, true} {
		w := identityWorld()
		w.ExternalMembers = append(w.ExternalMembers, sandbox.ExternalMember{ID: 2, ExternalSystemID: "SYS",
			ExternalMemberID: "A-1", UserID: 301, Created: 1, MatchesAnyEmail: true})
		w.Users[1].Connection.ExternalMembershipStatus = pv.StatusInactive // bob@x.co
		s := sandbox.NewServer(w, sandbox.Faults{})
		got := identityRun(t, s, "email,member id,membership status,consent\n"+
			"ann@x.co,A-1,active,"+consentAt+"\nann.work@x.co,A-1,inactive,"+consentAt+"\nbob@x.co,A-1,active,"+consentAt+"\n",
			enroll.Policy{SystemID: "SYS", CreateMissing: true, SyncMembership: true, DryRun: dry}, 3, nil)
		st, wrote := s.State(), writes(s)
		s.Close()
		if r := got[0]; r.Outcome != map[bool]enroll.Outcome{false: enroll.Joined, true: enroll.WouldJoin}[dry] {
			t.Fatalf("dry %v, line 2: %s (%s), want joined", dry, r.Outcome, r.Detail)
		}
		if r := got[1]; r.Outcome != enroll.Conflict || len(r.Actions) > 0 || !strings.Contains(r.Detail, "line 2 holds member id A-1") {
			t.Errorf("dry %v, line 3: %s %v (%s), want a conflict naming line 2, nothing written", dry, r.Outcome, r.Actions, r.Detail)
		}
		// Bob, found by his own email, is still decided by his connection,
		// without the upsert.
		if r := got[2]; r.Outcome == enroll.Conflict || !r.MembershipDiffers || !strings.Contains(r.Detail, "not updated: line 2 names member id A-1 too") {
			t.Errorf("dry %v, line 4: %s %v (%s), want the membership left, naming line 2", dry, r.Outcome, r.Actions, r.Detail)
		}
		if m := st.Users[0].Connection.ExternalMembershipStatus; m != pv.StatusActive {
			t.Errorf("dry %v: ann's membership %s, want ACTIVE: another row's upsert reached her", dry, m)
		}
		for _, w := range wrote {
			if strings.Contains(w, "external-members") {
				t.Errorf("dry %v: writes %v, want no upsert: only line 2's needs none", dry, wrote)
			}
		}
		if dry && len(wrote) > 0 {
			t.Errorf("dry run writes %v", wrote)
		}
	}
}
