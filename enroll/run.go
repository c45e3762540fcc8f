package enroll

// This file is the run: it feeds rows, in input order, to a pool of
// workers that each decide one row (row.go), and hands every result to the
// sink from one goroutine. It stops once, for a signal, --max-duration or a
// fatal answer (stop.go), and every row read is reported exactly once.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pvenroll/pvenroll/export"
)

// DefaultGrace is how long rows in flight may go on after a stop.
const DefaultGrace = 1500 * time.Millisecond

// stopIdle is how long, after a stop, the run waits for an input that
// sends nothing (a stalled stream): the rows it might still send would only
// be marked not-attempted, and a stop must not hang on a silent pipe.
const stopIdle = 500 * time.Millisecond

// DefaultWorkers keeps the rate busy when each call takes up to a second:
// a worker spends about one call's time per request, so rate × 1 s workers
// keep rate requests a second in flight (4 × headroom at 200 ms a call).
func DefaultWorkers(rate float64) int {
	if rate <= 0 {
		return 64
	}
	return min(512, max(4, int(math.Ceil(rate))))
}

// MaxWorkers is the most rows a run has in flight: far above what any
// rate needs (DefaultWorkers stops at 512), and low enough that the
// queues sized by it stay small. Run takes more as MaxWorkers.
const MaxWorkers = 1024

// Rows yields an export's records in input order, then io.EOF;
// *export.Reader is one.
type Rows interface {
	Next() (*export.Record, error)
}

// Sink takes each row's result once, with its sequence number in input
// order (0, 1, 2, ...), from one goroutine, in whatever order rows end.
type Sink interface {
	Add(seq int, r Result) error
}

// Options are one run's: how it spends its time and its requests, and
// what it goes by besides its Enroller's configuration. A run keeps none
// of them after it.
type Options struct {
	Workers     int           // rows in flight; DefaultWorkers(0) when 0, at most MaxWorkers
	MaxDuration time.Duration // stop starting rows after this long; 0: no limit
	Grace       time.Duration // DefaultGrace when 0

	// Memory is what earlier runs learnt (--state); nil without it.
	Memory Memory
	// Read is how the rows were read, in what can change an outcome
	// (ReaderGroundsOf): with the Enroller's Policy, the run's grounds
	// (Enroller.Grounds). A row that Memory holds as settled on other
	// grounds is decided again.
	Read ReaderGrounds
	// Now is the time the run goes by for memory's dates (time.Now when
	// nil): tests and the bench play later nights with it.
	Now func() time.Time
	// ExpectedRows is how many rows the input holds, about (0: unknown):
	// the ACTIVE listing (active.go) reads no more pages than they can need.
	ExpectedRows int

	// AcceptBatch is how many rows' acceptances share one request; 0 or 1
	// sends each row's alone. It changes how many requests carry them,
	// never a row's outcome. A batch waits BatchWait for more rows
	// (DefaultBatchWait when 0), on a Clock (real when nil).
	AcceptBatch int
	BatchWait   time.Duration
	Clock       Clock
}

// RunInfo is what a run tells beyond its rows' results, which went to the
// sink.
type RunInfo struct {
	Stop    Stop
	StopErr error // the fatal answer or failure, when Stop is StopFatal
	Start   time.Time
	End     time.Time
	// Unread is true when the input went silent after the stop: rows it
	// had not sent by then are in no report.
	Unread bool
}

// Run decides every row of rows with en and gives each result to sink.
// It returns an error only when the input could not be read (*ReadError)
// or a record of the run could not be written (*RecordError; the run then
// stopped, the rest not-attempted); a row's failure
// is its outcome, and a fatal API answer stops the run with the rest
// not-attempted. With o.Memory set, every result an API answer decided is
// recorded there. What the rows share (claims, the agreements, the ACTIVE
// listing, the batcher) is this run's alone (runstate.go).
func Run(ctx context.Context, rows Rows, en *Enroller, sink Sink, o Options) (*RunInfo, error) {
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers(0)
	}
	o.Workers = min(o.Workers, MaxWorkers)
	info := &RunInfo{Start: time.Now()}
	st := newStopper(ctx, o.Grace)
	defer st.release()
	if o.MaxDuration > 0 {
		t := time.AfterFunc(o.MaxDuration, func() { st.stop(StopMaxDuration, nil) })
		defer t.Stop()
	}
	run := newRunState(st.reqCtx, en, o)
	c := newCollector(o.Memory, sink, st, run.now(), o.Workers)
	var g errgroup.Group // no group context: a row's failure is its outcome
	g.SetLimit(o.Workers)
	in := feed(rows)
	defer in.close()
	seq, lastLine := 0, 0
	var readErr error
	for {
		it, ok := in.next(st)
		if !ok {
			info.Unread = true
			break
		}
		if errors.Is(it.err, io.EOF) {
			break
		}
		if it.err != nil {
			// Rows in flight finish as usual; no row after is read.
			readErr = &ReadError{Err: it.err, LastLine: lastLine}
			break
		}
		rec := it.rec
		lastLine = rec.Line
		n := seq
		seq++
		if oc, detail, done := Precheck(rec); done {
			r := newResult(rec)
			r.Outcome, r.Detail = oc, detail
			c.add(n, noted(r, rec), nil)
			continue
		}
		if st.reason() != StopNone {
			c.add(n, noted(notAttempted(rec, st), rec), nil)
			continue
		}
		g.Go(func() error {
			// The stop may have come while this row waited for a worker.
			if st.reason() != StopNone {
				c.add(n, noted(notAttempted(rec, st), rec), nil)
				return nil
			}
			f := st.begin()
			defer st.end(f)
			r, fatal := run.process(f.ctx, rec, func() { st.wrote(f) })
			if fatal != nil {
				st.stop(StopFatal, fatal)
			}
			c.add(n, noted(r, rec), rec)
			return nil
		})
	}
	_ = g.Wait()
	recErr := c.close()
	info.End = time.Now()
	info.Stop, info.StopErr = st.reason(), st.err()
	if recErr != nil {
		return info, recErr
	}
	return info, readErr
}

// RecordError is a record of the run that could not be written (a full
// disk, a file size limit): the run stopped sending writes, rows in flight
// finished, and the other record, if any, took every row.
type RecordError struct {
	Memory error // recording in Memory failed; the sink took every row
	Sink   error // the sink failed; Memory, if any, recorded every row
}

func (e *RecordError) Error() string {
	switch {
	case e.Memory != nil && e.Sink != nil:
		return fmt.Sprintf("%v; %v", e.Memory, e.Sink)
	case e.Memory != nil:
		return e.Memory.Error()
	}
	return e.Sink.Error()
}

func (e *RecordError) Unwrap() []error { return []error{e.Memory, e.Sink} }

// ReadError is an input that turned unreadable during the run: rows up to
// LastLine (0: none) were read and decided; none after it was read.
type ReadError struct {
	Err      error
	LastLine int
}

func (e *ReadError) Error() string {
	if e.LastLine == 0 {
		return fmt.Sprintf("the input could not be read: %v; no row was read", e.Err)
	}
	return fmt.Sprintf("the input could not be read after line %d: %v; rows after line %d were not read, and nothing after it was attempted", e.LastLine, e.Err, e.LastLine)
}

func (e *ReadError) Unwrap() error { return e.Err }

// collector hands results to the sink and to memory from one goroutine.
// The two are records of one run: when either fails, the run stops sending
// writes (StopRecords) and the other goes on taking every row.
type collector struct {
	items  chan collected
	done   chan struct{}
	memErr error
	err    error // the sink's
}

type collected struct {
	seq int
	r   Result
	rec *export.Record // nil for a row no API answer decided
}

func newCollector(mem Memory, sink Sink, st *stopper, start time.Time, workers int) *collector {
	c := &collector{items: make(chan collected, workers*2), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for it := range c.items {
			if c.memErr == nil && mem != nil && it.rec != nil && it.r.Outcome.Recorded() {
				if err := mem.Record(it.rec.Key(), memo(it.r, it.rec, start)); err != nil {
					c.memErr = fmt.Errorf("recording the run: %w", err)
					st.stop(StopRecords, c.memErr)
				}
			}
			// The sink counts every row even after a failed write.
			if err := sink.Add(it.seq, it.r); err != nil && c.err == nil {
				c.err = fmt.Errorf("writing the report: %w", err)
				st.stop(StopRecords, c.err)
			}
		}
	}()
	return c
}

func (c *collector) add(seq int, r Result, rec *export.Record) {
	c.items <- collected{seq, r, rec}
}

// close waits for every result to be handed over; the error is a
// *RecordError when a record failed.
func (c *collector) close() error {
	close(c.items)
	<-c.done
	if c.memErr == nil && c.err == nil {
		return nil
	}
	return &RecordError{Memory: c.memErr, Sink: c.err}
}

// noted adds to a row's result what the export says of the row itself:
// a workbook row Excel hides is read, and its report row says so.
func noted(r Result, rec *export.Record) Result {
	if rec.Hidden {
		r.Detail = joinDetail(export.HiddenNote, r.Detail)
	}
	return r
}

func notAttempted(rec *export.Record, st *stopper) Result {
	r := newResult(rec)
	r.Outcome = NotAttempted
	r.Detail = "the run stopped before this row: " + st.reason().String()
	if err := st.err(); err != nil {
		r.Detail += ": " + err.Error()
	}
	return r
}

// feeder reads the input in its own goroutine, so that a stream that
// stalls never holds up a stop.
type feeder struct {
	recs chan fed
	quit chan struct{}
	once sync.Once
}

type fed struct {
	rec *export.Record
	err error
}

func feed(rows Rows) *feeder {
	f := &feeder{recs: make(chan fed), quit: make(chan struct{})}
	go func() {
		for {
			rec, err := rows.Next()
			select {
			case f.recs <- fed{rec, err}:
			case <-f.quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return f
}

// next is the next record or the error that ended reading. After a stop
// it gives up (ok false) on an input silent for stopIdle.
func (f *feeder) next(st *stopper) (fed, bool) {
	select {
	case it := <-f.recs:
		return it, true
	case <-st.stopped:
	}
	idle := time.NewTimer(stopIdle)
	defer idle.Stop()
	select {
	case it := <-f.recs:
		return it, true
	case <-idle.C:
		return fed{}, false
	}
}

// close lets the reading goroutine end once its read returns.
func (f *feeder) close() { f.once.Do(func() { close(f.quit) }) }
