package enroll

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// fakeClock fires its timers when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	f           func()
	done, fired bool
}

func (c *fakeClock) AfterFunc(_ time.Duration, f func()) func() bool {
	t := &fakeTimer{f: f}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.done
		t.done = true
		return was
	}
}

// fire runs every pending timer, as if their time had passed.
func (c *fakeClock) fire() int {
	c.mu.Lock()
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.done {
			t.done, t.fired = true, true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
	return len(due)
}

const batchToken = "batch-test-admin"

func batchWorld(users int) *sandbox.World {
	w := &sandbox.World{
		Business: sandbox.BusinessSeed{BusinessID: 25, Name: "B", Agreements: []sandbox.AgreementSeed{{AgreementID: 7, ApplyToJoinFlow: true}}},
		Tokens:   []sandbox.Token{{Token: batchToken, Name: "admin", UserID: 1, Scopes: []string{pv.ScopeAdminCustomerInfo}, StaffOf: []int64{25}}},
	}
	for i := 1; i <= users; i++ {
		w.Users = append(w.Users, sandbox.User{UserID: int64(i), Emails: []string{"u" + string(rune('a'+i)) + "@x.co"}})
	}
	return w
}

func batchFixture(t *testing.T, maxRows int) (*acceptBatcher, *fakeClock, *sandbox.Server) {
	t.Helper()
	s := sandbox.NewServer(batchWorld(5), sandbox.Faults{})
	t.Cleanup(func() { s.Close() })
	api, err := pv.New(pv.Options{BaseURL: s.URL, Token: batchToken})
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeClock{}
	e := &Enroller{API: api, Business: &pv.Business{BusinessID: 25}, Policy: Policy{AcceptBatch: maxRows}, Clock: fc}
	return e.batcher(), fc, s
}

type acceptCall struct {
	res  []pv.AcceptanceResult
	err  error
	r    report.Result
	done chan struct{}
}

func startAccept(b *acceptBatcher, user int64) *acceptCall {
	c := &acceptCall{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.res, c.err = b.accept(context.Background(), []pv.AgreementAcceptance{{AgreementID: 7, UserID: user, AcceptedDT: "2026-11-20T10:04:00Z"}}, &c.r)
	}()
	return c
}

// waitFor polls a condition of the batcher's state, with a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func (b *acceptBatcher) openRowsIs(n int) func() bool {
	return func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.open != nil && b.open.rows == n && !b.open.due
	}
}

func (c *acceptCall) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("accept did not return")
	}
	if c.err != nil || len(c.res) != 1 || c.res[0].Status != pv.AcceptanceAccepted || c.r.Attempts != 1 {
		t.Fatalf("accept: %+v %v attempts %d", c.res, c.err, c.r.Attempts)
	}
}

func batchPosts(s *sandbox.Server) int {
	n := 0
	for _, e := range s.Log() {
		if e.Method == http.MethodPost && e.Path == pv.PathAgreementAcceptances {
			n++
		}
	}
	return n
}

// An open batch waits, while another consenting row is in flight, until
// its wait has passed; then one request carries every row that joined.
func TestBatchIsSentAfterItsWait(t *testing.T) {
	b, fc, s := batchFixture(t, 10)
	_, leave := b.expect(context.Background()) // a row still finding its connection
	defer leave()
	first := startAccept(b, 1)
	waitFor(t, "the first row to open a batch", b.openRowsIs(1))
	second := startAccept(b, 2)
	waitFor(t, "the second row to join it", b.openRowsIs(2))
	if n := batchPosts(s); n != 0 {
		t.Fatalf("%d batches sent before the wait passed", n)
	}
	if fc.fire() != 1 {
		t.Fatal("want one timer: the open batch's")
	}
	first.wait(t)
	second.wait(t)
	if n := batchPosts(s); n != 1 {
		t.Fatalf("%d batch requests, want 1", n)
	}
}

// A full batch goes at once; the last row in flight arriving sends the
// next without waiting.
func TestBatchIsSentWhenFullOrWhenNoRowCanJoin(t *testing.T) {
	b, fc, s := batchFixture(t, 2)
	_, leaveA := b.expect(context.Background())
	ctxB, leaveB := b.expect(context.Background())
	first := startAccept(b, 1)
	second := startAccept(b, 2)
	first.wait(t)
	second.wait(t)
	if n := batchPosts(s); n != 1 {
		t.Fatalf("%d batch requests for a full batch, want 1", n)
	}
	// Row A never reaches accept (already active, say); row B does, and
	// then no row in flight can join B's batch.
	c := &acceptCall{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.res, c.err = b.accept(ctxB, []pv.AgreementAcceptance{{AgreementID: 7, UserID: 3, AcceptedDT: "2026-11-20T10:04:00Z"}}, &c.r)
	}()
	waitFor(t, "row B to join a batch", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.open != nil && b.open.rows == 1
	})
	leaveA()
	c.wait(t)
	leaveB()
	if n := batchPosts(s); n != 2 {
		t.Fatalf("%d batch requests, want 2", n)
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	for _, tm := range fc.timers {
		if tm.fired {
			t.Fatal("a batch waited for its timer although it was full or nobody could join")
		}
	}
}
