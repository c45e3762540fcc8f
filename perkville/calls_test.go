package perkville_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// A client bound to a Calls counts there every request it sends, and marks
// a write, calling onWrite once, when one goes on the wire; a read never
// does. The unbound client counts nothing there.
func TestCallsCountRequestsAndWrites(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	ctx := context.Background()
	c := newClient(t, s.URL, adminToken, pv.Options{})
	var writes atomic.Int32
	calls := pv.NewCalls(func() { writes.Add(1) })
	row := c.For(calls)
	if _, err := row.ConnectionByEmail(ctx, business, "pat@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConnectionByEmail(ctx, business, "pat@example.com"); err != nil {
		t.Fatal(err)
	}
	if info := calls.Info(); info != (pv.CallInfo{Attempts: 1}) || writes.Load() != 0 {
		t.Fatalf("after one read: %+v, onWrite called %d times", info, writes.Load())
	}
	if _, err := row.Agreements(ctx, business, 101); err != nil {
		t.Fatal(err)
	}
	if _, err := row.Activate(ctx, business, 1001); err != nil {
		t.Fatal(err)
	}
	if _, err := row.Activate(ctx, business, 1001); err != nil {
		t.Fatal(err)
	}
	if info := calls.Info(); info != (pv.CallInfo{Attempts: 4, MaybeApplied: true}) || writes.Load() != 1 {
		t.Fatalf("after two reads and two writes: %+v, onWrite called %d times, want once", info, writes.Load())
	}
}

// Retries count as attempts; a write answered 500 before anything was
// applied was still on the wire, so it may have been applied.
func TestCallsCountRetries(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{P5xx: 1})
	c := newClient(t, s.URL, adminToken, pv.Options{Retries: 2})
	calls := pv.NewCalls(nil)
	if _, err := c.For(calls).Activate(context.Background(), business, 1001); err == nil {
		t.Fatal("activate answered 500 each time: no error")
	}
	if info := calls.Info(); info != (pv.CallInfo{Attempts: 3, MaybeApplied: true}) {
		t.Fatalf("a write tried 3 times: %+v", info)
	}
}

// A request carrying several callers' writes (a batch) counts for each; a
// write the read-only client refuses never leaves, and counts for none.
func TestCallsOfABatchAndOfARefusedWrite(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	ctx := context.Background()
	a, b := pv.NewCalls(nil), pv.NewCalls(nil)
	items := []pv.AgreementAcceptance{{AgreementID: 7, UserID: 103, AcceptedDT: "2026-11-20T10:04:00Z"}}
	if _, err := newClient(t, s.URL, adminToken, pv.Options{}).For(a, b).AcceptAgreementsOnTurn(ctx, nil, items); err != nil {
		t.Fatal(err)
	}
	for _, calls := range []*pv.Calls{a, b} {
		if info := calls.Info(); info != (pv.CallInfo{Attempts: 1, MaybeApplied: true}) {
			t.Fatalf("a caller of the batch: %+v", info)
		}
	}
	refused := pv.NewCalls(nil)
	ro := newClient(t, s.URL, adminToken, pv.Options{ReadOnly: true}).For(refused)
	if _, err := ro.Activate(ctx, business, 1001); !errors.Is(err, pv.ErrReadOnly) {
		t.Fatalf("read-only activate: %v", err)
	}
	if info := refused.Info(); info != (pv.CallInfo{}) {
		t.Fatalf("a refused write: %+v", info)
	}
}
