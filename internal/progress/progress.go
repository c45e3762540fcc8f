package progress

import (
	"fmt"
	"strings"
	"time"

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

// tally reads the counts of finished rows, and knows when the run began
// and how many rows it expects.
type tally struct {
	counts Counts
	start  time.Time
	total  int64 // rows expected; < 0 when unknown
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
		if s.Total >= 0 {
			s.Left = time.Duration(float64(s.Total-int64(s.Done)) / s.Rate * float64(time.Second))
		}
	}
	var parts []string
	for _, o := range report.Outcomes {
		if n := snap.Counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", o, n))
		}
	}
	s.Outcomes = strings.Join(parts, " ")
	return s
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
		return d.Round(time.Second).String()
	}
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", m/60, m%60)
}
