package perkville

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Quota is what an answer's rate-limit headers said: RateLimit-Limit,
// -Remaining and -Reset (the IETF draft's fields), or their X-RateLimit-*
// spellings. The pacer keeps under it as it does under Retry-After: when
// no request is left in the window, every request waits for its reset.
type Quota struct {
	Header    string        // the spelling seen: "RateLimit-" or "X-RateLimit-"
	Limit     int           // requests a window allows
	Remaining int           // left in the window
	Reset     time.Duration // until the window resets
}

// epochFloor tells a Reset given as a Unix time (as some X-RateLimit-Reset
// headers are) from one given in seconds from now.
const epochFloor = 1_000_000_000

// parseQuota reads an answer's rate-limit headers; ok is false when it has
// none (or none that reads as a number).
func parseQuota(h http.Header, now time.Time) (q Quota, ok bool) {
	for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
		limit, err1 := headerInt(h, prefix+"Limit")
		remaining, err2 := headerInt(h, prefix+"Remaining")
		if err1 != nil || err2 != nil {
			continue
		}
		q = Quota{Header: prefix, Limit: limit, Remaining: remaining}
		if reset, err := headerInt(h, prefix+"Reset"); err == nil && reset > 0 {
			q.Reset = time.Duration(reset) * time.Second
			if reset >= epochFloor {
				q.Reset = max(time.Unix(int64(reset), 0).Sub(now), 0)
			}
		}
		return q, true
	}
	return Quota{}, false
}

// headerInt reads a header as a non-negative integer; the draft's
// structured form ("100;w=60") counts by its first item.
func headerInt(h http.Header, name string) (int, error) {
	v := strings.TrimSpace(h.Get(name))
	if i := strings.IndexAny(v, ";,"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}
