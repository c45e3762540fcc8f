package enroll

import (
	"github.com/pvenroll/pvenroll/export"
)

// Grounds are the settings of a run that can change a row's outcome. Each
// run records its own in memory (--state), so that a row settled under
// grounds that could decide it differently is decided again, when a run is
// resumed and on a nightly run alike: a not-found row of a run without
// CreateMissing is looked up again by a run with it.
//
// A run's grounds have two parts with one owner each: the Enroller's
// Policy gives the first four, and the run's Options.Read, how its rows
// were read, the rest (Enroller.Grounds puts them together). Settings that
// change the row itself (its mapped columns, the membership status a
// preset's rule gives it, its consent column) change its hash too; they
// are recorded all the same, so that a run's record says what it was run
// with.
//
// ReaderGrounds is embedded, so its fields are recorded flat, after
// SystemID, as they were when Grounds held them: a state file of an
// earlier version reads as the same grounds.
type Grounds struct {
	CreateMissing  bool   `json:"create_missing,omitempty"`
	RejoinInactive bool   `json:"rejoin_inactive,omitempty"`
	SyncMembership bool   `json:"sync_membership,omitempty"`
	SystemID       string `json:"system_id,omitempty"`
	ReaderGrounds
}

// ReaderGrounds are the reader's settings that can change a row's outcome:
// the part of a run's grounds that its Policy does not hold.
type ReaderGrounds struct {
	Preset        string `json:"preset,omitempty"`
	ConsentColumn string `json:"consent_column,omitempty"`
	// ConsentAfter is the earliest consent time that counts, as given.
	ConsentAfter string `json:"consent_after,omitempty"`
}

// ReaderGroundsOf are the grounds of an export read with read: its preset,
// its consent column and its consent floor.
func ReaderGroundsOf(read export.ReaderOptions) ReaderGrounds {
	g := ReaderGrounds{ConsentColumn: read.ConsentColumn}
	if read.Preset != nil {
		g.Preset = read.Preset.Name
	}
	if !read.Consent.After.IsZero() {
		g.ConsentAfter = export.ISODate(read.Consent.After)
	}
	return g
}

// Grounds are the grounds of a run of e over rows read as read: what the
// run decides by, and what a run memory records for it.
func (e *Enroller) Grounds(read ReaderGrounds) Grounds {
	p := e.policy
	return Grounds{CreateMissing: p.CreateMissing, RejoinInactive: p.RejoinInactive, SyncMembership: p.SyncMembership,
		SystemID: p.SystemID, ReaderGrounds: read}
}

// CouldChange reports whether a row whose outcome was o under grounds then
// (nil: not recorded, a state file of an older version) could be decided
// differently under g. Joined and already-active stand under any grounds:
// no setting undoes a join.
func (g Grounds) CouldChange(o Outcome, then *Grounds) bool {
	if then == nil {
		return o != Joined && o != AlreadyActive
	}
	membership := g.SyncMembership != then.SyncMembership || g.Preset != then.Preset ||
		(g.SyncMembership && g.SystemID != then.SystemID)
	creating := g.CreateMissing != then.CreateMissing || (g.CreateMissing && g.SystemID != then.SystemID)
	consent := g.ConsentColumn != then.ConsentColumn || g.ConsentAfter != then.ConsentAfter
	switch o {
	case NotFound:
		return creating
	case OptedOut:
		return g.RejoinInactive != then.RejoinInactive
	case NeedsAgreement:
		return consent || creating
	case MembershipInactive:
		return membership || creating
	case Conflict:
		return creating || membership
	}
	return false
}
