package enroll

import (
	"testing"
	"time"
)

// A cap is met a little early, so that --recheck-after 24h checks every
// night of a job that starts a few minutes earlier than the night before;
// a short cap is met early by an eighth of it at most.
func TestRecheckCapIsMetALittleEarly(t *testing.T) {
	checked := time.Date(2026, 11, 1, 2, 15, 0, 0, time.UTC)
	far := checked.Add(30 * day)
	for _, c := range []struct {
		limit, after time.Duration
		due          bool
	}{
		{24 * time.Hour, 24*time.Hour - 10*time.Minute, true},
		{24 * time.Hour, 20 * time.Hour, false},
		{8 * time.Hour, 7 * time.Hour, true},
		{8 * time.Hour, 6*time.Hour + 59*time.Minute, false},
		{0, 29 * day, false},
		{0, 30 * day, true},
	} {
		next := far
		if c.limit > 0 {
			next = checked.Add(c.limit)
		}
		if got := recheckDue(checked.Add(c.after), checked, next, c.limit); got != c.due {
			t.Errorf("cap %s, %s after the last check: due %v, want %v", c.limit, c.after, got, c.due)
		}
	}
}
