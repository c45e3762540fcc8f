package perkville_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// cutOff answers 200 with the headers and the start of a body, then stalls
// until the client gives up (stall) or closes the connection (reset).
func cutOff(stall bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "400")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"objects": [`)) //nolint:errcheck // the client may be gone
		rc := http.NewResponseController(w)
		rc.Flush() //nolint:errcheck
		if !stall {
			conn, _, err := rc.Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second): // bounds the test if the client never gives up
		}
	}
}

// An answer cut off while its body is read is a lost answer, not a 200: a
// lookup is retried as after any timeout, and a create is not re-sent
// (the caller looks before sending it again).
func TestAnswerCutOffWhileReadIsLost(t *testing.T) {
	for name, stall := range map[string]bool{"stall": true, "reset": false} {
		t.Run(name, func(t *testing.T) {
			url := hostile(t, cutOff(stall))
			ctx := context.Background()
			c := newClient(t, url, adminToken, pv.Options{Timeout: 100 * time.Millisecond, Retries: 2})
			_, err := c.ConnectionByEmail(ctx, business, "pat@example.com")
			e := apiErr(t, err)
			if e.Status != 0 || !e.Unreached() || e.Class() != pv.ClassRetryable {
				t.Fatalf("lookup: %v: status %d, class %v; want a lost answer (status 0, retryable)", e, e.Status, e.Class())
			}
			if n := c.Stats.Snapshot().Requests; n != 3 {
				t.Fatalf("lookup sent %d times, want 3 (retried twice)", n)
			}
			w := newClient(t, url, adminToken, pv.Options{Timeout: 100 * time.Millisecond, Retries: 2})
			_, _, err = w.CreateExternalMember(ctx, pv.NewExternalMember{Business: business, ExternalSystemID: "S",
				ExternalMemberID: "1", UserEmail: "a@b.co"})
			e = apiErr(t, err)
			if e.Status != 0 || pv.ClassOf(err) != pv.ClassRetryable {
				t.Fatalf("create: %v: status %d; want a lost answer the caller looks after", e, e.Status)
			}
			if n := w.Stats.Snapshot().Requests; n != 1 {
				t.Fatalf("create sent %d times, want once", n)
			}
		})
	}
}
