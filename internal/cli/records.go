package cli

// The run's two records, the report and the ledger (--state), when one
// cannot be written (a full disk, a file size limit): the run stopped
// sending writes, the other record took every row, and the operator is
// told which record holds what. When neither could be written, stderr is
// the only record left: it carries the counts and the last settled line.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// recordsFailure is what could not be written in a run, from the run
// itself (runErr), the ledger's Finish and the report's Close.
type recordsFailure struct {
	ledger error // nil: the ledger, if any, holds every row
	report error // nil: the report holds every row
}

// recordsFailed gathers the failures; nil when every record was written.
func recordsFailed(runErr, finishErr, closeErr error) *recordsFailure {
	f := &recordsFailure{ledger: finishErr, report: closeErr}
	var rec *enroll.RecordError
	if errors.As(runErr, &rec) {
		f.ledger = firstErr(rec.Memory, f.ledger)
		f.report = firstErr(rec.Sink, f.report)
	}
	if f.ledger == nil && f.report == nil {
		return nil
	}
	return f
}

// firstErr is the first error that is not nil.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// recordsError says what could not be written, what still holds the run,
// and how to go on (exit 6: the nightly wrapper alerts on it).
func (r *enrollRun) recordsError(f *recordsFailure, info *enroll.RunInfo, sum *report.Summary) error {
	var what []string
	if f.ledger != nil {
		what = append(what, fmt.Sprintf("the state file %s could not be written: %v", r.o.State, unwrapRecording(f.ledger)))
	}
	if f.report != nil {
		what = append(what, fmt.Sprintf("the report in %s could not be written: %v", r.out, unwrapRecording(f.report)))
	}
	msg := strings.Join(what, "; ")
	if info.Stop == enroll.StopRecords {
		msg += "; the run stopped sending writes and rows in flight finished"
		if n := sum.Snapshot().Counts[enroll.NotAttempted]; n > 0 {
			msg += fmt.Sprintf("; %s not-attempted", rowCount(n))
		}
	}
	var hints []string
	ledgerWhole := r.ledger != nil && f.ledger == nil
	switch {
	case f.report == nil:
		hints = append(hints, fmt.Sprintf("the report in %s holds every row", r.out))
	case ledgerWhole:
		hints = append(hints, fmt.Sprintf("the state file %s holds every row", r.o.State))
	default:
		hints = append(hints, "no file holds every row: "+settledLine(sum, r.report.LastLine()))
	}
	switch {
	case r.ledger != nil:
		hints = append(hints, "free space, then run the same command again (a new --out if this one is kept): --state resumes what it recorded and looks up the rest, never re-sending a write blindly")
	default:
		hints = append(hints, "free space, then run the same command again: customers this run joined are found already-active")
	}
	return exitError{code: ExitRecords, err: errors.New(msg), hint: hintLines(hints)}
}

// unwrapRecording drops the collector's "recording the run:" and "writing
// the report:" prefixes: the message already says which record it was.
func unwrapRecording(err error) error {
	for _, p := range []string{"recording the run: ", "writing the report: "} {
		if s, ok := strings.CutPrefix(err.Error(), p); ok {
			return errors.New(s)
		}
	}
	return err
}

// settledLine is the run's counts and its last settled line, for stderr
// when no record of the run could be written.
func settledLine(sum *report.Summary, lastLine int) string {
	counts := sum.Snapshot()
	var parts []string
	for _, o := range enroll.Outcomes {
		if n := counts.Counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	s := fmt.Sprintf("%s settled (%s)", rowCount(counts.Rows), strings.Join(parts, ", "))
	if lastLine > 0 {
		s += fmt.Sprintf("; every row up to line %d has its outcome", lastLine)
	}
	return s
}
