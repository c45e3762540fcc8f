package enroll

// This file makes sure a row's writes are for the row's own customer: the
// customer its email finds is the one its Perkville user id names, and
// after an external-member upsert, the customer the answer names is the one
// the row's email finds when read back. Nothing is written on an answer
// that names anyone else: the row is a conflict.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/pvenroll/pvenroll/export"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// conflictError ends a row whose export names two customers.
type conflictError struct{ detail string }

func (e *conflictError) Error() string { return e.detail }

// isConflict reports whether err says the row is not one customer.
func isConflict(err error) bool {
	var ce *conflictError
	var oc *pv.OtherCustomer
	return errors.As(err, &ce) || errors.As(err, &oc)
}

// find looks the row's customer up by email, else by Perkville user id. A
// row with both is one customer only if the email's connection is the user
// id's: otherwise it is a conflict naming both, found before any write.
func (e *Enroller) find(ctx context.Context, rc *rowCalls, rec *export.Record) (*pv.Connection, error) {
	b := e.business.BusinessID
	userID, _ := strconv.ParseInt(rec.UserID, 10, 64) // checked by the reader
	if rec.Email == "" {
		return rc.api.ConnectionByUserID(ctx, b, userID)
	}
	conn, err := rc.api.ConnectionByEmail(ctx, b, rec.Email)
	if err != nil || rec.UserID == "" {
		return conn, err
	}
	if conn != nil {
		owner, err := conn.UserID()
		if err != nil {
			return nil, fmt.Errorf("unexpected connection %d from the API: %w", conn.ConnectionID, err)
		}
		if owner != userID {
			return nil, &conflictError{fmt.Sprintf("the email %s finds Perkville user %d (connection %d), not the row's user id %d: two customers in one row; nothing written",
				rec.Email, owner, conn.ConnectionID, userID)}
		}
		return conn, nil
	}
	// No connection by email: one by the user id is someone the email
	// does not find, so not known to be the row's customer.
	other, err := rc.api.ConnectionByUserID(ctx, b, userID)
	if err != nil || other == nil {
		return nil, err
	}
	return nil, &conflictError{fmt.Sprintf("the user id %d has connection %d, but the email %s finds no connection of business %d: not known to be one customer; nothing written",
		userID, other.ConnectionID, rec.Email, b)}
}

// readBackCreated reads, after an external-member upsert for rec, the
// connection the row's email finds, and checks that it is the one the
// answer m names, of the same user (an answer without a connection is
// found by the email alone). That connection, as read, is what the row
// goes on with: its real status decides the rest.
func (e *Enroller) readBackCreated(ctx context.Context, rc *rowCalls, rec *export.Record, m *pv.ExternalMember) (*pv.Connection, error) {
	conn, err := rc.api.ConnectionByEmail(ctx, e.business.BusinessID, rec.Email)
	if err != nil {
		return nil, fmt.Errorf("reading back the created member's connection: %w", err)
	}
	if err := pv.CheckMemberAnswer(rec.Email, m, conn); err != nil {
		return nil, err
	}
	return conn, nil
}

// readBackMembership believes a membership upsert for conn only as far as
// reading shows: the answer must name conn's customer, and the connection,
// read back, must hold the status sent (want). If it does not, the row's
// actions say membership-not-applied, never synced-membership, and the
// status Perkville holds decides the rest.
func (e *Enroller) readBackMembership(ctx context.Context, rc *rowCalls, rec *export.Record, conn *pv.Connection, m *pv.ExternalMember, want string, r *Result) (*pv.Connection, error) {
	if err := pv.CheckMemberAnswer(rec.Email, m, conn); err != nil {
		// Sent, but applied to someone else, if at all: not the row's.
		r.Actions = append(r.Actions, ActionMembershipNotApplied)
		return nil, err
	}
	now, err := rc.api.Connection(ctx, e.business.BusinessID, conn.ConnectionID)
	if err != nil {
		return nil, fmt.Errorf("reading back the membership update: %w", err)
	}
	have := shownMembership(conn.ExternalMembershipStatus)
	if now.ExternalMembershipStatus != want {
		r.Actions = append(r.Actions, ActionMembershipNotApplied)
		r.MembershipDiffers = true
		r.Detail = joinDetail(r.Detail, fmt.Sprintf("the membership update to %s was answered, but Perkville still holds %s (read back)", want, shownMembership(now.ExternalMembershipStatus)))
		return now, nil
	}
	r.Actions = append(r.Actions, ActionSyncedMembership)
	r.Detail = joinDetail(r.Detail, fmt.Sprintf("membership set %s (was %s)", want, have))
	return now, nil
}
