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
// status), listed once a run.
type activeListing struct {
	api          *pv.Client
	business     int64
	expectedRows int // Options.ExpectedRows: the listing reads no more pages than they can need

	once sync.Once
	byID map[int64]string
	err  error
}

// connections are the listed connections, by id. Without a listing (an
// error that does not stop the run) it is empty, so that every row is
// looked up as usual; a fatal error is returned.
func (l *activeListing) connections(ctx context.Context) (map[int64]string, error) {
	l.once.Do(func() {
		// Not charged to the row that asked (l.api, not the row's
		// client): the listing serves the whole run. It keeps each
		// connection's id and membership status only, and is bounded by
		// the rows' needs (pv.ListBoundsFor): past that, or cut short by
		// a stop, the rows are looked up one by one.
		l.byID = map[int64]string{}
		for conn, err := range l.api.Connections(ctx, l.business, pv.StatusActive, pv.ListBoundsFor(l.expectedRows)) {
			if err != nil {
				l.err = err
				return
			}
			if conn.Status != pv.StatusActive {
				continue // a listing that ignored its filter: its own status counts
			}
			l.byID[conn.ConnectionID] = conn.ExternalMembershipStatus
		}
	})
	switch {
	case l.err != nil && pv.IsFatal(l.err):
		return nil, l.err
	case l.err != nil:
		return nil, nil
	}
	return l.byID, nil
}
