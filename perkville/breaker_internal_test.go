package perkville

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// skipClock's waits are over at once and move it on by their length.
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
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

var errDown = &Error{Method: http.MethodGet, Path: "/v2/", Status: http.StatusInternalServerError}

// openBreaker is a breaker that saw an answer, then BreakerThreshold
// failures in a row: open.
func openBreaker(probe func(context.Context) error) *breaker {
	b := &breaker{clock: &skipClock{now: time.Date(2026, 12, 1, 2, 14, 7, 0, time.UTC)}, maxWait: 10 * time.Minute, probe: probe}
	t, _ := b.wait(context.Background())
	b.record(t, nil)
	for range BreakerThreshold {
		t, _ := b.wait(context.Background())
		b.record(t, errDown)
	}
	return b
}

// within fails the test if ch gives nothing within a minute.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s: nothing within a minute", what)
		panic("unreachable")
	}
}

// A prober whose caller stops hands the probing over to a caller still
// waiting, whose probe then closes the breaker.
func TestBreakerProbeIsHandedOver(t *testing.T) {
	probing := make(chan struct{}, 2)
	var mu sync.Mutex
	calls := 0
	b := openBreaker(func(ctx context.Context) error {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		probing <- struct{}{}
		if first {
			<-ctx.Done() // the API hangs; the caller gives up
			return &Error{Method: http.MethodGet, Path: "/v2/", Err: ctx.Err()}
		}
		return nil
	})
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA, doneB := make(chan error, 1), make(chan error, 1)
	go func() { _, err := b.wait(ctxA); doneA <- err }()
	within(t, probing, "the first prober")
	go func() { _, err := b.wait(context.Background()); doneB <- err }()
	cancelA()
	if err := within(t, doneA, "the stopped prober"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the stopped prober got %v", err)
	}
	within(t, probing, "the second prober")
	if err := within(t, doneB, "the waiting caller"); err != nil {
		t.Fatalf("the waiting caller got %v", err)
	}
	if t2, err := b.wait(context.Background()); err != nil || t2 == 0 {
		t.Fatalf("after the answer: %d %v", t2, err)
	}
}

// An outage past maxWait trips the breaker: every caller, now and later,
// gets the *OutageError naming when the failures began; probes were sent
// on a doubling backoff until then.
func TestBreakerTrips(t *testing.T) {
	probes := 0
	b := openBreaker(func(context.Context) error { probes++; return errDown })
	_, err := b.wait(context.Background())
	var oe *OutageError
	if !errors.As(err, &oe) || !IsFatal(err) || oe.Since.Format("15:04:05") != "02:14:07" || oe.Failed != BreakerThreshold {
		t.Fatalf("got %v", err)
	}
	// 1+2+4+…+32 s, then a minute apart up to 10 minutes: 15 probes.
	if probes != 15 {
		t.Errorf("%d probes", probes)
	}
	if _, again := b.wait(context.Background()); again != err || !b.unbroken(0, 0) {
		t.Errorf("after the trip: %v", again)
	}
}

// heldClock's waits end when the test says: it stands still, and the
// channel of each After is handed to the test on waits.
type heldClock struct {
	now   time.Time
	waits chan chan time.Time
}

func (c *heldClock) Now() time.Time { return c.now }

func (c *heldClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- ch
	return ch
}

// A call that was waiting its turn at the Limiter when the API went down
// is not sent on its turn: it waits for the breaker, whose probe goes
// first. (A run at --rate 10 with 30 workers sent a request for every
// worker queued at the Limiter when the breaker opened: 48 in the outage.)
func TestCallQueuedAtTheLimiterWaitsForTheBreaker(t *testing.T) {
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	b := &breaker{clock: &skipClock{now: time.Date(2026, 12, 1, 2, 14, 7, 0, time.UTC)}, maxWait: 10 * time.Minute,
		probe: func(context.Context) error { note("probe"); return nil }}
	tk, _ := b.wait(context.Background())
	b.record(tk, nil)
	held := &heldClock{now: time.Date(2026, 12, 1, 2, 14, 7, 0, time.UTC), waits: make(chan chan time.Time, 1)}
	lim := newLimiter(0, held)
	lim.Throttled(time.Second) // every request waits at the Limiter's gate
	p := &Pacer{Limiter: lim, Clock: held, breaker: b}
	done := make(chan error, 1)
	go func() {
		done <- p.CallOnTurn(context.Background(), nil, false, func() (bool, error) { note("request"); return false, nil })
	}()
	gate := within(t, held.waits, "the call waiting at the Limiter")
	for range BreakerThreshold { // the API goes down meanwhile
		tk, _ := b.wait(context.Background())
		b.record(tk, errDown)
	}
	held.now = held.now.Add(time.Second)
	gate <- held.now
	if err := within(t, done, "the call"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != "probe" || order[1] != "request" {
		t.Fatalf("sent in the order %v; want the probe, then the request", order)
	}
}
