package enroll_test

import (
	"fmt"
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

// runWithState runs the CSV against s with a ledger at path.
// runWithState runs the CSV against s with a ledger at path; changes are
// counted as the CLI counts them.
func runWithState(t *testing.T, s *sandbox.Server, path, data string, policy enroll.Policy) ([]enroll.Result, *report.Changes) {
	t.Helper()
	l, err := ledger.Open(path, policy.DryRun)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken), ReadOnly: policy.DryRun})
	en := enroll.New(api, business(t, api), policy)
	ro := export.ReaderOptions{Name: "t.csv"}
	read := beginRun(t, l, en, ro, time.Now())
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, data, ro, en, sink, enroll.Options{Workers: 16, Memory: l, Read: read})
	if err := l.Finish(out.End, "", ledger.RunFinished, nil, 0, 0); err != nil {
		t.Fatal(err)
	}
	got := sink.ordered(t)
	changes := &report.Changes{}
	for _, r := range got {
		changes.Count(r, out.Start)
	}
	return got, changes
}

// A nightly rerun over unchanged rows spends at most 0.02 requests
// a row: one listing of the ACTIVE connections instead of a lookup each.
func TestNightlyRerunOfUnchangedRows(t *testing.T) {
	const n = 1_001 // two pages of the listing (1,000 a page)
	w := smallWorld()
	w.Users = nil
	var csv strings.Builder
	csv.WriteString("email,first name\n")
	for i := 0; i < n; i++ {
		w.Users = append(w.Users, sandbox.User{UserID: int64(1000 + i), Emails: []string{fmt.Sprintf("m%d@x.co", i)},
			AcceptedAgreements: []sandbox.Accepted{{AgreementID: 7}},
			Connection:         &sandbox.Connection{ConnectionID: int64(50_000 + i), Status: pv.StatusImported, ExternalMembershipStatus: pv.StatusActive}})
		fmt.Fprintf(&csv, "m%d@x.co,M\n", i)
	}
	// One customer leaves between the runs, one row changes.
	data := csv.String()
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	state := filepath.Join(t.TempDir(), "state.db")
	first, _ := runWithState(t, s, state, data, enroll.Policy{})
	for _, r := range first {
		if r.Outcome != enroll.Joined {
			t.Fatalf("first run: line %d %s", r.Line, r.Outcome)
		}
	}
	optOut(t, s, 50_007)
	data = strings.Replace(data, "m9@x.co,M\n", "m9@x.co,Changed\n", 1)

	s.ResetLog()
	second, changes := runWithState(t, s, state, data, enroll.Policy{})
	requests := len(s.Log())
	if perRow := float64(requests) / n; perRow > 0.02 {
		t.Fatalf("rerun spent %d requests, %.4f a row; goal ≤ 0.02", requests, perRow)
	}
	if second[7].Outcome != enroll.OptedOut || second[9].Outcome != enroll.AlreadyActive || second[9].Skipped || !second[0].Skipped {
		t.Fatalf("opted-out row %s, changed row %s skipped=%v, unchanged row skipped=%v", second[7].Outcome, second[9].Outcome, second[9].Skipped, second[0].Skipped)
	}
	if c := changes; c.Skipped != n-2 || c.NewlyOptedOut != 1 || c.NewlyJoined != 0 {
		t.Fatalf("changes %+v", changes)
	}
	t.Logf("rerun of %d unchanged rows: %d requests (%.4f a row)", n, requests, float64(requests)/n)

	// The customer who left stays out, run after run.
	s.ResetLog()
	third, _ := runWithState(t, s, state, data, enroll.Policy{})
	if third[7].Outcome != enroll.OptedOut {
		t.Fatalf("third run: %s", third[7].Outcome)
	}
	for _, e := range s.Log() {
		if e.Method == http.MethodPatch {
			t.Fatalf("a write on a rerun: %+v", e)
		}
	}
}

// optOut sets a connection INACTIVE, as the customer leaving would.
func optOut(t *testing.T, s *sandbox.Server, connID int64) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%s/v2/connections/%d/", s.URL, connID), strings.NewReader(`{"status":"INACTIVE"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("opt out: %v %v", resp, err)
	}
	resp.Body.Close()
}

// A run that stopped half-way is resumed: rows final in it cost nothing.
func TestResumeSendsNothingForFinishedRows(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{Latency: 30 * time.Millisecond})
	defer s.Close()
	state := filepath.Join(t.TempDir(), "state.db")
	l, _ := ledger.Open(state, false)
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken)})
	en := enroll.New(api, business(t, api), enroll.Policy{CreateMissing: true, SystemID: "SYS"})
	ro := export.ReaderOptions{Name: "t.csv"} // as runWithState resumes it: the same grounds
	read := beginRun(t, l, en, ro, time.Now())
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, outcomesCSV, ro, en, sink, enroll.Options{Workers: 1, MaxDuration: 200 * time.Millisecond, Memory: l, Read: read})
	if out.Stop != enroll.StopMaxDuration {
		t.Fatalf("stop %v", out.Stop)
	}
	_ = l.Close() // as a crash would leave it: not finished
	firstRun := sink.ordered(t)
	done := 0
	for _, r := range firstRun {
		if r.Outcome != enroll.NotAttempted && r.Attempts > 0 {
			done++
		}
	}
	if done == 0 {
		t.Fatal("the first run finished no row: the test proves nothing")
	}

	s.ResetLog()
	second, _ := runWithState(t, s, state, outcomesCSV, enroll.Policy{CreateMissing: true, SystemID: "SYS"})
	resumed := 0
	for i, r := range second {
		if !r.Resumed {
			continue
		}
		resumed++
		if r.Attempts != 0 || r.Outcome != firstRun[i].Outcome {
			t.Errorf("line %d resumed as %s with %d calls; first run %s", r.Line, r.Outcome, r.Attempts, firstRun[i].Outcome)
		}
		for _, e := range s.Log() {
			if strings.Contains(e.Query, strings.ReplaceAll(r.Email, "@", "%40")) {
				t.Errorf("line %d was finished, yet looked up again", r.Line)
			}
		}
	}
	if resumed != done {
		t.Fatalf("%d rows resumed, %d were finished", resumed, done)
	}
}
