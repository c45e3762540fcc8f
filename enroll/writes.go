package enroll

// This file knows which rows' writes went on the wire, so that a stop
// never reports as not-attempted a row whose write may have been applied:
// such a row gets the grace period (stop.go), and if its answer is still
// lost it is failed, with a detail that says so.

import (
	"context"
	"net/http/httptrace"
	"slices"
	"sync/atomic"
)

// writeWatch is one row's: whether one of its writes (create, membership
// update, acceptance, join) went on the wire.
type writeWatch struct {
	sent   atomic.Bool
	notify func() // tells the run's stopper; nil outside Run
}

type (
	writeWatchKey  struct{}
	writeNotifyKey struct{}
)

// withWriteNotify makes Process call notify when the row's first write
// goes on the wire.
func withWriteNotify(ctx context.Context, notify func()) context.Context {
	return context.WithValue(ctx, writeNotifyKey{}, notify)
}

// watchWrites gives the row under ctx its writeWatch.
func watchWrites(ctx context.Context) (context.Context, *writeWatch) {
	w := &writeWatch{}
	w.notify, _ = ctx.Value(writeNotifyKey{}).(func())
	return context.WithValue(ctx, writeWatchKey{}, w), w
}

func watchOf(ctx context.Context) *writeWatch {
	w, _ := ctx.Value(writeWatchKey{}).(*writeWatch)
	return w
}

// wroteOn reports whether the row under ctx sent a write.
func wroteOn(ctx context.Context) bool {
	w := watchOf(ctx)
	return w != nil && w.sent.Load()
}

func (w *writeWatch) mark() {
	if w.sent.Swap(true) || w.notify == nil {
		return
	}
	w.notify()
}

// writing is ctx for a write of the row under ctx, and of the rows of
// others (a batch): once net/http takes a connection for a request, the
// server may receive and apply it, so each row is marked before that.
func writing(ctx context.Context, others ...*writeWatch) context.Context {
	ws := slices.Clip(others)
	if w := watchOf(ctx); w != nil {
		ws = append(ws, w)
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GetConn: func(string) {
		for _, w := range ws {
			w.mark()
		}
	}})
}

// writeSentDetail is the detail of a row whose write went on the wire and
// whose answer the stop left unknown or refused.
const writeSentDetail = "the run stopped after this row's write was sent: it may have been applied; the rerun will check"
