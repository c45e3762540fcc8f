package enroll

// Waiting customers (needs-agreement, membership-inactive, not-found) wait
// on someone: the customer, the business, the export. Asking the API about
// them every night costs a lookup and a refused join each, night after
// night, for an answer that seldom changes. So a waiting customer whose row
// is unchanged is checked again on a schedule, and at once when the
// business's ACTIVE listing (one paged request for the whole run) shows
// their connection ACTIVE.

import (
	"context"
	"fmt"
	"time"

	"github.com/pvenroll/pvenroll/export"
)

// RecheckDays are how long after a customer was first found waiting they
// are checked again; after the last, they are checked weekly.
var RecheckDays = []int{1, 2, 4, 7}

const (
	day  = 24 * time.Hour
	week = 7 * day
	// RecheckSlack lets a nightly run that starts a little earlier than the
	// one before still count as a day later.
	RecheckSlack = 3 * time.Hour
)

// Waiting reports whether o waits on someone else than the run: such a
// customer is rechecked on a schedule (NextCheck).
func Waiting(o Outcome) bool {
	return o == NeedsAgreement || o == MembershipInactive || o == NotFound
}

// NextCheck is when a customer waiting since since, last checked at
// checked, is next checked: RecheckDays after since, then weekly, and no
// later than limit after checked (0: no limit).
func NextCheck(since, checked time.Time, limit time.Duration) time.Time {
	waited := checked.Sub(since) + RecheckSlack
	next := since.Add((waited/week + 1) * week)
	for _, d := range RecheckDays {
		if at := time.Duration(d) * day; at > waited {
			next = since.Add(at)
			break
		}
	}
	if limit > 0 && next.After(checked.Add(limit)) {
		next = checked.Add(limit)
	}
	return next
}

// checkedAt is when the API last decided prior's row; a record of an
// older version holds only when a run last saw it.
func checkedAt(prior *Memo) time.Time {
	if !prior.Checked.IsZero() {
		return prior.Checked
	}
	return prior.Updated
}

// stillWaiting settles, without a call of its own, an unchanged row of a
// waiting customer: already-active when the ACTIVE listing shows their
// connection, else their last outcome until their next check is due.
func (e *Enroller) stillWaiting(ctx context.Context, rec *export.Record, prior *Memo, r *Result) (bool, error) {
	if prior.ConnectionID != 0 {
		active, err := e.activeConnections(ctx)
		if err != nil {
			return false, err
		}
		if listed, ok := active[prior.ConnectionID]; ok {
			if listedMembershipDiffers(rec, listed) && e.canSyncMembership(rec) {
				return false, nil // look it up, and sync its membership
			}
			r.Outcome, r.ConnectionID, r.Skipped = AlreadyActive, prior.ConnectionID, true
			r.Detail = fmt.Sprintf("%s as of run %d; now ACTIVE (connection listing)", prior.Outcome, prior.Run)
			return true, nil
		}
	}
	if e.Policy.RecheckAll {
		return false, nil
	}
	checked := checkedAt(prior)
	next := NextCheck(prior.Since, checked, e.Policy.RecheckAfter)
	if !e.now().Add(RecheckSlack).Before(next) {
		return false, nil // due
	}
	r.Outcome, r.ConnectionID, r.Waited, r.LastChecked = prior.Outcome, prior.ConnectionID, true, checked
	e.restoreMessage(r)
	r.Detail = joinDetail(fmt.Sprintf("waiting since %s; last checked %s; next check %s", date(prior.Since), date(checked), date(next)), r.Detail)
	return true, nil
}

func date(t time.Time) string { return t.UTC().Format("2006-01-02") }

// now is the time the run goes by: Enroller.Now, else the clock's.
func (e *Enroller) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}
