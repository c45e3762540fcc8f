package enroll_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// apiShapes are the answers the documentation leaves open, each played by
// the sandbox as a world setting: a run against any of them must reach
// the outcomes of a run against the shapes pvenroll assumes.
var apiShapes = []struct {
	name  string
	shape func(w *sandbox.World)
}{
	{"text versions", func(w *sandbox.World) { w.Shapes.TextVersions = true }},
	{"ids as text", func(w *sandbox.World) { w.Shapes.StringIDs = true }},
	{"writes answered 204", func(w *sandbox.World) { w.Shapes.EmptyWrites = http.StatusNoContent }},
	{"writes answered 202", func(w *sandbox.World) { w.Shapes.EmptyWrites = http.StatusAccepted }},
	{"no total_count or next", func(w *sandbox.World) { w.Shapes.NoPagingMeta = true }},
	{"create answered without connection", func(w *sandbox.World) { w.Business.CreateAnswersWithoutConnection = true }},
	{"rate-limit headers", func(w *sandbox.World) { w.Shapes.RateLimit = 100_000 }},
	{"all of them", func(w *sandbox.World) {
		w.Shapes = sandbox.Shapes{TextVersions: true, StringIDs: true, EmptyWrites: http.StatusNoContent, NoPagingMeta: true, RateLimit: 100_000}
		w.Business.CreateAnswersWithoutConnection = true
	}},
}

// runModes are the ways enroll runs: each gives the rows' results.
var runModes = []struct {
	name string
	run  func(t *testing.T, s *sandbox.Server) []enroll.Result
}{
	{"plain", func(t *testing.T, s *sandbox.Server) []enroll.Result {
		got, _, _ := run(t, s, runCase{csv: outcomesCSV, workers: 4})
		return got
	}},
	{"create", func(t *testing.T, s *sandbox.Server) []enroll.Result {
		got, _, _ := run(t, s, runCase{csv: outcomesCSV, workers: 4, policy: enroll.Policy{CreateMissing: true, SystemID: "SYS"}})
		return got
	}},
	{"consent", func(t *testing.T, s *sandbox.Server) []enroll.Result {
		got, _, _ := run(t, s, runCase{csv: outcomesCSV, consent: "consent", workers: 4,
			policy: enroll.Policy{CreateMissing: true, SystemID: "SYS"}, acceptBatch: 10})
		return got
	}},
	{"dry", func(t *testing.T, s *sandbox.Server) []enroll.Result {
		got, _, _ := run(t, s, runCase{csv: outcomesCSV, consent: "consent", workers: 4,
			policy: enroll.Policy{DryRun: true, CreateMissing: true, SystemID: "SYS"}})
		return got
	}},
	{"nightly", func(t *testing.T, s *sandbox.Server) []enroll.Result {
		state := filepath.Join(t.TempDir(), "state.db")
		policy := enroll.Policy{CreateMissing: true, SystemID: "SYS"}
		runWithState(t, s, state, outcomesCSV, policy)
		leave(t, s, 1002) // a customer leaves between the nights
		second, _ := runWithState(t, s, state, outcomesCSV, policy)
		return second
	}},
}

// TestEveryShapeEveryMode runs enroll in each mode against each shape:
// the same outcomes as against the assumed shapes, and never a row
// reported in the program that the sandbox does not hold ACTIVE.
func TestEveryShapeEveryMode(t *testing.T) {
	for _, mode := range runModes {
		s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
		want := mode.run(t, s)
		s.Close()
		for _, shape := range apiShapes {
			t.Run(mode.name+"/"+shape.name, func(t *testing.T) {
				w := smallWorld()
				shape.shape(w)
				s := sandbox.NewServer(w, sandbox.Faults{})
				defer s.Close()
				got := mode.run(t, s)
				if len(got) != len(want) {
					t.Fatalf("%d rows reported, want %d", len(got), len(want))
				}
				for i := range got {
					if got[i].Outcome != want[i].Outcome {
						t.Errorf("line %d (%s): %s (%s %s), against the assumed shapes %s", got[i].Line, got[i].Email,
							got[i].Outcome, got[i].Code, got[i].Detail, want[i].Outcome)
					}
				}
				noFalseJoin(t, s, got)
			})
		}
	}
}

// leave sets a connection INACTIVE, as the customer leaving would, through
// the API, whatever 2xx it answers.
func leave(t *testing.T, s *sandbox.Server, connID int64) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%s/v2/connections/%d/", s.URL, connID), strings.NewReader(`{"status":"INACTIVE"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("leave: %s", resp.Status)
	}
}

// noFalseJoin fails for a row reported in the program whose customer the
// sandbox does not hold ACTIVE.
func noFalseJoin(t *testing.T, s *sandbox.Server, rows []enroll.Result) {
	t.Helper()
	status := map[string]string{}
	for _, u := range s.State().Users {
		for _, e := range u.Emails {
			if u.Connection != nil {
				status[strings.ToLower(e)] = u.Connection.Status
			}
		}
	}
	for _, r := range rows {
		if (r.Outcome == enroll.Joined || r.Outcome == enroll.AlreadyActive) && status[strings.ToLower(r.Email)] != pv.StatusActive {
			t.Errorf("line %d (%s) reported %s, but the API holds it %q", r.Line, r.Email, r.Outcome, status[strings.ToLower(r.Email)])
		}
	}
}

// An HTML page in place of every answer (a proxy's or CDN's 403, 429 or
// 503) stops the run at its preflight, before any row: a clear stop,
// never an answer believed, and a 403 page never "not an admin".
func TestHTMLPagesStopBeforeAnyRow(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		s := sandbox.NewServer(smallWorld(), sandbox.Faults{BlockPage: status})
		api, err := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken), Retries: 1, BackoffBase: 1, Clock: &skipClock{}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = api.Business(context.Background(), 25)
		var na *pv.NotAdminError
		var ae *pv.Error
		if !errors.As(err, &ae) || !ae.HTML || errors.As(err, &na) || !strings.Contains(err.Error(), "HTML page") {
			t.Errorf("%d page: %v, want the preflight stopped by an HTML page, not an API answer", status, err)
		}
		if status == http.StatusForbidden && !pv.IsFatal(err) {
			t.Errorf("a 403 page must stop the run: %v", err)
		}
		for _, e := range s.Log() {
			if e.Method != http.MethodGet {
				t.Errorf("%d page: sent %s %s", status, e.Method, e.Path)
			}
		}
		s.Close()
	}
}
