package perkville_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// listAll lists the ACTIVE connections; it returns their ids, the pages
// fetched, and the error that ended the listing.
func listAll(t *testing.T, s *sandbox.Server, b pv.ListBounds) (map[int64]bool, int, error) {
	t.Helper()
	s.ResetLog()
	c := newClient(t, s.URL, adminToken, pv.Options{})
	seen := map[int64]bool{}
	var last error
	for conn, err := range c.Connections(context.Background(), business, pv.StatusActive, b) {
		if err != nil {
			last = err
			break
		}
		if seen[conn.ConnectionID] {
			t.Fatalf("connection %d twice", conn.ConnectionID)
		}
		seen[conn.ConnectionID] = true
	}
	pages := 0
	for _, e := range s.Log() {
		if e.Endpoint == "GET /v2/connections/" {
			pages++
		}
	}
	return seen, pages, last
}

// Without next or total_count, the listing pages by offset until a short
// page: all 46 ACTIVE connections at 7 a page, in 7 pages.
func TestListingPagesByOffset(t *testing.T) {
	w := testWorld()
	w.Shapes.NoPagingMeta = true
	s := sandbox.NewServer(w, sandbox.Faults{})
	t.Cleanup(func() { s.Close() })
	seen, pages, err := listAll(t, s, pv.ListBounds{PageSize: 7})
	if err != nil || len(seen) != 46 || pages != 7 {
		t.Fatalf("%d connections in %d pages: %v", len(seen), pages, err)
	}
	// A page exactly full ends the listing one empty page later.
	seen, pages, err = listAll(t, s, pv.ListBounds{PageSize: 23})
	if err != nil || len(seen) != 46 || pages != 3 {
		t.Fatalf("%d connections in %d pages: %v", len(seen), pages, err)
	}
}

// A listing without end (every page full, a next further on, total_count
// 10^12) is abandoned at its bounds: the pages the rows can need plus two,
// or its bytes; it never runs on.
func TestEndlessListingIsBounded(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{EndlessListing: true})
	for name, tt := range map[string]struct {
		bounds pv.ListBounds
		pages  int
		why    string
	}{
		"rows":  {pv.ListBoundsFor(2500), 4, "after 4 pages, the most the rows can need"},
		"bytes": {pv.ListBounds{PageSize: 1000, MaxPages: 1000, MaxBytes: 2 << 20}, 3, "its answers passed 2 MiB in all after 2 pages"},
		// An input of unknown length (standard input), at 10 a page.
		"unknown": {pv.ListBounds{PageSize: 10}, pv.DefaultListingPages, "after 100 pages"},
	} {
		t.Run(name, func(t *testing.T) {
			seen, pages, err := listAll(t, s, tt.bounds)
			if !errors.Is(err, pv.ErrListingAbandoned) || pv.IsFatal(err) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("ended with %v", err)
			}
			if pages != tt.pages || len(seen) > tt.pages*1000 {
				t.Fatalf("%d pages, %d connections; want %d pages", pages, len(seen), tt.pages)
			}
		})
	}
}
