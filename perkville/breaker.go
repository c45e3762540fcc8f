package perkville

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// BreakerThreshold is how many requests in a row, across every worker, must
// fail (5xx, a timeout, a connection error) with no answer between them
// for the API to be taken as down: fewer could be bad luck of a few rows.
const BreakerThreshold = 20

// Probe backoff of an open breaker: the first probe after a second, then
// twice as long each time, at most a minute apart.
const (
	probeFirst = time.Second
	probeMax   = time.Minute
)

// breaker turns an outage into one event. Every attempt reports whether it
// failed as an outage does; after BreakerThreshold such failures in a row
// the breaker opens: every caller waits, and one of them (the prober)
// sends one cheap GET on a backoff. Any answer closes it, and the callers
// go on. If the outage lasts past maxWait since its first failure, the
// breaker trips: every caller, now and later, gets an *OutageError, which is
// fatal. The breaker arms at the API's first answer: before it, as at the
// preflight, a call that gets none fails at once after its retries, naming
// the cause. The prober is a caller, not a goroutine of its own, so a run that
// stops leaves nothing behind probing.
type breaker struct {
	clock   Clock
	maxWait time.Duration // 0: DefaultMaxWait
	// probe sends one cheap request; it returns an outage failure, nil for
	// any answer, or ctx's error.
	probe func(ctx context.Context) error
	stats *Stats

	mu      sync.Mutex
	armed   bool      // the API answered once
	fails   int       // outage failures since the last answer
	since   time.Time // the first of them
	first   uint64    // the last ticket given when the first of them came
	tickets uint64    // numbers the attempts in the order they were let go
	streak  uint64    // counts streaks: a new one begins after each answer
	brokeAt uint64    // the last ticket given when the last streak ended
	open    chan struct{}
	probing bool
	asking  bool // a verdict's probe is under way
	tripped *OutageError
}

// outage reports whether err is a failure an outage gives: no answer (a
// timeout, a refused or reset connection) or a 5xx. A 4xx is an answer.
func outage(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ((ae.Status == 0 && ae.Err != nil && !ae.oversized) || ae.Status >= 500)
}

// record notes how the attempt let go with ticket ended (a nil breaker
// notes nothing). It returns the streak the attempt belongs to, so that a
// caller can tell whether any answer came since. An answer to an attempt
// that was already under way when the streak's first failure came says
// nothing of the API since: it does not end the streak.
func (b *breaker) record(ticket uint64, err error) uint64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !outage(err) {
		late := b.fails > 0 && ticket <= b.first
		if !late && (err == nil || !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)) {
			b.answered()
		}
		return b.streak
	}
	if b.fails == 0 {
		b.since, b.first = b.clock.Now(), b.tickets
	}
	b.fails++
	if b.armed && b.fails >= BreakerThreshold && b.open == nil && b.tripped == nil {
		b.open = make(chan struct{})
	}
	return b.streak
}

// answered ends the streak of failures and closes an open breaker; b.mu is
// held.
func (b *breaker) answered() {
	b.armed = true
	b.fails = 0
	b.streak++
	b.brokeAt = b.tickets
	if b.open != nil {
		close(b.open)
		b.open = nil
	}
}

// unbroken reports whether a call whose first outage failure was in
// streak, and whose last failed attempt had ticket, may blame its failures
// on the outage: no answer came since streak began, or its last attempt
// was under way when one came. Then it waits for the breaker's verdict
// (which, once the breaker has tripped, is the *OutageError) rather than
// give up.
func (b *breaker) unbroken(streak, ticket uint64) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tripped != nil || b.armed && (b.streak == streak || ticket <= b.brokeAt)
}

// wait returns at once while the breaker is closed, with the ticket of the
// attempt it lets go; while it is open it waits for it to close (or
// probes, if no caller does), and once it has tripped it returns the
// *OutageError.
func (b *breaker) wait(ctx context.Context) (uint64, error) {
	for b != nil {
		if err := ctx.Err(); err != nil {
			return 0, err // a prober that gave up, or a caller stopped while waiting
		}
		b.mu.Lock()
		if b.tripped != nil {
			b.mu.Unlock()
			return 0, b.tripped
		}
		open := b.open
		if open == nil {
			b.tickets++
			defer b.mu.Unlock()
			return b.tickets, nil
		}
		if !b.probing {
			b.probing = true
			b.mu.Unlock()
			b.probeUntilAnswered(ctx)
			continue
		}
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-open:
		}
	}
	return 0, nil
}

// pass returns a ticket, as wait does, if the breaker is closed now; else
// false, without waiting (a nil breaker lets every attempt go).
func (b *breaker) pass() (uint64, bool) {
	if b == nil {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open != nil || b.tripped != nil {
		return 0, false
	}
	b.tickets++
	return b.tickets, true
}

// probeUntilAnswered probes on a backoff until an answer closes the
// breaker, the outage passes maxWait and trips it, or ctx ends (then
// another waiting caller takes over the probing).
func (b *breaker) probeUntilAnswered(ctx context.Context) {
	maxWait := b.maxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	b.mu.Lock()
	since := b.since
	b.mu.Unlock()
	for next := probeFirst; ; next = min(2*next, probeMax) {
		left := maxWait - b.clock.Now().Sub(since)
		if left > 0 {
			select {
			case <-ctx.Done():
				b.handOver()
				return
			case <-b.clock.After(min(next, left)):
			}
		}
		b.stats.probed()
		err := b.probe(ctx)
		b.mu.Lock()
		switch {
		case b.open == nil || b.tripped != nil: // another request's answer closed it
			b.probing = false
			b.mu.Unlock()
			return
		case ctx.Err() != nil:
			b.mu.Unlock()
			b.handOver()
			return
		case !outage(err):
			b.probing = false
			b.answered()
			b.mu.Unlock()
			return
		case b.clock.Now().Sub(since) >= maxWait:
			b.tripped = &OutageError{Failed: BreakerThreshold, Since: since, Waited: maxWait, Err: err}
			b.probing = false
			close(b.open)
			b.open = nil
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// handOver gives up the probing: the callers waiting are woken, and one of
// them probes on.
func (b *breaker) handOver() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if b.open != nil {
		close(b.open)
		b.open = make(chan struct{})
	}
}

// OutageError ends a run whose API failed every request, probes included,
// for longer than the longest wait allowed: nothing more is sent.
type OutageError struct {
	Failed int           // requests failed in a row to open the breaker
	Since  time.Time     // the first of them
	Waited time.Duration // how long the probes went on
	Err    error         // the last probe's failure
}

func (e *OutageError) Error() string {
	return fmt.Sprintf("the API failed %d requests in a row from %s; nothing more was sent (probes for %s, the longest wait allowed, got no answer; the last: %v)",
		e.Failed, e.Since.Format("15:04:05"), e.Waited, e.Err)
}

func (e *OutageError) Unwrap() error { return e.Err }

// Class is ClassFatal: the API is down.
func (e *OutageError) Class() Class { return ClassFatal }

// probe is the breaker's one request: a GET of the business the preflight
// read (the API's root before that), its answer read and dropped. Any
// answer, a 4xx too, shows the API is back; a request that fails it is
// then told by its own answer.
func (c *Client) probe(ctx context.Context) error {
	path := "/v2/"
	if p := c.probePath.Load(); p != nil {
		path = *p
	}
	u := *c.base
	u.Path = c.base.Path + path
	return c.send(ctx, request{method: http.MethodGet, path: path}, u.String(), nil, Endpoint(http.MethodGet, path))
}

// verdict is asked by a call that spent its retries in a streak of outage
// failures that no answer has ended: is the API down, or is it only this
// call's record? It sends one probe now, unless the breaker is not armed,
// is open (its own probing answers), has tripped, or a verdict is already
// under way. An answer ends the streak: the call then gets one more
// attempt (the outage may just have ended), and its next failure is its
// own. A failed probe changes nothing; the breaker decides as before.
func (b *breaker) verdict(ctx context.Context) {
	if b == nil {
		return
	}
	b.mu.Lock()
	if !b.armed || b.asking || b.open != nil || b.tripped != nil {
		b.mu.Unlock()
		return
	}
	b.asking = true
	b.mu.Unlock()
	b.stats.probed()
	err := b.probe(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asking = false
	if ctx.Err() == nil && !outage(err) {
		b.answered()
	}
}
