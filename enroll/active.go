package enroll

// This file holds the run's listing of the business's ACTIVE connections:
// listed once, the first time an unchanged row of a joined (or waiting)
// customer needs confirming, so that such rows cost no call of their own.

import (
	"context"
	"sync"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// activeListing is the business's ACTIVE connections (their membership
// status), listed once a run, on the run's context: the listing serves
// every row, so a row that stops while it is read (a fatal stop cancels
// the rows that sent no write) stops waiting for it, and the listing goes
// on for the others, as a batch of acceptances does (batcher.go).
type activeListing struct {
	ctx          context.Context // the run's requests' (stopper.reqCtx), not a row's
	api          *pv.Client
	business     int64
	expectedRows int // Options.ExpectedRows: the listing reads no more pages than they can need

	start sync.Once
	done  chan struct{} // closed once the listing has ended; byID and err are then set
	byID  map[int64]string
	err   error
}

func newActiveListing(ctx context.Context, api *pv.Client, business int64, expectedRows int) *activeListing {
	return &activeListing{ctx: ctx, api: api, business: business, expectedRows: expectedRows, done: make(chan struct{})}
}

// connections are the listed connections, by id. Without a listing (an
// error that does not stop the run) it is empty, so that every row is
// looked up as usual; a fatal error is returned, and ctx's error when the
// row stopped before the listing ended.
func (l *activeListing) connections(ctx context.Context) (map[int64]string, error) {
	l.start.Do(func() { go l.list() })
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	switch {
	case l.err != nil && pv.IsFatal(l.err):
		return nil, l.err
	case l.err != nil:
		return nil, nil
	}
	return l.byID, nil
}

// list reads the listing. It is not charged to the row that asked (l.api,
// not the row's client): the listing serves the whole run. It keeps each
// connection's id and membership status only, and is bounded by the rows'
// needs (pv.ListBoundsFor): past that, or cut short by the run's end, the
// rows are looked up one by one.
func (l *activeListing) list() {
	defer close(l.done)
	byID := map[int64]string{}
	for conn, err := range l.api.Connections(l.ctx, l.business, pv.StatusActive, pv.ListBoundsFor(l.expectedRows)) {
		if err != nil {
			l.err = err
			return
		}
		if conn.Status != pv.StatusActive {
			continue // a listing that ignored its filter: its own status counts
		}
		byID[conn.ConnectionID] = conn.ExternalMembershipStatus
	}
	l.byID = byID
}
