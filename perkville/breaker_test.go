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
// answers everything else looks like an outage to its call. When its
// retries are spent, one probe asks whether the API is up; it is, so the
// call gets one more attempt and then fails: 7 writes and a probe, where
// waiting for the breaker's 20 failures cost 21 writes, and doubling waits
// between them reached the 15 s ceiling a dozen times (47 s for one row in
// a CLI script).
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
	writes, probes := 0, 0
	for _, e := range s.Log() {
		switch {
		case e.Method == http.MethodPatch:
			writes++
		case e.Method == http.MethodGet && e.Path == pv.BusinessPath(business):
			probes++
		}
	}
	if writes != 7 || probes != 2 { // the preflight's read of the business, then the probe
		t.Errorf("%d writes and %d reads of the business; want 7 (the first, 5 retries, one after the probe) and 2", writes, probes)
	}
	var waited time.Duration
	for _, d := range clock.Waits() {
		waited += d
	}
	// The probe waits for nothing; the backoffs are at most 32 ms each
	// (1 ms << 5).
	if limit := 200 * time.Millisecond; waited > limit {
		t.Errorf("the call waited %v on the clock in all (%d waits); want at most %v", waited, len(clock.Waits()), limit)
	}
}
