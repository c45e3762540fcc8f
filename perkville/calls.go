package perkville

import "sync/atomic"

// Calls follows the requests of one caller (a row of a run) sent through
// the clients that For binds to it: how many went out, retries and
// net/http's own resends included, and whether a write went on the wire.
// The caller holds it as a plain value: nothing travels in a context, and
// the caller needs to know nothing of net/http.
type Calls struct {
	onWrite  func()
	attempts atomic.Int64
	wrote    atomic.Bool
}

// NewCalls returns a Calls that calls onWrite (when not nil) once, as the
// first write goes on the wire: from then on the server may apply it,
// whatever becomes of its answer.
func NewCalls(onWrite func()) *Calls {
	return &Calls{onWrite: onWrite}
}

// CallInfo is what a caller's requests came to.
type CallInfo struct {
	Attempts int // requests sent, retries and net/http's resends included
	// MaybeApplied: a write went on the wire, so the server may have
	// applied it even if no answer said so.
	MaybeApplied bool
}

// Info says what the requests came to so far.
func (c *Calls) Info() CallInfo {
	return CallInfo{Attempts: int(c.attempts.Load()), MaybeApplied: c.wrote.Load()}
}

func (c *Calls) sent(write bool) {
	c.attempts.Add(1)
	if write && !c.wrote.Swap(true) && c.onWrite != nil {
		c.onWrite()
	}
}

// For returns a client that sends as c does (the same pacer, limiter,
// transport and counters) and also counts every request in each of calls:
// a request that carries several callers' writes (a batch) counts for
// each of them.
func (c *Client) For(calls ...*Calls) *Client {
	bound := *c
	bound.calls = calls
	return &bound
}

// begun reports whether one of the callers c counts for has sent a
// request: its next request waits ahead of those of callers that have not
// (turnQueue).
func (c *Client) begun() bool {
	for _, calls := range c.calls {
		if calls.attempts.Load() > 0 {
			return true
		}
	}
	return false
}
