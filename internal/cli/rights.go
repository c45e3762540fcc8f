package cli

// The token's rights. Only an admin staff member of the business may look
// customers up: any other token is answered as if nobody were there, so a
// run with it would report every customer not-found. A real run that may
// create or upsert members proves the rights before its first write, with
// the probe 'check' sends. Other runs do not send that probe: its meaning on
// the real API is assumed, so it is sent only where a member may be written
// anyway, and never by a dry run, which only reads. They warn instead,
// unless the rights are known, and a run whose rows are all not-found names
// the likely cause at its end.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/pvenroll/pvenroll/enroll"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// allNotFoundRows is how many looked-up rows, all not-found, make a cause
// shared by every row likely rather than chance.
const allNotFoundRows = 10

// scopeCheck is the check line of what is known of the token's rights
// before any request: the --sandbox's own admin token is known; else what
// login kept beside the token file, if anything.
func (e *endpoint) scopeCheck() pv.Check {
	if t := e.sandboxAdmin; t != nil {
		return pv.Check{ID: checkTokenScopes, Name: "token scopes", OK: true, Note: true,
			Detail: fmt.Sprintf("%s (the built-in sandbox's own token of an admin staff member of business %d)", scopeList(t.Scopes), e.business)}
	}
	return scopeCheck(e.tokenFrom.file)
}

// knownAdmin says whether the token is known, without a request, to be an
// admin staff member's: the --sandbox's own, or one login recorded with
// ADMIN_CUSTOMER_INFO.
func (e *endpoint) knownAdmin() bool {
	if e.sandboxAdmin != nil {
		return true
	}
	scopes, known := knownScopes(e.tokenFrom.file)
	return known && slices.Contains(scopes, pv.ScopeAdminCustomerInfo)
}

// dryRunRightsWarning is a dry run's word when the token's rights are not
// known: it cannot send the probe, a POST.
const dryRunRightsWarning = "admin rights not checked: a dry run only reads. A token that is not an admin staff member's " +
	"finds no one, so every row would read not-found: run 'pvenroll check' first"

// proveRights proves, before the first write of a real run that may create
// or upsert members, that the token is an admin staff member's of the
// business, with the probe 'check' sends. Other runs do not send it; they
// warn when the rights are not known. It returns whether they are proven.
func (r *enrollRun) proveRights(ctx context.Context) (bool, error) {
	p := r.o.Policy
	if !p.DryRun && (p.CreateMissing || p.SyncMembership) {
		return true, r.api.ProveAdmin(ctx, r.ep.business)
	}
	if !r.ep.knownAdmin() {
		if p.DryRun {
			r.warn(dryRunRightsWarning)
		} else {
			r.warn(joinOnlyRightsWarning)
		}
	}
	return false, nil
}

// joinOnlyRightsWarning is the word of a real run that only joins, when the
// token's rights are not known: it does not send the probe.
const joinOnlyRightsWarning = "admin rights not checked: a run that only joins sends no probe. A token that is not an admin staff member's " +
	"finds no one, so every row would read not-found: 'pvenroll check' shows what the token may do"

// rightsHint is the hint of a preflight that found the token no admin's.
func rightsHint(err error) string {
	var na *pv.NotAdminError
	if errors.As(err, &na) {
		return "'pvenroll check' shows what the token may do; a token of an admin staff member of the business finds its customers"
	}
	return ""
}

// warnAllNotFound names the likely cause when the rows this run looked up
// are all not-found (but for at most one: a customer's own token finds
// that customer), and there are enough of them not to be chance.
func (r *enrollRun) warnAllNotFound(sum *report.Summary, resumed *report.Resumed) {
	own := resumed.Own(sum.Counts)
	found := 0
	for _, o := range []enroll.Outcome{enroll.Joined, enroll.AlreadyActive, enroll.NeedsAgreement, enroll.MembershipInactive,
		enroll.OptedOut, enroll.Conflict, enroll.WouldJoin} {
		found += own[o]
	}
	notFound := own[enroll.NotFound]
	if found > 1 || notFound < allNotFoundRows {
		return
	}
	rows := fmt.Sprintf("%d of the %d rows looked up are not-found", notFound, notFound+found)
	if !r.rightsProven && !r.ep.knownAdmin() {
		r.warn(rows + fmt.Sprintf(": the token is likely not an admin staff member's of business %d, "+
			"and such a token finds no one but its own customer; run 'pvenroll check' to see its rights", r.ep.business))
		return
	}
	r.warn(rows + fmt.Sprintf(", though the token is an admin staff member's of business %d: "+
		"check that the export holds this business's customers (--business) and that its email column is their email", r.ep.business))
}
