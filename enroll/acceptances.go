package enroll

import (
	"context"
	"fmt"
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// This file accepts, for a consenting row, the business's join agreements
// in the customer's name. The agreements to accept come from the run's
// agreement cache (agreements.go); they go out in a batch with other rows'
// (batcher.go), whose answer is believed item by item.

// accept records the customer's own consent, from the row's consent column,
// for the business's join agreements. Never called for a row without it.
func (run *runState) accept(ctx context.Context, rc *rowCalls, userID int64, at time.Time, r *Result) error {
	pending, err := run.agreements.toAccept(func() ([]pv.Agreement, error) {
		return rc.api.Agreements(ctx, run.business.BusinessID, userID)
	})
	if err != nil || len(pending) == 0 {
		return err
	}
	if run.policy.DryRun {
		// What the real run would post, from the same one view.
		r.Actions = append(r.Actions, ActionWouldAccept)
		return nil
	}
	items := make([]pv.AgreementAcceptance, len(pending))
	for i, id := range pending {
		items[i] = pv.AgreementAcceptance{AgreementID: id, UserID: userID, AcceptedDT: at.UTC().Format(time.RFC3339)}
	}
	// Every batch size, 1 included, takes the batcher's one path: an
	// answer is believed only item by item, for each item sent.
	var res []pv.AcceptanceResult
	err = rc.write(func() (err error) {
		res, err = run.batch.accept(ctx, rc, items)
		return err
	})
	if err != nil {
		return err
	}
	for _, it := range res {
		switch {
		case it.Status == pv.AcceptanceAccepted:
		case it.Status == pv.AcceptanceError && it.Code != "":
			return &rowError{code: it.Code, detail: fmt.Sprintf("accepting agreement %d was refused: %s %s", it.AgreementID, it.Code, it.Message)}
		default:
			return &rowError{code: codeUnexpectedAnswer, detail: fmt.Sprintf("unexpected answer to accepting agreement %d of user %d: status %q (%s %s)",
				it.AgreementID, it.UserID, it.Status, it.Code, it.Message)}
		}
	}
	r.Actions = append(r.Actions, ActionAccepted)
	return nil
}

// codeUnexpectedAnswer is a row's code when the acceptance answer does
// not say, for an item sent, that it was accepted or refused.
const codeUnexpectedAnswer = "unexpected_answer"

// DefaultBatchWorkers is DefaultWorkers for a run that batches
// acceptances. Rows waiting for their batch hold their worker, and a batch
// gathers the rows that reach it while it waits its turn behind the other
// workers' requests (up to batchAheadRows): three times the workers keep
// the rate busy and make the batches long enough. Measured by make bench at --rate 10 (scaled),
// calls a consenting join: 10 workers 2.28, 20 2.14, 40 2.07.
func DefaultBatchWorkers(rate float64) int {
	if rate <= 0 {
		return DefaultWorkers(rate)
	}
	return min(512, 3*DefaultWorkers(rate))
}
