package perkville_test

import (
	"context"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// Answers that carry rate-limit headers are kept under: once the window
// has no request left, every request waits for its reset, as under a
// Retry-After. (What the headers say is parseQuota's test; check --report
// records them as the API sent them.)
func TestRateLimitHeadersAreKept(t *testing.T) {
	w := testWorld()
	w.Shapes.RateLimit = 5 // a minute's window; the sandbox counts, and refuses nothing
	s := sandbox.NewServer(w, sandbox.Faults{})
	t.Cleanup(func() { s.Close() })
	clock := &fakeClock{}
	c := newClient(t, s.URL, adminToken, pv.Options{Clock: clock})
	for i := range 8 {
		if _, err := c.ConnectionByUserID(context.Background(), business, 102); err != nil {
			t.Fatal(err)
		}
		if i < 5 && len(clock.Waits()) > 0 {
			t.Fatalf("request %d: waited %v with requests left in the window", i+1, clock.Waits())
		}
	}
	long := 0
	for _, d := range clock.Waits() {
		if d >= 30*time.Second {
			long++
		}
	}
	if long != 3 {
		t.Fatalf("waits %v: want one for the window's reset before each of the last 3 requests", clock.Waits())
	}
}
