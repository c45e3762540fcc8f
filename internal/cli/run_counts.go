package cli

// A run's counts: every row of the report, and which of them are this
// run's own work. A resumed row is the work of the run that decided it:
// "joined in this run" counts only this run's joins, and the ledger
// credits each run with its own.

import (
	"fmt"
	"io"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// resultSink takes each row's result: the report, whose summary holds the
// counts that the progress display and the ledger read (the resumed rows
// among them), and the changes since the previous run.
type resultSink struct {
	report  *report.Writer
	changes *report.Changes // nil without a previous run in the ledger
	start   time.Time
}

func (s *resultSink) Add(seq int, r enroll.Result) error {
	if err := s.report.Add(seq, r); err != nil {
		return err
	}
	if s.changes != nil {
		s.changes.Count(r, s.start)
	}
	return nil
}

// printTable prints the outcome counts on stdout, saying which of them
// an earlier run decided.
func printTable(w io.Writer, s *report.Summary, dryRun bool) {
	if dryRun {
		fmt.Fprintln(w, "dry run: nothing was written")
	}
	for _, o := range enroll.Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(w, "%-20s %7d  %s\n", o, n, s.Resumed.Describe(o, n))
		}
		if o == enroll.WouldJoin && s.WouldTry() > 0 {
			fmt.Fprintf(w, "  %-18s %7d  of them likely refused (see summary.md)\n", "would try", s.WouldTry())
		}
	}
	fmt.Fprintf(w, "%-20s %7d\n", "total", s.Rows)
}
