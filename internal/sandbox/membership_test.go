package sandbox_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// syncWorld: a business that requires an active membership, one customer
// whose external member record says INACTIVE, one who refuses acceptances.
func syncWorld() *sandbox.World {
	return &sandbox.World{
		Business: sandbox.BusinessSeed{BusinessID: 25, Name: "Riverside", RequiresActiveMembership: true,
			Agreements: []sandbox.AgreementSeed{{AgreementID: 7, ApplyToJoinFlow: true}}},
		Tokens: []sandbox.Token{{Token: admin, Name: "admin", UserID: 1, Scopes: []string{pv.ScopeAdminCustomerInfo}, StaffOf: []int64{25}}},
		Users: []sandbox.User{
			{UserID: 101, Emails: []string{"renewed@x.co"}, AcceptedAgreements: []sandbox.Accepted{{AgreementID: 7}},
				Connection: &sandbox.Connection{ConnectionID: 1001, Status: pv.StatusImported, ExternalMembershipStatus: pv.StatusInactive}},
			{UserID: 102, Emails: []string{"ok@x.co"}},
			{UserID: 103, Emails: []string{"refuses@x.co"}, RefuseAcceptances: true},
		},
		ExternalMembers: []sandbox.ExternalMember{{ID: 1, ExternalSystemID: "SYS", ExternalMemberID: "M-1", UserID: 101,
			MembershipStatus: pv.StatusInactive, Created: 1}},
	}
}

func TestUpsertUpdatesMembershipAndTheJoinReadsIt(t *testing.T) {
	s := sandbox.NewServer(syncWorld(), sandbox.Faults{})
	defer s.Close()
	join := func() answer { return call(t, s, admin, "PATCH", "/v2/connections/1001/", `{"status":"ACTIVE"}`) }
	upsert := func(status string) answer {
		return call(t, s, admin, "POST", "/v2/external-members/", fmt.Sprintf(
			`{"business":25,"external_system_id":"SYS","external_member_id":"M-1","user_email":"Renewed@x.co","membership_status":%q,"membership_type":"Gold"}`, status))
	}
	if a := join(); a.status != 400 || !strings.Contains(a.raw, pv.CodeMembershipNotActive) {
		t.Fatalf("join of an INACTIVE membership: %d %s", a.status, a.raw)
	}
	if a := upsert(pv.StatusActive); a.status != 200 || a.body["connection"] != "/v2/connections/1001/" {
		t.Fatalf("upsert of an existing member: %d %s, want 200 naming connection 1001", a.status, a.raw)
	}
	st := s.State()
	if m := st.ExternalMembers[0]; m.MembershipStatus != pv.StatusActive || m.MembershipType != "Gold" || m.Created != 1 || m.Updated != 1 {
		t.Fatalf("member after the upsert: %+v", m)
	}
	if c := st.Users[0].Connection; c.ExternalMembershipStatus != pv.StatusActive || c.Status != pv.StatusImported {
		t.Fatalf("connection after the upsert: %+v (the upsert sets the membership, not the connection)", c)
	}
	if a := join(); a.status != 200 || a.body["status"] != pv.StatusActive {
		t.Fatalf("join after the membership turned active: %d %s", a.status, a.raw)
	}
	// A membership's end is recorded; the connection stays as the customer left it.
	if a := upsert(pv.StatusInactive); a.status != 200 {
		t.Fatalf("upsert INACTIVE: %d %s", a.status, a.raw)
	}
	if c := s.State().Users[0].Connection; c.ExternalMembershipStatus != pv.StatusInactive || c.Status != pv.StatusActive {
		t.Fatalf("connection after the membership ended: %+v", c)
	}
}

func TestBatchAcceptancesAnswerPerItem(t *testing.T) {
	s := sandbox.NewServer(syncWorld(), sandbox.Faults{})
	defer s.Close()
	a := call(t, s, admin, "POST", "/v2/batch/agreement-acceptances/", `{"objects":[
		{"agreement_id":7,"user_id":102,"accepted_dt":"2026-11-20T10:04:00Z"},
		{"agreement_id":7,"user_id":103,"accepted_dt":"2026-11-20T10:04:00Z"},
		{"agreement_id":8,"user_id":102,"accepted_dt":"2026-11-20T10:04:00Z"},
		{"agreement_id":7,"user_id":999,"accepted_dt":"2026-11-20T10:04:00Z"}]}`)
	if a.status != 200 {
		t.Fatalf("%d %s", a.status, a.raw)
	}
	objs, _ := a.body["objects"].([]any)
	want := []string{"accepted/", "error/acceptance_refused", "error/agreement_not_found", "error/user_not_found"}
	if len(objs) != len(want) {
		t.Fatalf("%d items for 4: %s", len(objs), a.raw)
	}
	for i, o := range objs {
		m := o.(map[string]any)
		code, _ := m["code"].(string)
		if got := fmt.Sprint(m["status"]) + "/" + code; got != want[i] {
			t.Errorf("item %d: %s, want %s", i, got, want[i])
		}
	}
	for _, u := range s.State().Users {
		accepted := len(u.AcceptedAgreements) > 0
		if (u.UserID == 102 || u.UserID == 101) != accepted {
			t.Errorf("user %d accepted %v", u.UserID, u.AcceptedAgreements)
		}
	}
	var b strings.Builder
	for i := 0; i <= pv.MaxAcceptanceBatch; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"agreement_id":7,"user_id":102,"accepted_dt":"2026-11-20T10:04:00Z"}`)
	}
	if a := call(t, s, admin, "POST", "/v2/batch/agreement-acceptances/", `{"objects":[`+b.String()+`]}`); a.status != 400 || !strings.Contains(a.raw, "max_length") {
		t.Fatalf("a batch over %d items: %d %s", pv.MaxAcceptanceBatch, a.status, a.raw)
	}
}
