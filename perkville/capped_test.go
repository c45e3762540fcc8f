package perkville_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// limitsSeen records the limit each request asked for.
type limitsSeen struct {
	mu     sync.Mutex
	limits []string
}

func (l *limitsSeen) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.limits...)
}

// manyObjects answers every request with a page of n empty objects (3
// bytes each: 300,000 of them fit the 1 MiB cap of a lookup's answer).
func manyObjects(n int, seen *limitsSeen) http.HandlerFunc {
	body := `{"meta":{"limit":1000,"offset":0,"next":null,"total_count":1},"objects":[{}` + strings.Repeat(`,{}`, n-1) + `]}`
	return func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.limits = append(seen.limits, r.URL.Query().Get(pv.QueryLimit))
		seen.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body)) //nolint:errcheck // the client may be gone
	}
}

// A lookup asks for at most two connections and refuses an answer with
// more, without decoding them; a listing page with more connections than
// its limit abandons the listing.
func TestMoreObjectsThanAskedForAreRefused(t *testing.T) {
	var seen limitsSeen
	url := hostile(t, manyObjects(300_000, &seen))
	c := newClient(t, url, adminToken, pv.Options{})
	_, err := c.ConnectionByEmail(context.Background(), business, "pat@example.com")
	var ua *pv.UnexpectedAnswer
	if !errors.As(err, &ua) || pv.ClassOf(err) != pv.ClassRow || !strings.Contains(err.Error(), "more than 2") {
		t.Fatalf("lookup: %v (%T); want an unexpected answer of more than 2 connections", err, err)
	}
	if limits := seen.get(); len(limits) != 1 || limits[0] != "2" {
		t.Fatalf("lookup asked for limit %q, want one request with 2", limits)
	}

	url = hostile(t, manyObjects(11, &limitsSeen{}))
	c = newClient(t, url, adminToken, pv.Options{})
	n := 0
	for _, err = range c.Connections(context.Background(), business, "", pv.ListBounds{PageSize: 10}) {
		if err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, pv.ErrListingAbandoned) || !errors.As(err, &ua) || n != 0 {
		t.Fatalf("listing: %d connections then %v; want the page of 11 for limit 10 refused", n, err)
	}
}
