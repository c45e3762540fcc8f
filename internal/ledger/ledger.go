package ledger

// The ledger is a bbolt file: crash-safe transactions and a file lock, so
// one run at a time. Per customer it keeps what the last run found
// (connection, outcome, a hash of the row); per run, when it ran on what
// input with what counts.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/pvenroll/pvenroll/enroll"
)

var (
	bucketCustomers = []byte("customers")
	bucketRuns      = []byte("runs")
	bucketMeta      = []byte("meta") // the file's origin
)

// ErrLocked: another run holds the state file.
var ErrLocked = errors.New("another pvenroll run holds the state file")

var _ enroll.Memory = (*Ledger)(nil)

// Run statuses.
const (
	RunRunning  = "running" // or killed: a run that never finished
	RunFinished = "finished"
	RunStopped  = "stopped" // interrupted, --max-duration or a fatal answer, with its report written
)

// entry is how the ledger stores an enroll.Memo.
type entry struct {
	ConnectionID int64          `json:"connection_id,omitempty"`
	Outcome      enroll.Outcome `json:"outcome"`
	Run          uint64         `json:"run"`
	Hash         string         `json:"hash"`
	Since        time.Time      `json:"since"`            // when this outcome was first seen
	Updated      time.Time      `json:"updated"`          // the run that last saw the row
	Checked      time.Time      `json:"checked,omitzero"` // when an API answer last decided it
}

// Run is one run's record.
type Run struct {
	ID      uint64                 `json:"id"`
	Input   string                 `json:"input"`
	SHA256  string                 `json:"sha256,omitempty"`
	Start   time.Time              `json:"start"`
	End     time.Time              `json:"end,omitzero"`
	Status  string                 `json:"status"`
	Counts  map[enroll.Outcome]int `json:"counts,omitempty"`
	Resumed int                    `json:"resumed,omitempty"`
	Skipped int                    `json:"skipped,omitempty"`
	// Out is the run's report directory: the same command run again
	// after a stop continues the report there.
	Out string `json:"out,omitempty"`
	// Grounds are the settings the run decided its rows on; nil in a run
	// of an older version.
	Grounds *enroll.Grounds `json:"grounds,omitempty"`
}

// Start is what a run is started with.
type Start struct {
	Input   string
	Out     string // the report directory
	At      time.Time
	Grounds enroll.Grounds
}

// Ledger is an open state file; it is a run's enroll.Memory. Record is
// safe for concurrent use.
type Ledger struct {
	db       *bolt.DB
	readOnly bool
	run      Run
	previous *Run  // the run before this one, if any
	earlier  []Run // the runs before this one, oldest first
	// lastFinished is the id of the newest run that finished: every run
	// after it stopped before its end, and their final rows are resumed.
	lastFinished uint64
	grounds      map[uint64]enroll.Grounds // of each run that recorded them

	commits committer
}

// lockWait is how long Open waits for another run's lock: not at all, in
// effect, so a second cron job exits at once instead of piling up.
const lockWait = 200 * time.Millisecond

// Open opens (creating) a state file for a run; readOnly for a dry run,
// which never writes it. A missing file opened read-only is an empty ledger.
func Open(path string, readOnly bool) (*Ledger, error) {
	// A link (even a dangling one) would have the ledger create or write
	// the file it points to: the state file is named as itself.
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("state file %s is a symbolic link; name the file itself", path)
	}
	if readOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return &Ledger{readOnly: true}, nil
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait, ReadOnly: readOnly})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("state file %s: %w; nothing was done", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	l := &Ledger{db: db, readOnly: readOnly}
	if !readOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketCustomers, bucketRuns, bucketMeta} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("state file %s: %w", path, err)
		}
	}
	runs, err := l.Runs()
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(runs) > 0 {
		l.previous = &runs[len(runs)-1]
	}
	l.earlier = runs
	l.grounds = map[uint64]enroll.Grounds{}
	for _, r := range runs {
		if r.Status == RunFinished {
			l.lastFinished = r.ID
		}
		if r.Grounds != nil {
			l.grounds[r.ID] = *r.Grounds
		}
	}
	return l, nil
}

// Begin records the start of this run.
func (l *Ledger) Begin(s Start) error {
	g := s.Grounds
	l.run = Run{Input: s.Input, Start: s.At, Status: RunRunning, Out: s.Out, Grounds: &g}
	if l.readOnly {
		return nil
	}
	return l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		id, _ := b.NextSequence()
		l.run.ID = id
		return putJSON(b, runKey(id), l.run)
	})
}

// Previous is the run before this one.
func (l *Ledger) Previous() *Run { return l.previous }

// Continues is the run whose report directory out (an absolute path) is,
// when that run is the one before this and did not finish: the same
// command run again after a stop continues its report there. Nil
// otherwise.
func (l *Ledger) Continues(out string) *Run {
	if p := l.previous; p != nil && p.Out == out && p.Status != RunFinished {
		return p
	}
	return nil
}

// Resumable reports whether a record of run id comes from a run that did
// not finish (killed, interrupted, stopped) since the last one that did: its
// settled outcomes stand, and are not sent again.
func (l *Ledger) Resumable(id uint64) bool {
	return id > l.lastFinished && (l.run.ID == 0 || id < l.run.ID)
}

// Grounds are the grounds run id decided its rows on.
func (l *Ledger) Grounds(id uint64) (enroll.Grounds, bool) {
	g, ok := l.grounds[id]
	return g, ok
}

// Prior is what the ledger knew of a customer before this run.
func (l *Ledger) Prior(key string) (enroll.Memo, bool) {
	if l.db == nil {
		return enroll.Memo{}, false
	}
	var e entry
	found := false
	_ = l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCustomers)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil && json.Unmarshal(v, &e) == nil {
			found = true
		}
		return nil
	})
	return enroll.Memo(e), found
}

// Finish records the end of this run and closes the file.
func (l *Ledger) Finish(end time.Time, sha string, status string, counts map[enroll.Outcome]int, resumed, skipped int) error {
	if l.db == nil {
		return nil
	}
	defer l.db.Close()
	if l.readOnly {
		return nil
	}
	if err := l.commits.flush(l.db); err != nil {
		return err
	}
	l.run.End, l.run.SHA256, l.run.Status, l.run.Counts = end, sha, status, counts
	l.run.Resumed, l.run.Skipped = resumed, skipped
	return l.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketRuns), runKey(l.run.ID), l.run)
	})
}

// Close releases the file without finishing the run (it stays "running",
// so the next run resumes it).
func (l *Ledger) Close() error {
	if l.db == nil {
		return nil
	}
	if !l.readOnly {
		_ = l.commits.flush(l.db)
	}
	return l.db.Close()
}

// History lists the last n runs, oldest first, for the report's chart of
// recent runs and `pvenroll state` (the chart's width is the caller's, so
// the ledger knows nothing of how runs are drawn). This run is last, as it
// stands (after Finish: with its end, status and counts); a dry run, which
// records nothing, is not in it. It reads what Open found, so it works
// after Finish has closed the file.
func (l *Ledger) History(n int) []Run {
	runs := slices.Clone(l.earlier[max(0, len(l.earlier)-n):])
	if l.run.ID != 0 {
		runs = append(runs, l.run)
	}
	return runs[max(0, len(runs)-n):]
}

// Runs lists the runs, oldest first.
func (l *Ledger) Runs() ([]Run, error) {
	var runs []Run
	err := eachJSON(l, bucketRuns, func(r Run) { runs = append(runs, r) })
	return runs, err
}

// Outcomes counts customers by their last outcome.
func (l *Ledger) Outcomes() (map[enroll.Outcome]int, error) {
	counts := map[enroll.Outcome]int{}
	err := eachJSON(l, bucketCustomers, func(e entry) { counts[e.Outcome]++ })
	return counts, err
}

// eachJSON decodes every value of a bucket, in key order. A ledger without
// a file (a dry run's) or without the bucket yields nothing.
func eachJSON[T any](l *Ledger, bucket []byte, fn func(T)) error {
	if l.db == nil {
		return nil
	}
	return l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			fn(x)
			return nil
		})
	})
}

func runKey(id uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], id)
	return k[:]
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	return b.Put(key, bytes.TrimSpace(buf.Bytes()))
}
