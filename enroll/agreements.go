package enroll

// This file holds the run's knowledge of the business's join agreements:
// learnt from the first agreements view, then posted for every consenting
// row without another view (accepting is idempotent).

import (
	"slices"
	"sync"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// agreementCache is the business's join agreement ids, once a view showed
// them. Its zero value knows none.
type agreementCache struct {
	mu    sync.Mutex
	known bool
	ids   []int64
}

// learn notes the agreements of a view, if none was seen before.
func (c *agreementCache) learn(list []pv.Agreement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.learnLocked(list)
}

func (c *agreementCache) learnLocked(list []pv.Agreement) {
	if c.known {
		return
	}
	c.known = true
	for _, a := range list {
		c.ids = append(c.ids, a.AgreementID)
	}
}

// toAccept is the agreements a consenting row posts: the ones view shows
// unaccepted, the first time (other rows wait for that view rather than
// send their own); after that, every one known, unviewed.
func (c *agreementCache) toAccept(view func() ([]pv.Agreement, error)) ([]int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known {
		return slices.Clone(c.ids), nil
	}
	list, err := view()
	if err != nil {
		return nil, err
	}
	c.learnLocked(list)
	return unaccepted(list), nil
}

// count reports whether a view was seen, and how many agreements it showed.
func (c *agreementCache) count() (known bool, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.known, len(c.ids)
}

// unaccepted are the ids of list's agreements not yet accepted.
func unaccepted(list []pv.Agreement) []int64 {
	var ids []int64
	for _, a := range list {
		if !a.Accepted {
			ids = append(ids, a.AgreementID)
		}
	}
	return ids
}
