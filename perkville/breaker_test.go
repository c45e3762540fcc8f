package perkville_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// A lone broken record (every write to it answers 500) against an API that
// answers everything else looks like an outage to its call: it keeps
// retrying past its retries until the breaker's probe says the API is up.
// Those extra retries wait the last ordinary backoff, not a doubling one:
// a doubling wait reached the 15 s ceiling a dozen times (47 s for one
// row in a CLI script) before the probe could speak.
func TestLoneBrokenRecordWaitsOnlyForTheProbe(t *testing.T) {
	w := testWorld()
	w.Users[0].Connection.FailWrites = true
	s := sandbox.NewServer(w, sandbox.Faults{})
	t.Cleanup(func() { s.Close() })
	clock := &fakeClock{}
	c := newClient(t, s.URL, adminToken, pv.Options{Retries: 5, BackoffBase: time.Millisecond, BackoffMax: 15 * time.Second, Clock: clock})
	ctx := context.Background()
	if _, err := c.Business(ctx, business); err != nil { // arms the breaker
		t.Fatal(err)
	}
	_, err := c.Activate(ctx, business, w.Users[0].Connection.ConnectionID)
	if e := apiErr(t, err); e.Status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", e.Status)
	}
	var waited time.Duration
	for _, d := range clock.Waits() {
		waited += d
	}
	// The probe's first wait is a second; the ordinary backoffs past the
	// fifth retry are at most 32 ms each (1 ms << 5).
	if limit := 2 * time.Second; waited > limit {
		t.Errorf("the call waited %v on the clock in all (%d waits); want at most %v", waited, len(clock.Waits()), limit)
	}
}
