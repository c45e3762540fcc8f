package cli

// The token's rights. Only an admin staff member of the business may look
// customers up: any other token is answered as if nobody were there, so a
// run with it would report every customer not-found and exit 0. Every real
// run therefore proves the rights before its first write; a dry run, which
// only reads, cannot, and says so unless the rights are known already.

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

// proveRights proves, before a real run's first write, that the token is
// an admin staff member's of the business, with the probe 'check' sends.
// A dry run sends only GET: it warns instead, unless the rights are known.
func (r *enrollRun) proveRights(ctx context.Context) error {
	if r.o.Policy.DryRun {
		if !r.ep.knownAdmin() {
			r.log.Warn(dryRunRightsWarning)
		}
		return nil
	}
	return r.api.ProveAdmin(ctx, r.ep.business)
}

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
	if r.o.Policy.DryRun && !r.ep.knownAdmin() {
		r.log.Warn(rows + fmt.Sprintf(": the token is likely not an admin staff member's of business %d, "+
			"and such a token finds no one but its own customer; run 'pvenroll check' to see its rights", r.ep.business))
		return
	}
	r.log.Warn(rows + fmt.Sprintf(", though the token is an admin staff member's of business %d: "+
		"check that the export holds this business's customers (--business) and that its email column is their email", r.ep.business))
}
