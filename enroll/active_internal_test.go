package enroll

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// listingAnswer is what one row's asking for the ACTIVE listing returned.
type listingAnswer struct {
	byID map[int64]string
	err  error
}

func askListing(ctx context.Context, l *activeListing) chan listingAnswer {
	ch := make(chan listingAnswer, 1)
	go func() {
		byID, err := l.connections(ctx)
		ch <- listingAnswer{byID, err}
	}()
	return ch
}

// receive waits for a value of ch, at most a generous deadline.
func receive[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing after 10 s", what)
		var none T
		return none
	}
}

// The ACTIVE listing runs on the run's context, not on the row that first
// asked for it: that row stopping while the listing is read (as a fatal
// stop cancels the rows that sent no write) ends its own wait only, and
// the other rows still get the listing.
func TestActiveListingOutlivesTheRowThatAsked(t *testing.T) {
	w := batchWorld(3)
	w.Users[1].Connection = &sandbox.Connection{ConnectionID: 502, Status: pv.StatusActive, ExternalMembershipStatus: "ACTIVE"}
	sb := sandbox.New(w, sandbox.Faults{})
	listing := make(chan struct{}, 1) // the listing's request has arrived
	release := make(chan struct{})    // let it be answered
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get(pv.QueryStatus) == pv.StatusActive {
			select {
			case listing <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		sb.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	api, err := pv.New(pv.Options{BaseURL: srv.URL, Token: batchToken})
	if err != nil {
		t.Fatal(err)
	}
	l := newActiveListing(context.Background(), api, 25, 3)

	rowA, stopA := context.WithCancel(context.Background())
	a := askListing(rowA, l)
	receive(t, "the listing's request", listing)
	stopA()
	if got := receive(t, "row A, stopped", a); !errors.Is(got.err, context.Canceled) || got.byID != nil {
		t.Fatalf("row A, stopped while the listing was read: %v %v; want its own context's error", got.byID, got.err)
	}
	b := askListing(context.Background(), l)
	close(release)
	got := receive(t, "row B", b)
	if got.err != nil || len(got.byID) != 1 || got.byID[502] != "ACTIVE" {
		t.Fatalf("row B, after row A stopped: %v %v; want the listing, connection 502 ACTIVE", got.byID, got.err)
	}
}
