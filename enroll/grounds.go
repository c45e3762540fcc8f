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
// Settings that change the row itself (its mapped columns, the membership
// status a preset's rule gives it, its consent column) change its hash
// too; they are recorded all the same, so that a run's record says what it
// was run with.
type Grounds struct {
	CreateMissing  bool   `json:"create_missing,omitempty"`
	RejoinInactive bool   `json:"rejoin_inactive,omitempty"`
	SyncMembership bool   `json:"sync_membership,omitempty"`
	SystemID       string `json:"system_id,omitempty"`
	Preset         string `json:"preset,omitempty"`
	ConsentColumn  string `json:"consent_column,omitempty"`
	// ConsentAfter is the earliest consent time that counts, as given.
	ConsentAfter string `json:"consent_after,omitempty"`
}

// GroundsOf are the grounds of a run with policy p over an export read
// with read: its preset, its consent column and its consent floor.
func GroundsOf(p Policy, read export.ReaderOptions) Grounds {
	g := Grounds{CreateMissing: p.CreateMissing, RejoinInactive: p.RejoinInactive, SyncMembership: p.SyncMembership,
		SystemID: p.SystemID, ConsentColumn: read.ConsentColumn}
	if read.Preset != nil {
		g.Preset = read.Preset.Name
	}
	if !read.Consent.After.IsZero() {
		g.ConsentAfter = export.ISODate(read.Consent.After)
	}
	return g
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
