package enroll

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// This file batches the acceptances of consenting rows: one POST of the
// batch endpoint carries those of up to Options.AcceptBatch rows, so a
// consenting join costs about 2 calls (find, join) instead of 3.
//
// A batch opens when a row's acceptances arrive and is due when it is full,
// when Options.BatchWait has passed since it opened, or at once when no row in
// flight could still join it. A due batch then waits for its turn at the
// rate limit, and rows may still join it while it waits: under a tight
// --rate the wait costs nothing, and a slow trickle is held back by
// the batch wait at most. It waits behind rows not yet begun until it holds
// batchAheadRows rows, then ahead of them. Only a row holding the customer's recorded consent
// ever reaches accept, so only such rows enter a batch.

// DefaultBatchWait is how long an open batch waits for more rows.
const DefaultBatchWait = 75 * time.Millisecond

// batchAheadRows is how many rows a batch gathers while it waits its turn
// behind rows not yet begun: holding that many (or all it may hold, when
// fewer), it takes the next turn ahead of them, and rows still join it
// until it is sent. Its rows were looked up and not yet written, so a kill
// -9 loses those lookups (the next run reads them again): a batch that
// gathered for as long as its turn took (seconds, with the tripled default
// workers) held up to 1.5 times the rate's rows, and the kill cost 1.22
// times the requests of an uninterrupted run at --rate 50. A --rate 10
// migration's batches hold about 12 rows anyway (2.08 calls a join).
const batchAheadRows = 12

// Clock starts timers; tests fake it.
type Clock interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

type acceptKey struct{ agreement, user int64 }

// acceptBatch is one batch: open, then due, then sent, then done.
type acceptBatch struct {
	// ctx is the batch's own, not one row's: a row stopped (a fatal stop
	// cancels the rows that sent no write) withdraws from the batch, and
	// the batch is cancelled only when no row waits for its answer.
	ctx     context.Context
	cancel  context.CancelFunc
	waiting int // rows that wait for its answer, under the batcher's mu
	items   []pv.AgreementAcceptance
	rows    int
	due     bool
	stop    func() bool
	done    chan struct{}
	calls   []*pv.Calls                       // the rows': each counts the batch's requests and its write
	sent    bool                              // under the batcher's mu: no row may withdraw
	promote context.CancelFunc                // under the batcher's mu: ends its wait behind rows not begun
	results map[acceptKey]pv.AcceptanceResult // after done
	err     error                             // the whole batch's error
}

// acceptBatcher gathers rows' acceptances into batches.
type acceptBatcher struct {
	api       *pv.Client
	maxRows   int
	aheadRows int // batchAheadRows; a test's own
	wait      time.Duration
	clock     Clock
	// takeTurn waits for a turn at the rate limit: api.Turn, or
	// api.TurnBegun when begun; a test's own.
	takeTurn func(ctx context.Context, begun bool) (*pv.Turn, error)

	mu      sync.Mutex
	open    *acceptBatch
	mayJoin int // consenting rows in flight that have not reached accept
}

// newAcceptBatcher gathers up to maxRows rows' acceptances a batch (at
// least 1), waiting wait for more (DefaultBatchWait when 0) on clock (real
// when nil).
func newAcceptBatcher(api *pv.Client, maxRows int, wait time.Duration, clock Clock) *acceptBatcher {
	if clock == nil {
		clock = realClock{}
	}
	if wait <= 0 {
		wait = DefaultBatchWait
	}
	b := &acceptBatcher{api: api, maxRows: max(1, maxRows), aheadRows: batchAheadRows, wait: wait, clock: clock}
	b.takeTurn = func(ctx context.Context, begun bool) (*pv.Turn, error) {
		if begun {
			return api.TurnBegun(ctx)
		}
		return api.Turn(ctx)
	}
	return b
}

// acceptTicket follows one consenting row from its start to its batch, so
// that a batch knows when no row in flight can still join it. The row
// holds it (rowCalls.ticket).
type acceptTicket struct {
	b       *acceptBatcher
	arrived bool // under b.mu
}

// expect counts a consenting row in flight; the ticket's leave must be
// called when the row ends, whether or not it reached accept.
func (b *acceptBatcher) expect() *acceptTicket {
	b.mu.Lock()
	b.mayJoin++
	b.mu.Unlock()
	return &acceptTicket{b: b}
}

// leave notes that the row ended (once it reached accept, a no-op).
func (t *acceptTicket) leave() {
	t.b.mu.Lock()
	t.arriveLocked()
	t.b.mu.Unlock()
}

func (t *acceptTicket) arriveLocked() {
	if t.arrived {
		return
	}
	t.arrived = true
	t.b.mayJoin--
	if t.b.mayJoin == 0 && t.b.open != nil {
		t.b.dueLocked(t.b.open) // no row in flight can join it
	}
}

// accept adds a row's acceptances to the open batch and waits for the
// answer to them. The batch's requests count in the row's Calls: a row's
// attempts count every request that carried its writes.
func (b *acceptBatcher) accept(ctx context.Context, rc *rowCalls, items []pv.AgreementAcceptance) ([]pv.AcceptanceResult, error) {
	b.mu.Lock()
	bt := b.open
	if bt == nil || len(bt.items)+len(items) > pv.MaxAcceptanceBatch {
		if bt != nil {
			b.dueLocked(bt)
			b.open = nil
		}
		bt = &acceptBatch{done: make(chan struct{})}
		bt.ctx, bt.cancel = context.WithCancel(context.Background())
		b.open = bt
		bt.stop = b.clock.AfterFunc(b.wait, func() {
			b.mu.Lock()
			b.dueLocked(bt)
			b.mu.Unlock()
		})
	}
	bt.items = append(bt.items, items...)
	bt.rows++
	bt.waiting++
	bt.calls = append(bt.calls, rc.calls)
	if bt.rows >= b.maxRows {
		b.open = nil // full: nobody else joins
		b.dueLocked(bt)
	}
	if bt.promote != nil && b.aheadLocked(bt) {
		bt.promote()
	}
	if t := rc.ticket; t != nil && t.b == b {
		t.arriveLocked()
	}
	b.mu.Unlock()

	select {
	case <-bt.done:
	case <-ctx.Done():
		if b.withdraw(bt, items, rc.calls) {
			return nil, ctx.Err()
		}
		// Sent: its answer says what became of the row's items, unless
		// every row stopped waiting for it.
		b.stopWaiting(bt)
		<-bt.done
	}
	if bt.err != nil {
		return nil, bt.err
	}
	out := make([]pv.AcceptanceResult, 0, len(items))
	for _, it := range items {
		res, ok := bt.results[acceptKey{it.AgreementID, it.UserID}]
		if !ok {
			return nil, &rowError{code: codeUnexpectedAnswer, detail: fmt.Sprintf("unexpected answer: the acceptance answer has no item for agreement %d of user %d", it.AgreementID, it.UserID)}
		}
		out = append(out, res)
	}
	return out, nil
}

// dueLocked starts sending bt, once.
func (b *acceptBatcher) dueLocked(bt *acceptBatch) {
	if bt.due {
		return
	}
	bt.due = true
	bt.stop()
	go b.send(bt)
}

// send waits for the batch's turn at the rate limit, closes the batch, and
// posts it. Accepting is idempotent, so the transport retries a lost answer.
func (b *acceptBatcher) send(bt *acceptBatch) {
	defer close(bt.done)
	defer bt.cancel()
	ctx := bt.ctx
	turn, err := b.turn(bt)
	b.mu.Lock()
	if b.open == bt {
		b.open = nil
	}
	items, rows, calls := bt.items, bt.rows, bt.calls
	bt.sent = true
	b.mu.Unlock()
	if err != nil {
		bt.err = err
		return
	}
	if len(items) == 0 {
		bt.err = context.Canceled // every row withdrew
		return
	}
	res, err := b.api.For(calls...).AcceptAgreementsOnTurn(ctx, turn, items)
	if err != nil && rows > 1 && pv.ClassOf(err) == pv.ClassRow {
		// Refused whole: say so, since the API may take fewer at once.
		err = fmt.Errorf("a batch of %d rows' acceptances was refused (sending fewer at once may help): %w", rows, err)
	}
	bt.err = err
	bt.results = make(map[acceptKey]pv.AcceptanceResult, len(res))
	for _, it := range res {
		k := acceptKey{it.AgreementID, it.UserID}
		if prev, twice := bt.results[k]; twice && prev.Status != pv.AcceptanceAccepted {
			continue // an item answered twice counts as accepted only if both say so
		}
		bt.results[k] = it
	}
}

// withdraw takes a stopped row's items out of its batch, unless the batch
// is already being sent; it reports whether it did.
func (b *acceptBatcher) withdraw(bt *acceptBatch, items []pv.AgreementAcceptance, calls *pv.Calls) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bt.sent {
		return false
	}
	for _, it := range items {
		if i := slices.Index(bt.items, it); i >= 0 {
			bt.items = slices.Delete(bt.items, i, i+1)
		}
	}
	if i := slices.Index(bt.calls, calls); i >= 0 {
		bt.calls = slices.Delete(bt.calls, i, i+1)
	}
	bt.rows--
	b.stopWaitingLocked(bt)
	return true
}

// stopWaiting notes that a stopped row no longer waits for bt's answer;
// when none does, bt's wait or request is cancelled.
func (b *acceptBatcher) stopWaiting(bt *acceptBatch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopWaitingLocked(bt)
}

func (b *acceptBatcher) stopWaitingLocked(bt *acceptBatch) {
	bt.waiting--
	if bt.waiting > 0 {
		return
	}
	bt.cancel()
	if b.open == bt {
		b.open = nil // a later row opens a batch of its own
	}
	b.dueLocked(bt) // ends at once, on the cancelled ctx
}

// turn waits for bt's turn at the rate limit: in arrival order, gathering
// rows meanwhile, until bt holds aheadRows rows; then ahead of rows not
// yet begun.
func (b *acceptBatcher) turn(bt *acceptBatch) (*pv.Turn, error) {
	waitCtx, promote := context.WithCancel(bt.ctx)
	defer promote()
	b.mu.Lock()
	ahead := b.aheadLocked(bt)
	bt.promote = promote
	b.mu.Unlock()
	if !ahead {
		turn, err := b.takeTurn(waitCtx, false)
		if err == nil || bt.ctx.Err() != nil {
			return turn, err
		}
	}
	return b.takeTurn(bt.ctx, true)
}

// aheadLocked reports whether bt holds the rows to go ahead.
func (b *acceptBatcher) aheadLocked(bt *acceptBatch) bool {
	return bt.rows >= min(b.maxRows, b.aheadRows)
}
