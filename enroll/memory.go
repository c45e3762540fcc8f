package enroll

import (
	"context"
	"fmt"
	"time"

	"github.com/pvenroll/pvenroll/export"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// Memory is what a run remembers of earlier runs over the same customers
// (--state): the run ledger implements it. enroll names only the calls it
// makes, so that it decides rows without knowing how memory is stored, and
// tests can give it any memory they like.
type Memory interface {
	// Prior is what earlier runs learnt of a customer.
	Prior(key string) (Memo, bool)
	// Resumable reports whether run id stopped before its end since the
	// last run that finished: its settled outcomes stand, and are not sent
	// again.
	Resumable(run uint64) bool
	// Record notes a customer's outcome in this run.
	Record(key string, m Memo) error
	// Grounds are the grounds run id decided its rows on; false when the
	// run recorded none.
	Grounds(run uint64) (Grounds, bool)
}

// Memo is what memory holds of one customer.
type Memo struct {
	ConnectionID int64
	Outcome      Outcome
	Run          uint64
	Hash         string    // the row's content, export.Record.Hash
	Since        time.Time // when this outcome was first seen
	Updated      time.Time // the run that last saw the row
	Checked      time.Time // when an API answer (or the listing) last decided it
}

// memo is what a run records of a row's result; start is the run's.
func memo(r Result, rec *export.Record, start time.Time) Memo {
	since := start
	if r.PriorOutcome == r.Outcome && !r.PriorSince.IsZero() {
		since = r.PriorSince
	}
	checked := start
	if !r.LastChecked.IsZero() {
		checked = r.LastChecked // settled from memory: not checked again
	}
	// A resumed row stays the work of the run that decided it (Run 0: this
	// run's).
	return Memo{ConnectionID: r.ConnectionID, Outcome: r.Outcome, Run: r.ResumedFrom, Hash: rec.Hash(), Since: since, Updated: start, Checked: checked}
}

// remembered settles a row from the ledger without a call to the API: the
// final outcome of an interrupted run (resume), or an unchanged row of a
// customer who was active and whom the ACTIVE listing shows still is.
func (run *runState) remembered(ctx context.Context, rec *export.Record, prior *Memo, r *Result) (bool, error) {
	if prior == nil || prior.Hash != rec.Hash() {
		return false, nil
	}
	if run.decidedOnOtherGrounds(prior) {
		return false, nil
	}
	if run.memory.Resumable(prior.Run) && prior.Outcome.Settled() {
		r.Outcome, r.ConnectionID, r.Resumed, r.ResumedFrom = prior.Outcome, prior.ConnectionID, true, prior.Run
		r.LastChecked = checkedAt(prior)
		r.Detail = fmt.Sprintf("resumed: the outcome of run %d, which did not finish", prior.Run)
		run.restoreMessage(r)
		return true, nil
	}
	if Waiting(prior.Outcome) {
		return run.stillWaiting(ctx, rec, prior, r)
	}
	if (prior.Outcome != Joined && prior.Outcome != AlreadyActive) || prior.ConnectionID == 0 {
		return false, nil
	}
	active, err := run.active.connections(ctx)
	if err != nil {
		return false, err
	}
	listed, ok := active[prior.ConnectionID]
	if !ok {
		return false, nil // no longer ACTIVE (or no listing): look it up (opted out?)
	}
	if listedMembershipDiffers(rec, listed) {
		if run.canSyncMembership(rec) {
			return false, nil // look it up, and sync its membership
		}
		run.markMembershipDiffers(rowMembership(rec), listed, r)
	}
	r.Outcome, r.ConnectionID, r.Skipped = AlreadyActive, prior.ConnectionID, true
	r.Detail = joinDetail(fmt.Sprintf("unchanged since run %d; still ACTIVE (connection listing)", prior.Run), r.Detail)
	return true, nil
}

// decidedOnOtherGrounds reports whether prior's run decided it on grounds
// under which this run could decide it differently: it is decided again.
func (run *runState) decidedOnOtherGrounds(prior *Memo) bool {
	var then *Grounds
	if g, ok := run.memory.Grounds(prior.Run); ok {
		then = &g
	}
	return run.grounds.CouldChange(prior.Outcome, then)
}

// restoreMessage gives a resumed row its customer-safe copy again.
func (e *Enroller) restoreMessage(r *Result) {
	switch r.Outcome {
	case NeedsAgreement:
		r.Code, r.CustomerMessage = pv.CodeAgreementRequired, e.message(pv.MessageAgreementRequired)
	case MembershipInactive:
		r.Code, r.CustomerMessage = pv.CodeMembershipNotActive, e.message(pv.MessageMembershipNotActive)
	}
}
