package cli

// A run's counts: every row of the report, and which of them are this
// run's own work. A resumed row is the work of the run that decided it:
// "joined in this run" counts only this run's joins, and the ledger
// credits each run with its own.

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// resultSink takes each row's result: the report, whose summary holds the
// counts that the progress display and the ledger read, the changes since
// the previous run, and the resumed rows.
type resultSink struct {
	report  *report.Writer
	changes *report.Changes // nil without a previous run in the ledger
	start   time.Time
	resumed resumedRows // written by Add's one goroutine, read after the run
}

func (s *resultSink) Add(seq int, r enroll.Result) error {
	if err := s.report.Add(seq, r); err != nil {
		return err
	}
	if s.changes != nil {
		s.changes.Count(r, s.start)
	}
	if r.Resumed {
		s.resumed.add(r)
	}
	return nil
}

// resumedRows counts the rows a run resumed, by outcome and by the run
// that decided them.
type resumedRows struct {
	byOutcome map[enroll.Outcome]int
	runs      map[enroll.Outcome]map[uint64]bool
}

func (t *resumedRows) add(r enroll.Result) {
	if t.byOutcome == nil {
		t.byOutcome, t.runs = map[enroll.Outcome]int{}, map[enroll.Outcome]map[uint64]bool{}
	}
	t.byOutcome[r.Outcome]++
	if t.runs[r.Outcome] == nil {
		t.runs[r.Outcome] = map[uint64]bool{}
	}
	t.runs[r.Outcome][r.ResumedFrom] = true
}

// own is counts less the resumed rows: the run's own work.
func (t *resumedRows) own(counts map[enroll.Outcome]int) map[enroll.Outcome]int {
	own := maps.Clone(counts)
	for o, n := range t.byOutcome {
		if own[o] -= n; own[o] == 0 {
			delete(own, o)
		}
	}
	return own
}

// describe says what the count of o is made of, when some of it was
// resumed: "482 in this run, 368 resumed from run 3".
func (t *resumedRows) describe(o enroll.Outcome, count int) string {
	n := t.byOutcome[o]
	if n == 0 {
		return o.Description()
	}
	runs := slices.Sorted(maps.Keys(t.runs[o]))
	names := make([]string, len(runs))
	for i, id := range runs {
		names[i] = fmt.Sprint(id)
	}
	from := "run " + names[0]
	if len(names) > 1 {
		from = "runs " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("%d in this run, %d resumed from %s (%s)", count-n, n, from, strings.TrimSuffix(o.Description(), " in this run"))
}

// printTable prints the outcome counts on stdout; resumed (nil: none)
// says which of them an earlier run decided.
func printTable(w io.Writer, s *report.Summary, dryRun bool, resumed *resumedRows) {
	if resumed == nil {
		resumed = &resumedRows{}
	}
	if dryRun {
		fmt.Fprintln(w, "dry run: nothing was written")
	}
	for _, o := range enroll.Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(w, "%-20s %7d  %s\n", o, n, resumed.describe(o, n))
		}
		if o == enroll.WouldJoin && s.WouldTry() > 0 {
			fmt.Fprintf(w, "  %-18s %7d  of them likely refused (see summary.md)\n", "would try", s.WouldTry())
		}
	}
	fmt.Fprintf(w, "%-20s %7d\n", "total", s.Rows)
}
