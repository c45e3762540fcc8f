package ledger

import (
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Origin is the API and business a state file's records come from. A state
// file holds what one API said of one business's customers: read against
// another (the README's rehearsal on the sandbox, then the real API), it
// would resume and skip rows that were never sent there.
type Origin struct {
	API      string `json:"api"` // the base URL, or "built-in sandbox"
	Business int64  `json:"business"`
}

func (o Origin) String() string { return fmt.Sprintf("business %d at %s", o.Business, o.API) }

var keyOrigin = []byte("origin")

// OriginError refuses a state file of another API or business.
type OriginError struct {
	Path       string
	File, This Origin
}

func (e *OriginError) Error() string {
	return fmt.Sprintf("state file %s holds the runs of %s, not of %s; nothing was done", e.Path, e.File, e.This)
}

// ErrOtherOrigin matches an *OriginError.
var ErrOtherOrigin = errors.New("the state file is another API's or business's")

func (e *OriginError) Is(target error) bool { return target == ErrOtherOrigin }

// Adopt checks that the state file at path is o's: a file that names no
// origin yet (new, or of an older version) takes o, unless read-only.
func (l *Ledger) Adopt(path string, o Origin) error {
	if l.db == nil {
		return nil // a dry run's missing file
	}
	var have *Origin
	err := l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if b == nil {
			return nil
		}
		if v := b.Get(keyOrigin); v != nil {
			have = new(Origin)
			return json.Unmarshal(v, have)
		}
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("state file %s: %w", path, err)
	case have != nil && *have != o:
		return &OriginError{Path: path, File: *have, This: o}
	case have != nil || l.readOnly:
		return nil
	}
	return l.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketMeta), keyOrigin, o) })
}
