package enroll

// This file knows which rows' writes went on the wire and whether their
// answers came, so that a stop never reports as not-attempted a row whose
// write may have been applied: such a row gets the grace period
// (stop.go), and if its answer is still lost it is interrupted, with a
// detail that says so; a row stopped between answered writes is
// interrupted too, its detail naming what was done (stopped).
//
// A row holds a pv.Calls, a plain value: the client bound to it
// (pv.Client.For) counts the row's requests there and says when the first
// of its writes goes on the wire, so enroll needs no context value and
// nothing of net/http.

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// rowCalls is what one row's requests go through.
type rowCalls struct {
	api   *pv.Client // the Enroller's, bound to calls
	calls *pv.Calls
	// ticket is the row's place among those a batch of acceptances may
	// wait for; nil when no batch waits for it.
	ticket *acceptTicket
	// answerLost: the row's last write went on the wire and no answer
	// came back, so it may have been applied unknown to the row. Set by
	// write, from the row's own goroutine only.
	answerLost bool
}

// write sends one of the row's writes and notes whether its answer was
// lost: a request went on the wire (the row's count of requests grew:
// writes of one row go one after another, and a batch counts its request
// for each row in it) and no answer said what became of it. A stop that
// ends the row then tells the truth about it (stopped).
func (rc *rowCalls) write(send func() error) error {
	before := rc.calls.Info().Attempts
	err := send()
	rc.answerLost = err != nil && rc.calls.Info().Attempts > before && !answered(err)
	return err
}

// answered reports whether err is an answer that says the write was not
// applied: a refusal (4xx, but for 408 a timeout and 429 too many requests), or an
// item of a batch refused. Any other leaves it unknown.
func answered(err error) bool {
	var ae *pv.Error
	var re *rowError
	if errors.As(err, &ae) {
		return ae.Status >= 400 && ae.Status < 500 && ae.Status != 408 && ae.Status != 429
	}
	return errors.As(err, &re)
}

// newRowCalls binds e's client to a new Calls, which calls onWrite (when
// not nil) as the row's first write goes on the wire.
func (e *Enroller) newRowCalls(onWrite func()) *rowCalls {
	calls := pv.NewCalls(onWrite)
	return &rowCalls{api: e.api.For(calls), calls: calls}
}

// writeSentDetail is the detail of a row whose write went on the wire and
// whose answer the stop left unknown.
const writeSentDetail = "the run stopped after this row's write was sent: it may have been applied; the rerun will check"

// stopped settles a row that the run's stop ended, by what its writes came
// to; cause, when not empty, is why the run stopped. The row is interrupted
// (unfinished: the rerun takes it up, never for done) once a write went on
// the wire, and its detail says what is known: a write whose answer was
// lost (or refused without saying why) may have been applied, and the
// rerun looks it up; writes answered as done are named, and the join is
// not among them. A row that sent no write is not-attempted.
func (rc *rowCalls) stopped(r *Result, cause string) {
	switch {
	case !rc.calls.Info().MaybeApplied:
		r.Outcome = NotAttempted
		r.Detail = joinDetail(r.Detail, joinDetail(cause, "the run stopped before this row sent a write: nothing was written for it"))
	case rc.answerLost || len(r.Actions) == 0:
		r.Outcome, r.Detail = Interrupted, joinDetail(r.Detail, joinDetail(cause, writeSentDetail+afterActions(r)))
	default:
		done := strings.Join(r.Actions, ", ")
		if r.ConnectionID > 0 {
			done += fmt.Sprintf(" (connection %d)", r.ConnectionID)
		}
		next := "the next run finds the customer and finishes it"
		if slices.Contains(r.Actions, ActionCreated) {
			next += ", without creating them again"
		}
		r.Outcome = Interrupted
		r.Detail = joinDetail(r.Detail, joinDetail(cause, "the run stopped between this row's writes: done, as answered: "+done+"; not joined: "+next))
	}
}
