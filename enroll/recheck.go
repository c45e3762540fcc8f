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

// RecheckDays are how many days, at least, after a customer was first
// found waiting they are checked again; after the last, they are checked
// weekly. A check falls due RecheckGrace past each mark, so that the runs
// of a nightly job check them on the 2nd, 3rd, 5th and 8th night after the
// one that found them, then every 7th: never on the very next night, which
// costs the run its listing alone. (Whoever joins on their own meanwhile
// shows in that listing at once.)
var RecheckDays = []int{1, 2, 4, 7}

const (
	day  = 24 * time.Hour
	week = 7 * day
	// RecheckGrace is how far past a mark a check falls due: a nightly run
	// that starts up to this much later in the day than the one that found
	// the customer still counts as the same day's, not as a day further.
	RecheckGrace = 3 * time.Hour
)

// Waiting reports whether o waits on someone else than the run: such a
// customer is rechecked on a schedule (NextCheck).
func Waiting(o Outcome) bool {
	return o == NeedsAgreement || o == MembershipInactive || o == NotFound
}

// NextCheck is when a customer waiting since since, last checked at
// checked, is next checked: the first mark (RecheckDays after since, then
// every week) plus RecheckGrace that is later than checked, and no later
// than limit after checked (0: no limit).
func NextCheck(since, checked time.Time, limit time.Duration) time.Time {
	waited := checked.Sub(since)
	weeks := (waited-RecheckGrace)/week + 1
	next := since.Add(weeks*week + RecheckGrace)
	for _, d := range RecheckDays {
		if at := time.Duration(d)*day + RecheckGrace; at > waited {
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
func (run *runState) stillWaiting(ctx context.Context, rec *export.Record, prior *Memo, r *Result) (bool, error) {
	if prior.ConnectionID != 0 {
		active, err := run.active.connections(ctx)
		if err != nil {
			return false, err
		}
		if listed, ok := active[prior.ConnectionID]; ok {
			if listedMembershipDiffers(rec, listed) && run.canSyncMembership(rec) {
				return false, nil // look it up, and sync its membership
			}
			r.Outcome, r.ConnectionID, r.Skipped = AlreadyActive, prior.ConnectionID, true
			r.Detail = fmt.Sprintf("%s as of run %d; now ACTIVE (connection listing)", prior.Outcome, prior.Run)
			return true, nil
		}
	}
	if run.policy.RecheckAll {
		return false, nil
	}
	checked := checkedAt(prior)
	next := NextCheck(prior.Since, checked, run.policy.RecheckAfter)
	if recheckDue(run.now(), checked, next, run.policy.RecheckAfter) {
		return false, nil
	}
	r.Outcome, r.ConnectionID, r.Waited, r.LastChecked = prior.Outcome, prior.ConnectionID, true, checked
	run.restoreMessage(r)
	r.Detail = joinDetail(fmt.Sprintf("waiting since %s; last checked %s; next check %s", date(prior.Since), date(checked), date(next)), r.Detail)
	return true, nil
}

// recheckDue reports whether a check falling due at next is due now. A cap
// (--recheck-after) is met a little early, by an eighth of it and at most
// RecheckGrace, so that `--recheck-after 24h` checks every night even when
// a night's run starts a few minutes earlier than the last.
func recheckDue(now, checked, next time.Time, limit time.Duration) bool {
	if !now.Before(next) {
		return true
	}
	early := min(limit/8, RecheckGrace)
	return limit > 0 && !now.Add(early).Before(checked.Add(limit))
}

func date(t time.Time) string { return t.UTC().Format("2006-01-02") }
