package enroll

// This file holds what one run learns and shares between its rows, apart
// from the Enroller's configuration, which no run changes. Run makes a
// runState, its rows read and fill it, and it ends with the run: a second
// run with the same Enroller starts with none of it. Each part is a small
// type with its own lock, in a file of its own.

import (
	"context"
	"time"
)

// runState is one run's: the Enroller it decides by, what the run goes by
// (Options), and what its rows share.
type runState struct {
	*Enroller // read only

	memory  Memory           // Options.Memory; nil without --state
	grounds Grounds          // the Enroller's, with Options.Read
	now     func() time.Time // Options.Now, else time.Now

	claims     claims         // which line holds each customer (claim.go)
	agreements agreementCache // the business's join agreements (agreements.go)
	active     *activeListing // the business's ACTIVE connections (active.go)
	batch      *acceptBatcher // acceptances in batches (batcher.go); nil in a dry run
}

// newRunState is the state of a run of e with o, before its first row;
// ctx is the run's, for what serves every row (the ACTIVE listing).
func newRunState(ctx context.Context, e *Enroller, o Options) *runState {
	run := &runState{Enroller: e, memory: o.Memory, grounds: e.Grounds(o.Read), now: o.Now,
		active: newActiveListing(ctx, e.api, e.business.BusinessID, o.ExpectedRows)}
	if run.now == nil {
		run.now = time.Now
	}
	if !e.policy.DryRun {
		// Also for batches of one row (sent at once); a dry run sends no
		// acceptance.
		run.batch = newAcceptBatcher(e.api, o.AcceptBatch, o.BatchWait, o.Clock)
	}
	return run
}
