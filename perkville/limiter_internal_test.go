package perkville

import (
	"testing"
	"time"
)

// 429s slow the shared rate down (and it climbs back). It reads the rate in
// force from the limiter itself: nothing outside the package needs it.
func TestThrottleLowersRate(t *testing.T) {
	l := newLimiter(40, realClock{})
	l.Throttled(10 * time.Millisecond)
	l.Throttled(10 * time.Millisecond) // same pause: cut once
	if r := float64(l.lim.Limit()); r != 20 {
		t.Fatalf("rate after one pause %v, want 20", r)
	}
	for i := 0; i < 40; i++ {
		l.Succeeded()
	}
	if r := float64(l.lim.Limit()); r != 40 {
		t.Fatalf("rate after successes %v, want back to 40", r)
	}
}
