package enroll

// This file knows which rows' writes went on the wire, so that a stop
// never reports as not-attempted a row whose write may have been applied:
// such a row gets the grace period (stop.go), and if its answer is still
// lost it is interrupted, with a detail that says so.
//
// A row holds a pv.Calls, a plain value: the client bound to it
// (pv.Client.For) counts the row's requests there and says when the first
// of its writes goes on the wire, so enroll needs no context value and
// nothing of net/http.

import pv "github.com/pvenroll/pvenroll/perkville"

// rowCalls is what one row's requests go through.
type rowCalls struct {
	api   *pv.Client // the Enroller's, bound to calls
	calls *pv.Calls
	// ticket is the row's place among those a batch of acceptances may
	// wait for; nil when no batch waits for it.
	ticket *acceptTicket
}

// newRowCalls binds e's client to a new Calls, which calls onWrite (when
// not nil) as the row's first write goes on the wire.
func (e *Enroller) newRowCalls(onWrite func()) *rowCalls {
	calls := pv.NewCalls(onWrite)
	return &rowCalls{api: e.api.For(calls), calls: calls}
}

// writeSentDetail is the detail of a row whose write went on the wire and
// whose answer the stop left unknown or refused.
const writeSentDetail = "the run stopped after this row's write was sent: it may have been applied; the rerun will check"
