package perkville

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// waitQueued waits until the queue holds begun and others waiters (a
// goroutine's enter has queued it), or fails the test at the deadline.
func waitQueued(t *testing.T, q *turnQueue, begun, others int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q.mu.Lock()
		b, o := len(q.begun), len(q.others)
		q.mu.Unlock()
		if b == begun && o == others {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued %d begun and %d others, want %d and %d", b, o, begun, others)
		}
		runtime.Gosched()
	}
}

// A caller that has begun is let through before callers that had waited
// longer but had not begun; each kind in its arrival order.
func TestTurnQueueBegunGoAhead(t *testing.T) {
	var q turnQueue
	ctx := context.Background()
	if err := q.enter(ctx, false); err != nil { // the head
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enter := func(name string, begun bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := q.enter(ctx, begun); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			q.leave()
		}()
	}
	enter("first lookup", false)
	waitQueued(t, &q, 0, 1)
	enter("second lookup", false)
	waitQueued(t, &q, 0, 2)
	enter("first write", true)
	waitQueued(t, &q, 1, 2)
	enter("second write", true)
	waitQueued(t, &q, 2, 2)
	q.leave()
	wg.Wait()
	want := []string{"first write", "second write", "first lookup", "second lookup"}
	if !slices.Equal(order, want) {
		t.Fatalf("let through in the order %q, want %q", order, want)
	}
	if q.busy {
		t.Fatal("the queue is still busy with no one in it")
	}
}

// A waiter whose context ends leaves the queue: it is not made head, and
// the turn passes to the next.
func TestTurnQueueCancelledWaiterLeaves(t *testing.T) {
	var q turnQueue
	if err := q.enter(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gave := make(chan error, 1)
	go func() { gave <- q.enter(ctx, true) }()
	waitQueued(t, &q, 1, 0)
	next := make(chan error, 1)
	go func() { next <- q.enter(context.Background(), false) }()
	waitQueued(t, &q, 1, 1)
	cancel()
	if err := <-gave; err != context.Canceled {
		t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
	}
	waitQueued(t, &q, 0, 1)
	q.leave()
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	q.leave()
	if q.busy {
		t.Fatal("the queue is still busy with no one in it")
	}
}

// Through the client and its pacer: the second request of a row (its Calls
// has sent one) goes out before the first requests of rows that were
// waiting already.
func TestBegunRowGoesAheadAtTheRate(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Token: "t", Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := func(cl *Client, path string) error {
		return cl.do(ctx, request{method: http.MethodGet, path: path, out: &map[string]any{}})
	}
	row := c.For(NewCalls(nil))
	if row.begun() {
		t.Fatal("a row that sent nothing has begun")
	}
	if err := get(row, "/row-a/1/"); err != nil {
		t.Fatal(err)
	}
	if !row.begun() {
		t.Fatal("a row that sent a request has not begun")
	}
	var wg sync.WaitGroup
	send := func(cl *Client, path string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := get(cl, path); err != nil {
				t.Error(err)
			}
		}()
	}
	// The test holds the turn while the rows queue, so that all of them
	// wait when it lets go.
	q := &c.pacer.Limiter.queue
	if err := q.enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"/row-b/1/", "/row-c/1/", "/row-d/1/"} {
		send(c.For(NewCalls(nil)), p)
		waitQueued(t, q, 0, i+1)
	}
	send(row, "/row-a/2/")
	waitQueued(t, q, 1, 3)
	q.leave()
	wg.Wait()
	want := []string{"/row-a/1/", "/row-a/2/", "/row-b/1/", "/row-c/1/", "/row-d/1/"}
	if !slices.Equal(paths, want) {
		t.Fatalf("sent %q, want %q", paths, want)
	}
}

// A batch's turn taken with TurnBegun waits with the callers that have
// begun; one taken with Turn, with those that have not.
func TestTurnBegunQueuesWithTheBegun(t *testing.T) {
	c, err := New(Options{BaseURL: "http://127.0.0.1:1", Token: "t", Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := &c.pacer.Limiter.queue
	if err := q.enter(ctx, false); err != nil { // the test holds the turn
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { _, err := c.Turn(ctx); done <- err }()
	waitQueued(t, q, 0, 1)
	go func() { _, err := c.TurnBegun(ctx); done <- err }()
	waitQueued(t, q, 1, 1)
	q.leave()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
