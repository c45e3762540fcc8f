package report

import (
	"fmt"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

// HistoryRun is one run of the run ledger (--state), for report.html's
// chart of recent runs and `pvenroll state`.
type HistoryRun struct {
	Run    uint64    `json:"run"`
	Start  time.Time `json:"start"`
	Status string    `json:"status"` // finished, stopped, running (or killed)
	// Counts are the run's own work: the rows it decided (or skipped,
	// unchanged), by outcome.
	Counts map[enroll.Outcome]int `json:"counts"`
	// Resumed are the rows it took over from the unfinished runs it
	// continued, not in Counts: those runs decided them.
	Resumed int `json:"resumed"`
}

// Rows is how many rows the run reported: its own and those it resumed.
func (h HistoryRun) Rows() int {
	n := h.Resumed
	for _, k := range h.Counts {
		n += k
	}
	return n
}

// HistorySeries are the outcomes the chart of recent runs shows: the trend
// an operator of a nightly import watches.
var HistorySeries = []struct {
	Outcome enroll.Outcome
	Label   string
}{
	{enroll.Joined, "joined"},
	{enroll.AlreadyActive, "already active"},
	{enroll.NeedsAgreement, "waiting on agreements"},
	{enroll.OptedOut, "opted out"},
}

// The chart: one small bar chart per series, one bar per run, each scaled
// to its own series' largest count, so that a few joins a night show
// beside thousands already active.
const (
	histLabelWidth = 200 // the series' name and its latest count
	histSlot       = 18  // pixels a run takes
	histBarWidth   = 14
	histPanelH     = 56 // a panel's bar height
	histGap        = 26 // between panels: room for the label
	histTop        = 16 // above a panel's bars: its label
	// HistoryWidth is how many runs the chart has room for; its width
	// stays the same as a ledger grows into it.
	HistoryWidth = 30
)

type histBar struct {
	Series        string
	Run           uint64
	Count         int
	X, Y, W, H    int
	Title, Colour string
}

type histPanel struct {
	Label   string
	Latest  int
	Most    int
	LabelY  int
	BaseY   int
	EndX    int
	Bars    []histBar
	Outcome enroll.Outcome
}

type histRow struct {
	Run    HistoryRun
	Counts []int // per HistorySeries
}

type historyChart struct {
	Width, Height int
	Panels        []histPanel
	Rows          []histRow
	RunLabels     []histLabel // the runs' numbers under the bars
	RunLabelY     int
	Axis          string // under the chart, in HTML so it wraps at narrow widths
}

// histLabel names a run under its bars.
type histLabel struct {
	X    int
	Text string
}

// runLabels names the runs under their bars: every run whose number fits
// its slot, else every second or third, and always the last.
func runLabels(runs []HistoryRun) []histLabel {
	digits := len(fmt.Sprint(runs[len(runs)-1].Run))
	step := max(1, (digits*6+4+histSlot-1)/histSlot) // a digit is about 6 px at 10 px
	var labels []histLabel
	for k, r := range runs {
		if k%step == 0 && (k+step < len(runs) || k == len(runs)-1) || k == len(runs)-1 {
			labels = append(labels, histLabel{X: histLabelWidth + k*histSlot + histBarWidth/2, Text: fmt.Sprint(r.Run)})
		}
	}
	return labels
}

// chartHistory lays out the chart of recent runs; nil without history.
func chartHistory(runs []HistoryRun) *historyChart {
	if len(runs) == 0 {
		return nil
	}
	first, last := runs[0], runs[len(runs)-1]
	c := &historyChart{Width: histLabelWidth + HistoryWidth*histSlot + 10,
		Axis: fmt.Sprintf("runs %d to %d (numbered under their bars), %s to %s", first.Run, last.Run,
			first.Start.UTC().Format("2006-01-02"), last.Start.UTC().Format("2006-01-02"))}
	for _, r := range runs {
		row := histRow{Run: r}
		for _, s := range HistorySeries {
			row.Counts = append(row.Counts, r.Counts[s.Outcome])
		}
		c.Rows = append(c.Rows, row)
	}
	y := 0
	for _, s := range HistorySeries {
		p := histPanel{Label: s.Label, Outcome: s.Outcome, Latest: runs[len(runs)-1].Counts[s.Outcome], LabelY: y + 12, BaseY: y + histTop + histPanelH, EndX: c.Width}
		for _, r := range runs {
			p.Most = max(p.Most, r.Counts[s.Outcome])
		}
		for k, r := range runs {
			n := r.Counts[s.Outcome]
			h := 0
			if n > 0 {
				h = max(1, n*histPanelH/p.Most)
			}
			p.Bars = append(p.Bars, histBar{Series: string(s.Outcome), Run: r.Run, Count: n,
				X: histLabelWidth + k*histSlot, Y: p.BaseY - h, W: histBarWidth, H: h, Colour: barColor(s.Outcome),
				Title: fmt.Sprintf("run %d, %s (%s): %d %s", r.Run, r.Start.UTC().Format("2006-01-02 15:04"), r.Status, n, s.Label)})
		}
		c.Panels = append(c.Panels, p)
		y = p.BaseY + histGap
	}
	c.RunLabels = runLabels(runs)
	c.RunLabelY = y - histGap + 12
	c.Height = c.RunLabelY + 4
	return c
}
