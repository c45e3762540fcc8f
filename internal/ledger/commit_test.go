package ledger

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pvenroll/pvenroll/enroll"
)

// committed counts the customers the file holds, as a crash would leave it.
func committed(t *testing.T, l *Ledger) int {
	t.Helper()
	n := 0
	must(t, l.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketCustomers).Stats().KeyN
		return nil
	}))
	return n
}

// Records are committed every CommitRows rows, or CommitAfter after a
// batch's first record, whichever comes first; nothing else (the run's
// workers) sets the cadence.
func TestRecordsCommitEveryKRowsOrTMilliseconds(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "state.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var timers []time.Duration
	var fire func()
	l.commits.after = func(d time.Duration, f func()) stopFunc {
		timers, fire = append(timers, d), f
		return func() bool { return true }
	}
	must(t, l.Begin(Start{Input: "a.csv", At: time.Now()}))
	record := func(i int) {
		must(t, l.Record(fmt.Sprintf("email c%d@x.co", i), enroll.Memo{Outcome: "joined", Hash: "h"}))
	}

	for i := range CommitRows - 1 {
		record(i)
	}
	if n := committed(t, l); n != 0 || len(timers) != 1 || timers[0] != CommitAfter {
		t.Fatalf("after %d records: %d committed, timers %v; want 0 and one timer of %s", CommitRows-1, n, timers, CommitAfter)
	}
	record(CommitRows - 1)
	if n := committed(t, l); n != CommitRows {
		t.Fatalf("after %d records: %d committed", CommitRows, n)
	}

	// A slow trickle: the batch's timer commits it.
	record(CommitRows)
	if n := committed(t, l); n != CommitRows || len(timers) != 2 {
		t.Fatalf("one record into a new batch: %d committed, %d timers", n, len(timers))
	}
	fire()
	if n := committed(t, l); n != CommitRows+1 {
		t.Fatalf("after the batch's timer: %d committed, want %d", n, CommitRows+1)
	}
}
