package export

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Record is one data row of the input.
type Record struct {
	Line             int // physical line where the record starts (an .xlsx row number); the header is line 1
	Email            string
	ExternalMemberID string
	UserID           string
	FirstName        string
	LastName         string
	// MembershipStatus is ACTIVE or INACTIVE (empty: the export says
	// nothing, or a word the tool does not know, and the row is invalid);
	// MembershipWord is what the export said: its status cell, or the
	// cells its preset's rule read, joined by " / ".
	MembershipStatus string
	MembershipWord   string
	// MembershipFrom names where MembershipStatus comes from, for messages
	// that say it: the preset's rule or the export's column ("" when the
	// export has neither). It is the same for every row of a file.
	MembershipFrom string
	MembershipType string
	// HomeLocation, JoinDate and CancelDate describe the membership as
	// Perkville's own integrations send it; the dates are ISO 8601.
	HomeLocation string
	JoinDate     string
	CancelDate   string
	// Consent is the consent cell, when a consent column is set and the
	// cell records a consent; ConsentAt is its time. A cell that holds no
	// consent (a placeholder date, yes/no) leaves both empty and says why
	// in ConsentNote: the row is enrolled as one without consent.
	Consent     string
	ConsentAt   time.Time
	ConsentNote string
	// Notes are what the reader left out of a usable row, and why (a
	// consent that is none, a date that does not parse), for its report.
	Notes []string
	Raw   []string // the row's cells as read, for follow-up files
	// Invalid says why the row cannot be used (empty: usable).
	Invalid string
	// DuplicateOf is the earlier line of the same customer (0: none).
	DuplicateOf int
	// DuplicateKey names what matched ("email x@y").
	DuplicateKey string
	// MemberIDOf is the earlier line of another customer's row with the
	// same member id (0: none): that line's customer is the member id's,
	// so this row writes no external member with it.
	MemberIDOf int
	// Hidden is a workbook row that Excel hides (by hand, or filtered
	// out): still a row of the export, read and enrolled; its report row
	// says so (HiddenNote), as the operator may not have seen it.
	Hidden bool
}

// HiddenNote is the detail of a hidden row's report row.
const HiddenNote = "a hidden row of the workbook (hidden or filtered out in Excel)"

// Key is the customer key: email, else member id, else user id.
func (r *Record) Key() string {
	switch {
	case r.Email != "":
		return "email " + r.Email
	case r.ExternalMemberID != "":
		return "member id " + r.ExternalMemberID
	case r.UserID != "":
		return "user id " + r.UserID
	}
	return ""
}

// Hash identifies the row's content: a changed row is enrolled afresh by
// a nightly run with --state.
func (r *Record) Hash() string {
	h := sha256.New()
	for _, f := range []string{r.Email, r.ExternalMemberID, r.UserID, r.FirstName, r.LastName, r.MembershipStatus, r.MembershipType, r.Consent} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
