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
	StopFatal            // a fatal API answer, or memory or the report failing (exit 3)
	StopMaxDuration      // the run's time limit (exit 4)
	StopInterrupted      // SIGINT or SIGTERM (exit 130)
)

func (s Stop) String() string {
	switch s {
	case StopFatal:
		return "fatal API answer"
	case StopMaxDuration:
		return "time limit reached"
	case StopInterrupted:
		return "interrupted"
	}
	return ""
}

// stopper ends a run once: it stops new rows at once, and cancels the
// requests of rows in flight after a grace period, so a stop is prompt but
// rows already sent usually finish and are reported truthfully.
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
		// Every later call would fail too: do not wait for them.
		s.cancelReq()
		return
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
