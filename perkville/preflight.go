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
	Name   string
	OK     bool
	Detail string
}

// Preflight checks, with reads only, that the token works for the business
// and that the answers have the shapes this package assumes. The first
// check is the token's.
func Preflight(ctx context.Context, c *Client, business int64) []Check {
	var out []Check
	add := func(name string, err error, detail string) bool {
		ch := Check{Name: name, OK: err == nil, Detail: detail}
		if err != nil {
			ch.Detail = err.Error()
		}
		out = append(out, ch)
		return err == nil
	}

	var raw map[string]json.RawMessage
	err := c.do(ctx, http.MethodGet, BusinessPath(business), nil, nil, &raw)
	var ae *Error
	tokenErr := err
	if errors.As(err, &ae) && ae.Status != http.StatusUnauthorized {
		tokenErr = nil
	}
	if !add("token accepted", tokenErr, "") {
		return out
	}
	if !add(fmt.Sprintf("business %d found", business), err, "") {
		return out
	}
	var b Business
	_ = json.Unmarshal(mustJSON(raw), &b)
	add("business has perkville_url (used in customer messages)", need(raw, "perkville_url", "name", "resource_uri"), b.Name+" "+b.PerkvilleURL)

	var page map[string]json.RawMessage
	q := url.Values{QueryBusiness: {itoa(business)}, QueryLimit: {"2"}, QueryOffset: {"0"}}
	err = c.do(ctx, http.MethodGet, PathConnections, q, nil, &page)
	if !add("admin rights: list the business's connections", err, "") {
		return out
	}
	var meta map[string]json.RawMessage
	_ = json.Unmarshal(page["meta"], &meta)
	envErr := need(page, "meta", "objects")
	if envErr == nil {
		envErr = need(meta, "limit", "offset", "next", "total_count")
	}
	add("list envelope: meta.limit, offset, next, total_count and objects", envErr, "")
	var objs []map[string]json.RawMessage
	_ = json.Unmarshal(page["objects"], &objs)
	if len(objs) == 0 {
		add("connection fields", nil, "no connection to look at yet: skipped")
		return out
	}
	err = need(objs[0], "connection_id", "status", "user", "resource_uri")
	if err == nil {
		var conn Connection
		_ = json.Unmarshal(mustJSON(objs[0]), &conn)
		if _, e := conn.UserID(); e != nil {
			err = e
		} else if !knownStatus(conn.Status) {
			err = fmt.Errorf("status %q is not one of ACTIVE, INACTIVE, PENDING, IMPORTED", conn.Status)
		}
	}
	add("connection fields: connection_id, status, user URI, resource_uri", err, "")
	return out
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
