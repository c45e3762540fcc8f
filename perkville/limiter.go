package perkville

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces every request of a client, retries included, at one shared
// rate (burst 1, so the rate is smooth). On a 429 it closes a shared gate
// until Retry-After has passed and halves the rate once per pause; each
// success then adds back a twentieth of the configured rate (AIMD), so a
// server-side limit below the configured rate is found and followed.
// Callers that have begun (WaitBegun) take their turns ahead of those that
// have not (turnQueue).
type Limiter struct {
	lim *rate.Limiter
	max rate.Limit

	mu          sync.Mutex
	pausedUntil time.Time
	cutUntil    time.Time // the pause in which the rate was last cut
	clock       Clock     // the gate's time; the rate itself is x/time/rate's
	queue       turnQueue
}

func newLimiter(perSecond float64, clock Clock) *Limiter {
	max := rate.Limit(perSecond)
	if perSecond <= 0 {
		max = rate.Inf
	}
	return &Limiter{lim: rate.NewLimiter(max, 1), max: max, clock: clock}
}

// Wait blocks until a request may be sent, or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error { return l.wait(ctx, false) }

// WaitBegun is Wait for a caller that has begun (a row that has sent a
// request): it goes ahead of every caller waiting in Wait (turnQueue).
func (l *Limiter) WaitBegun(ctx context.Context) error { return l.wait(ctx, true) }

func (l *Limiter) wait(ctx context.Context, begun bool) error {
	if l.max == rate.Inf {
		return l.waitGate(ctx) // no pacing, only the pause of a 429
	}
	for {
		if err := l.waitGate(ctx); err != nil {
			return err
		}
		if err := l.waitTurn(ctx, begun); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		// A pause may have begun while this request waited for its turn
		// (SetLimit does not re-time waiters): check the gate again.
		l.mu.Lock()
		paused := l.clock.Now().Before(l.pausedUntil)
		l.mu.Unlock()
		if !paused {
			return nil
		}
	}
}

// waitTurn waits for the next turn at the rate, in the queue's order.
func (l *Limiter) waitTurn(ctx context.Context, begun bool) error {
	if err := l.queue.enter(ctx, begun); err != nil {
		return err
	}
	defer l.queue.leave()
	return l.lim.Wait(ctx)
}

func (l *Limiter) waitGate(ctx context.Context) error {
	for {
		l.mu.Lock()
		d := l.pausedUntil.Sub(l.clock.Now())
		l.mu.Unlock()
		if d <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.clock.After(d):
		}
	}
}

// Throttled records a 429: every request waits until retryAfter has passed
// (1 s when the server did not say), and the rate is halved once per pause.
func (l *Limiter) Throttled(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	until := now.Add(retryAfter)
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	if l.max == rate.Inf || now.Before(l.cutUntil) {
		return
	}
	l.cutUntil = l.pausedUntil
	cur := l.lim.Limit()
	floor := l.max / 32
	l.lim.SetLimitAt(now, max(cur/2, floor))
}

// Observe notes an answer's rate-limit headers: with no request left in
// the window, every request waits for its reset (1 s when the answer does
// not say; at most maxWait when it is not 0: a later answer's Retry-After
// then says how long, and the pacer stops the run if that is too long).
// The rate is not cut: the window's end, not a slower pace, lets requests
// through again.
func (l *Limiter) Observe(q Quota, maxWait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if q.Remaining > 0 {
		return
	}
	wait := q.Reset
	if wait <= 0 {
		wait = time.Second
	}
	if maxWait > 0 {
		wait = min(wait, maxWait)
	}
	if until := l.clock.Now().Add(wait); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
}

// Succeeded raises the rate back towards the configured one.
func (l *Limiter) Succeeded() {
	if l.max == rate.Inf {
		return
	}
	cur := l.lim.Limit()
	if cur >= l.max {
		return
	}
	l.lim.SetLimit(min(l.max, cur+l.max/20))
}
