package perkville_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// witness is a second host on loopback that records every request it gets
// and redirects each one to next (when set): where a token must never go.
type witness struct {
	URL  string
	mu   sync.Mutex
	auth []string // Authorization headers received ("" when none)
}

func startWitness(t *testing.T, ip, next string) *witness {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		if runtime.GOOS != "linux" {
			t.Skipf("no second loopback address %s here: %v", ip, err)
		}
		t.Fatal(err)
	}
	w := &witness{URL: "http://" + ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.auth = append(w.auth, r.Header.Get("Authorization"))
		w.mu.Unlock()
		if next != "" {
			http.Redirect(rw, r, next+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		rw.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return w
}

func (w *witness) requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.auth...)
}

// A redirect is never followed: the API host answers 302 to a second host,
// which would redirect on to a third; neither receives a request, so no
// token leaves the API host, and each call is a row failure naming the
// status and the host it pointed to.
func TestRedirectsAreNotFollowed(t *testing.T) {
	third := startWitness(t, "127.0.0.3", "")
	second := startWitness(t, "127.0.0.2", third.URL)
	s := startSandbox(t, sandbox.Faults{Redirect: second.URL})
	c := newClient(t, s.URL, adminToken, pv.Options{Retries: 3})
	ctx := context.Background()
	calls := map[string]func() error{
		"business": func() error { _, err := c.Business(ctx, business); return err },
		"lookup":   func() error { _, err := c.ConnectionByEmail(ctx, business, "pat@example.com"); return err },
		"join":     func() error { _, err := c.Activate(ctx, business, 1001); return err },
		"create": func() error {
			_, _, err := c.CreateExternalMember(ctx, pv.NewExternalMember{Business: business, ExternalSystemID: "S", ExternalMemberID: "1", UserEmail: "a@b.co"})
			return err
		},
		"probe": func() error { return c.ProveAdmin(ctx, business) },
	}
	host := strings.TrimPrefix(second.URL, "http://")
	for name, call := range calls {
		err := call()
		e := apiErr(t, err)
		if e.Status != http.StatusFound || e.Location != host || pv.ClassOf(err) != pv.ClassRow ||
			!strings.Contains(err.Error(), "302") || !strings.Contains(err.Error(), host) {
			t.Errorf("%s: %v (class %v, location %q)", name, err, pv.ClassOf(err), e.Location)
		}
	}
	if got := append(second.requests(), third.requests()...); len(got) != 0 {
		t.Fatalf("a redirect was followed: the other hosts got %d requests, Authorization %q", len(got), got)
	}
	if n := len(s.Log()); n != len(calls) {
		t.Fatalf("%d requests reached the API for %d calls: a redirect was retried", n, len(calls))
	}
	for _, e := range s.Log() {
		if e.Applied {
			t.Fatalf("a write was applied: %+v", e)
		}
	}
}

// The token is sent to the API host, and only there: the witness itself,
// used as the API, gets it; this proves the witness would have seen it.
func TestWitnessSeesTheToken(t *testing.T) {
	w := startWitness(t, "127.0.0.2", "")
	c := newClient(t, w.URL, adminToken, pv.Options{})
	_, _ = c.Business(context.Background(), business)
	if got := w.requests(); len(got) != 1 || got[0] != "Bearer "+adminToken {
		t.Fatalf("the API host got %q", got)
	}
}

// Answers past the size cap are cut at the cap, whatever their length: the
// row fails with "answer larger than N MiB".
func TestHugeAnswersAreCut(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{HugeAnswer: 1 << 30})
	c := newClient(t, s.URL, adminToken, pv.Options{Retries: 3})
	ctx := context.Background()
	_, err := c.ConnectionByEmail(ctx, business, "pat@example.com")
	if e := apiErr(t, err); pv.ClassOf(err) != pv.ClassRow || !strings.Contains(e.Error(), "answer larger than 1 MiB") {
		t.Fatalf("lookup: %v class %v", err, pv.ClassOf(err))
	}
	for _, err := range c.Connections(ctx, business, pv.StatusActive, pv.ListBounds{PageSize: 1000}) {
		if err == nil || !strings.Contains(err.Error(), "answer larger than 16 MiB") {
			t.Fatalf("listing: %v", err)
		}
	}
	if n := len(s.Log()); n != 2 {
		t.Fatalf("%d requests for 2 calls: an oversized answer was retried", n)
	}
}

// A Retry-After longer than MaxWait ends the call at once with a fatal
// error that says what the API asked for; the shared pause is not taken.
func TestRetryAfterLongerThanMaxWait(t *testing.T) {
	for _, ra := range []string{"1000000000", "Fri, 31 Dec 9999 23:59:59 GMT", "1e300"} {
		s := startSandbox(t, sandbox.Faults{P429: 1, RetryAfterHeader: ra})
		clock := &fakeClock{}
		c := newClient(t, s.URL, adminToken, pv.Options{Retries: 5, Clock: clock, MaxWait: time.Minute})
		_, err := c.Business(context.Background(), business)
		var we *pv.WaitError
		if !errors.As(err, &we) || !pv.IsFatal(err) || !strings.Contains(err.Error(), ra) || !strings.Contains(err.Error(), "asked to wait") {
			t.Fatalf("Retry-After %s: %v", ra, err)
		}
		if w := clock.Waits(); len(w) != 0 || len(s.Log()) != 1 {
			t.Fatalf("Retry-After %s: waited %v over %d requests", ra, w, len(s.Log()))
		}
	}
}

// A Retry-After within MaxWait is waited for (on the fake clock), then the
// request is sent again.
func TestRetryAfterWithinMaxWait(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{P429: 0.5, RetryAfterHeader: "120", Seed: 3})
	clock := &fakeClock{}
	c := newClient(t, s.URL, adminToken, pv.Options{Retries: 20, Clock: clock, MaxWait: 10 * time.Minute})
	for i := 0; i < 6; i++ {
		if _, err := c.Business(context.Background(), business); err != nil {
			t.Fatal(err)
		}
	}
	throttled := 0
	for _, e := range s.Log() {
		if e.Fault == "429" {
			throttled++
		}
	}
	long := 0
	for _, w := range clock.Waits() {
		if w > 119*time.Second && w <= 120*time.Second {
			long++
		}
	}
	if throttled == 0 || long != throttled {
		t.Fatalf("%d 429s, %d waits of 120 s: %v", throttled, long, clock.Waits())
	}
}

func oddWorld(mutate func(w *sandbox.World)) *sandbox.World {
	w := testWorld()
	mutate(w)
	return w
}

func userConn(w *sandbox.World, id int64) *sandbox.Connection {
	for i := range w.Users {
		if c := w.Users[i].Connection; c != nil && c.ConnectionID == id {
			return c
		}
	}
	panic("no connection")
}

// Connections that cannot be the one asked for are refused: another
// business, an id that is not positive, another id than the one joined.
func TestConnectionsAreChecked(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		mutate func(*sandbox.Connection)
		call   func(c *pv.Client) error
		want   string
	}{
		{"foreign business on a lookup", func(c *sandbox.Connection) { c.Business = 77 }, func(c *pv.Client) error {
			_, err := c.ConnectionByEmail(ctx, business, "pat@example.com")
			return err
		}, "another business"},
		{"id 0", func(c *sandbox.Connection) { c.AnswerID = new(int64) }, func(c *pv.Client) error {
			_, err := c.ConnectionByUserID(ctx, business, 101)
			return err
		}, "connection_id is the number 0"},
		{"id -5", func(c *sandbox.Connection) { c.AnswerID = ptr(int64(-5)) }, func(c *pv.Client) error {
			_, err := c.ConnectionByEmail(ctx, business, "pat@example.com")
			return err
		}, "connection_id is the number -5"},
		{"a join answered with another connection", func(c *sandbox.Connection) { c.AnswerID = ptr(int64(2222)) }, func(c *pv.Client) error {
			_, err := c.Activate(ctx, business, 1001)
			return err
		}, "another connection"},
		{"a join answered for another business", func(c *sandbox.Connection) { c.Business = 77 }, func(c *pv.Client) error {
			_, err := c.Activate(ctx, business, 1001)
			return err
		}, "another business"},
		{"a listing with a foreign connection", func(c *sandbox.Connection) { c.Business = 77 }, func(c *pv.Client) error {
			for _, err := range c.Connections(ctx, business, "", pv.ListBounds{PageSize: 1000}) {
				if err != nil {
					if !errors.Is(err, pv.ErrListingAbandoned) {
						return errors.New("not abandoned: " + err.Error())
					}
					return err
				}
			}
			return nil
		}, "another business"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := sandbox.NewServer(oddWorld(func(w *sandbox.World) { tt.mutate(userConn(w, 1001)) }), sandbox.Faults{})
			defer s.Close()
			err := tt.call(newClient(t, s.URL, adminToken, pv.Options{}))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "expected") || pv.ClassOf(err) != pv.ClassRow {
				t.Fatalf("got %v (class %v), want an error saying %q", err, pv.ClassOf(err), tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A join whose 2xx answer is not the connection ACTIVE did not happen.
func TestJoinMustComeBackActive(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{UnappliedJoins: true})
	_, err := newClient(t, s.URL, adminToken, pv.Options{}).Activate(context.Background(), business, 1001)
	if err == nil || !strings.Contains(err.Error(), `expected the connection ACTIVE, got status "IMPORTED"`) || pv.ClassOf(err) != pv.ClassRow {
		t.Fatalf("%v", err)
	}
}

// A non-positive connection id is refused before anything is sent.
func TestActivateRefusesOddIDs(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	c := newClient(t, s.URL, adminToken, pv.Options{})
	for _, id := range []int64{0, -5} {
		if _, err := c.Activate(context.Background(), business, id); err == nil || !strings.Contains(err.Error(), "positive") {
			t.Fatalf("id %d: %v", id, err)
		}
	}
	if n := len(s.Log()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

// A next that loops or leaves the host abandons the listing within the
// pages total_count allows.
func TestPagingGuard(t *testing.T) {
	for _, f := range []sandbox.Faults{{NextLoop: true}, {NextHost: "127.0.0.2:9"}} {
		s := startSandbox(t, f)
		c := newClient(t, s.URL, adminToken, pv.Options{})
		var last error
		n := 0
		for _, err := range c.Connections(context.Background(), business, "", pv.ListBounds{PageSize: 10}) {
			if err != nil {
				last = err
				break
			}
			n++
			if n > 1000 {
				t.Fatal("the listing does not end")
			}
		}
		if !errors.Is(last, pv.ErrListingAbandoned) || pv.IsFatal(last) {
			t.Fatalf("%+v: %v", f, last)
		}
		// 51 connections at 10 a page: 6 pages, so at most 7 requests.
		if pages := len(s.Log()); pages > 7 {
			t.Fatalf("%+v: %d pages fetched", f, pages)
		}
	}
}

// The admin probe writes nothing, passes an admin, and stops anyone else.
// It is a POST: a read-only (dry-run) client refuses it unsent.
func TestProveAdmin(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	ctx := context.Background()
	if err := newClient(t, s.URL, adminToken, pv.Options{ReadOnly: true}).ProveAdmin(ctx, business); !errors.Is(err, pv.ErrReadOnly) || len(s.Log()) != 0 {
		t.Fatalf("read-only client: %v, %d requests sent; want ErrReadOnly and none", err, len(s.Log()))
	}
	if err := newClient(t, s.URL, adminToken, pv.Options{}).ProveAdmin(ctx, business); err != nil {
		t.Fatalf("admin: %v", err)
	}
	for _, tok := range []string{userToken, otherToken} {
		err := newClient(t, s.URL, tok, pv.Options{}).ProveAdmin(ctx, business)
		var na *pv.NotAdminError
		if !errors.As(err, &na) || !pv.IsFatal(err) || !strings.Contains(err.Error(), "the token is not an admin staff member's of business 25") {
			t.Fatalf("%s: %v", tok, err)
		}
	}
	for _, e := range s.Log() {
		if e.Applied || e.Method != http.MethodPost {
			t.Fatalf("the probe changed something or was not a POST: %+v", e)
		}
	}
	if n := len(s.State().ExternalMembers); n != 1 {
		t.Fatalf("%d external members after the probes, want the 1 of the world", n)
	}
}

// The sandbox plays two emails of one customer: both lookups answer one
// connection (telling the two rows apart is the enroll package's job).
func TestTwoEmailsOneConnection(t *testing.T) {
	w := testWorld()
	w.Users[0].Emails = append(w.Users[0].Emails, "pat.work@example.com")
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	c := newClient(t, s.URL, adminToken, pv.Options{})
	a, err1 := c.ConnectionByEmail(context.Background(), business, "pat@example.com")
	b, err2 := c.ConnectionByEmail(context.Background(), business, "pat.work@example.com")
	if err1 != nil || err2 != nil || a.ConnectionID != b.ConnectionID {
		t.Fatalf("%+v %v / %+v %v", a, err1, b, err2)
	}
}

// Errors of a request that got no answer name the API URL and the cause.
func TestUnreachedNamesURLAndCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	_, err = newClient(t, dead, adminToken, pv.Options{}).Business(context.Background(), business)
	if e := apiErr(t, err); !e.Unreached() || !strings.Contains(err.Error(), dead+"/v2/businesses/25/") ||
		!strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "token") {
		t.Fatalf("%v", err)
	}
}
