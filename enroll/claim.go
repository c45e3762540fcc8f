package enroll

// This file holds the run's claims: which line a customer belongs to in
// this run. A row claims its customer before it writes anything: the
// connection it found, or, before a create, the email and member id it
// would create with (then the connection created). A row that finds its
// customer claimed by another line writes nothing and is a conflict naming
// that line. So two rows never write for one customer (two emails of one
// user), and never create one customer twice (one member id twice).
//
// A found customer does not claim its member id: a row that would create
// with it meets the API's own refusal (or, for an upsert that lands on
// someone else, the read-back of identity.go), whichever row goes first,
// so the outcome does not hang on the order rows reach the workers.

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/pvenroll/pvenroll/export"
)

// memberIDHeld is a conflict when an earlier line of the file names rec's
// member id for another customer (export.Record.MemberIDOf): a create is
// an upsert keyed on the member id, and one keyed on it alone would land
// on that line's customer, so this row creates nothing, whichever row
// reaches the API first. (A found row keeps its customer, and only skips
// its membership upsert: syncMembership.)
func memberIDHeld(rec *export.Record) error {
	if rec.MemberIDOf == 0 {
		return nil
	}
	return &conflictError{fmt.Sprintf("line %d holds %s in this run: one customer, two rows; nothing written for this row",
		rec.MemberIDOf, memberIDClaim(rec.ExternalMemberID))}
}

func memberIDClaim(id string) claimKey { return claimKey("member id " + id) }

// claimKey names one thing a row may claim.
type claimKey string

func connectionClaim(id int64) claimKey { return claimKey("connection " + strconv.FormatInt(id, 10)) }

// recordClaims are the keys a row creates its customer with: its email
// and its member id (one person in the source system).
func recordClaims(rec *export.Record) []claimKey {
	var keys []claimKey
	if rec.Email != "" {
		keys = append(keys, claimKey("email "+rec.Email))
	}
	if rec.ExternalMemberID != "" {
		keys = append(keys, memberIDClaim(rec.ExternalMemberID))
	}
	return keys
}

// claims are the keys claimed in a run, each with the line that holds
// it. Its zero value holds none.
type claims struct {
	mu     sync.Mutex
	byLine map[claimKey]int
}

// claim gives the keys to line, all or none: it returns the key and the
// other line holding it when another line claimed one first (0: none).
func (c *claims) claim(line int, keys ...claimKey) (claimKey, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byLine == nil {
		c.byLine = map[claimKey]int{}
	}
	for _, k := range keys {
		if other, held := c.byLine[k]; held && other != line {
			return k, other
		}
	}
	for _, k := range keys {
		c.byLine[k] = line
	}
	return "", 0
}

// claimed claims the keys for rec's line, or makes r a conflict naming the
// line that holds one, and reports whether the row may go on.
func (c *claims) claimed(rec *export.Record, r *Result, keys ...claimKey) bool {
	key, other := c.claim(rec.Line, keys...)
	if other == 0 {
		return true
	}
	written := "nothing written for this row"
	if len(r.Actions) > 0 {
		written = "nothing further written for this row" + afterActions(r)
	}
	r.Outcome = Conflict
	r.Detail = joinDetail(r.Detail, fmt.Sprintf("line %d holds %s in this run: one customer, two rows; %s", other, key, written))
	return false
}
