package enroll

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
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
	return newAcceptBatcher(api, maxRows, 0, fc), fc, s
}

type acceptCall struct {
	res  []pv.AcceptanceResult
	err  error
	rc   *rowCalls
	done chan struct{}
}

func startAccept(b *acceptBatcher, user int64) *acceptCall {
	return startAcceptOn(context.Background(), b, user)
}

// startAcceptOn is startAccept for a row whose requests run on ctx.
func startAcceptOn(ctx context.Context, b *acceptBatcher, user int64) *acceptCall {
	return startAcceptAs(ctx, b, &rowCalls{calls: pv.NewCalls(nil)}, user)
}

// startAcceptAs is startAcceptOn for a row whose requests go through rc.
func startAcceptAs(ctx context.Context, b *acceptBatcher, rc *rowCalls, user int64) *acceptCall {
	c := &acceptCall{rc: rc, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.res, c.err = b.accept(ctx, rc, []pv.AgreementAcceptance{{AgreementID: 7, UserID: user, AcceptedDT: "2026-11-20T10:04:00Z"}})
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

// returned waits, with a deadline, for the call to return.
func (c *acceptCall) returned(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("accept did not return")
	}
}

func (c *acceptCall) wait(t *testing.T) {
	t.Helper()
	c.returned(t)
	if info := c.rc.calls.Info(); c.err != nil || len(c.res) != 1 || c.res[0].Status != pv.AcceptanceAccepted || info != (pv.CallInfo{Attempts: 1, MaybeApplied: true}) {
		t.Fatalf("accept: %+v %v, calls %+v", c.res, c.err, info)
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
	defer b.expect().leave() // a row still finding its connection
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
	ticketA := b.expect()
	rowB := &rowCalls{calls: pv.NewCalls(nil), ticket: b.expect()}
	first := startAccept(b, 1)
	second := startAccept(b, 2)
	first.wait(t)
	second.wait(t)
	if n := batchPosts(s); n != 1 {
		t.Fatalf("%d batch requests for a full batch, want 1", n)
	}
	// Row A never reaches accept (already active, say); row B does, and
	// then no row in flight can join B's batch.
	c := startAcceptAs(context.Background(), b, rowB, 3)
	waitFor(t, "row B to join a batch", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.open != nil && b.open.rows == 1
	})
	ticketA.leave()
	c.wait(t)
	rowB.ticket.leave()
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

// acceptedUsers is the users the sandbox holds an acceptance of.
func acceptedUsers(s *sandbox.Server) []int64 {
	var ids []int64
	for _, u := range s.State().Users {
		if len(u.AcceptedAgreements) > 0 {
			ids = append(ids, u.UserID)
		}
	}
	return ids
}

// A batch runs on a context of its own, not on the row that opened it: that
// row stopping (as a fatal stop cancels the rows that sent no write) takes
// out its own items only, and the rows that joined are still sent.
func TestBatchOutlivesTheRowThatOpenedIt(t *testing.T) {
	b, fc, s := batchFixture(t, 10)
	defer b.expect().leave() // a row still in flight: the batch waits
	ctxA, stopA := context.WithCancel(context.Background())
	defer stopA()
	first := startAcceptOn(ctxA, b, 1)
	waitFor(t, "row A to open a batch", b.openRowsIs(1))
	second := startAccept(b, 2)
	waitFor(t, "row B to join it", b.openRowsIs(2))
	stopA()
	first.returned(t)
	if !errors.Is(first.err, context.Canceled) || first.res != nil {
		t.Fatalf("row A, stopped before the batch was sent: %+v %v", first.res, first.err)
	}
	waitFor(t, "row A to leave the batch", b.openRowsIs(1))
	if fc.fire() != 1 {
		t.Fatal("want one timer: the open batch's")
	}
	second.wait(t)
	if n := batchPosts(s); n != 1 {
		t.Fatalf("%d batch requests, want 1", n)
	}
	if got := acceptedUsers(s); !slices.Equal(got, []int64{2}) {
		t.Fatalf("acceptances of users %v, want only row B's user 2", got)
	}
}

// When every row of an unsent batch has stopped, the batch is closed and
// sends nothing; a row arriving later opens a batch of its own.
func TestBatchOfStoppedRowsIsNotSent(t *testing.T) {
	b, fc, s := batchFixture(t, 10)
	defer b.expect().leave()
	ctxA, stopA := context.WithCancel(context.Background())
	first := startAcceptOn(ctxA, b, 1)
	waitFor(t, "row A to open a batch", b.openRowsIs(1))
	stopA()
	first.returned(t)
	if !errors.Is(first.err, context.Canceled) {
		t.Fatalf("row A, stopped: %v", first.err)
	}
	second := startAccept(b, 2)
	waitFor(t, "row B to open a batch of its own", b.openRowsIs(1))
	fc.fire()
	second.wait(t)
	if n := batchPosts(s); n != 1 {
		t.Fatalf("%d batch requests, want 1: row B's", n)
	}
	if got := acceptedUsers(s); !slices.Equal(got, []int64{2}) {
		t.Fatalf("acceptances of users %v, want only user 2", got)
	}
}
