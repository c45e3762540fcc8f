package enroll

import (
	"slices"
	"time"
)

// Outcome is what became of one data row. The names are frozen: scripts and
// spreadsheets depend on them.
type Outcome string

const (
	Joined             Outcome = "joined"
	AlreadyActive      Outcome = "already-active"
	NeedsAgreement     Outcome = "needs-agreement"
	MembershipInactive Outcome = "membership-inactive"
	OptedOut           Outcome = "opted-out"
	NotFound           Outcome = "not-found"
	Invalid            Outcome = "invalid"
	Duplicate          Outcome = "duplicate"
	Conflict           Outcome = "conflict"
	Failed             Outcome = "failed"
	// Interrupted: the run stopped after the row's write was sent and
	// before its answer said what happened, or between its writes (its
	// detail names those done); the next run with --state looks it up
	// first, never re-sends a write blindly.
	Interrupted  Outcome = "interrupted"
	NotAttempted Outcome = "not-attempted"
	WouldJoin    Outcome = "would-join"
)

// Outcomes lists every outcome in report order.
var Outcomes = []Outcome{Joined, WouldJoin, AlreadyActive, NeedsAgreement, MembershipInactive, OptedOut,
	NotFound, Invalid, Duplicate, Conflict, Failed, Interrupted, NotAttempted}

// FollowUp lists the outcomes that need someone to act, each with a file.
var FollowUp = []Outcome{NeedsAgreement, MembershipInactive, NotFound, Invalid, Conflict, Failed, Interrupted, NotAttempted}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return slices.Contains(Outcomes, o) }

// NeedsFollowUp reports whether rows with o get a follow-up file.
func (o Outcome) NeedsFollowUp() bool { return slices.Contains(FollowUp, o) }

// Retryable reports whether the follow-up file keeps the input's columns,
// so that it can be fed back to `pvenroll enroll`.
func (o Outcome) Retryable() bool { return o == Failed || o == Interrupted || o == NotAttempted }

// Recorded reports whether the run ledger (--state) remembers a row with
// this outcome: those an API answer decided, and those whose write was
// sent. Failed and Interrupted are recorded although they are not
// settled, so that such a row is never taken for done by a later run
// (its record replaces any older, settled one).
func (o Outcome) Recorded() bool { return o.Settled() || o == Failed || o == Interrupted }

// Settled reports whether the outcome is final for the row: resuming an
// interrupted run reports it again without a request. It is Recorded less
// Failed, which a resumed run must send again.
func (o Outcome) Settled() bool {
	switch o {
	case Joined, AlreadyActive, NeedsAgreement, MembershipInactive, OptedOut, NotFound, Conflict:
		return true
	}
	return false
}

// Description is a short explanation for people.
func (o Outcome) Description() string {
	switch o {
	case Joined:
		return "joined the program in this run"
	case WouldJoin:
		return "would join (dry run)"
	case AlreadyActive:
		return "already in the program; nothing written"
	case NeedsAgreement:
		return "must accept the program terms themselves"
	case MembershipInactive:
		return "membership not active; the business must act"
	case OptedOut:
		return "left the program or was removed; left alone"
	case NotFound:
		return "no Perkville connection; not created"
	case Invalid:
		return "row cannot be used; fix the export"
	case Duplicate:
		return "same customer on an earlier line"
	case Conflict:
		return "not one customer, another row's, or refused by the API as a conflict"
	case Failed:
		return "error after retries; safe to rerun"
	case Interrupted:
		return "stopped mid-row; the next run with --state checks it"
	case NotAttempted:
		return "the run stopped first; rerun"
	}
	return ""
}

// Result is one data row's line of the report.
type Result struct {
	// From the run ledger (--state): what the last run found, and whether
	// this row was settled from memory without a call.
	PriorOutcome Outcome
	PriorSince   time.Time
	Resumed      bool   // the outcome of an interrupted run, not sent again
	ResumedFrom  uint64 // with Resumed: the run that decided it
	// Waited: a waiting customer (needs-agreement, membership-inactive,
	// not-found) whose row is unchanged and whose next check is not due:
	// their last known outcome, without a call.
	Waited bool
	// LastChecked is, for a row settled from memory, when an API answer
	// last decided it.
	LastChecked time.Time
	Skipped     bool // unchanged since it was active; confirmed by the listing

	Line             int
	Email            string
	ExternalMemberID string
	UserID           string
	FirstName        string
	LastName         string
	Outcome          Outcome
	Code             string // the API's code, e.g. pv_agreement_required
	CustomerMessage  string // customer-safe copy
	Detail           string // for the operator
	ConnectionID     int64
	Actions          []string // writes done (or that would be done, in a dry run)
	Attempts         int      // HTTP requests spent on the row
	Raw              []string // the input row's cells, for retry files
	// MembershipDiffers: the export's membership status is not Perkville's,
	// and this run left it so; Detail then holds MembershipDiffersNote.
	MembershipDiffers bool

	// Risk is, for a dry run's would-join, why the real run will likely
	// be refused; empty when nothing read foresees a refusal.
	Risk Risk
	// ExportMembership is the membership status the export gives the row
	// (ACTIVE, INACTIVE, or empty when it says nothing).
	ExportMembership string
}

// Risk is why a dry run expects a would-join row to be refused by the real
// run. The names are machine keys (summary.json's dry_run_at_risk).
type Risk string

const (
	// RiskMembershipNotActive: Perkville holds the customer's membership as
	// not ACTIVE; a business that requires an active one refuses the join.
	RiskMembershipNotActive Risk = "membership-not-active"
	// RiskExportInactive: a customer to create whom the export marks
	// inactive; the member is created INACTIVE, and refused as above.
	RiskExportInactive Risk = "export-inactive"
	// RiskAgreementWithoutConsent: the program may require terms that the
	// customer has not accepted, and the row holds no consent to accept them.
	RiskAgreementWithoutConsent Risk = "agreement-without-consent"
)

// Risks lists every risk in report order.
var Risks = []Risk{RiskMembershipNotActive, RiskExportInactive, RiskAgreementWithoutConsent}

// Valid reports whether r is a known risk.
func (r Risk) Valid() bool { return slices.Contains(Risks, r) }

// Description is a short explanation for people.
func (r Risk) Description() string {
	switch r {
	case RiskMembershipNotActive:
		return "membership not ACTIVE in Perkville"
	case RiskExportInactive:
		return "export says inactive (the member would be created INACTIVE)"
	case RiskAgreementWithoutConsent:
		return "the program terms may be needed, and the row holds no consent"
	}
	return ""
}

// MembershipDiffersNote starts the detail of a row whose membership status
// differs from Perkville's and was not updated, so that a report re-read
// from report.csv counts it again.
const MembershipDiffersNote = "membership status differs from Perkville's"
