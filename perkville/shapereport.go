package perkville

// This file records, read-only, what the API answers, shape by shape (the
// business, a page of connections, a connection, a page of the agreements
// view), and compares each with the shape the tool assumes: the record an
// operator sends Perkville support (`check --report`). It holds field
// names, JSON types and paging fields, never a value a customer gave.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ShapeReport is what the API answered, shape by shape.
type ShapeReport struct {
	Tool     string        `json:"tool"`  // the User-Agent sent
	Taken    string        `json:"taken"` // when, RFC 3339
	API      string        `json:"api"`
	Business int64         `json:"business"`
	Shapes   []ShapeRecord `json:"shapes"`
}

// ShapeRecord is one answer: its fields' JSON types, the list envelope's
// for a page, the headers of interest, and how it differs from the shape
// the tool assumes.
type ShapeRecord struct {
	Shape       string            `json:"shape"`   // "business", "connections page", …
	Request     string            `json:"request"` // "GET /v2/businesses/25/" (no query: it may hold an email)
	Status      int               `json:"status,omitempty"`
	Error       string            `json:"error,omitempty"`
	Skipped     string            `json:"skipped,omitempty"` // why it was not read, when it was not
	Meta        map[string]string `json:"meta,omitempty"`    // a page's meta fields and their JSON types
	Fields      map[string]string `json:"fields,omitempty"`  // the object's (a page's first object's) fields and types
	Objects     int               `json:"objects,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Differences []Difference      `json:"differences"`
}

// Difference is one way an answer differs from the assumed shape, and
// what it means for a run.
type Difference struct {
	Field   string `json:"field"`
	Assumed string `json:"assumed"`
	Seen    string `json:"seen"`
	Meaning string `json:"meaning"`
	// FailsRows: the field is needed and unusable, so rows fail on it.
	FailsRows bool `json:"fails_rows,omitempty"`
}

func (d Difference) String() string { return d.Field + ": " + d.Meaning }

// assumedField is one field of an assumed shape [tags as in api.go].
type assumedField struct {
	name, jsonType string
	needed         bool   // the flow cannot go on without it
	ifMissing      string // what its absence means, for a field not needed
}

var (
	assumedBusiness = []assumedField{{"business_id", "number", false, "nothing: the business is asked for by its id"},
		{"name", "string", false, "the report names the business by its id"},
		{"perkville_url", "string", false, "customer messages cannot name the program's site"},
		{"resource_uri", "string", false, "nothing: pvenroll does not use it"}}
	assumedConnection = []assumedField{{"connection_id", "number", true, ""}, {"business", "string", true, ""},
		{"user", "string", true, ""}, {"status", "string", true, ""},
		{"external_membership_status", "string", false, "membership status is not known before a join: the dry run cannot foresee membership refusals, --sync-membership sends every row's"},
		{"last_mod_dt", "string", false, "nothing: pvenroll does not use it"}, {"resource_uri", "string", false, "ids come from connection_id alone"}}
	assumedAgreement = []assumedField{{"agreement_id", "number", true, ""}, {"accepted", "boolean", true, ""},
		{"version", "number", false, "nothing: pvenroll does not use it"}, {"title", "string", false, "nothing"}, {"text", "string", false, "nothing"}}
	assumedMeta = []assumedField{{"limit", "number", false, "the page size asked for is taken"}, {"offset", "number", false, "the offset asked for is taken"},
		{"next", "string", false, "the listing pages by offset until a short page"},
		{"total_count", "number", false, "the listing pages by offset until a short page, within the bounds of the rows"},
		{"previous", "string", false, "nothing: pvenroll does not use it"}}
)

// headersOfInterest are the answer headers a report keeps: rate limits,
// and what names the server or a proxy in front of it.
var headersOfInterest = []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy",
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Server", "Via", "X-Cache", "CF-Ray", "Content-Type"}

// RecordShapes reads, with GETs only, the business, a page of its
// connections, the first connection, and that customer's page of the
// agreements view, and records each answer's shape.
func RecordShapes(ctx context.Context, c *Client, business int64) *ShapeReport {
	rep := &ShapeReport{API: c.BaseURL(), Business: business}
	biz := c.recordShape(ctx, "business", BusinessPath(business), nil)
	rep.Shapes = append(rep.Shapes, compareObject(biz.rec, biz.object, assumedBusiness, "business", nil))

	q := url.Values{QueryBusiness: {itoa(business)}, QueryLimit: {"2"}, QueryOffset: {"0"}}
	page := c.recordShape(ctx, "connections page", PathConnections, q)
	first := page.firstObject()
	rep.Shapes = append(rep.Shapes, comparePage(page, assumedConnection, "connection", connectionShape, true))
	var conn Connection
	if first == nil || json.Unmarshal(first, &conn) != nil || conn.Shape() != nil {
		why := "the page held no connection (none yet, or the listing failed): run check again once the business has one"
		if first != nil {
			why = "the page's first connection is not usable (see the connections page)"
		}
		rep.Shapes = append(rep.Shapes, ShapeRecord{Shape: "connection", Skipped: why, Differences: []Difference{}},
			ShapeRecord{Shape: "agreements-view page", Skipped: "it needs a connection's user", Differences: []Difference{}})
		rep.noteRateLimit()
		return rep
	}
	one := c.recordShape(ctx, "connection", ConnectionPath(conn.ConnectionID), nil)
	rep.Shapes = append(rep.Shapes, compareObject(one.rec, one.object, assumedConnection, "connection", connectionShape))
	userID, _ := conn.UserID()
	aq := url.Values{QueryBusiness: {itoa(business)}, QueryUserID: {itoa(userID)}, QueryApplyToJoinFlow: {"true"}}
	ags := c.recordShape(ctx, "agreements-view page", PathAgreementsView, aq)
	rep.Shapes = append(rep.Shapes, comparePage(ags, assumedAgreement, "agreement", agreementShape, false))
	rep.noteRateLimit()
	return rep
}

// noteRateLimit adds, to the first answer that announced one, the rate
// limit its headers gave: Perkville publishes none [assumed].
func (rep *ShapeReport) noteRateLimit() {
	for i := range rep.Shapes {
		h := rep.Shapes[i].Headers
		for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
			limit := h[prefix+"Limit"]
			if limit == "" {
				continue
			}
			seen := fmt.Sprintf("%sLimit: %s, %sRemaining: %s, %sReset: %s", prefix, limit, prefix, h[prefix+"Remaining"], prefix, h[prefix+"Reset"])
			rep.Shapes[i].Differences = append(rep.Shapes[i].Differences, Difference{Field: "headers", Assumed: "no rate-limit headers (no limit is published)",
				Seen: seen, Meaning: "the API announces its rate limit (" + seen + "): keep --rate under it"})
			return
		}
	}
}

// answered is one recorded answer.
type answered struct {
	rec    ShapeRecord
	object fields // the answer as an object, when it is one
}

func (a answered) firstObject() json.RawMessage {
	var objs []json.RawMessage
	if json.Unmarshal(a.object["objects"], &objs) != nil || len(objs) == 0 {
		return nil
	}
	return objs[0]
}

func (c *Client) recordShape(ctx context.Context, shape, path string, q url.Values) answered {
	var raw json.RawMessage
	var status int
	var header http.Header
	err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, out: &raw, status: &status, header: &header})
	a := answered{rec: ShapeRecord{Shape: shape, Request: "GET " + path, Status: status, Differences: []Difference{}}}
	for _, h := range headersOfInterest {
		if v := header.Get(h); v != "" {
			if a.rec.Headers == nil {
				a.rec.Headers = map[string]string{}
			}
			// A server or proxy may quote the request's headers in its own.
			a.rec.Headers[h] = truncate(c.scrub.text(v), 100)
		}
	}
	if err != nil {
		a.rec.Error = err.Error()
		return a
	}
	f, bad := decodeObject(shape, raw)
	if bad != nil {
		a.rec.Error = bad.Error()
		return a
	}
	a.object = f
	return a
}

// shapeOf decodes an object as the flow does and returns its problems.
type shapeOf func(json.RawMessage) shapeProblems

func connectionShape(b json.RawMessage) shapeProblems {
	var c Connection
	_ = json.Unmarshal(b, &c)
	return c.shape
}

func agreementShape(b json.RawMessage) shapeProblems {
	var a Agreement
	_ = json.Unmarshal(b, &a)
	return a.shape
}

// comparePage records a page: its envelope, and its first object. Only a
// paged listing's envelope is compared: the agreements view is read as
// one page, whatever its meta says.
func comparePage(a answered, assumed []assumedField, object string, decode shapeOf, paged bool) ShapeRecord {
	rec := a.rec
	if a.object == nil {
		return rec
	}
	var meta fields
	_ = json.Unmarshal(a.object["meta"], &meta)
	rec.Meta = types(meta)
	switch {
	case !paged:
	case meta == nil:
		rec.Differences = append(rec.Differences, Difference{Field: "meta", Assumed: "object", Seen: JSONType(a.object["meta"]),
			Meaning: "no meta: the listing pages by offset until a short page"})
	default:
		for _, f := range assumedMeta {
			rec.Differences = append(rec.Differences, compareField("meta."+f.name, f, meta[f.name], nil)...)
		}
	}
	var objs []json.RawMessage
	if json.Unmarshal(a.object["objects"], &objs) != nil {
		rec.Differences = append(rec.Differences, Difference{Field: "objects", Assumed: "list", Seen: JSONType(a.object["objects"]),
			Meaning: "not a list: every lookup fails with unexpected_answer"})
		return rec
	}
	rec.Objects = len(objs)
	if len(objs) == 0 {
		rec.Differences = append(rec.Differences, Difference{Field: "objects", Assumed: "at least one " + object, Seen: "none",
			Meaning: "no " + object + " to compare: run check again once the business has one"})
		return rec
	}
	f, _ := decodeObject(object, objs[0])
	obj := compareObject(ShapeRecord{}, f, assumed, object, func(json.RawMessage) shapeProblems { return decode(objs[0]) })
	rec.Fields, rec.Differences = obj.Fields, append(rec.Differences, obj.Differences...)
	return rec
}

// compareObject records an object's fields and how they differ from the
// assumed ones. decode, when not nil, decodes it as the flow does, to say
// whether a difference is handled.
func compareObject(rec ShapeRecord, obj fields, assumed []assumedField, object string, decode shapeOf) ShapeRecord {
	if obj == nil {
		return rec
	}
	rec.Fields = types(obj)
	var problems shapeProblems
	if decode != nil {
		problems = decode(mustJSON(obj))
	}
	for _, f := range assumed {
		rec.Differences = append(rec.Differences, compareField(object+" "+f.name, f, obj[f.name], problems.about(f.name))...)
	}
	var unknown []string
	for k := range obj {
		if !slices.ContainsFunc(assumed, func(f assumedField) bool { return f.name == k }) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		rec.Differences = append(rec.Differences, Difference{Field: object + " fields", Assumed: "none other",
			Seen: strings.Join(unknown, ", "), Meaning: fmt.Sprintf("%s has fields pvenroll does not use (%s): ignored", object, strings.Join(unknown, ", "))})
	}
	return rec
}

// compareField says how a field differs from its assumed JSON type, and
// what that means: handled, or the rows that fail.
func compareField(label string, f assumedField, raw json.RawMessage, problem *ShapeError) []Difference {
	seen := JSONType(raw)
	if seen == f.jsonType || (seen == "null" && (f.name == "next" || f.name == "previous")) { // null on the last and first pages
		return nil
	}
	d := Difference{Field: label, Assumed: f.jsonType, Seen: seen}
	failing := problem != nil
	switch {
	case failing:
		d.Meaning = fmt.Sprintf("%s is %s: not usable, so rows fail with unexpected_answer naming it", label, describeJSON(raw))
		d.FailsRows = true
	case f.needed && seen == "missing":
		d.Meaning = label + " is missing: read from another field: handled"
	case f.needed:
		d.Meaning = fmt.Sprintf("%s is %s: handled", label, kindOf(seen))
	case seen == "missing" || seen == "null":
		d.Meaning = fmt.Sprintf("no %s: %s", label, f.ifMissing)
	case f.name == "version":
		d.Meaning = fmt.Sprintf("%s is %s: handled (kept as text)", label, kindOf(seen))
	default:
		d.Meaning = fmt.Sprintf("%s is %s: handled", label, kindOf(seen))
	}
	return []Difference{d}
}

// kindOf names a JSON type in a sentence: "text", "a number", "a list"…
func kindOf(jsonType string) string {
	switch jsonType {
	case "string":
		return "text"
	case "object":
		return "an object"
	}
	return "a " + jsonType
}

// types maps each field of an object to its JSON type.
func types(obj fields) map[string]string {
	if obj == nil {
		return nil
	}
	m := make(map[string]string, len(obj))
	for k, v := range obj {
		m[k] = JSONType(v)
	}
	return m
}
