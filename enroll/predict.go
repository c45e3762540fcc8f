package enroll

// A dry run's predictions: what a real run would do with a row, from reads
// only, and what a read cannot tell.

import (
	"context"
	"fmt"
	"slices"

	"github.com/pvenroll/pvenroll/export"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// predictNew is the dry run's answer for a customer it would create. The
// join checks the membership before the terms (as setError reads its
// refusal): a member created INACTIVE is at that risk whatever the terms.
func (run *runState) predictNew(rec *export.Record, r *Result) error {
	r.Actions = append(r.Actions, ActionWouldCreate)
	known, n := run.agreements.count()
	termsMayBeNeeded := !known || n > 0
	inactive := rowMembership(rec) == pv.StatusInactive
	switch {
	case rec.Consent != "":
		if termsMayBeNeeded {
			r.Actions = append(r.Actions, ActionWouldAccept)
		}
	case inactive:
		if termsMayBeNeeded {
			r.Detail = "dry run: the new member would also need to accept the program terms, and the row holds no consent"
		}
	case known && n > 0:
		run.needsAgreement(r, "dry run: would create the member, who must then accept the program terms")
		run.noteCreatedMembership(rec, r)
		return nil
	case !known:
		// The agreements are learnt from the first existing customer's
		// view; until then a new member without consent may need terms.
		r.Detail = "dry run: a new member may still need to accept the program terms"
		r.Risk = RiskAgreementWithoutConsent
	}
	run.noteCreatedMembership(rec, r)
	if inactive {
		r.Detail = joinDetail(r.Detail, "membership marked INACTIVE: if the business requires an active membership the join will be refused")
		r.Risk = RiskExportInactive
	}
	r.Outcome = WouldJoin
	r.Actions = append(r.Actions, ActionWouldActivate)
	return nil
}

// noteCreatedMembership says the membership status a create would send,
// and where it comes from: the one place a preset's rule acts without
// --sync-membership.
func (e *Enroller) noteCreatedMembership(rec *export.Record, r *Result) {
	if s, ok := export.MembershipStatus(rec.MembershipStatus); ok && rec.MembershipFrom != "" {
		r.Detail = joinDetail(r.Detail, fmt.Sprintf("the new member's membership: %s (%s)", s, rec.MembershipFrom))
	}
}

// predictJoin is the dry run's answer for an existing connection: a read
// tells about terms, but not whether the business requires an active
// membership. The join checks the membership first, so a membership not
// ACTIVE is the risk even when terms are missing too. Only a row without
// consent needs the customer's own view of the agreements: whether they
// accepted them is theirs, and the business may have none.
func (run *runState) predictJoin(ctx context.Context, rc *rowCalls, rec *export.Record, conn *pv.Connection, userID int64, r *Result) error {
	termsMissing := false
	if known, n := run.agreements.count(); rec.Consent == "" && (!known || n > 0) {
		list, err := rc.api.Agreements(ctx, run.business.BusinessID, userID)
		if err != nil {
			return err
		}
		run.agreements.learn(list)
		termsMissing = slices.ContainsFunc(list, func(a pv.Agreement) bool { return !a.Accepted })
	}
	const noTerms = "the customer has not accepted the program terms and the row holds no consent"
	if m := conn.ExternalMembershipStatus; m != "" && m != pv.StatusActive {
		r.Detail = joinDetail(r.Detail, "membership is "+m+": if the business requires an active membership the join will be refused")
		if termsMissing {
			r.Detail = joinDetail(r.Detail, "if not, "+noTerms)
		}
		r.Risk = RiskMembershipNotActive
	} else if termsMissing {
		run.needsAgreement(r, "dry run: "+noTerms)
		return nil
	}
	r.Outcome = WouldJoin
	r.Actions = append(r.Actions, ActionWouldActivate)
	return nil
}

func (e *Enroller) needsAgreement(r *Result, detail string) {
	r.Outcome, r.Code, r.Detail = NeedsAgreement, pv.CodeAgreementRequired, joinDetail(r.Detail, detail)
	r.CustomerMessage = e.message(pv.MessageAgreementRequired)
}
