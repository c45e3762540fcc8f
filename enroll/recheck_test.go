package enroll_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

func TestNextCheckFollowsTheSchedule(t *testing.T) {
	since := time.Date(2026, 11, 1, 2, 15, 0, 0, time.UTC)
	d := 24 * time.Hour
	g := enroll.RecheckGrace
	for _, c := range []struct {
		checked, limit, want time.Duration
	}{
		// Never the next night: the marks are 1, 2, 4 and 7 days on, plus
		// the grace, then every week.
		{0, 0, 1*d + g},
		{1 * d, 0, 1*d + g}, // the next night's run: not due yet
		{1*d + g, 0, 2*d + g},
		{2 * d, 0, 2*d + g},
		{3 * d, 0, 4*d + g},
		{5 * d, 0, 7*d + g},
		{8 * d, 0, 14*d + g},
		{15 * d, 0, 21*d + g},
		{1*d + 2*time.Hour, 0, 1*d + g}, // a night's run two hours late is still that night's
		{8 * d, 2 * d, 10 * d},          // the cap
		{0, 3 * d, 1*d + g},             // a cap past the schedule changes nothing
	} {
		if got := enroll.NextCheck(since, since.Add(c.checked), c.limit); !got.Equal(since.Add(c.want)) {
			t.Errorf("checked after %s, limit %s: next check after %s, want %s", c.checked, c.limit, got.Sub(since), c.want)
		}
	}
}

// nightRun runs the CSV with the ledger at path as a run at the time at
// would, and returns the results and the requests it sent.
func nightRun(t *testing.T, s *sandbox.Server, path, data string, policy enroll.Policy, at time.Time) ([]enroll.Result, int64) {
	t.Helper()
	l, err := ledger.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken)})
	en := enroll.New(api, business(t, api), policy)
	ro := export.ReaderOptions{Name: "t.csv"}
	read := beginRun(t, l, en, ro, at)
	before := api.Stats.Snapshot().Requests
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, data, ro, en, sink, enroll.Options{Workers: 4, Memory: l, Read: read, Now: func() time.Time { return at }})
	if err := l.Finish(out.End, "", ledger.RunFinished, nil, 0, 0); err != nil {
		t.Fatal(err)
	}
	return sink.ordered(t), api.Stats.Snapshot().Requests - before
}

const waitingCSV = "email\njoin@x.co\nterms@x.co\nlapsed@x.co\nnobody@x.co\n"

// Waiting customers whose rows are unchanged keep their last outcome,
// without a call, until their next check is due; then they are checked.
// The ACTIVE listing settles at once one who joined meanwhile.
func TestWaitingCustomersAreRecheckedOnASchedule(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	state := filepath.Join(t.TempDir(), "state.db")
	night := time.Date(2026, 11, 1, 2, 15, 0, 0, time.UTC)
	want := map[string]enroll.Outcome{"terms@x.co": enroll.NeedsAgreement, "lapsed@x.co": enroll.MembershipInactive, "nobody@x.co": enroll.NotFound}

	first, _ := nightRun(t, s, state, waitingCSV, enroll.Policy{}, night)
	for _, r := range first {
		if w, ok := want[r.Email]; ok && r.Outcome != w {
			t.Fatalf("first night: %s %s, want %s", r.Email, r.Outcome, w)
		}
	}
	// Twelve hours on, nobody is due: the waiting keep their outcome, with
	// the dates, and cost nothing but the listing.
	later, requests := nightRun(t, s, state, waitingCSV, enroll.Policy{}, night.Add(12*time.Hour))
	for _, r := range later {
		w, ok := want[r.Email]
		if !ok {
			continue
		}
		if r.Outcome != w || !r.Waited || r.Attempts != 0 || !strings.Contains(r.Detail, "last checked 2026-11-01; next check 2026-11-02") {
			t.Errorf("12 h later: %s %s waited %v, %d calls, %q", r.Email, r.Outcome, r.Waited, r.Attempts, r.Detail)
		}
	}
	if requests > 2 {
		t.Errorf("12 h later the run sent %d requests, want the listing's alone", requests)
	}
	// --recheck-after caps the wait; --recheck-all checks everyone now.
	for _, p := range []enroll.Policy{{RecheckAfter: 6 * time.Hour}, {RecheckAll: true}} {
		again, _ := nightRun(t, s, state, waitingCSV, p, night.Add(13*time.Hour))
		for _, r := range again {
			if _, ok := want[r.Email]; ok && (r.Waited || r.Attempts == 0) {
				t.Errorf("%+v: %s waited, not checked", p, r.Email)
			}
		}
	}
	// The customer accepts the terms and joins on their own: the next
	// night's listing shows them ACTIVE, already-active without a call.
	joinOnTheirOwn(t, s, "terms@x.co")
	next, _ := nightRun(t, s, state, waitingCSV, enroll.Policy{}, night.Add(14*time.Hour))
	for _, r := range next {
		if r.Email == "terms@x.co" && (r.Outcome != enroll.AlreadyActive || r.Attempts != 0) {
			t.Errorf("after joining on their own: %s with %d calls (%s), want already-active without a call", r.Outcome, r.Attempts, r.Detail)
		}
	}
	// A day after their last check, the others are due.
	due, _ := nightRun(t, s, state, waitingCSV, enroll.Policy{}, night.Add(13*time.Hour+24*time.Hour))
	for _, r := range due {
		if r.Email == "lapsed@x.co" || r.Email == "nobody@x.co" {
			if r.Waited || r.Attempts == 0 || r.Outcome != want[r.Email] {
				t.Errorf("due: %s %s waited %v with %d calls, want checked", r.Email, r.Outcome, r.Waited, r.Attempts)
			}
		}
	}
}

// joinOnTheirOwn accepts the program's terms for the customer with email
// and sets their connection ACTIVE, as the customer joining on their own
// would.
func joinOnTheirOwn(t *testing.T, s *sandbox.Server, email string) {
	t.Helper()
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken)})
	conn, err := api.ConnectionByEmail(t.Context(), 25, email)
	if err != nil || conn == nil {
		t.Fatalf("find %s: %v %v", email, conn, err)
	}
	user, err := conn.UserID()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.AcceptAgreementsOnTurn(t.Context(), nil, []pv.AgreementAcceptance{{AgreementID: 7, UserID: user, AcceptedDT: "2026-11-01T10:00:00Z"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Activate(t.Context(), 25, conn.ConnectionID); err != nil {
		t.Fatal(err)
	}
}

// A nightly job whose start drifts by up to an hour either way checks a
// customer found waiting on night 0 on nights 2, 3, 5 and 8, then weekly:
// never on night 1.
func TestNightlyRunsCheckTheWaitingOnNights2358ThenWeekly(t *testing.T) {
	since := time.Date(2026, 11, 1, 2, 15, 0, 0, time.UTC)
	drift := []time.Duration{-time.Hour, 40 * time.Minute, -5 * time.Minute, time.Hour, 0}
	checked := since
	var nights []int
	for n := 1; n <= 30; n++ {
		at := since.AddDate(0, 0, n).Add(drift[n%len(drift)])
		if !at.Before(enroll.NextCheck(since, checked, 0)) {
			nights = append(nights, n)
			checked = at
		}
	}
	if want := []int{2, 3, 5, 8, 15, 22, 29}; !slices.Equal(nights, want) {
		t.Fatalf("checked on nights %v, want %v", nights, want)
	}
}
