package enroll

import (
	"context"
	"sync"
	"time"
)

// Stop says why a run ended before its last row.
type Stop int

const (
	StopNone        Stop = iota
	StopFatal            // a fatal API answer (exit 3)
	StopMaxDuration      // the run's time limit (exit 4)
	StopInterrupted      // SIGINT or SIGTERM (exit 130)
	StopRecords          // a record of the run (the report, memory) could not be written
)

func (s Stop) String() string {
	switch s {
	case StopFatal:
		return "fatal API answer"
	case StopMaxDuration:
		return "time limit reached"
	case StopInterrupted:
		return "interrupted"
	case StopRecords:
		return "a record of the run could not be written"
	}
	return ""
}

// stopper ends a run once: it stops new rows at once, and cancels the
// requests of rows in flight after a grace period, so a stop is prompt but
// rows already sent usually finish and are reported truthfully. A fatal
// stop cancels at once the rows that have sent no write (every later call
// would fail too), but gives the grace period to those whose write is on
// the wire: its answer says whether it was applied.
type stopper struct {
	reqCtx    context.Context
	cancelReq context.CancelFunc
	grace     time.Duration
	stopped   chan struct{} // closed by the stop

	mu      sync.Mutex
	why     Stop
	cause   error
	timer   *time.Timer
	unwatch func() bool
	rows    map[*inflight]struct{} // rows in flight
}

// inflight is one row in flight: its requests' context, and whether one
// of its writes went on the wire.
type inflight struct {
	ctx    context.Context
	cancel context.CancelFunc
	wrote  bool // under stopper.mu
}

// begin registers a row in flight; end must follow.
func (s *stopper) begin() *inflight {
	ctx, cancel := context.WithCancel(s.reqCtx)
	f := &inflight{ctx: ctx, cancel: cancel}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rows == nil {
		s.rows = map[*inflight]struct{}{}
	}
	s.rows[f] = struct{}{}
	if s.why == StopFatal {
		cancel() // stopped since the row was taken: it sends nothing
	}
	return f
}

func (s *stopper) end(f *inflight) {
	s.mu.Lock()
	delete(s.rows, f)
	s.mu.Unlock()
	f.cancel()
}

// wrote notes that a write of f is going on the wire: a fatal stop from
// now on leaves it the grace period.
func (s *stopper) wrote(f *inflight) {
	s.mu.Lock()
	f.wrote = true
	s.mu.Unlock()
}

func newStopper(parent context.Context, grace time.Duration) *stopper {
	reqCtx, cancel := context.WithCancel(context.WithoutCancel(parent))
	s := &stopper{reqCtx: reqCtx, cancelReq: cancel, grace: grace, stopped: make(chan struct{})}
	s.unwatch = context.AfterFunc(parent, func() { s.stop(StopInterrupted, nil) })
	return s
}

func (s *stopper) stop(why Stop, cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.why != StopNone {
		return
	}
	s.why, s.cause = why, cause
	close(s.stopped)
	if why == StopFatal {
		// Every later call would fail too: do not wait for rows that
		// have sent nothing yet.
		for f := range s.rows {
			if !f.wrote {
				f.cancel()
			}
		}
	}
	s.timer = time.AfterFunc(s.grace, s.cancelReq)
}

func (s *stopper) reason() Stop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why
}

func (s *stopper) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

func (s *stopper) release() {
	s.unwatch()
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	s.cancelReq()
}
