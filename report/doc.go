// Package report writes the reconciliation report of a run: every input row
// exactly once, grouped by outcome, with follow-up files for whoever must act.
// It renders enroll.Result values; what an outcome means (and whether a row
// is settled) is enroll's to say.
//
// One Writer writes every report file, during a run and when `pvenroll
// report` re-renders a directory from its report.csv; its Summary owns the
// run's counts and may be read while the run goes on (Snapshot).
package report
