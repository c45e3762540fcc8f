package enroll_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

const adminToken = "enroll-test-admin"

// memSink keeps results and checks each sequence number comes once.
type memSink struct {
	mu   sync.Mutex
	rows map[int]enroll.Result
}

func (s *memSink) Add(seq int, r enroll.Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.rows[seq]; dup {
		return fmt.Errorf("row %d twice", seq)
	}
	s.rows[seq] = r
	return nil
}

func (s *memSink) ordered(t *testing.T) []enroll.Result {
	t.Helper()
	out := make([]enroll.Result, len(s.rows))
	for seq, r := range s.rows {
		if seq >= len(out) {
			t.Fatalf("sequence %d of %d rows: a row was lost", seq, len(out))
		}
		out[seq] = r
	}
	return out
}

// smallWorld has one customer in each state.
func smallWorld() *sandbox.World {
	accepted := []sandbox.Accepted{{AgreementID: 7}}
	conn := func(id int64, status, membership string) *sandbox.Connection {
		return &sandbox.Connection{ConnectionID: id, Status: status, ExternalMembershipStatus: membership}
	}
	return &sandbox.World{
		Business: sandbox.BusinessSeed{BusinessID: 25, Name: "Riverside", PerkvilleURL: "https://riverside.perkville.com/",
			RequiresActiveMembership: true,
			Agreements:               []sandbox.AgreementSeed{{AgreementID: 7, Title: "Terms", ApplyToJoinFlow: true}}},
		Tokens: []sandbox.Token{{Token: adminToken, Name: "admin", UserID: 1, Scopes: []string{pv.ScopeAdminCustomerInfo}, StaffOf: []int64{25}}},
		Users: []sandbox.User{
			{UserID: 101, Emails: []string{"join@x.co"}, AcceptedAgreements: accepted, Connection: conn(1001, pv.StatusImported, pv.StatusActive)},
			{UserID: 102, Emails: []string{"active@x.co"}, AcceptedAgreements: accepted, Connection: conn(1002, pv.StatusActive, pv.StatusActive)},
			{UserID: 103, Emails: []string{"terms@x.co"}, Connection: conn(1003, pv.StatusPending, pv.StatusActive)},
			{UserID: 104, Emails: []string{"lapsed@x.co"}, AcceptedAgreements: accepted, Connection: conn(1004, pv.StatusImported, pv.StatusInactive)},
			{UserID: 105, Emails: []string{"left@x.co"}, AcceptedAgreements: accepted, Connection: conn(1005, pv.StatusInactive, pv.StatusActive)},
			{UserID: 106, Emails: []string{"consent@x.co"}, Connection: conn(1006, pv.StatusImported, pv.StatusActive)},
			{UserID: 107, Emails: []string{"consent2@x.co"}, Connection: conn(1007, pv.StatusImported, pv.StatusActive)},
			{UserID: 108, Emails: []string{"both@x.co"}, Connection: conn(1008, pv.StatusImported, pv.StatusInactive)},
		},
		ExternalMembers: []sandbox.ExternalMember{{ID: 1, ExternalSystemID: "SYS", ExternalMemberID: "M-102", UserID: 102, Created: 1}},
	}
}

type runCase struct {
	csv         string
	policy      enroll.Policy
	workers     int
	acceptBatch int
	consent     string
	preset      *export.Preset // nil: generic
	api         pv.Options
}

func run(t *testing.T, s *sandbox.Server, c runCase) ([]enroll.Result, *enroll.RunInfo, *pv.Client) {
	t.Helper()
	c.api.BaseURL, c.api.Token = s.URL, adminToken
	if c.api.BackoffBase == 0 {
		c.api.BackoffBase = time.Millisecond
	}
	if c.api.Clock == nil {
		c.api.Clock = &skipClock{now: time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)}
	}
	c.api.ReadOnly = c.policy.DryRun
	api, err := pv.New(c.api)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, c.csv, export.ReaderOptions{Name: "test.csv", ConsentColumn: c.consent, Preset: c.preset},
		enroll.New(api, business(t, api), c.policy), sink, enroll.Options{Workers: max(c.workers, 1), AcceptBatch: c.acceptBatch})
	return sink.ordered(t), out, api
}

// skipClock is the client's clock in these tests: every wait (backoff,
// Retry-After, a 429 pause) is over at once, and moves the clock on by
// what was waited, so the client behaves as if the time had passed.
type skipClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *skipClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *skipClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(max(d, 0))
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// business is the preflight the CLI does before a run: the business, then
// the admin probe, a POST that a dry run's read-only client refuses unsent.
func business(t *testing.T, api *pv.Client) *pv.Business {
	t.Helper()
	biz, err := api.Business(context.Background(), 25)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.ProveAdmin(context.Background(), 25); err != nil && !errors.Is(err, pv.ErrReadOnly) {
		t.Fatal(err)
	}
	return biz
}

// runRows runs the CSV data with en; the run must end without an error.
func runRows(t *testing.T, data string, ro export.ReaderOptions, en *enroll.Enroller, sink enroll.Sink, o enroll.Options) *enroll.RunInfo {
	t.Helper()
	rows, err := export.NewReader(strings.NewReader(data), ro)
	if err != nil {
		t.Fatal(err)
	}
	out, err := enroll.Run(context.Background(), rows, en, sink, o)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const outcomesCSV = `email,member id,consent,first name
join@x.co,,,
active@x.co,,,
terms@x.co,,,
lapsed@x.co,,,
left@x.co,,,
nobody@x.co,,,
consent@x.co,,2026-11-20T10:04:00Z,
consent2@x.co,,2026-11-20 10:05,
new@x.co,N-1,,
newc@x.co,N-2,2026-11-21,
taken@x.co,M-102,,
not-an-email,,,
JOIN@x.co,,,
both@x.co,,,
`

func TestEveryOutcomeAtMinimumCalls(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	got, out, api := run(t, s, runCase{csv: outcomesCSV, consent: "consent", workers: 1,
		policy: enroll.Policy{CreateMissing: true, SystemID: "SYS"}})
	want := []struct {
		o        enroll.Outcome
		attempts int
		actions  string
	}{
		{enroll.Joined, 2, "activated"},
		{enroll.AlreadyActive, 1, ""},
		{enroll.NeedsAgreement, 2, ""},
		{enroll.MembershipInactive, 2, ""},
		{enroll.OptedOut, 1, ""},
		{enroll.NotFound, 1, ""},                            // nobody@x.co: no member id to create with
		{enroll.Joined, 4, "accepted-agreements;activated"}, // +1: the agreements view, once per business
		{enroll.Joined, 3, "accepted-agreements;activated"},
		{enroll.NeedsAgreement, 4, "created-member"},                       // find, create, read back by email, agreements view
		{enroll.Joined, 5, "created-member;accepted-agreements;activated"}, // find, create, read back, accept, join
		{enroll.Conflict, 2, ""},
		{enroll.Invalid, 0, ""},
		{enroll.Duplicate, 0, ""},
		{enroll.MembershipInactive, 2, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i, w := range want {
		r := got[i]
		if r.Outcome != w.o || r.Attempts != w.attempts || strings.Join(r.Actions, ";") != w.actions {
			t.Errorf("line %d %s: %s attempts=%d actions=%q (%s), want %s %d %q", r.Line, r.Email, r.Outcome, r.Attempts,
				strings.Join(r.Actions, ";"), r.Detail, w.o, w.attempts, w.actions)
		}
	}
	if m := got[2].CustomerMessage; m != "Please review and accept the required terms to join at https://riverside.perkville.com/" {
		t.Errorf("needs-agreement message %q", m)
	}
	if m := got[3].CustomerMessage; m != pv.MessageMembershipNotActive {
		t.Errorf("membership message %q", m)
	}
	if got[12].Detail != "same customer (email join@x.co) as line 2" {
		t.Errorf("duplicate detail %q", got[12].Detail)
	}
	if out.Stop != enroll.StopNone {
		t.Errorf("stop %v", out.Stop)
	}
	// The attempts of the rows plus the preflight (the business, the
	// admin probe) are every request sent.
	sum := 2
	for _, r := range got {
		sum += r.Attempts
	}
	if n := len(s.Log()); n != sum || api.Stats.Snapshot().Requests != int64(n) {
		t.Errorf("rows' attempts %d, sandbox log %d, client counted %d", sum, n, api.Stats.Snapshot().Requests)
	}
	// Consent is accepted only for rows that hold it.
	for _, u := range s.State().Users {
		if len(u.AcceptedAgreements) > 0 && slices.Contains([]int64{103, 108}, u.UserID) {
			t.Errorf("terms accepted for user %d whose row held no consent", u.UserID)
		}
	}
}

func TestRerunWritesNothing(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	c := runCase{csv: outcomesCSV, consent: "consent", workers: 4, policy: enroll.Policy{CreateMissing: true, SystemID: "SYS"}}
	first, _, _ := run(t, s, c)
	s.ResetLog()
	second, _, _ := run(t, s, c)
	for _, e := range s.Log() {
		if e.Applied {
			t.Errorf("the rerun changed the state: %+v", e)
		}
	}
	for i, r := range second {
		if r.Outcome == enroll.Joined || r.Outcome == enroll.WouldJoin {
			t.Errorf("line %d joined again on the rerun (first run: %s)", r.Line, first[i].Outcome)
		}
	}
}

func TestDryRunSendsNoWrite(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: outcomesCSV, consent: "consent", workers: 3,
		policy: enroll.Policy{DryRun: true, CreateMissing: true, SystemID: "SYS"}})
	for _, e := range s.Log() {
		if e.Applied || e.Method != http.MethodGet {
			t.Fatalf("dry run sent %s %s (%d)", e.Method, e.Path, e.Status)
		}
	}
	byEmail := map[string]enroll.Result{}
	for _, r := range got {
		if _, seen := byEmail[r.Email]; !seen {
			byEmail[r.Email] = r
		}
	}
	for email, want := range map[string]string{
		"join@x.co":    "would-join would-activate",
		"active@x.co":  "already-active ",
		"terms@x.co":   "needs-agreement ",
		"consent@x.co": "would-join would-accept-agreements;would-activate",
		"new@x.co":     "needs-agreement would-create",
		"newc@x.co":    "would-join would-create;would-accept-agreements;would-activate",
		"left@x.co":    "opted-out ",
		"lapsed@x.co":  "would-join would-activate",
		"nobody@x.co":  "not-found ",
		"not-an-email": "invalid ",
	} {
		r := byEmail[email]
		if g := string(r.Outcome) + " " + strings.Join(r.Actions, ";"); g != want {
			t.Errorf("%s: %q, want %q (%s)", email, g, want, r.Detail)
		}
	}
	if d := byEmail["lapsed@x.co"].Detail; !strings.Contains(d, "membership is INACTIVE") {
		t.Errorf("dry run should say what a read cannot tell: %q", d)
	}
}

// A token revoked during the run: the first 401 stops it, and every row
// not yet decided is not-attempted.
func TestFatalAnswerStopsTheRun(t *testing.T) {
	w := smallWorld()
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: "revoked"})
	sink := &memSink{rows: map[int]enroll.Result{}}
	biz := &pv.Business{BusinessID: 25, PerkvilleURL: "https://riverside.perkville.com/"}
	out := runRows(t, outcomesCSV, export.ReaderOptions{Name: "t.csv"}, enroll.New(api, biz, enroll.Policy{}), sink, enroll.Options{Workers: 1})
	if out.Stop != enroll.StopFatal || !pv.IsFatal(out.StopErr) {
		t.Fatalf("stop %v %v", out.Stop, out.StopErr)
	}
	for _, r := range sink.ordered(t) {
		if r.Outcome != enroll.NotAttempted && r.Outcome != enroll.Invalid && r.Outcome != enroll.Duplicate {
			t.Errorf("line %d: %s after a 401", r.Line, r.Outcome)
		}
	}
	if n := len(s.Log()); n != 1 {
		t.Errorf("%d requests after the first 401, want only that one", n)
	}
}

func TestMaxDurationLeavesTheRestNotAttempted(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{Latency: 50 * time.Millisecond})
	defer s.Close()
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: adminToken})
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, outcomesCSV, export.ReaderOptions{Name: "t.csv"}, enroll.New(api, business(t, api), enroll.Policy{}), sink,
		enroll.Options{Workers: 1, MaxDuration: 120 * time.Millisecond})
	got := sink.ordered(t)
	if out.Stop != enroll.StopMaxDuration || len(got) != 14 || got[len(got)-1].Outcome != enroll.NotAttempted {
		t.Fatalf("stop %v, %d rows, last %v", out.Stop, len(got), got[len(got)-1].Outcome)
	}
}

// The fault matrix: under each fault the outcome of every row is the
// fault-free run's, no row is lost and no member is created twice.
func TestFaultMatrix(t *testing.T) {
	data, err := os.ReadFile("../samples/members.csv")
	if err != nil {
		t.Fatal(err)
	}
	world, err := sandbox.LoadWorld("../samples/sandbox-world.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range world.Users {
		if c := world.Users[i].Connection; c != nil {
			c.FailWrites = false // the sample's broken record would fail in every run
		}
	}
	world.Tokens = append(world.Tokens, sandbox.Token{Token: adminToken, Name: "test", UserID: 1, Scopes: []string{pv.ScopeAdminCustomerInfo}, StaffOf: []int64{25}})
	c := runCase{csv: string(data), consent: "Terms Accepted At", workers: 16,
		policy: enroll.Policy{CreateMissing: true, SystemID: "RIVERSIDE_ABC"}, api: pv.Options{Retries: 8}}

	base := sandbox.NewServer(world, sandbox.Faults{})
	want, _, _ := run(t, base, c)
	wantState := base.State()
	base.Close()

	for _, tt := range []struct {
		name string
		f    sandbox.Faults
		rate float64
		rows int // the first rows of the sample only; 0: all
	}{
		{"5% 5xx, half after applying", sandbox.Faults{P5xx: 0.025, P5xxApplied: 0.025}, 0, 0},
		{"5% 429 with Retry-After", sandbox.Faults{P429: 0.05, RetryAfter: time.Second}, 0, 0},
		{"CDN HTML 502s", sandbox.Faults{PCDN: 0.05}, 0, 0},
		{"5% dropped connections, half after applying", sandbox.Faults{PDrop: 0.025, PDropApplied: 0.025}, 0, 0},
		// The server's limit runs on real time, so the client's must too,
		// and its 429 pauses are real seconds: fewer rows keep them few. A
		// burst of 1 at half the client's rate: the 16 workers' first
		// requests meet the limit even on a loaded machine.
		{"server limit below --rate", sandbox.Faults{RateLimit: 100, RateBurst: 1}, 200, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Seed = 42
			s := sandbox.NewServer(world, tt.f)
			defer s.Close()
			cc := c
			cc.api.Rate = tt.rate
			want := want
			if tt.rows > 0 {
				cc.csv = strings.Join(strings.SplitAfterN(cc.csv, "\n", tt.rows+2)[:tt.rows+1], "")
				want = slices.DeleteFunc(slices.Clone(want), func(r enroll.Result) bool { return r.Line > tt.rows+1 })
				cc.api.Clock = realClock{}
			}
			got, out, api := run(t, s, cc)
			if out.Stop != enroll.StopNone || len(got) != len(want) {
				t.Fatalf("stop %v, %d rows of %d", out.Stop, len(got), len(want))
			}
			for i := range want {
				if got[i].Outcome != want[i].Outcome {
					t.Errorf("line %d: %s (%s), fault-free run: %s", got[i].Line, got[i].Outcome, got[i].Detail, want[i].Outcome)
				}
			}
			faults := 0
			for _, e := range s.Log() {
				if e.Fault != "" {
					faults++
				}
			}
			if faults == 0 {
				t.Fatal("no fault was injected")
			}
			st := s.State()
			if tt.rows == 0 && len(st.ExternalMembers) != len(wantState.ExternalMembers) {
				t.Errorf("%d external members, fault-free run %d", len(st.ExternalMembers), len(wantState.ExternalMembers))
			}
			for _, m := range st.ExternalMembers {
				if m.Created != 1 {
					t.Errorf("member %s created %d times", m.ExternalMemberID, m.Created)
				}
			}
			t.Logf("%d faults, %d requests, %d retries, %d 429s", faults, len(s.Log()), api.Stats.Snapshot().Retries, api.Stats.Snapshot().Throttled)
		})
	}
}

// panicWire makes every request panic, as a bug in a row's path would.
type panicWire struct{}

func (panicWire) RoundTrip(*http.Request) (*http.Response, error) { panic("boom") }

func TestPanicInARowIsThatRowsFailure(t *testing.T) {
	api, err := pv.New(pv.Options{BaseURL: "http://127.0.0.1:1", Token: adminToken, Wire: panicWire{}})
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, "email\na@x.co\nb@x.co\n", export.ReaderOptions{Name: "t.csv"}, enroll.New(api, &pv.Business{BusinessID: 25}, enroll.Policy{}),
		sink, enroll.Options{Workers: 1})
	if out.Stop != enroll.StopNone {
		t.Fatalf("stop %v (%v): a panic is the row's, not the run's", out.Stop, out.StopErr)
	}
	got := sink.ordered(t)
	if len(got) != 2 {
		t.Fatalf("%d rows reported of 2", len(got))
	}
	for _, r := range got {
		if r.Outcome != enroll.Failed || !strings.Contains(r.Detail, "boom") || r.Code != "internal_error" {
			t.Fatalf("%+v", r)
		}
	}
}

func TestRejoinInactiveReactivates(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: "email\nleft@x.co\nactive@x.co\n", policy: enroll.Policy{RejoinInactive: true}})
	if got[0].Outcome != enroll.Joined || got[1].Outcome != enroll.AlreadyActive {
		t.Fatalf("%s %s", got[0].Outcome, got[1].Outcome)
	}
}

// Two customers whom the API answers with one connection: the first line
// decides it, the second is a conflict that names the first, and the
// connection is written once.
func TestTwoCustomersOnOneConnection(t *testing.T) {
	w := smallWorld()
	w.Users[0].Emails = append(w.Users[0].Emails, "alias@x.co")
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: "email\njoin@x.co\nalias@x.co\n", workers: 1})
	if got[0].Outcome != enroll.Joined || got[1].Outcome != enroll.Conflict || !strings.Contains(got[1].Detail, "line 2") {
		t.Fatalf("%s; %s (%s)", got[0].Outcome, got[1].Outcome, got[1].Detail)
	}
	writes := 0
	for _, e := range s.Log() {
		if e.Method != http.MethodGet && !isAdminProbe(e) {
			writes++
		}
	}
	if writes != 1 {
		t.Fatalf("%d writes to the one connection, want 1", writes)
	}
}

// isAdminProbe tells the preflight's admin probe from a write: a POST of a
// create an admin gets back as invalid (400), which cannot change anything.
func isAdminProbe(e sandbox.LogEntry) bool {
	return e.Method == http.MethodPost && e.Path == pv.PathExternalMembers && e.Status == http.StatusBadRequest && !e.Applied
}

// stallingRows yields its records, then blocks as a silent stream does.
type stallingRows struct {
	recs    []*export.Record
	stalled chan struct{} // closed once the rows are all given
	release chan struct{} // the test's end: the read returns
}

func (s *stallingRows) Next() (*export.Record, error) {
	if len(s.recs) > 0 {
		r := s.recs[0]
		s.recs = s.recs[1:]
		return r, nil
	}
	close(s.stalled)
	<-s.release
	return nil, io.EOF
}

// An interrupt ends a run whose input has gone silent: the rows read are
// reported, and the run says the rest went unread.
func TestStopDoesNotWaitForASilentInput(t *testing.T) {
	rows := &stallingRows{recs: []*export.Record{{Line: 2, Invalid: "bad"}, {Line: 3, Invalid: "bad"}},
		stalled: make(chan struct{}), release: make(chan struct{})}
	defer close(rows.release)
	ctx, cancel := context.WithCancel(context.Background())
	sink := &memSink{rows: map[int]enroll.Result{}}
	type ended struct {
		info *enroll.RunInfo
		err  error
	}
	done := make(chan ended, 1)
	go func() {
		info, err := enroll.Run(ctx, rows, enroll.New(nil, &pv.Business{BusinessID: 25}, enroll.Policy{}), sink, enroll.Options{Workers: 1})
		done <- ended{info, err}
	}()
	select {
	case <-rows.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not read its rows within 10 s")
	}
	cancel()
	var e ended
	select {
	case e = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run waited for a silent input after its stop")
	}
	if e.err != nil || e.info.Stop != enroll.StopInterrupted || !e.info.Unread || len(sink.ordered(t)) != 2 {
		t.Fatalf("err %v, stop %v, unread %v, %d rows", e.err, e.info.Stop, e.info.Unread, len(sink.rows))
	}
}
