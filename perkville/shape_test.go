package perkville_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// A connection is read in every shape a partly documented API plausibly
// answers; a needed field missing or unusable is named, with what was seen.
func TestConnectionShapes(t *testing.T) {
	for _, tt := range []struct {
		name, json string
		want       pv.Connection
		problem    string // "" when usable
	}{
		{"documented", `{"connection_id": 5, "business": "/v2/businesses/25/", "user": "/v2/users/7/", "status": "ACTIVE", "external_membership_status": "ACTIVE", "surprise": {"x": 1}}`,
			pv.Connection{ConnectionID: 5, Business: "/v2/businesses/25/", User: "/v2/users/7/", Status: "ACTIVE", ExternalMembershipStatus: "ACTIVE", ResourceURI: "/v2/connections/5/"}, ""},
		{"ids as numeric strings", `{"connection_id": "5", "business": "25", "user": 7, "status": "PENDING"}`,
			pv.Connection{ConnectionID: 5, Business: "/v2/businesses/25/", User: "/v2/users/7/", Status: "PENDING", ResourceURI: "/v2/connections/5/"}, ""},
		{"id from resource_uri, related *_id fields", `{"resource_uri": "/v2/connections/9/", "business_id": 25, "user_id": "7", "status": "IMPORTED"}`,
			pv.Connection{ConnectionID: 9, Business: "/v2/businesses/25/", User: "/v2/users/7/", Status: "IMPORTED", ResourceURI: "/v2/connections/9/"}, ""},
		{"no id at all", `{"business": "/v2/businesses/25/", "user": "/v2/users/7/", "status": "ACTIVE"}`, pv.Connection{}, "connection_id is missing"},
		{"id as text that is no number", `{"connection_id": "abc", "business": "/v2/businesses/25/", "user": "/v2/users/7/", "status": "ACTIVE"}`, pv.Connection{}, `connection_id is the string "abc"`},
		{"user as an object", `{"connection_id": 5, "business": "/v2/businesses/25/", "user": {"id": 7}, "status": "ACTIVE"}`, pv.Connection{}, "user is an object"},
		{"status missing", `{"connection_id": 5, "business": "/v2/businesses/25/", "user": "/v2/users/7/"}`, pv.Connection{}, "status is missing"},
		{"not an object", `[1, 2]`, pv.Connection{}, "answer is a list, not an object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c pv.Connection
			if err := json.Unmarshal([]byte(tt.json), &c); err != nil {
				t.Fatalf("decoding failed as a whole: %v", err)
			}
			bad := c.Shape()
			switch {
			case tt.problem == "" && bad != nil:
				t.Fatalf("unexpected problem: %v", bad)
			case tt.problem != "" && (bad == nil || !strings.Contains(bad.Error(), tt.problem)):
				t.Fatalf("problem %v, want one saying %q", bad, tt.problem)
			case tt.problem == "":
				got := c
				got.LastModDT = ""
				if got.ConnectionID != tt.want.ConnectionID || got.Business != tt.want.Business || got.User != tt.want.User ||
					got.Status != tt.want.Status || got.ExternalMembershipStatus != tt.want.ExternalMembershipStatus || got.ResourceURI != tt.want.ResourceURI {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

// An agreement's version is text, whether it came as a number or as text;
// its id and whether it is accepted are needed.
func TestAgreementShapes(t *testing.T) {
	for _, tt := range []struct {
		json, version, problem string
		id                     int64
		accepted               bool
	}{
		{`{"agreement_id": 7, "version": 3, "accepted": false}`, "3", "", 7, false},
		{`{"agreement_id": "7", "version": "v1.0", "accepted": true}`, "v1.0", "", 7, true},
		{`{"resource_uri": "/v2/agreements/8/", "version": 2.5, "accepted": "true", "new_field": [1]}`, "2.5", "", 8, true},
		{`{"agreement_id": 7, "version": "v1.0"}`, "", "accepted is missing", 0, false},
		{`{"agreement_id": 7, "accepted": "maybe"}`, "", `accepted is the string "maybe"`, 0, false},
		{`{"agreement_id": true, "accepted": true}`, "", "agreement_id is the boolean true", 0, false},
	} {
		var a pv.Agreement
		if err := json.Unmarshal([]byte(tt.json), &a); err != nil {
			t.Fatalf("%s: decoding failed as a whole: %v", tt.json, err)
		}
		if tt.problem != "" {
			if a.Shape() == nil || !strings.Contains(a.Shape().Error(), tt.problem) {
				t.Errorf("%s: problem %v, want %q", tt.json, a.Shape(), tt.problem)
			}
			continue
		}
		if a.Shape() != nil || a.Version != tt.version || a.AgreementID != tt.id || a.Accepted != tt.accepted {
			t.Errorf("%s: got %+v (problem %v)", tt.json, a, a.Shape())
		}
	}
}

// Against a sandbox playing the other plausible shapes (text versions,
// ids as strings, a join answered 204), every call of the flow works.
func TestClientReadsOtherShapes(t *testing.T) {
	ctx := context.Background()
	for _, empty := range []int{http.StatusOK, http.StatusAccepted, http.StatusNoContent} {
		w := testWorld()
		w.Shapes = sandbox.Shapes{TextVersions: true, StringIDs: true, EmptyWrites: empty}
		s := sandbox.NewServer(w, sandbox.Faults{})
		c := newClient(t, s.URL, adminToken, pv.Options{})
		ags, err := c.Agreements(ctx, business, 103)
		if err != nil || len(ags) != 1 || ags[0].Version != "v3.0" || ags[0].AgreementID != 7 {
			t.Fatalf("agreements: %+v, %v", ags, err)
		}
		conn, err := c.ConnectionByEmail(ctx, business, "pat@example.com")
		if err != nil || conn == nil || conn.ConnectionID != 1001 {
			t.Fatalf("lookup: %+v, %v", conn, err)
		}
		joined, err := c.Activate(ctx, business, 1001)
		if err != nil || joined.Status != pv.StatusActive {
			t.Fatalf("join answered %d without a body: %+v, %v", empty, joined, err)
		}
		// A join the API answers without a body but did not apply is
		// not believed: the connection read back says so.
		_, err = c.Activate(ctx, business, 1003) // terms not accepted: refused 400
		var ae *pv.Error
		if !errors.As(err, &ae) || !ae.Has(pv.CodeAgreementRequired) {
			t.Fatalf("refused join: %v", err)
		}
		s.Close()
	}
}

// A join answered 204 that the API did not apply is an unexpected answer
// for the row: never a join.
func TestBodylessJoinNotAppliedIsNotBelieved(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"connection_id": 1001, "business": "/v2/businesses/25/", "user": "/v2/users/101/", "status": "IMPORTED"}`))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, adminToken, pv.Options{})
	_, err := c.Activate(context.Background(), business, 1001)
	var odd *pv.UnexpectedAnswer
	if !errors.As(err, &odd) || pv.ClassOf(err) != pv.ClassRow || !strings.Contains(err.Error(), `status "IMPORTED"`) {
		t.Fatalf("got %v, want an unexpected answer naming the status read back", err)
	}
}

// One odd object fails its own call, as a row's unexpected answer, naming
// the field and what was seen; in a listing it is left out, not the run's end.
func TestOddObjectFailsItsRowOnly(t *testing.T) {
	odd := `{"connection_id": 1001, "business": "/v2/businesses/25/", "user": ["x"], "status": "ACTIVE"}`
	good := `{"connection_id": 1002, "business": "/v2/businesses/25/", "user": "/v2/users/102/", "status": "ACTIVE"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get(pv.QueryEmail) != "" {
			_, _ = w.Write([]byte(`{"meta": {"limit": 2, "offset": 0}, "objects": [` + odd + `]}`))
			return
		}
		_, _ = w.Write([]byte(`{"meta": {"limit": 1000, "offset": 0, "next": null, "total_count": 2}, "objects": [` + odd + `, ` + good + `]}`))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, adminToken, pv.Options{})
	_, err := c.ConnectionByEmail(context.Background(), business, "pat@example.com")
	var ua *pv.UnexpectedAnswer
	if !errors.As(err, &ua) || pv.ClassOf(err) != pv.ClassRow || !strings.Contains(err.Error(), "user is a list") {
		t.Fatalf("lookup: %v, want a row's unexpected answer naming the user field as a list", err)
	}
	var listed []int64
	for conn, err := range c.Connections(context.Background(), business, pv.StatusActive, pv.ListBounds{PageSize: 1000}) {
		if err != nil {
			t.Fatalf("listing: %v", err)
		}
		listed = append(listed, conn.ConnectionID)
	}
	if len(listed) != 1 || listed[0] != 1002 {
		t.Fatalf("listed %v, want only the usable connection 1002", listed)
	}
}
