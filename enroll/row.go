package enroll

// This file decides each row's fate. Read it top to bottom: process is the
// whole flow, spending as few API calls as the answer allows:
//
//	remembered (--state): resumed, or unchanged and still ACTIVE  0 calls
//	find the connection (email, else user id; with both, the  1 call
//	  email's must be the user id's: identity.go)             (+1 if none)
//	claim the customer for this line, before any write (claim.go)
//	membership status differs: upsert it (--sync-membership)  +1,
//	  and read the connection back                            +1
//	none: create the external member (--create-missing)      +1,
//	  and read back the connection the email finds            +1
//	ACTIVE → already-active; INACTIVE → opted-out
//	consent on the row: accept the join agreements            +1 (+1 once per business),
//	  batched with other rows' (batcher.go): about +1/K
//	PATCH status ACTIVE → joined, or the code says why not    +1

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pvenroll/pvenroll/export"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// Actions recorded in a result's actions column.
const (
	ActionCreated       = "created-member"
	ActionUpdated       = "updated-member"
	ActionAccepted      = "accepted-agreements"
	ActionActivated     = "activated"
	ActionWouldCreate   = "would-create"
	ActionWouldAccept   = "would-accept-agreements"
	ActionWouldActivate = "would-activate"
	createLookupsPerRow = 3 // re-sends of a create whose answer was lost, each after a look
)

// Policy is what the operator allowed: the decisions a row's fate turns
// on, and nothing else. How a run spends its time and requests is in
// Options; where a row's values come from, in its export.Record.
type Policy struct {
	DryRun         bool
	CreateMissing  bool
	SystemID       string
	RejoinInactive bool
	// SyncMembership upserts the external member's membership status
	// where the row's differs from the connection's.
	SyncMembership bool
	// RecheckAfter caps how long a waiting customer's unchanged row goes
	// unchecked (recheck.go); 0: the schedule alone. RecheckAll checks
	// every waiting customer now.
	RecheckAfter time.Duration
	RecheckAll   bool
}

// Enroller decides rows' fates against one business, by one Policy. It is
// configuration only, set by New and read only after that: what a run
// learns and shares between its rows (claims, the agreements, the ACTIVE
// listing, the batcher) is that run's own (runstate.go), so one Enroller
// serves any number of runs, one after another or at once.
type Enroller struct {
	api      *pv.Client
	business pv.Business
	policy   Policy
}

// New is the Enroller for business biz (copied) through api, by policy p.
func New(api *pv.Client, biz *pv.Business, p Policy) *Enroller {
	return &Enroller{api: api, business: *biz, policy: p}
}

// fatalError wraps an API answer that must stop the run.
type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }
func (f fatalError) Unwrap() error { return f.err }

// process decides the fate of a row that Precheck left to the API,
// calling onWrite (when not nil) as the row's first write goes on the
// wire. The returned error is non-nil only when the answer must stop the
// whole run (401, 403); the row is then not-attempted. Everything else, a
// panic included, is the row's outcome.
func (run *runState) process(ctx context.Context, rec *export.Record, onWrite func()) (r Result, fatal error) {
	r = newResult(rec)
	rc := run.newRowCalls(onWrite)
	if b := run.batch; b != nil && rec.Consent != "" {
		// A batch waits for this row while it may still join.
		rc.ticket = b.expect()
		defer rc.ticket.leave()
	}
	var prior *Memo
	if run.memory != nil {
		if p, ok := run.memory.Prior(rec.Key()); ok {
			prior = &p
			r.PriorOutcome, r.PriorSince = p.Outcome, p.Since
		}
	}
	defer func() {
		if p := recover(); p != nil {
			r.Outcome, r.Code = Failed, "internal_error"
			r.Detail = fmt.Sprintf("internal error (a bug; please report it): %v", p)
			fatal = nil
		}
		r.Attempts += rc.calls.Info().Attempts // its batches' included (batcher.go)
		for _, note := range rec.Notes {
			r.Detail = joinDetail(r.Detail, note)
		}
	}()
	done, err := run.remembered(ctx, rec, prior, &r)
	if err == nil && !done {
		err = run.decide(ctx, rc, rec, prior, &r)
	}
	if err == nil {
		return r, nil
	}
	if pv.IsFatal(err) {
		rc.stopped(&r, "the run stopped: "+err.Error())
		return r, fatalError{err}
	}
	run.setError(ctx, rc, &r, err)
	return r, nil
}

// Precheck settles rows that need no API call: invalid and duplicate.
func Precheck(rec *export.Record) (Outcome, string, bool) {
	switch {
	case rec.Invalid != "":
		return Invalid, rec.Invalid, true
	case rec.DuplicateOf > 0:
		return Duplicate, fmt.Sprintf("same customer (%s) as line %d", rec.DuplicateKey, rec.DuplicateOf), true
	}
	return "", "", false
}

func newResult(rec *export.Record) Result {
	return Result{Line: rec.Line, Email: rec.Email, ExternalMemberID: rec.ExternalMemberID,
		UserID: rec.UserID, FirstName: rec.FirstName, LastName: rec.LastName, Raw: rec.Raw,
		ExportMembership: rowMembership(rec)}
}

// decide fills r, or returns the error that ended the row. The row claims
// its customer (claim.go) before any write of its own.
func (run *runState) decide(ctx context.Context, rc *rowCalls, rec *export.Record, prior *Memo, r *Result) error {
	conn, err := run.find(ctx, rc, rec)
	if err != nil {
		return err
	}
	if conn == nil {
		if conn, err = run.createMissing(ctx, rc, rec, r); conn == nil || err != nil {
			return err
		}
	} else {
		r.ConnectionID = conn.ConnectionID
		if !run.claims.claimed(rec, r, connectionClaim(conn.ConnectionID)) {
			return nil
		}
		// The export's membership status, before the join is decided.
		if conn, err = run.syncMembership(ctx, rc, rec, conn, r); err != nil {
			return err
		}
	}
	r.ConnectionID = conn.ConnectionID
	if run.settledByStatus(conn, prior, r) {
		return nil
	}
	userID, err := conn.UserID()
	if err != nil {
		return fmt.Errorf("unexpected connection %d from the API: %w", conn.ConnectionID, err)
	}
	if rec.Consent != "" {
		if err := run.accept(ctx, rc, userID, rec.ConsentAt, r); err != nil {
			return err
		}
	}
	if run.policy.DryRun {
		return run.predictJoin(ctx, rc, rec, conn, userID, r)
	}
	if err := rc.write(func() error {
		_, err := rc.api.Activate(ctx, run.business.BusinessID, conn.ConnectionID)
		return err
	}); err != nil {
		var ae *pv.Error
		if errors.As(err, &ae) && ae.Has(pv.CodeMembershipNotActive) {
			r.Detail = joinDetail(r.Detail, run.membershipRefusedDetail(conn.ExternalMembershipStatus, r.ExportMembership))
		}
		return err
	}
	r.Outcome = Joined
	r.Actions = append(r.Actions, ActionActivated)
	return nil
}

// settledByStatus settles a row whose connection's status decides it:
// ACTIVE is already-active; INACTIVE (or a customer the ledger remembers
// as opted out) is opted-out unless --rejoin-inactive.
func (e *Enroller) settledByStatus(conn *pv.Connection, prior *Memo, r *Result) bool {
	switch conn.Status {
	case pv.StatusActive:
		r.Outcome = AlreadyActive
		return true
	case pv.StatusInactive:
		if !e.policy.RejoinInactive {
			r.Outcome, r.Detail = OptedOut, joinDetail(r.Detail, "connection is INACTIVE: the customer left the program or staff removed them (--rejoin-inactive re-activates)")
			return true
		}
	default:
		// The ledger remembers who left: a re-import that reset the
		// connection must not quietly rejoin them.
		if prior != nil && prior.Outcome == OptedOut && !e.policy.RejoinInactive {
			r.Outcome = OptedOut
			r.Detail = joinDetail(r.Detail, fmt.Sprintf("opted out as of run %d (connection now %s); not rejoined without --rejoin-inactive", prior.Run, conn.Status))
			return true
		}
	}
	return false
}

// createMissing creates the customer of a row no connection was found for
// (--create-missing), once its email and member id are claimed. It returns
// nil with r settled when the row creates nothing: not-found, a conflict,
// or a dry run's prediction.
func (run *runState) createMissing(ctx context.Context, rc *rowCalls, rec *export.Record, r *Result) (*pv.Connection, error) {
	switch {
	case !run.policy.CreateMissing:
		r.Outcome, r.Detail = NotFound, fmt.Sprintf("no connection to business %d for %s (--create-missing creates the customer from a member id)", run.business.BusinessID, rec.Key())
		return nil, nil
	case rec.ExternalMemberID == "" || rec.Email == "":
		r.Outcome, r.Detail = NotFound, fmt.Sprintf("no connection to business %d, and creating one needs an email and a member id", run.business.BusinessID)
		return nil, nil
	case memberIDHeld(rec) != nil:
		return nil, memberIDHeld(rec)
	case !run.claims.claimed(rec, r, recordClaims(rec)...):
		return nil, nil
	case run.policy.DryRun:
		return nil, run.predictNew(rec, r)
	}
	conn, err := run.create(ctx, rc, rec, r)
	if err != nil {
		return nil, err
	}
	r.ConnectionID = conn.ConnectionID
	if !run.claims.claimed(rec, r, connectionClaim(conn.ConnectionID)) {
		return nil, nil
	}
	return conn, nil
}

// create makes the customer an external member, then reads back the
// connection the row's email finds, which must be the one the answer names
// (identity.go): that connection, as read, decides the rest. If the answer
// was lost the POST may have been applied: look the connection up before
// sending it again.
func (e *Enroller) create(ctx context.Context, rc *rowCalls, rec *export.Record, r *Result) (*pv.Connection, error) {
	in := e.externalMember(rec)
	for try := 0; ; try++ {
		var m *pv.ExternalMember
		var created bool
		err := rc.write(func() (err error) {
			m, created, err = rc.api.CreateExternalMember(ctx, in)
			return err
		})
		if err == nil {
			r.Actions = append(r.Actions, map[bool]string{true: ActionCreated, false: ActionUpdated}[created])
			return e.readBackCreated(ctx, rc, rec, m)
		}
		if pv.ClassOf(err) != pv.ClassRetryable || try >= createLookupsPerRow || ctx.Err() != nil {
			return nil, err
		}
		conn, lerr := e.find(ctx, rc, rec)
		if lerr != nil {
			return nil, lerr
		}
		if conn != nil {
			rc.answerLost = false // the look found what the create did
			r.Actions = append(r.Actions, ActionCreated)
			r.Detail = "the create's answer was lost; the re-check found the new connection"
			return conn, nil
		}
	}
}

func (e *Enroller) message(tmpl string) string {
	return strings.ReplaceAll(tmpl, "{business.perkville_url}", e.business.ProgramName())
}

// afterActions names what the row did before it ended, for its detail.
func afterActions(r *Result) string {
	if len(r.Actions) == 0 {
		return ""
	}
	return " (after: " + strings.Join(r.Actions, ";") + ")"
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// rowError is a refusal that is not an HTTP error (a batch item's error).
type rowError struct{ code, detail string }

func (e *rowError) Error() string { return e.detail }

// setError turns the error that ended a row into its outcome; rc says
// what the row's writes came to.
func (e *Enroller) setError(ctx context.Context, rc *rowCalls, r *Result, err error) {
	if isConflict(err) {
		r.Outcome, r.Detail = Conflict, joinDetail(r.Detail, err.Error()+afterActions(r))
		return
	}
	var re *rowError
	if errors.As(err, &re) {
		r.Outcome, r.Code, r.Detail = Failed, re.code, joinDetail(r.Detail, re.detail)
		return
	}
	var odd *pv.UnexpectedAnswer
	if errors.As(err, &odd) {
		r.Outcome, r.Code, r.Detail = Failed, codeUnexpectedAnswer, joinDetail(r.Detail, err.Error())
		return
	}
	var ae *pv.Error
	if !errors.As(err, &ae) {
		if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			rc.stopped(r, "")
			return
		}
		r.Outcome, r.Detail = Failed, joinDetail(r.Detail, err.Error())
		return
	}
	r.Code = ae.Code()
	switch {
	case ae.Has(pv.CodeMembershipNotActive):
		// Checked before terms: accepting terms would not let them join.
		r.Outcome = MembershipInactive
		r.CustomerMessage = e.message(pv.MessageMembershipNotActive)
	case ae.Has(pv.CodeAgreementRequired):
		r.Outcome = NeedsAgreement
		r.CustomerMessage = e.message(pv.MessageAgreementRequired)
		r.Detail = joinDetail(r.Detail, "the customer has not accepted the program terms and the row holds no consent")
	case ae.Conflict():
		r.Outcome, r.Detail = Conflict, joinDetail(r.Detail, err.Error())
	default:
		r.Outcome = Failed
		if r.Code == "" && ae.Status > 0 {
			r.Code = "http_" + strconv.Itoa(ae.Status)
		}
		d := err.Error()
		if ae.Class() == pv.ClassRetryable {
			d += " (retries exhausted; safe to rerun)"
		}
		r.Detail = joinDetail(r.Detail, d)
	}
}
