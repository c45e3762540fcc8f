package progress

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// Progress shows a run's counts as they grow, until the run's end.
type Progress interface {
	Done()
}

// Counts is where a display reads the run's counts: the report's Summary,
// their one owner, whose Snapshot is safe while rows are being added.
type Counts interface {
	Snapshot() report.Tally
}

// NoProgress shows nothing (-q).
type NoProgress struct{}

func (NoProgress) Done() {}

// rateAfter is how long a run must go before its rate is shown: a rate
// measured over the first few rows (or over none: "0 rows/hr") says nothing.
const rateAfter = 2 * time.Second

// The time left is shown only after leftAfterRows rows and leftAfter: a
// run's first rows wait for the preflight, the ACTIVE listing and a pool
// filling up, or all come back at once, and an estimate from them is wild
// ("4/5000 rows · 1h19m left" in a run of 30 s).
const (
	leftAfterRows = 20
	leftAfter     = 5 * time.Second
)

// smoothing is the time constant of the rate's moving average once the
// estimate is shown: a burst or a stall of a few seconds moves the time
// left a little, a change that lasts moves it all the way in about a
// minute.
const smoothing = 20 * time.Second

// maxLeft is the longest time left worth saying; past it (a stall) the
// estimate is unknown.
const maxLeft = 100 * time.Hour

// tally reads the counts of finished rows, and knows when the run began
// and how many rows it expects.
type tally struct {
	counts Counts
	start  time.Time
	total  int64 // rows expected; < 0 when unknown

	mu     sync.Mutex
	rate   float64   // the smoothed rate, rows per second
	sample time.Time // when rate last moved; zero until the estimate starts
	done   int       // rows done then
}

func newTally(counts Counts, start time.Time, total int64) *tally {
	return &tally{counts: counts, start: start, total: total}
}

// status is what a line says at one moment.
type status struct {
	Done     int
	Total    int64         // < 0: unknown
	Rate     float64       // rows per second; 0 until measured
	Left     time.Duration // < 0: unknown
	Elapsed  time.Duration
	Outcomes string // "joined=2 failed=1"
}

func (t *tally) status(now time.Time) status {
	snap := t.counts.Snapshot()
	s := status{Done: snap.Rows, Total: t.total, Left: -1, Elapsed: now.Sub(t.start)}
	if s.Total >= 0 && int64(s.Done) > s.Total {
		s.Total = int64(s.Done) // the estimate was short (a record the count did not see)
	}
	if s.Elapsed >= rateAfter && s.Done > 0 {
		s.Rate = float64(s.Done) / s.Elapsed.Seconds()
	}
	if s.Done >= leftAfterRows && s.Elapsed >= leftAfter {
		s.Rate = t.smoothed(now, s.Done, s.Rate)
		left := float64(s.Total-int64(s.Done)) / s.Rate * float64(time.Second)
		if s.Total >= 0 && s.Rate > 0 && left < float64(maxLeft) {
			s.Left = time.Duration(left)
		}
	}
	var parts []string
	for _, o := range enroll.Outcomes {
		if n := snap.Counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", o, n))
		}
	}
	s.Outcomes = strings.Join(parts, " ")
	return s
}

// smoothed moves the rate toward the rate of the rows done since its last
// move, weighted by the time that took (an exponential moving average, so
// that a display asking every 200 ms and a log line every 30 s agree). It
// starts from the run's average rate.
func (t *tally) smoothed(now time.Time, done int, average float64) float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	dt := now.Sub(t.sample)
	switch {
	case t.sample.IsZero():
		t.rate = average
	case dt >= time.Second:
		recent := float64(done-t.done) / dt.Seconds()
		t.rate += (1 - math.Exp(-dt.Seconds()/smoothing.Seconds())) * (recent - t.rate)
	default:
		return t.rate
	}
	t.sample, t.done = now, done
	return t.rate
}

// rateText says a rate in the unit that gives a readable number.
func rateText(perSecond float64) string {
	switch {
	case perSecond <= 0:
		return "measuring rate"
	case perSecond >= 10:
		return fmt.Sprintf("%.0f rows/s", perSecond)
	case perSecond >= 1:
		return fmt.Sprintf("%.1f rows/s", perSecond)
	case perSecond*60 >= 1:
		return fmt.Sprintf("%.1f rows/min", perSecond*60)
	}
	return fmt.Sprintf("%.1f rows/h", perSecond*3600)
}

// durationText rounds a duration to what a person plans with.
func durationText(d time.Duration) string {
	switch {
	case d < 0:
		return "unknown"
	case d < 2*time.Minute:
		return report.Duration(d)
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}
