// Package enroll reads a membership export and enrolls its customers: the
// CSV reader (reader.go), each row's fate (row.go) and the run that feeds
// rows to a rate-limited pool and their results to the report (this file).
package enroll

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pvenroll/pvenroll/internal/export"
	"github.com/pvenroll/pvenroll/internal/ledger"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// Stop says why a run ended before its last row.
type Stop int

const (
	StopNone        Stop = iota
	StopFatal            // a fatal API answer (exit 3)
	StopMaxDuration      // --max-duration (exit 4)
	StopInterrupted      // SIGINT or SIGTERM (exit 130)
)

func (s Stop) String() string {
	switch s {
	case StopFatal:
		return "fatal API answer"
	case StopMaxDuration:
		return "--max-duration reached"
	case StopInterrupted:
		return "interrupted"
	}
	return ""
}

// DefaultGrace is how long rows in flight may go on after a stop.
const DefaultGrace = 1500 * time.Millisecond

// DefaultWorkers keeps the rate busy when each call takes up to a second:
// a worker spends about one call's time per request, so rate × 1 s workers
// keep rate requests a second in flight (4 × headroom at 200 ms a call).
func DefaultWorkers(rate float64) int {
	if rate <= 0 {
		return 64
	}
	return min(512, max(4, int(math.Ceil(rate))))
}

// Options configure a run.
type Options struct {
	Input       io.Reader
	Reader      export.ReaderOptions
	BusinessID  int64
	Policy      Policy
	Workers     int
	MaxDuration time.Duration
	Grace       time.Duration // DefaultGrace when 0
	Progress    Progress
	Log         *slog.Logger
	// Ledger is the run ledger (--state), begun by the caller; nil without.
	Ledger *ledger.Ledger
	// OnHeader is called once the header is accepted, before any API call,
	// with the input's delimiter; it returns where results go. A header
	// refused is returned by Run as a *export.HeaderError and OnHeader is
	// not called.
	OnHeader func(header []string, delimiter rune) (Sink, error)
}

// Progress hears of every finished row; the CLI draws it.
type Progress interface {
	Row(report.Outcome)
}

type noProgress struct{}

func (noProgress) Row(report.Outcome) {}

// Sink takes each row's result once, with its sequence number in input order.
type Sink interface {
	Add(seq int, r report.Result) error
}

// Outcome of a run, for the report's summary and the exit code.
type Outcome struct {
	Stop     Stop
	StopErr  error // the fatal answer, when Stop is StopFatal
	Business *pv.Business
	Rows     int
	Counts   map[report.Outcome]int
	Bytes    int64
	SHA256   string
	Start    time.Time
	End      time.Time
	Changes  *report.Changes // with a ledger that has a previous run
}

// Run enrolls every row of the input. It returns an error only when the
// input was refused (a *export.HeaderError; nothing was sent), the input could not
// be read, or the report could not be written; a row's failure is its
// outcome, and a fatal API answer stops the run with the rest not-attempted.
func Run(ctx context.Context, api *pv.Client, o Options) (*Outcome, error) {
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers(0)
	}
	if o.Progress == nil {
		o.Progress = noProgress{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	out := &Outcome{Start: time.Now(), Counts: map[report.Outcome]int{}}
	hashing := &hashReader{r: o.Input, h: sha256.New()}
	rd, err := export.NewReader(hashing, o.Reader)
	if err != nil {
		return out, err
	}
	sink, err := o.OnHeader(rd.Header, rd.Comma)
	if err != nil {
		return out, err
	}

	st := newStopper(ctx, o.Grace)
	defer st.release()
	if o.MaxDuration > 0 {
		t := time.AfterFunc(o.MaxDuration, func() { st.stop(StopMaxDuration, nil) })
		defer t.Stop()
	}

	// Preflight: the token, the rights, and the business's program site.
	biz, err := api.Business(st.reqCtx, o.BusinessID)
	if err != nil {
		var ae *pv.Error
		if errors.As(err, &ae) && (ae.Status == 401 || ae.Status == 403 || ae.Status == 404) {
			st.stop(StopFatal, fmt.Errorf("business %d: %w", o.BusinessID, err))
		} else if st.reason() == StopNone {
			st.stop(StopFatal, fmt.Errorf("preflight: business %d: %w", o.BusinessID, err))
		}
	} else {
		out.Business = biz
		o.Log.Info("business", "id", biz.BusinessID, "name", biz.Name, "perkville_url", biz.PerkvilleURL)
	}
	en := &Enroller{API: api, Business: biz, Policy: o.Policy, Ledger: o.Ledger}
	if o.Ledger != nil {
		o.Ledger.SetBatch(o.Workers)
		if prev := o.Ledger.Previous(); prev != nil {
			out.Changes = &report.Changes{SinceRun: prev.ID, SinceStart: prev.Start}
		}
	}

	// Results go to the sink from one goroutine, in whatever order rows end.
	type item struct {
		seq int
		r   report.Result
		rec *export.Record
	}
	results := make(chan item, o.Workers*2)
	var sinkErr error
	var sinkWG sync.WaitGroup
	sinkWG.Add(1)
	go func() {
		defer sinkWG.Done()
		for it := range results {
			out.Counts[it.r.Outcome]++
			out.Rows++
			o.Progress.Row(it.r.Outcome)
			if out.Changes != nil {
				out.Changes.Count(it.r, out.Start)
			}
			if sinkErr == nil && o.Ledger != nil && it.rec != nil && remember[it.r.Outcome] {
				if sinkErr = o.Ledger.Record(it.rec.Key(), entry(it.r, it.rec, out.Start)); sinkErr != nil {
					st.stop(StopFatal, sinkErr)
				}
			}
			if sinkErr == nil {
				if sinkErr = sink.Add(it.seq, it.r); sinkErr != nil {
					st.stop(StopFatal, sinkErr)
				}
			}
		}
	}()

	var g errgroup.Group // no group context: a row's failure is its outcome
	g.SetLimit(o.Workers)
	seq := 0
	var readErr error
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			st.stop(StopFatal, err)
			break
		}
		n := seq
		seq++
		if oc, detail, done := Precheck(rec); done {
			r := newResult(rec)
			r.Outcome, r.Detail = oc, detail
			results <- item{n, r, nil}
			continue
		}
		if s := st.reason(); s != StopNone {
			results <- item{n, notAttempted(rec, st), nil}
			continue
		}
		g.Go(func() error {
			// The stop may have come while this row waited for a worker.
			if st.reason() != StopNone {
				results <- item{n, notAttempted(rec, st), nil}
				return nil
			}
			r, fatal := en.Process(st.reqCtx, rec)
			if fatal != nil {
				st.stop(StopFatal, fatal)
			}
			results <- item{n, r, rec}
			return nil
		})
	}
	_ = g.Wait()
	close(results)
	sinkWG.Wait()
	out.End = time.Now()
	out.Stop, out.StopErr = st.reason(), st.err()
	out.Bytes, out.SHA256 = hashing.n, hex.EncodeToString(hashing.h.Sum(nil))
	if sinkErr != nil {
		return out, fmt.Errorf("writing the report: %w", sinkErr)
	}
	if readErr != nil {
		return out, readErr
	}
	return out, nil
}

// remember lists the outcomes the ledger records: those an API answer
// decided. A failed row is recorded too, so that it is not taken for done.
var remember = map[report.Outcome]bool{report.Joined: true, report.AlreadyActive: true, report.NeedsAgreement: true,
	report.MembershipInactive: true, report.OptedOut: true, report.NotFound: true, report.Conflict: true, report.Failed: true}

// entry is the ledger's record of a row's result.
func entry(r report.Result, rec *export.Record, now time.Time) ledger.Entry {
	since := now
	if r.PriorOutcome == r.Outcome && !r.PriorSince.IsZero() {
		since = r.PriorSince
	}
	return ledger.Entry{ConnectionID: r.ConnectionID, Outcome: string(r.Outcome), Hash: rec.Hash(), Since: since, Updated: now}
}

func notAttempted(rec *export.Record, st *stopper) report.Result {
	r := newResult(rec)
	r.Outcome = report.NotAttempted
	r.Detail = "the run stopped before this row: " + st.reason().String()
	if err := st.err(); err != nil {
		r.Detail += ": " + err.Error()
	}
	return r
}

// stopper ends a run once: it stops new rows at once, and cancels the
// requests of rows in flight after a grace period, so a stop is prompt but
// rows already sent usually finish and are reported truthfully.
type stopper struct {
	reqCtx    context.Context
	cancelReq context.CancelFunc
	grace     time.Duration

	mu      sync.Mutex
	why     Stop
	cause   error
	timer   *time.Timer
	unwatch func() bool
}

func newStopper(parent context.Context, grace time.Duration) *stopper {
	reqCtx, cancel := context.WithCancel(context.WithoutCancel(parent))
	s := &stopper{reqCtx: reqCtx, cancelReq: cancel, grace: grace}
	s.unwatch = context.AfterFunc(parent, func() { s.stop(StopInterrupted, nil) })
	return s
}

func (s *stopper) stop(why Stop, cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.why != StopNone {
		return
	}
	s.why, s.cause = why, cause
	if why == StopFatal {
		// Every later call would fail too: do not wait for them.
		s.cancelReq()
		return
	}
	s.timer = time.AfterFunc(s.grace, s.cancelReq)
}

func (s *stopper) reason() Stop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why
}

func (s *stopper) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

func (s *stopper) release() {
	s.unwatch()
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	s.cancelReq()
}

type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}
