package perkville

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// UnexpectedAnswer is a 2xx answer that is not what was asked for: another
// connection, another business, a join not applied, an id that cannot be.
// The row fails with it; nothing is believed without being checked.
type UnexpectedAnswer struct {
	Method, Path string
	Expected     string
	Got          string
	fatal        bool // the API differs from what the tool assumes everywhere
}

func (e *UnexpectedAnswer) Error() string {
	return fmt.Sprintf("%s %s: unexpected answer: expected %s, got %s", e.Method, e.Path, e.Expected, e.Got)
}

// Class is ClassRow, or ClassFatal for an answer no later call would change.
func (e *UnexpectedAnswer) Class() Class {
	if e.fatal {
		return ClassFatal
	}
	return ClassRow
}

// OtherCustomer is an answer about another customer than the one a write
// was for: an external-member upsert that landed on someone else's record,
// or a connection that is not the one the customer's email finds. Nothing
// more may be written on its word: the row is a conflict.
type OtherCustomer struct {
	Method, Path string
	For          string // whom the write was for ("pat@example.com")
	Got          string // what the answer and the reads say
}

func (e *OtherCustomer) Error() string {
	return fmt.Sprintf("%s %s was for %s, but %s", e.Method, e.Path, e.For, e.Got)
}

// Class is ClassRow: another row may well be answered about its own customer.
func (e *OtherCustomer) Class() Class { return ClassRow }

// CheckMemberAnswer compares an external-member upsert's answer for the
// customer with this email with found, the business's connection that email
// finds when read after the write (nil: none). They must be the same
// connection of the same user; an answer that names no connection (or no
// user) leaves found to stand for it. found is what is believed after.
func CheckMemberAnswer(email string, m *ExternalMember, found *Connection) error {
	other := func(got string) error {
		return &OtherCustomer{Method: http.MethodPost, Path: PathExternalMembers, For: email, Got: got}
	}
	named := "the answer names " + describeMember(m)
	if found == nil {
		return other(named + ", and the email finds no connection")
	}
	foundUser, err := found.UserID()
	if err != nil {
		return &UnexpectedAnswer{Method: http.MethodGet, Path: PathConnections, Expected: "a connection naming its user",
			Got: fmt.Sprintf("connection %d with user %s", found.ConnectionID, quoteOrNone(found.User))}
	}
	mismatch := func() error {
		return other(fmt.Sprintf("%s, and the email finds connection %d of user %d", named, found.ConnectionID, foundUser))
	}
	if m.Connection != "" {
		if id, err := IDFromURI(m.Connection); err != nil || id != found.ConnectionID {
			return mismatch()
		}
	}
	if m.User != "" {
		if id, err := IDFromURI(m.User); err != nil || id != foundUser {
			return mismatch()
		}
	}
	return nil
}

// describeMember names the user and connection an answer names.
func describeMember(m *ExternalMember) string {
	conn, user := "no connection", "no user"
	if m.Connection != "" {
		conn = "connection " + quoteOrNone(m.Connection)
	}
	if m.User != "" {
		user = "user " + quoteOrNone(m.User)
	}
	return conn + " of " + user
}

// NotAdminError says the token may not write for the business.
type NotAdminError struct {
	Business int64
	Err      *Error // the probe's answer
}

func (e *NotAdminError) Error() string {
	return fmt.Sprintf("the token is not an admin staff member's of business %d (the admin probe %s %s got %d %s)",
		e.Business, e.Err.Method, e.Err.Path, e.Err.Status, http.StatusText(e.Err.Status))
}

func (e *NotAdminError) Unwrap() error { return e.Err }

// Class is ClassFatal: no write of the run could succeed.
func (e *NotAdminError) Class() Class { return ClassFatal }

// ErrListingAbandoned is wrapped by the error that ends a listing whose
// paging cannot be trusted; the listing's rows are then looked up one by one.
var ErrListingAbandoned = errors.New("perkville: listing abandoned")

// checkConnection refuses a connection that cannot be the one asked for: a
// non-positive id, another id than want (when want is not 0), or another
// business than the one asked about.
func checkConnection(method, path string, business, want int64, conn *Connection) error {
	expected := fmt.Sprintf("a connection of business %d", business)
	if want != 0 {
		expected = fmt.Sprintf("connection %d of business %d", want, business)
	}
	got := func(why string) error {
		return &UnexpectedAnswer{Method: method, Path: path, Expected: expected,
			Got: fmt.Sprintf("connection %d of business %s (%s)", conn.ConnectionID, quoteOrNone(conn.Business), why)}
	}
	switch id, err := IDFromURI(conn.Business); {
	case conn.ConnectionID <= 0:
		return got("connection ids are positive")
	case want != 0 && conn.ConnectionID != want:
		return got("another connection")
	case err != nil || id != business:
		return got("another business")
	}
	return nil
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}
