package enroll

import (
	"context"
	"fmt"

	"github.com/pvenroll/pvenroll/export"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// Actions of the membership sync.
const (
	ActionSyncedMembership    = "synced-membership"
	ActionWouldSyncMembership = "would-sync-membership"
	// ActionMembershipNotApplied: the upsert was answered, but the
	// connection read back still holds another membership status.
	ActionMembershipNotApplied = "membership-not-applied"
)

// rowMembership is the row's membership status, ACTIVE or INACTIVE, from the
// export's column or its preset's rule; "" when the export says nothing.
func rowMembership(rec *export.Record) string {
	s, _ := export.MembershipStatus(rec.MembershipStatus)
	return s
}

// canSyncMembership reports whether the row can be upserted: the upsert is
// keyed on the system id and member id, and names the customer's email.
func (e *Enroller) canSyncMembership(rec *export.Record) bool {
	return e.policy.SyncMembership && e.policy.SystemID != "" && rec.ExternalMemberID != "" && rec.Email != ""
}

// syncMembership keeps the external member's membership status in step
// with the export, before the join is decided: a renewed member can then
// join, and an ended membership is recorded. It never touches the
// connection itself: leaving the program is the customer's choice, and a
// membership's end is not. Rows it may not upsert are marked as differing,
// so the summary can say how many the sync would change. The connection
// returned is what decides the rest: after an upsert, as read back.
func (e *Enroller) syncMembership(ctx context.Context, rc *rowCalls, rec *export.Record, conn *pv.Connection, r *Result) (*pv.Connection, error) {
	want := rowMembership(rec)
	if want == "" || want == conn.ExternalMembershipStatus {
		return conn, nil
	}
	if !e.canSyncMembership(rec) {
		e.markMembershipDiffers(want, conn.ExternalMembershipStatus, r)
		return conn, nil
	}
	have := shownMembership(conn.ExternalMembershipStatus)
	if rec.MemberIDOf != 0 {
		// The upsert is keyed on a member id an earlier line names too:
		// it might land on that line's customer. The row's own customer,
		// found by its email, is still decided by their connection.
		r.MembershipDiffers = true
		r.Detail = joinDetail(r.Detail, fmt.Sprintf("%s (export %s, Perkville %s; not updated: line %d names member id %s too)",
			MembershipDiffersNote, want, have, rec.MemberIDOf, rec.ExternalMemberID))
		return conn, nil
	}
	if e.policy.DryRun {
		r.Actions = append(r.Actions, ActionWouldSyncMembership)
		r.Detail = joinDetail(r.Detail, fmt.Sprintf("would set the membership %s (Perkville: %s)", want, have))
		conn.ExternalMembershipStatus = want
		return conn, nil
	}
	in := e.externalMember(rec)
	var m *pv.ExternalMember
	err := rc.write(func() (err error) {
		m, _, err = rc.api.UpdateExternalMember(ctx, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("updating the membership to %s: %w", want, err)
	}
	return e.readBackMembership(ctx, rc, rec, conn, m, want, r)
}

// externalMember is the external member record a row makes, for a create
// and a membership upsert alike: what Perkville's own integrations send
// for the member. A cancel date goes only with an inactive membership, as
// ABC Ignite's mapping sends memberStatusDate: an active member's
// expiration is no cancellation, and it would expire their points.
func (e *Enroller) externalMember(rec *export.Record) pv.NewExternalMember {
	in := pv.NewExternalMember{Business: e.business.BusinessID, ExternalSystemID: e.policy.SystemID,
		ExternalMemberID: rec.ExternalMemberID, UserEmail: rec.Email, FirstName: rec.FirstName, LastName: rec.LastName,
		MembershipStatus: rowMembership(rec), MembershipType: rec.MembershipType,
		HomeLocation: rec.HomeLocation, JoinDate: rec.JoinDate}
	if in.MembershipStatus == pv.StatusInactive {
		in.CancelDate = rec.CancelDate
	}
	return in
}

// markMembershipDiffers notes a status the run leaves differing, for the
// summary's count and the operator.
func (e *Enroller) markMembershipDiffers(want, have string, r *Result) {
	r.MembershipDiffers = true
	// Ask only for what the run lacks: a preset sets the system id.
	why := "--sync-membership updates it"
	switch {
	case e.policy.SyncMembership && e.policy.SystemID != "":
		why = "updating it needs a member id and an email"
	case e.policy.SyncMembership:
		why = "updating it needs a member id, an email and a system id"
	case e.policy.SystemID == "":
		why = "--sync-membership with --system-id updates it"
	}
	r.Detail = joinDetail(r.Detail, fmt.Sprintf("%s (export %s, Perkville %s; %s)", MembershipDiffersNote, want, shownMembership(have), why))
}

// membershipRefusedDetail says, for a join refused for its membership, what
// Perkville holds (held) and what the business must act on, by what the
// export says (want).
func (e *Enroller) membershipRefusedDetail(held, want string) string {
	d := "Perkville holds no membership status for the customer (external_membership_status)"
	if held != "" {
		d = "Perkville holds the membership as " + held + " (external_membership_status)"
	}
	d += ", and the business requires an active one to join"
	switch {
	case want != pv.StatusActive:
		return d + ": renew it in the membership system; once the export says ACTIVE, --sync-membership sends it and the run joins them"
	case e.policy.SyncMembership:
		return d + ": the export says ACTIVE, and this run did not update Perkville's"
	}
	return d + ": the export says ACTIVE; --sync-membership sends it and the run joins them"
}

func shownMembership(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// listedMembershipDiffers tells, for a row settled from the ACTIVE listing,
// whether its membership status differs from the listed connection's.
func listedMembershipDiffers(rec *export.Record, listed string) bool {
	want := rowMembership(rec)
	return want != "" && want != listed
}
