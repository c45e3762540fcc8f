package perkville

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// Clock is the pacer's time: the real one in use, a fake one in tests, so
// that Retry-After and backoff are tested without sleeping.
type Clock interface {
	Now() time.Time
	// After is time.After: its channel receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Pacer runs calls to the API, in the shape of rclone's lib/pacer: before
// every attempt it waits for the shared Limiter; the call says whether its
// answer is worth another attempt; the pacer sleeps (backoff, Retry-After)
// and tries again, up to Retries times. HTTP knows nothing of this: the
// transport below is a plain http.Transport.
type Pacer struct {
	Limiter     *Limiter
	Clock       Clock
	Retries     int           // attempts after the first
	BackoffBase time.Duration // first backoff; doubles, with full jitter
	BackoffMax  time.Duration
	// MaxWait is the longest Retry-After the pacer accepts; a longer one
	// ends the call with a *WaitError, which stops the run (0: no limit).
	MaxWait time.Duration
	Stats   *Stats
	// breaker pauses every call while the API is down (nil: no breaker).
	breaker *breaker
}

// CallOnTurn runs fn until it succeeds, says not to retry, or the retries
// are spent, and returns fn's last error. fn reports retry=true only for an
// answer that left nothing applied or that is safe to repeat. The first
// attempt spends turn, a turn at the Limiter the caller already took (nil:
// it waits for one). A caller that has begun (a row that has sent a
// request) waits ahead of those that have not, and so does every retry:
// a row once begun finishes first (turnQueue).
//
// While the API is down (the breaker is open) the call waits, and its
// retries are not spent by an outage: a call whose last retry failed as an
// outage does, while no answer came since its own first failure (or while
// that retry was under way when one came), goes on, so that it waits for
// the breaker's verdict rather than fail a row the outage's end would have
// let through.
func (p *Pacer) CallOnTurn(ctx context.Context, turn *Turn, begun bool, fn func() (retry bool, err error)) error {
	var streak uint64 // of this call's first outage failure
	failedOnce := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			p.Stats.retry()
		}
		ticket, err := p.admit(ctx, attempt > 0 || !turn.take(), begun || attempt > 0)
		if err != nil {
			return err
		}
		retry, err := fn()
		s := p.breaker.record(ticket, err)
		if err == nil {
			p.Limiter.Succeeded()
			return nil
		}
		if outage(err) && !failedOnce {
			streak, failedOnce = s, true
		}
		var ae *Error
		if !errors.As(err, &ae) {
			ae = nil
		}
		ra := time.Duration(0)
		if ae != nil {
			ra = ae.RetryAfter
		}
		if p.MaxWait > 0 && ra > p.MaxWait {
			// Before the Limiter hears of it: a pause of a year must not
			// close the gate for every other row.
			return &WaitError{Asked: ra, Max: p.MaxWait, Err: ae}
		}
		throttled := ae != nil && ae.Status == http.StatusTooManyRequests
		if throttled {
			p.Stats.throttled()
			p.Limiter.Throttled(ra)
		}
		if !retry {
			return err
		}
		if ctx.Err() != nil {
			// The run stopped the call before the retry: that, not the
			// failure a retry would have got past, is why it ends.
			return ctx.Err()
		}
		if attempt >= p.Retries {
			if !(outage(err) && p.breaker.unbroken(streak, ticket)) {
				return err
			}
			if attempt == p.Retries {
				// Is the API down, or is it only this call's record? One
				// probe asks now, where waiting for BreakerThreshold
				// failures cost a lone broken record 14 more requests.
				p.breaker.verdict(ctx)
			}
		}
		if throttled {
			continue // the Limiter's gate holds every request until Retry-After
		}
		// Past its retries a call waits on the breaker's verdict: its
		// backoff stays at the last one, for the breaker, not a doubling
		// wait, decides when an outage is over (a lone broken record
		// would otherwise wait out the 15 s ceiling a dozen times).
		if !p.sleep(ctx, max(p.backoff(min(attempt, p.Retries)), ra)) {
			return ctx.Err()
		}
	}
}

// admit waits for the breaker and, when the call needs one, for a turn at
// the Limiter (ahead of callers not begun, when begun); it returns the
// ticket of the attempt it lets go. The breaker is asked again after the
// turn: a call queued at the Limiter when the API went down would
// otherwise be sent on its turn, one for every worker queued.
func (p *Pacer) admit(ctx context.Context, needTurn, begun bool) (uint64, error) {
	for {
		ticket, err := p.breaker.wait(ctx)
		if err != nil || !needTurn {
			return ticket, err
		}
		if err := p.Limiter.wait(ctx, begun); err != nil {
			return 0, err
		}
		if ticket, ok := p.breaker.pass(); ok {
			return ticket, nil
		}
	}
}

// backoff is the wait before attempt+1: exponential, with full jitter so
// that workers that failed together do not retry together.
func (p *Pacer) backoff(attempt int) time.Duration {
	base, ceil := p.BackoffBase, p.BackoffMax
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if ceil <= 0 {
		ceil = 15 * time.Second
	}
	d := base << min(attempt, 16)
	if d > ceil || d <= 0 {
		d = ceil
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func (p *Pacer) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-p.Clock.After(d):
		return true
	}
}

// WaitError is an answer that asked to wait longer than the client may
// (Pacer.MaxWait): the run stops rather than hold its lock for days.
type WaitError struct {
	Asked time.Duration
	Max   time.Duration
	Err   *Error // the answer that asked
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("%s %s: %d %s with Retry-After %q: the API asked to wait %s, longer than the longest wait allowed (%s)",
		e.Err.Method, e.Err.Path, e.Err.Status, http.StatusText(e.Err.Status), e.Err.RetryAfterHeader, roundWait(e.Asked), e.Max)
}

func (e *WaitError) Unwrap() error { return e.Err }

// roundWait prints a wait the way a person reads it.
func roundWait(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.0f days", d.Hours()/24)
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

// Class is ClassFatal: every later call could be asked the same.
func (e *WaitError) Class() Class { return ClassFatal }
