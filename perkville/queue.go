package perkville

import (
	"context"
	"sync"
)

// turnQueue orders the requests waiting for the Limiter's next turn: a
// caller that has begun (a row that has sent a request: its write, its
// read-back, a retry) goes ahead of one that has not (a row's first
// lookup). So a row once begun finishes first, and few rows are half done
// at any moment. With x/time/rate alone every waiter books a turn as it
// arrives: with the default workers (as many as requests a second), each
// of a row's requests waited about a second behind every other worker's,
// and up to all the workers held a row looked up and not yet written; a
// run killed then loses those lookups (the next run reads them again), and
// a stop leaves them not-attempted after a request was spent on them.
//
// One waiter at a time books its turn with x/time/rate (the head); the
// others wait here, begun first, each kind in arrival order. The rate is
// the same: a turn is booked from the last one, not from when it was
// asked for, so the hand-over between heads costs no time.
type turnQueue struct {
	mu     sync.Mutex
	busy   bool            // a head is booking its turn
	begun  []chan struct{} // waiting, of callers that have begun
	others []chan struct{} // waiting, of callers that have not
}

// enter waits until the caller is the head; it then must call leave.
func (q *turnQueue) enter(ctx context.Context, begun bool) error {
	q.mu.Lock()
	if !q.busy {
		q.busy = true
		q.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if begun {
		q.begun = append(q.begun, ch)
	} else {
		q.others = append(q.others, ch)
	}
	q.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	removed := remove(&q.begun, ch) || remove(&q.others, ch)
	q.mu.Unlock()
	if !removed {
		// Made head as ctx ended: pass the turn on.
		<-ch
		q.leave()
	}
	return ctx.Err()
}

// leave makes the next waiter the head: begun callers first.
func (q *turnQueue) leave() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, waiting := range []*[]chan struct{}{&q.begun, &q.others} {
		if len(*waiting) > 0 {
			next := (*waiting)[0]
			*waiting = (*waiting)[1:]
			close(next)
			return
		}
	}
	q.busy = false
}

// remove takes ch out of waiting, reporting whether it was there.
func remove(waiting *[]chan struct{}, ch chan struct{}) bool {
	for i, c := range *waiting {
		if c == ch {
			*waiting = append((*waiting)[:i], (*waiting)[i+1:]...)
			return true
		}
	}
	return false
}
