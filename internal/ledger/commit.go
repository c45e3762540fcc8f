package ledger

import (
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pvenroll/pvenroll/enroll"
)

// Records are committed in batches: a bbolt commit syncs the file, too
// slow for each row of a fast run. A batch is committed when it holds
// CommitRows records or CommitAfter after its first record, whichever
// comes first, so a crash (kill -9, power loss) loses at most the records
// of CommitRows rows or of CommitAfter, however many workers the run has;
// the rows it loses are looked up again by the next run, never blindly
// re-sent.
const (
	CommitRows  = 16
	CommitAfter = 200 * time.Millisecond
)

// committer holds the records not yet committed.
type committer struct {
	mu      sync.Mutex
	pending map[string]entry
	err     error // the first failed commit: every later Record returns it
	timer   stopFunc
	// after starts the timer of a batch (time.AfterFunc, or a test's).
	after func(time.Duration, func()) stopFunc
}

type stopFunc func() bool

func afterFunc(d time.Duration, f func()) stopFunc { return time.AfterFunc(d, f).Stop }

// Record notes a customer's outcome in this run. It returns the error of
// a failed commit (this record's batch, or an earlier one): the run must
// stop, since what it does next would not be remembered.
func (l *Ledger) Record(key string, m enroll.Memo) error {
	if l.readOnly {
		return nil
	}
	e := entry(m)
	if e.Run == 0 || !l.Resumable(e.Run) {
		e.Run = l.run.ID // a resumed row keeps the run that decided it
	}
	return l.commits.add(l.db, key, e)
}

// Flush commits the records not yet committed.
func (l *Ledger) Flush() error {
	if l.readOnly {
		return nil
	}
	return l.commits.flush(l.db)
}

func (c *committer) add(db *bolt.DB, key string, e entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if c.pending == nil {
		c.pending = map[string]entry{}
	}
	c.pending[key] = e
	switch {
	case len(c.pending) >= CommitRows:
		c.err = c.commitLocked(db)
	case c.timer == nil:
		after := c.after
		if after == nil {
			after = afterFunc
		}
		c.timer = after(CommitAfter, func() { _ = c.flush(db) })
	}
	return c.err
}

func (c *committer) flush(db *bolt.DB) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = c.commitLocked(db)
	}
	return c.err
}

func (c *committer) commitLocked(db *bolt.DB) error {
	if c.timer != nil {
		c.timer()
		c.timer = nil
	}
	if len(c.pending) == 0 {
		return nil
	}
	keys := make([]string, 0, len(c.pending))
	for k := range c.pending {
		keys = append(keys, k)
	}
	slices.Sort(keys) // sequential inserts keep bbolt's pages dense
	err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCustomers)
		for _, k := range keys {
			if err := putJSON(b, []byte(k), c.pending[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the state file: %w", err)
	}
	clear(c.pending)
	return nil
}
