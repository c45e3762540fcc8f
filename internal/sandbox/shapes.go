package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// Shapes are the world setting "shapes": answers the API's documentation
// leaves open, each one of the plausible shapes the real API may give
// where pvenroll assumes another. The zero value answers the shapes
// pvenroll assumes (docs/perkville-api.md).
type Shapes struct {
	// TextVersions: an agreement's version is text ("v3.0"), not 3.
	TextVersions bool `json:"text_versions,omitempty"`
	// StringIDs: every *_id of an answer is a numeric string ("6523892").
	StringIDs bool `json:"string_ids,omitempty"`
	// EmptyWrites: a join (PATCH) and an external-member POST answer this
	// status (200, 202 or 204) with no body, once applied.
	EmptyWrites int `json:"empty_writes,omitempty"`
	// NoPagingMeta: a listing's meta holds limit and offset only: no
	// total_count, no next, no previous.
	NoPagingMeta bool `json:"no_paging_meta,omitempty"`
	// RateLimit: answers carry RateLimit-Limit, -Remaining and -Reset (and
	// the X-RateLimit-* spellings) for a window of a minute with this many
	// requests; the sandbox counts but does not refuse past it.
	RateLimit int `json:"rate_limit,omitempty"`
}

// shapeState is the rate-limit window the shapes count requests in.
type shapeState struct {
	windowStart time.Time
	inWindow    int
}

// rateHeaders adds the rate-limit headers of RateLimit to an answer.
// Called with s.mu held.
func (s *Sandbox) rateHeaders(h http.Header) {
	limit := s.world.Shapes.RateLimit
	if limit <= 0 {
		return
	}
	now := s.now()
	st := &s.shapeState
	if now.Sub(st.windowStart) >= time.Minute {
		st.windowStart, st.inWindow = now, 0
	}
	st.inWindow++
	remaining := strconv.Itoa(max(0, limit-st.inWindow))
	reset := strconv.Itoa(max(1, int((time.Minute - now.Sub(st.windowStart)).Seconds())))
	for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
		h.Set(prefix+"Limit", strconv.Itoa(limit))
		h.Set(prefix+"Remaining", remaining)
		h.Set(prefix+"Reset", reset)
	}
}

// shaped is a handler's result as the world's shapes answer it: an empty
// write, ids as strings, a listing without paging fields, a version as
// text. (A create answered without its connection is the business setting
// create_answers_without_connection.)
func (s *Sandbox) shaped(res result, endpoint string) answer {
	sh := s.world.Shapes
	isWrite := endpoint == pv.Endpoint(http.MethodPatch, pv.ConnectionPath(1)) ||
		endpoint == pv.Endpoint(http.MethodPost, pv.PathExternalMembers)
	if sh.EmptyWrites != 0 && res.applied && isWrite && res.status < 300 {
		return answer{status: sh.EmptyWrites, header: http.Header{}}
	}
	a := jsonAnswer(res.status, res.body)
	if res.status >= 300 || (!sh.StringIDs && !sh.NoPagingMeta && !sh.TextVersions) {
		return a
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return a
	}
	obj, _ := v.(map[string]any)
	if meta, ok := obj["meta"].(map[string]any); ok && sh.NoPagingMeta {
		delete(meta, "total_count")
		delete(meta, "next")
		delete(meta, "previous")
	}
	reshape(v, sh)
	return jsonAnswer(res.status, v)
}

// reshape turns, in place, ids into strings (StringIDs) and versions into
// text (TextVersions).
func reshape(v any, sh Shapes) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			reshape(e, sh)
		}
	case map[string]any:
		for k, e := range x {
			n, isNumber := e.(json.Number)
			switch {
			case isNumber && sh.StringIDs && strings.HasSuffix(k, "_id"):
				x[k] = n.String()
			case isNumber && sh.TextVersions && k == "version":
				x[k] = "v" + n.String() + ".0"
			default:
				reshape(e, sh)
			}
		}
	}
}
