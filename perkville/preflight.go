package perkville

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Check is one line of the preflight checklist.
type Check struct {
	// ID is the line's stable key for scripts (check --json): the Name is
	// worded for people, and may change.
	ID     string
	Name   string
	OK     bool
	Detail string
	Err    error // why it failed
	Fatal  bool  // it failed so that no run could go on
	// Note marks a line that no request proved: it says what is known
	// (the token's scopes, as login kept them), and can only fail.
	Note bool
}

// Preflight checks, with requests that change nothing, that the API answers,
// that the token works and is an admin staff member's of the business, and
// that the answers have the shapes this package assumes. A line is OK only
// once its request has succeeded; the checklist ends at the first fatal
// failure.
func Preflight(ctx context.Context, c *Client, business int64) []Check {
	var out []Check
	// A failed line's detail is its error alone: what the line would have
	// said had it passed is not true.
	add := func(id, name string, err error, detail string) bool {
		ch := Check{ID: id, Name: name, OK: err == nil, Detail: detail, Err: err}
		if err != nil {
			ch.Detail, ch.Fatal = err.Error(), IsFatal(err)
		}
		out = append(out, ch)
		return err == nil
	}

	var raw map[string]json.RawMessage
	err := c.do(ctx, request{method: http.MethodGet, path: BusinessPath(business), out: &raw})
	var ae *Error
	answered := errors.As(err, &ae) && !ae.Unreached() && !ae.Redirect() && !ae.HTML
	if err != nil && !answered {
		add(CheckAPI, "the API answers", fatalErr{err}, "")
		return out
	}
	add(CheckAPI, "the API answers", nil, c.BaseURL())
	if ae != nil && ae.Status == http.StatusUnauthorized {
		add(CheckToken, "token accepted", err, "")
		return out
	}
	add(CheckToken, "token accepted", nil, "")
	if !add(CheckBusiness, "business found", fatalIf(err), fmt.Sprintf("business %d", business)) {
		return out
	}
	var b Business
	_ = json.Unmarshal(mustJSON(raw), &b)
	urlErr := need(raw, "perkville_url", "name", "resource_uri")
	if _, err := b.ProgramURL(); urlErr == nil && err != nil {
		urlErr = err
	}
	add(CheckProgramURL, "business has perkville_url", urlErr, b.Name+" "+b.ShownURL()+" (used in customer messages)")

	probe := fmt.Sprintf("an admin staff member of business %d (sent: POST %s naming only the business, a create that cannot happen; an admin is answered 400, anyone else 403 [assumed])", business, PathExternalMembers)
	if !add(CheckAdminRights, "admin rights", fatalIf(c.ProveAdmin(ctx, business)), probe) {
		return out
	}
	var page map[string]json.RawMessage
	q := url.Values{QueryBusiness: {itoa(business)}, QueryLimit: {"2"}, QueryOffset: {"0"}}
	err = c.do(ctx, request{method: http.MethodGet, path: PathConnections, query: q, out: &page})
	if !add(CheckConnections, "list the business's connections", err, "") {
		return out
	}
	// The envelope's paging fields are optional (the listing pages by
	// offset without them); check --report says which came.
	var objs []json.RawMessage
	envErr := need(page, "objects")
	if envErr == nil && json.Unmarshal(page["objects"], &objs) != nil {
		envErr = fmt.Errorf("objects is %s, not a list: the API's answer differs from what pvenroll assumes", describeJSON(page["objects"]))
	}
	if !add(CheckListEnvelope, "list envelope", envErr, "objects, a list") {
		return out
	}
	if len(objs) == 0 {
		add(CheckConnectionFields, "connection fields", nil, "no connection to look at yet: skipped")
		return out
	}
	// Read as every run reads it: tolerant of type, strict on what the
	// flow needs.
	var conn Connection
	_ = json.Unmarshal(objs[0], &conn)
	if bad := conn.Shape(); bad != nil {
		err = shapeAnswer(http.MethodGet, PathConnections, bad)
	} else if !knownStatus(conn.Status) {
		err = fmt.Errorf("status %q is not one of ACTIVE, INACTIVE, PENDING, IMPORTED", conn.Status)
	} else {
		err = checkConnection(http.MethodGet, PathConnections, business, 0, &conn)
	}
	add(CheckConnectionFields, "connection fields", err, "connection_id, business, status, user")
	return out
}

// The preflight lines' IDs, in their order.
const (
	CheckAPI              = "api"
	CheckToken            = "token"
	CheckBusiness         = "business"
	CheckProgramURL       = "perkville_url"
	CheckAdminRights      = "admin_rights"
	CheckConnections      = "connections"
	CheckListEnvelope     = "list_envelope"
	CheckConnectionFields = "connection_fields"
)

// fatalErr makes a preflight failure fatal: nothing can run past it.
type fatalErr struct{ error }

func (f fatalErr) Unwrap() error { return f.error }
func (fatalErr) Class() Class    { return ClassFatal }

func fatalIf(err error) error {
	if err == nil {
		return nil
	}
	return fatalErr{err}
}

func knownStatus(s string) bool {
	switch s {
	case StatusActive, StatusInactive, StatusPending, StatusImported:
		return true
	}
	return false
}

func need(obj map[string]json.RawMessage, keys ...string) error {
	var missing []string
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: the API's answer differs from what pvenroll assumes", strings.Join(missing, ", "))
	}
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
