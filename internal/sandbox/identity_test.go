package sandbox_test

import (
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// The world settings that play a server which does not hold to what it is
// asked: each is off by default, and does what its name says when on.

func TestListingIgnoresStatus(t *testing.T) {
	for _, ignores := range []bool{false, true} {
		w := syncWorld() // connection 1001, IMPORTED
		w.Business.ListingIgnoresStatus = ignores
		s := sandbox.NewServer(w, sandbox.Faults{})
		a := call(t, s, admin, "GET", "/v2/connections/?business=25&status=ACTIVE", "")
		s.Close()
		objs, _ := a.body["objects"].([]any)
		if a.status != 200 || (len(objs) == 1) != ignores {
			t.Fatalf("listing_ignores_status %v: %d %s", ignores, a.status, a.raw)
		}
		if ignores && objs[0].(map[string]any)["status"] != pv.StatusImported {
			t.Fatalf("the listed object must keep its own status: %s", a.raw)
		}
	}
}

func TestUpsertsIgnoreMembership(t *testing.T) {
	for _, ignores := range []bool{false, true} {
		w := syncWorld() // M-1 of user 101: membership INACTIVE
		w.Business.UpsertsIgnoreMembership = ignores
		s := sandbox.NewServer(w, sandbox.Faults{})
		a := call(t, s, admin, "POST", "/v2/external-members/",
			`{"business":25,"external_system_id":"SYS","external_member_id":"M-1","user_email":"renewed@x.co","membership_status":"ACTIVE","membership_type":"Gold"}`)
		st := s.State()
		s.Close()
		if a.status != 200 {
			t.Fatalf("upsert: %d %s", a.status, a.raw)
		}
		want, wantType := pv.StatusActive, "Gold"
		if ignores {
			want, wantType = pv.StatusInactive, ""
		}
		if m, c := st.ExternalMembers[0], st.Users[0].Connection; m.MembershipStatus != want || m.MembershipType != wantType || c.ExternalMembershipStatus != want {
			t.Fatalf("upserts_ignore_membership %v: member %+v, connection %+v; want %s", ignores, m, c, want)
		}
	}
}

// An upsert of a member id that matches another customer's record lands on
// that record, and names that customer's user and connection.
func TestUpsertMatchesAnotherCustomersRecord(t *testing.T) {
	for _, matches := range []bool{false, true} {
		w := syncWorld()
		w.ExternalMembers[0].MatchesAnyEmail = matches
		s := sandbox.NewServer(w, sandbox.Faults{})
		a := call(t, s, admin, "POST", "/v2/external-members/",
			`{"business":25,"external_system_id":"SYS","external_member_id":"M-1","user_email":"someone-else@x.co"}`)
		st := s.State()
		s.Close()
		if !matches {
			if a.status != 409 || !strings.Contains(a.raw, "pv_external_member_conflict") {
				t.Fatalf("a member id of another email: %d %s, want 409", a.status, a.raw)
			}
			continue
		}
		if a.status != 200 || a.body["user"] != "/v2/users/101/" || a.body["connection"] != "/v2/connections/1001/" {
			t.Fatalf("matches_any_email: %d %s, want 200 naming user 101 and connection 1001", a.status, a.raw)
		}
		if len(st.Users) != 3 || st.ExternalMembers[0].Updated != 1 {
			t.Fatalf("no user is made; the record is updated: %d users, %+v", len(st.Users), st.ExternalMembers[0])
		}
	}
}

func TestCreateAnswersWithoutConnection(t *testing.T) {
	w := syncWorld()
	w.Business.CreateAnswersWithoutConnection = true
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	a := call(t, s, admin, "POST", "/v2/external-members/",
		`{"business":25,"external_system_id":"SYS","external_member_id":"M-9","user_email":"new@x.co"}`)
	_, hasConn := a.body["connection"]
	_, hasUser := a.body["user"]
	if a.status != 201 || hasConn || hasUser || a.body["external_member_id"] != "M-9" {
		t.Fatalf("create: %d %s, want 201 without connection and user", a.status, a.raw)
	}
	l := call(t, s, admin, "GET", "/v2/connections/?business=25&user__emails__email=new@x.co", "")
	if objs, _ := l.body["objects"].([]any); len(objs) != 1 {
		t.Fatalf("the connection was made all the same: %s", l.raw)
	}
}

// Two emails of one customer find the same connection.
func TestTwoEmailsOneConnection(t *testing.T) {
	w := syncWorld()
	w.Users[0].Emails = append(w.Users[0].Emails, "Second@x.co")
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	for _, e := range []string{"renewed@x.co", "second@x.co"} {
		a := call(t, s, admin, "GET", "/v2/connections/?business=25&user__emails__email="+e, "")
		objs, _ := a.body["objects"].([]any)
		if len(objs) != 1 || objs[0].(map[string]any)["connection_id"] != float64(1001) {
			t.Fatalf("%s: %s, want connection 1001", e, a.raw)
		}
	}
}
