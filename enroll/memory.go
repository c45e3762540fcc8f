package enroll

import (
	"time"

	"github.com/pvenroll/pvenroll/internal/export"
	"github.com/pvenroll/pvenroll/report"
)

// Memory is what a run remembers of earlier runs over the same customers
// (--state): the run ledger implements it. enroll names only the calls it
// makes, so that it decides rows without knowing how memory is stored, and
// tests can give it any memory they like.
type Memory interface {
	// Prior is what earlier runs learnt of a customer.
	Prior(key string) (Memo, bool)
	// Resumable reports whether run id stopped before its end since the
	// last run that finished: its settled outcomes stand, and are not sent
	// again.
	Resumable(run uint64) bool
	// Record notes a customer's outcome in this run.
	Record(key string, m Memo) error
}

// Memo is what memory holds of one customer.
type Memo struct {
	ConnectionID int64
	Outcome      report.Outcome
	Run          uint64
	Hash         string    // the row's content, export.Record.Hash
	Since        time.Time // when this outcome was first seen
	Updated      time.Time // the run that last saw the row
}

// memo is what a run records of a row's result; start is the run's.
func memo(r report.Result, rec *export.Record, start time.Time) Memo {
	since := start
	if r.PriorOutcome == r.Outcome && !r.PriorSince.IsZero() {
		since = r.PriorSince
	}
	return Memo{ConnectionID: r.ConnectionID, Outcome: r.Outcome, Hash: rec.Hash(), Since: since, Updated: start}
}
