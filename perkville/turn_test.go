package perkville_test

import (
	"context"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// A turn taken with Turn is spent by the request sent on it, which does not wait
// for another. At one request per 100 s, a second wait could not end
// before the deadline, and rate.Limiter says so at once instead of sleeping.
func TestTurnIsSpentByTheNextRequest(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	c := newClient(t, s.URL, adminToken, pv.Options{Rate: 0.01})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	turn, err := c.Turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	items := []pv.AgreementAcceptance{{AgreementID: 7, UserID: 101, AcceptedDT: "2026-11-20T10:04:00Z"}}
	if _, err := c.AcceptAgreementsOnTurn(ctx, turn, items); err != nil {
		t.Fatalf("the request with a turn waited again: %v", err)
	}
	if _, err := c.AcceptAgreementsOnTurn(ctx, turn, items); err == nil {
		t.Fatal("a turn was spent twice")
	}
	if n := len(s.Log()); n != 1 {
		t.Fatalf("%d requests sent, want 1", n)
	}
}
