package perkville_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

const (
	adminToken = "test-admin-secret-token"
	userToken  = "test-user-secret-token"
	otherToken = "test-other-secret-token"
	business   = 25
)

// testWorld is small and covers every state a row can meet.
func testWorld() *sandbox.World {
	accepted := []sandbox.Accepted{{AgreementID: 7}}
	conn := func(id int64, status, membership string) *sandbox.Connection {
		return &sandbox.Connection{ConnectionID: id, Status: status, ExternalMembershipStatus: membership}
	}
	w := &sandbox.World{
		Business: sandbox.BusinessSeed{BusinessID: business, Name: "Riverside Fitness", PerkvilleURL: "https://riverside.perkville.com/",
			RequiresActiveMembership: true,
			Agreements:               []sandbox.AgreementSeed{{AgreementID: 7, Title: "Terms", Version: 3, Text: "[terms](https://x.example/t)", ApplyToJoinFlow: true}}},
		Tokens: []sandbox.Token{
			{Token: adminToken, Name: "admin", UserID: 1, Scopes: []string{pv.ScopeAdminCustomerInfo}, StaffOf: []int64{business}},
			{Token: userToken, Name: "user", UserID: 101, Scopes: []string{pv.ScopeUserCustomerInfo}},
			{Token: otherToken, Name: "other", UserID: 2, Scopes: []string{pv.ScopeAdminCustomerInfo}, StaffOf: []int64{77}},
		},
		Users: []sandbox.User{
			{UserID: 101, Emails: []string{"Pat@Example.com"}, AcceptedAgreements: accepted, Connection: conn(1001, pv.StatusImported, pv.StatusActive)},
			{UserID: 102, Emails: []string{"active@example.com"}, AcceptedAgreements: accepted, Connection: conn(1002, pv.StatusActive, pv.StatusActive)},
			{UserID: 103, Emails: []string{"terms@example.com"}, Connection: conn(1003, pv.StatusPending, pv.StatusActive)},
			{UserID: 104, Emails: []string{"lapsed@example.com"}, AcceptedAgreements: accepted, Connection: conn(1004, pv.StatusImported, pv.StatusInactive)},
			{UserID: 105, Emails: []string{"left@example.com"}, AcceptedAgreements: accepted, Connection: conn(1005, pv.StatusInactive, pv.StatusActive)},
			{UserID: 106, Emails: []string{"elsewhere@example.com"}},
		},
		ExternalMembers: []sandbox.ExternalMember{{ID: 1, ExternalSystemID: "SYS", ExternalMemberID: "M-102", UserID: 102, Created: 1}},
	}
	for i := 0; i < 45; i++ {
		w.Users = append(w.Users, sandbox.User{UserID: int64(200 + i), Emails: []string{fmt.Sprintf("bulk%d@example.com", i)},
			Connection: conn(int64(2000+i), pv.StatusActive, pv.StatusActive)})
	}
	return w
}

// fakeClock is the pacer's time in tests: every wait returns at once and
// moves the clock on by its length, and is recorded.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
	waits  []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- time.Now().Add(c.offset)
	return ch
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// newClient makes a client of the sandbox at url, on a fake clock unless
// o names one.
func newClient(t *testing.T, url, token string, o pv.Options) *pv.Client {
	t.Helper()
	o.BaseURL, o.Token = url, pv.Secret(token)
	if o.Clock == nil {
		o.Clock = &fakeClock{}
	}
	if o.UserAgent == "" {
		o.UserAgent = "pvenroll/test"
	}
	if o.BackoffBase == 0 {
		o.BackoffBase = time.Millisecond
	}
	c, err := pv.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startSandbox(t *testing.T, f sandbox.Faults) *sandbox.Server {
	t.Helper()
	s := sandbox.NewServer(testWorld(), f)
	t.Cleanup(func() { s.Close() })
	return s
}

func apiErr(t *testing.T, err error) *pv.Error {
	t.Helper()
	var e *pv.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *perkville.Error, got %T %v", err, err)
	}
	return e
}

func TestReadEndpoints(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	ctx := context.Background()
	c := newClient(t, s.URL, adminToken, pv.Options{})

	b, err := c.Business(ctx, business)
	if err != nil || b.BusinessID != business || b.PerkvilleURL != "https://riverside.perkville.com/" {
		t.Fatalf("business: %+v %v", b, err)
	}
	_, err = c.Business(ctx, 999)
	if e := apiErr(t, err); e.Status != 404 || e.Class() != pv.ClassRow {
		t.Fatalf("unknown business: %v class %v", e, e.Class())
	}

	// Email is matched case-insensitively [doc].
	conn, err := c.ConnectionByEmail(ctx, business, "PAT@example.COM")
	if err != nil || conn == nil || conn.ConnectionID != 1001 || conn.Status != pv.StatusImported {
		t.Fatalf("by email: %+v %v", conn, err)
	}
	if uid, err := conn.UserID(); err != nil || uid != 101 {
		t.Fatalf("user id from %q: %d %v", conn.User, uid, err)
	}
	conn, err = c.ConnectionByUserID(ctx, business, 102)
	if err != nil || conn == nil || conn.Status != pv.StatusActive {
		t.Fatalf("by user id: %+v %v", conn, err)
	}
	for _, email := range []string{"nobody@example.com", "elsewhere@example.com"} {
		conn, err = c.ConnectionByEmail(ctx, business, email)
		if err != nil || conn != nil {
			t.Fatalf("%s: want no connection, got %+v %v", email, conn, err)
		}
	}
	ags, err := c.Agreements(ctx, business, 103)
	if err != nil || len(ags) != 1 || ags[0].AgreementID != 7 || ags[0].Accepted {
		t.Fatalf("agreements: %+v %v", ags, err)
	}
}

func TestListFollowsNext(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	c := newClient(t, s.URL, adminToken, pv.Options{})
	seen := map[int64]bool{}
	for conn, err := range c.Connections(context.Background(), business, pv.StatusActive, pv.ListBounds{PageSize: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[conn.ConnectionID] || conn.Status != pv.StatusActive {
			t.Fatalf("connection %d twice or not ACTIVE", conn.ConnectionID)
		}
		seen[conn.ConnectionID] = true
	}
	if len(seen) != 46 { // 45 bulk + active@
		t.Fatalf("listed %d ACTIVE connections, want 46", len(seen))
	}
	pages := 0
	for _, e := range s.Log() {
		if e.Endpoint == "GET /v2/connections/" {
			pages++
			if !strings.Contains(e.Query, "status=ACTIVE") || !strings.Contains(e.Query, "limit=7") {
				t.Fatalf("page lost its filter: %s", e.Query)
			}
		}
	}
	if pages != 7 {
		t.Fatalf("%d pages fetched, want 7", pages)
	}
}

func TestWrites(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		token  string
		do     func(c *pv.Client) error
		status int
		code   string
		class  pv.Class
	}{
		{"join", adminToken, func(c *pv.Client) error {
			conn, err := c.Activate(ctx, business, 1001)
			if err == nil && conn.Status != pv.StatusActive {
				return fmt.Errorf("status %s after join", conn.Status)
			}
			return err
		}, 0, "", 0},
		{"join is a no-op on ACTIVE", adminToken, func(c *pv.Client) error { _, err := c.Activate(ctx, business, 1002); return err }, 0, "", 0},
		{"membership not active", adminToken, func(c *pv.Client) error { _, err := c.Activate(ctx, business, 1004); return err }, 400, pv.CodeMembershipNotActive, pv.ClassRow},
		{"agreement required", adminToken, func(c *pv.Client) error { _, err := c.Activate(ctx, business, 1003); return err }, 400, pv.CodeAgreementRequired, pv.ClassRow},
		{"no such connection", adminToken, func(c *pv.Client) error { _, err := c.Activate(ctx, business, 99999); return err }, 404, "", pv.ClassRow},
		{"user token on another's connection", userToken, func(c *pv.Client) error { _, err := c.Activate(ctx, business, 1003); return err }, 403, "", pv.ClassFatal},
		{"user token joins itself", userToken, func(c *pv.Client) error { _, err := c.Activate(ctx, business, 1001); return err }, 0, "", 0},
		{"bad token", "nope", func(c *pv.Client) error { _, err := c.Activate(ctx, business, 1001); return err }, 401, pv.CodeInvalidToken, pv.ClassFatal},
		{"admin of another business", otherToken, func(c *pv.Client) error { _, err := c.ConnectionByEmail(ctx, business, "pat@example.com"); return err }, 403, "", pv.ClassFatal},
		{"create needs admin", userToken, func(c *pv.Client) error {
			_, _, err := c.CreateExternalMember(ctx, pv.NewExternalMember{Business: business, ExternalSystemID: "SYS", ExternalMemberID: "M-1", UserEmail: "new@example.com"})
			return err
		}, 403, "", pv.ClassFatal},
		{"create with a member id of another email", adminToken, func(c *pv.Client) error {
			_, _, err := c.CreateExternalMember(ctx, pv.NewExternalMember{Business: business, ExternalSystemID: "SYS", ExternalMemberID: "M-102", UserEmail: "someone@example.com"})
			return err
		}, 409, "pv_external_member_conflict", pv.ClassRow},
		{"create with a bad email", adminToken, func(c *pv.Client) error {
			_, _, err := c.CreateExternalMember(ctx, pv.NewExternalMember{Business: business, ExternalSystemID: "SYS", ExternalMemberID: "M-3", UserEmail: "not an email"})
			return err
		}, 400, "invalid", pv.ClassRow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSandbox(t, sandbox.Faults{})
			err := tt.do(newClient(t, s.URL, tt.token, pv.Options{}))
			if tt.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := apiErr(t, err)
			if e.Status != tt.status || (tt.code != "" && !e.Has(tt.code)) || e.Class() != tt.class {
				t.Fatalf("got %d %v class %v, want %d %s %v", e.Status, e.Codes, e.Class(), tt.status, tt.code, tt.class)
			}
		})
	}
}

func TestCreateThenJoinWithConsent(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	ctx := context.Background()
	c := newClient(t, s.URL, adminToken, pv.Options{})
	in := pv.NewExternalMember{Business: business, ExternalSystemID: "SYS", ExternalMemberID: "M-9", UserEmail: "new@example.com", MembershipStatus: pv.StatusActive}
	m, created, err := c.CreateExternalMember(ctx, in)
	if err != nil || !created {
		t.Fatalf("create: %+v %v %v", m, created, err)
	}
	connID, err := pv.IDFromURI(m.Connection)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.ConnectionByEmail(ctx, business, "new@example.com")
	if err != nil || conn.ConnectionID != connID || conn.Status != pv.StatusImported {
		t.Fatalf("a new connection starts IMPORTED: %+v %v", conn, err)
	}
	if _, again, err := c.CreateExternalMember(ctx, in); err != nil || again {
		t.Fatalf("upsert of the same member: created=%v %v", again, err)
	}
	if _, err := c.Activate(ctx, business, connID); apiErr(t, err).Code() != pv.CodeAgreementRequired {
		t.Fatalf("join before terms: %v", err)
	}
	uid, _ := pv.IDFromURI(m.User)
	res, err := c.AcceptAgreementsOnTurn(ctx, nil, []pv.AgreementAcceptance{
		{AgreementID: 7, UserID: uid, AcceptedDT: "2026-11-20T10:04:00Z"},
		{AgreementID: 8, UserID: uid, AcceptedDT: "2026-11-20T10:04:00Z"},
	})
	if err != nil || len(res) != 2 || res[0].Status != pv.AcceptanceAccepted || res[1].Status != pv.AcceptanceError || res[1].Code == "" {
		t.Fatalf("accept: %+v %v", res, err)
	}
	if conn, err := c.Activate(ctx, business, connID); err != nil || conn.Status != pv.StatusActive {
		t.Fatalf("join after terms: %+v %v", conn, err)
	}
	st := s.State()
	for _, em := range st.ExternalMembers {
		if em.ExternalMemberID == "M-9" && (em.Created != 1 || em.Updated != 1) {
			t.Fatalf("member created %d, updated %d times", em.Created, em.Updated)
		}
	}
}

func TestReadOnlyRefusesWritesBeforeSending(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	ctx := context.Background()
	c := newClient(t, s.URL, adminToken, pv.Options{ReadOnly: true})
	if _, err := c.Activate(ctx, business, 1001); !errors.Is(err, pv.ErrReadOnly) {
		t.Fatalf("activate: %v", err)
	}
	if _, _, err := c.CreateExternalMember(ctx, pv.NewExternalMember{Business: business}); !errors.Is(err, pv.ErrReadOnly) {
		t.Fatalf("create: %v", err)
	}
	if _, err := c.AcceptAgreementsOnTurn(ctx, nil, nil); !errors.Is(err, pv.ErrReadOnly) {
		t.Fatalf("accept: %v", err)
	}
	if _, err := c.ConnectionByEmail(ctx, business, "pat@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Log() {
		if e.Method != http.MethodGet {
			t.Fatalf("a write reached the server: %+v", e)
		}
	}
	if len(s.Log()) != 1 {
		t.Fatalf("want the one read in the log, got %d entries", len(s.Log()))
	}
}

// Each fault, on every other request, is recovered by retries.
func TestFaultsAreRetried(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    sandbox.Faults
	}{
		{"5xx", sandbox.Faults{P5xx: 0.5}},
		{"cdn-502", sandbox.Faults{PCDN: 0.5}},
		{"drop", sandbox.Faults{PDrop: 0.5}},
		{"429", sandbox.Faults{P429: 0.3, RetryAfter: time.Second}},
		{"429 date", sandbox.Faults{P429: 0.3, RetryAfter: time.Second, RetryAfterDate: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Seed = 7
			s := startSandbox(t, tt.f)
			clock := &fakeClock{}
			c := newClient(t, s.URL, adminToken, pv.Options{Retries: 10, Clock: clock})
			for i := 0; i < 8; i++ {
				if _, err := c.ConnectionByUserID(context.Background(), business, 102); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			log := s.Log()
			faults, throttled := 0, 0
			for _, e := range log {
				if e.Fault != "" {
					faults++
				}
				if e.Fault == "429" {
					throttled++
				}
			}
			if faults == 0 {
				t.Fatal("no fault was injected: the test proves nothing")
			}
			// Retry-After honoured: one wait of about its second (on the
			// fake clock) for each 429.
			long := 0
			for _, w := range clock.Waits() {
				if w >= 900*time.Millisecond {
					long++
				}
			}
			if long < throttled {
				t.Fatalf("%d waits of ~1s for %d 429s: %v", long, throttled, clock.Waits())
			}
			snap := c.Stats.Snapshot()
			if snap.Retries != int64(faults) || snap.Requests != int64(len(log)) {
				t.Fatalf("stats %+v; log has %d requests, %d faults", snap, len(log), faults)
			}
		})
	}
}

// A create whose answer is lost is not re-sent by the client: the caller
// must look first.
func TestCreateIsNotBlindlyRetried(t *testing.T) {
	for _, f := range []sandbox.Faults{{P5xxApplied: 1}, {PDropApplied: 1}} {
		s := startSandbox(t, f)
		c := newClient(t, s.URL, adminToken, pv.Options{Retries: 5})
		_, _, err := c.CreateExternalMember(context.Background(), pv.NewExternalMember{Business: business, ExternalSystemID: "SYS", ExternalMemberID: "M-5", UserEmail: "five@example.com"})
		if err == nil || pv.ClassOf(err) != pv.ClassRetryable {
			t.Fatalf("want a retryable error, got %v", err)
		}
		if n := len(s.Log()); n != 1 || !s.Log()[0].Applied {
			t.Fatalf("want one applied POST, got %d: %+v", n, s.Log())
		}
	}
}

// Many goroutines sharing one client stay under the rate in every
// one-second window of the server's log.
func TestRateIsSharedAndNeverExceeded(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	const rate = 20
	c := newClient(t, s.URL, adminToken, pv.Options{Rate: rate})
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 4; i++ {
				if _, err := c.ConnectionByUserID(context.Background(), business, 102); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	log := s.Log()
	if len(log) != 64 {
		t.Fatalf("%d requests in the log, want 64", len(log))
	}
	// Burst 1: any window of one second holds at most rate+1 requests
	// sent (one at each end of the window). The server sees them a little
	// later, each after its own delay on a loaded machine (dial, scheduler),
	// which can bring two closer: allow two for that; a burst would bring
	// dozens.
	for i := range log {
		n := 0
		for j := i; j < len(log) && log[j].Start.Sub(log[i].Start) < time.Second; j++ {
			n++
		}
		if n > rate+3 {
			t.Fatalf("%d requests within one second from request %d; rate is %d", n, i, rate)
		}
	}
	span := log[len(log)-1].Start.Sub(log[0].Start)
	if span < time.Duration(float64(len(log)-1)/rate*0.9*float64(time.Second)) {
		t.Fatalf("64 requests in %v: faster than %d/s", span, rate)
	}
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{P5xx: 1})
	ctx := context.Background()
	var errs []error
	_, err := newClient(t, s.URL, "wrong-secret-token", pv.Options{}).Business(ctx, business)
	errs = append(errs, err)
	_, err = newClient(t, s.URL, adminToken, pv.Options{Retries: 2}).Business(ctx, business)
	errs = append(errs, err)
	// A port nobody listens on: a network error.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	_, err = newClient(t, dead, adminToken, pv.Options{}).ConnectionByEmail(ctx, business, "pat@example.com")
	errs = append(errs, err)
	c := newClient(t, s.URL, adminToken, pv.Options{})
	for _, e := range errs {
		if e == nil {
			t.Fatal("want an error")
		}
		for _, text := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
			if strings.Contains(text, "secret-token") {
				t.Fatalf("token in error: %s", text)
			}
		}
	}
	for _, text := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", pv.Options{Token: adminToken})} {
		if strings.Contains(text, "secret-token") {
			t.Fatalf("token printed: %s", text)
		}
	}
	for _, e := range s.Log() {
		if strings.Contains(fmt.Sprintf("%+v", e), "secret-token") {
			t.Fatalf("token in the sandbox log: %+v", e)
		}
	}
	if !strings.Contains(errs[2].Error(), "connect") || strings.Contains(errs[2].Error(), "pat@example.com") {
		t.Fatalf("network error should say what failed without the query: %v", errs[2])
	}
}

func TestCheckBaseURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"":                              true,
		"https://api.perkville.com":     true,
		"http://127.0.0.1:8080":         true,
		"http://localhost:1":            true,
		"http://[::1]:80":               true,
		"http://api.perkville.com":      false,
		"http://10.0.0.5:8080":          false,
		"ftp://api.perkville.com":       false,
		"https://user:pw@perkville.com": false,
		"api.perkville.com":             false,
	} {
		if _, err := pv.CheckBaseURL(raw); (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", raw, err, ok)
		}
	}
}

func TestPreflight(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	for _, tt := range []struct {
		token  string
		failAt int // index of the first failing check; -1 none
	}{{adminToken, -1}, {"wrong", 1}, {otherToken, 4}, {userToken, 4}} {
		checks := pv.Preflight(context.Background(), newClient(t, s.URL, tt.token, pv.Options{}), business)
		first := -1
		for i, ch := range checks {
			if !ch.OK && first < 0 {
				first = i
			}
		}
		if first != tt.failAt || (first >= 0 && (!checks[first].Fatal || first != len(checks)-1)) {
			t.Errorf("token %s: first failure at %d, want %d, fatal and last: %+v", tt.token[:5], first, tt.failAt, checks)
		}
		if tt.failAt < 0 {
			var ids []string
			for _, ch := range checks {
				ids = append(ids, ch.ID)
			}
			want := []string{pv.CheckAPI, pv.CheckToken, pv.CheckBusiness, pv.CheckProgramURL, pv.CheckAdminRights, pv.CheckConnections, pv.CheckListEnvelope, pv.CheckConnectionFields}
			if !slices.Equal(ids, want) {
				t.Errorf("ids %v, want %v", ids, want)
			}
		}
	}
}

// No line says ok before its request succeeded: an API that cannot be
// reached, or that redirects, fails the first line, and nothing follows.
func TestPreflightUnreached(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	moved := startSandbox(t, sandbox.Faults{Redirect: "https://api.example.com"})
	for url, want := range map[string]string{dead: "connection refused", moved.URL: "redirect to host api.example.com"} {
		checks := pv.Preflight(context.Background(), newClient(t, url, adminToken, pv.Options{ReadOnly: true}), business)
		if len(checks) != 1 || checks[0].OK || !checks[0].Fatal || checks[0].ID != pv.CheckAPI || !strings.Contains(checks[0].Detail, want) {
			t.Errorf("%s: %+v", url, checks)
		}
	}
}

// A request that takes longer than the timeout is abandoned as a
// retryable error, and retried.
func TestPerRequestTimeout(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{Latency: 300 * time.Millisecond})
	c := newClient(t, s.URL, adminToken, pv.Options{Timeout: 50 * time.Millisecond, Retries: 1})
	_, err := c.Business(context.Background(), business)
	e := apiErr(t, err)
	if e.Status != 0 || e.Class() != pv.ClassRetryable || c.Stats.Snapshot().Requests != 2 {
		t.Fatalf("%v class %v, %d requests", e, e.Class(), c.Stats.Snapshot().Requests)
	}
}
