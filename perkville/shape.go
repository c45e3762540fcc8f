package perkville

// This file decodes the API's objects tolerantly: only the fields the flow
// needs, each in any of the shapes a partly documented API plausibly
// answers (an id as a number or as a numeric string; a related object as
// its URI or as its bare id; a resource's own id from its *_id field or,
// failing that, its resource_uri). Unknown fields are ignored. A needed
// field that is missing or unusable does not fail the decoding: the object
// keeps a *ShapeError, and the call that needed it answers an
// *UnexpectedAnswer naming the field and the shape seen, so one odd object
// fails one row, never the run.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ShapeError is a field the flow needs that an answer lacks, or holds in
// a shape the tool cannot use.
type ShapeError struct {
	Object string // "connection", "agreement", …
	Field  string
	Seen   string // what the answer held there: "missing", "a list", `the string "x"`…
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("the %s's %s is %s", e.Object, e.Field, e.Seen)
}

// shapeProblems are the needed fields an object lacked, in field order.
type shapeProblems []*ShapeError

func (p shapeProblems) first() *ShapeError {
	if len(p) == 0 {
		return nil
	}
	return p[0]
}

// about returns the problem with the field, if any.
func (p shapeProblems) about(field string) *ShapeError {
	for _, e := range p {
		if e.Field == field {
			return e
		}
	}
	return nil
}

// fields is one JSON object, field by field.
type fields map[string]json.RawMessage

// decodeObject reads b as a JSON object; anything else is a ShapeError on
// the object as a whole.
func decodeObject(object string, b []byte) (fields, *ShapeError) {
	var f fields
	if err := json.Unmarshal(b, &f); err != nil || f == nil {
		return fields{}, &ShapeError{Object: object, Field: "answer", Seen: describeJSON(b) + ", not an object"}
	}
	return f, nil
}

// describeJSON names a JSON value's type, and a short form of a scalar,
// for a message: "missing", "null", `the string "v1"`, "the number 1.5",
// "an object", "a list", "the boolean true".
func describeJSON(raw json.RawMessage) string {
	switch t := JSONType(raw); t {
	case "missing", "null":
		return t
	case "object":
		return "an object"
	case "list":
		return "a list"
	case "string":
		// Decoded, so that the scrubber finds the token however the
		// answer's escapes spelled it (secret.go).
		var v string
		if json.Unmarshal(raw, &v) == nil {
			return "the string " + strconv.Quote(truncate(v, 40))
		}
		fallthrough
	default:
		return "the " + t + " " + truncate(string(bytes.TrimSpace(raw)), 40)
	}
}

// shapeAnswer is the row's error for an answer whose needed field s names.
func shapeAnswer(method, path string, s *ShapeError) *UnexpectedAnswer {
	return &UnexpectedAnswer{Method: method, Path: path, Expected: fmt.Sprintf("a %s with a usable %s", s.Object, s.Field),
		Got: s.Error()}
}

// JSONType names a JSON value's type as check --report records it:
// "string", "number", "boolean", "null", "object" or "list".
func JSONType(raw json.RawMessage) string {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 {
		return "missing"
	}
	switch v[0] {
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "list"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	}
	return "number"
}

// text reads a field as text: a string, or a number kept as it was
// written (a version 3 is "3"); missing or null is "". ok is false for any
// other shape.
func (f fields) text(key string) (string, bool) {
	raw, found := f[key]
	v := bytes.TrimSpace(raw)
	if !found || len(v) == 0 || v[0] == 'n' {
		return "", true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// id reads a positive whole id, as a number or a numeric string: 0 and
// false when missing or unusable.
func (f fields) id(key string) (int64, bool) {
	s, ok := f.text(key)
	if !ok || s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil && n > 0
}

// ref reads a related object's reference as a URI: the field holds a URI
// ("/v2/users/7/"), or a bare id (7 or "7") made into one with path; else
// the *_id field beside it (user_id). "" when neither is usable.
func (f fields) ref(key string, path func(int64) string) string {
	if s, ok := f.text(key); ok && s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n > 0 {
				return path(n)
			}
			return ""
		}
		if _, err := IDFromURI(s); err == nil {
			return s
		}
		return ""
	}
	if n, ok := f.id(key + "_id"); ok {
		return path(n)
	}
	return ""
}

// ownID reads a resource's own id: its *_id field, else the id at the end
// of its resource_uri.
func (f fields) ownID(key string) (int64, bool) {
	if JSONType(f[key]) != "missing" && JSONType(f[key]) != "null" {
		return f.id(key) // there, so it alone says: 0 is no id
	}
	if s, ok := f.text("resource_uri"); ok && s != "" {
		if n, err := IDFromURI(s); err == nil {
			return n, true
		}
	}
	return 0, false
}

// problem is the ShapeError of a needed field.
func (f fields) problem(object, key string) *ShapeError {
	return &ShapeError{Object: object, Field: key, Seen: describeJSON(f[key])}
}

// flag reads a boolean: true/false, or the strings "true"/"false".
func (f fields) flag(key string) (value, ok bool) {
	raw := bytes.TrimSpace(f[key])
	if json.Unmarshal(raw, &value) == nil {
		return value, true
	}
	if s, isText := f.text(key); isText && s != "" {
		if b, err := strconv.ParseBool(s); err == nil {
			return b, true
		}
	}
	return false, false
}

// UnmarshalJSON reads a connection tolerantly (see the top of this file).
// Its id, business, user and status are needed: a problem with one of
// them is kept for Shape.
func (c *Connection) UnmarshalJSON(b []byte) error {
	*c = Connection{}
	f, bad := decodeObject("connection", b)
	if bad != nil {
		c.shape = shapeProblems{bad}
		return nil
	}
	var ok bool
	if c.ConnectionID, ok = f.ownID("connection_id"); !ok {
		c.shape = append(c.shape, f.problem("connection", "connection_id"))
	}
	if c.Business = f.ref("business", BusinessPath); c.Business == "" {
		c.shape = append(c.shape, f.problem("connection", "business"))
	}
	if c.User = f.ref("user", UserPath); c.User == "" {
		c.shape = append(c.shape, f.problem("connection", "user"))
	}
	if c.Status, ok = f.text("status"); !ok || c.Status == "" {
		c.shape = append(c.shape, f.problem("connection", "status"))
	}
	c.ExternalMembershipStatus, _ = f.text("external_membership_status")
	c.LastModDT, _ = f.text("last_mod_dt")
	c.ResourceURI, _ = f.text("resource_uri")
	if c.ResourceURI == "" && c.ConnectionID > 0 {
		c.ResourceURI = ConnectionPath(c.ConnectionID)
	}
	return nil
}

// Shape is the first needed field the answer lacked or held unusably; nil
// for a connection every flow can use.
func (c *Connection) Shape() *ShapeError { return c.shape.first() }

// UnmarshalJSON reads a business tolerantly. Nothing in it stops a run:
// without perkville_url the customer messages name the business instead.
func (b *Business) UnmarshalJSON(data []byte) error {
	*b = Business{}
	f, bad := decodeObject("business", data)
	if bad != nil {
		return bad
	}
	b.BusinessID, _ = f.ownID("business_id")
	b.Name, _ = f.text("name")
	b.PerkvilleURL, _ = f.text("perkville_url")
	b.ResourceURI, _ = f.text("resource_uri")
	return nil
}

// UnmarshalJSON reads an agreement tolerantly: its version is text, be it
// 3 or "v1.0". Its id and whether it is accepted are needed.
func (a *Agreement) UnmarshalJSON(b []byte) error {
	*a = Agreement{}
	f, bad := decodeObject("agreement", b)
	if bad != nil {
		a.shape = shapeProblems{bad}
		return nil
	}
	var ok bool
	if a.AgreementID, ok = f.ownID("agreement_id"); !ok {
		a.shape = append(a.shape, f.problem("agreement", "agreement_id"))
	}
	if a.Accepted, ok = f.flag("accepted"); !ok {
		a.shape = append(a.shape, f.problem("agreement", "accepted"))
	}
	a.Title, _ = f.text("title")
	a.Version, _ = f.text("version")
	a.Text, _ = f.text("text")
	return nil
}

// Shape is the first needed field the agreement lacked; nil when usable.
func (a *Agreement) Shape() *ShapeError { return a.shape.first() }

// UnmarshalJSON reads an external member answer tolerantly: its user and
// connection as URIs or ids. Either may be missing (an upsert answered
// without the connection): the caller finds the connection by email.
func (m *ExternalMember) UnmarshalJSON(b []byte) error {
	*m = ExternalMember{}
	f, bad := decodeObject("external member", b)
	if bad != nil {
		return bad
	}
	m.ExternalMemberID, _ = f.text("external_member_id")
	m.ExternalSystemID, _ = f.text("external_system_id")
	m.User = f.ref("user", UserPath)
	m.Connection = f.ref("connection", ConnectionPath)
	m.ResourceURI, _ = f.text("resource_uri")
	return nil
}

// UnmarshalJSON reads one item of the acceptance answer with its ids as
// numbers or numeric strings; an item whose ids are unusable matches no
// item sent, so its row fails as one the answer left out.
func (r *AcceptanceResult) UnmarshalJSON(b []byte) error {
	*r = AcceptanceResult{}
	f, bad := decodeObject("acceptance", b)
	if bad != nil {
		return bad
	}
	r.AgreementID, _ = f.id("agreement_id")
	r.UserID, _ = f.id("user_id")
	r.Status, _ = f.text("status")
	r.Code, _ = f.text("code")
	r.Message, _ = f.text("message")
	return nil
}
