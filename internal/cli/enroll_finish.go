package cli

// An enroll run from its rows to its exit code: the run itself, the
// report's and the ledger's end, and what to tell the operator.

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/progress"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// run sends the rows, then writes the report and finishes the ledger.
func (r *enrollRun) run(ctx context.Context, c *cobra.Command) error {
	bar := newProgress(c.ErrOrStderr(), r.o, r.log, r.total(), r.report.Summary())
	start := time.Now()
	sink := &resultSink{report: r.report, start: start}
	if r.ledger != nil {
		if prev := r.ledger.Previous(); prev != nil {
			sink.changes = &report.Changes{SinceRun: prev.ID, SinceStart: prev.Start}
		}
	}
	// The run's inputs that are no flag: how many rows the input holds,
	// about, and what earlier runs learnt (--state).
	r.o.Run.ExpectedRows = r.expectedRows()
	if r.ledger != nil {
		r.o.Run.Memory = r.ledger
	}
	r.log.Info("start", "input", r.file, "out", r.out, "dry_run", r.o.Policy.DryRun, "rate", r.o.Client.Rate, "workers", r.o.Run.Workers)
	info, runErr := enroll.Run(ctx, r.rows, r.en, sink, r.o.Run)
	bar.Done()
	if info.Unread {
		r.warn(fmt.Sprintf("the input %s sent nothing more after the stop; rows it had not sent are in no report", r.read.Name))
	}
	sum := r.report.Summary()
	r.warnAllNotFound(sum, &sum.Resumed)
	code := enrollExitCode(info, sum, runErr)
	if runErr != nil && sum.Rows == 0 {
		r.discard()
		return runErr
	}
	stats := r.api.Stats.Snapshot()
	failure := r.finish(info, sum, sink, code, stats, runErr)
	if failure != nil {
		code = ExitRecords
	}
	if failure == nil || failure.report == nil {
		if !r.o.Quiet { // -q: only errors and the final hint
			printTable(c.OutOrStdout(), sum, r.o.Policy.DryRun)
			if ch := sink.changes; ch != nil && ch.Waited > 0 {
				fmt.Fprintf(c.OutOrStdout(), "%s waited: unchanged, not due for a check (no call; --recheck-all checks them now)\n", rowCount(ch.Waited))
			}
			fmt.Fprintln(c.OutOrStdout(), reportLine(r.out))
		}
	} else if r.made {
		os.Remove(r.out) // only if empty: the writer removed what it wrote
	}
	r.log.Info("done", "rows", sum.Rows, "requests", stats.Requests, "retries", stats.Retries, "throttled_429", stats.Throttled,
		"elapsed_ms", info.End.Sub(info.Start).Milliseconds(), "exit_code", code)
	if failure != nil {
		return r.recordsError(failure, info, sum)
	}
	if code == ExitOK {
		return nil
	}
	return r.stopError(info, sum, code, runErr)
}

// warn logs a warning of the run and keeps it for the report.
func (r *enrollRun) warn(msg string) {
	r.log.Warn(msg)
	r.warnings = append(r.warnings, msg)
}

// finish records the run's end in the ledger, then closes the report; a
// record that could not be written does not keep the other from being
// written.
func (r *enrollRun) finish(info *enroll.RunInfo, sum *report.Summary, sink *resultSink, code int, stats pv.StatsSnapshot, runErr error) *recordsFailure {
	var finishErr error
	changes := sink.changes
	sha := hex.EncodeToString(r.hashing.h.Sum(nil))
	if r.ledger != nil {
		status := ledger.RunFinished
		if info.Stop != enroll.StopNone || runErr != nil {
			status = ledger.RunStopped
		}
		var resumed, skipped int
		if changes != nil {
			resumed, skipped = changes.Resumed, changes.Skipped
		}
		// The run is credited with its own work: resumed rows are the
		// work of the runs that decided them.
		if finishErr = r.ledger.Finish(info.End, sha, status, sum.Resumed.Own(sum.Counts), resumed, skipped); finishErr != nil {
			code = ExitRecords
		}
	}
	meta := report.Meta{ToolVersion: version(), DryRun: r.o.Policy.DryRun,
		Input:    report.Input{Path: r.file, Size: r.hashing.n, SHA256: sha, Encoding: r.rows.Encoding()},
		Business: report.BusinessInfo{ID: r.biz.BusinessID, Name: r.biz.Name, PerkvilleURL: r.biz.ShownURL()},
		API:      report.APIStats{Requests: stats.Requests, ByEndpoint: stats.ByEndpoint, Retries: stats.Retries, Throttled: stats.Throttled, OutageProbes: stats.Probes},
		Workers:  r.o.Run.Workers, Rate: r.o.Client.Rate, Start: info.Start, End: info.End, ExitCode: code, Changes: changes,
		Preset: presetInfo(r.read.Preset, r.read.Map, r.o.Policy.SyncMembership), Warnings: r.warnings}
	if r.ledger != nil {
		meta.History = runHistory(r.ledger) // this run included, as Finish recorded it
		if h := meta.History; len(h) > 0 && !meta.DryRun {
			meta.Run = h[len(h)-1].Run
		}
		if prev := r.ledger.Previous(); prev != nil && prev.ID == r.continued {
			// Read before this report replaces the continued one's summary.
			meta.Earlier = report.ReadParts(r.out, report.RunPart{Run: prev.ID, Start: prev.Start, End: prev.End})
		}
	}
	if info.Stop != enroll.StopNone {
		meta.Stop = info.Stop.String()
		if info.StopErr != nil {
			meta.Stop += ": " + info.StopErr.Error()
		}
	}
	var reportErr error
	if r.continued != 0 {
		// Follow-ups of the continued report that this one does not replace.
		if reportErr = report.DropStale(r.out, sum); reportErr != nil {
			r.report.Abort()
		}
	}
	if reportErr == nil {
		reportErr = r.report.Close(meta)
	}
	return recordsFailed(runErr, finishErr, reportErr)
}

// stopError says why a finished run did not exit 0, and what to do.
func (r *enrollRun) stopError(info *enroll.RunInfo, sum *report.Summary, code int, runErr error) error {
	rest := "run the same command again to resume (--state remembers what was done)"
	if r.ledger == nil || r.o.Policy.DryRun {
		rest = r.rerunAdvice()
	}
	if info.Unread {
		// Only advise files that exist: rows the input never sent are in none.
		rest = hintLines([]string{rest}, "rows the input had not sent by the stop are in no file: run again with the rows after the last line of report.csv")
	}
	var err error
	hint := ""
	switch {
	case errors.As(runErr, new(*enroll.ReadError)):
		err, hint = fmt.Errorf("%s: %w", r.read.Name, runErr), "fix the input and run again; the report holds every row read"
	case runErr != nil:
		err = runErr
	case info.Stop == enroll.StopFatal:
		err, hint = fmt.Errorf("stopped: %w; the rest are not-attempted", info.StopErr), hintLines(apiHints(info.StopErr, r.ep), rest)
	case info.Stop == enroll.StopMaxDuration:
		err, hint = fmt.Errorf("--max-duration reached (%s); the rest are not-attempted", r.o.Run.MaxDuration), rest
	case info.Stop == enroll.StopInterrupted:
		err, hint = errors.New("interrupted; the rest are not-attempted"), rest
	default:
		err = fmt.Errorf("%s failed", rowCount(sum.Counts[enroll.Failed]))
		hint = r.rerunFailed()
	}
	return exitError{code: code, err: err, hint: hint}
}

// rerunAdvice names, for each retry file of a stop that the run wrote
// (not-attempted, interrupted), the command that sends its rows: without
// --state, running the same command again would start over.
func (r *enrollRun) rerunAdvice() string {
	var lines []string
	for _, o := range []enroll.Outcome{enroll.NotAttempted, enroll.Interrupted} {
		path := followup(r.out, o)
		if _, err := os.Stat(path); err == nil {
			lines = append(lines, fmt.Sprintf("%s: %s", rowsOf(o), rerunCommand(r.flags, r.out+"-"+string(o), path)))
		}
	}
	return hintLines(lines)
}

func rowsOf(o enroll.Outcome) string {
	if o == enroll.Interrupted {
		return "rows stopped mid-row (each is looked up first)"
	}
	return "rows not attempted"
}

// rerunFailed is the command that sends the failed rows again, as
// rerunAdvice's are, if the run wrote their retry file.
func (r *enrollRun) rerunFailed() string {
	path := followup(r.out, enroll.Failed)
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return "rerun them later: " + rerunCommand(r.flags, r.out+"-"+string(enroll.Failed), path)
}

func followup(out string, o enroll.Outcome) string {
	return out + string(os.PathSeparator) + "followup" + string(os.PathSeparator) + string(o) + ".csv"
}

// total is the rows expected, for the bar's and the log line's total;
// -1 when unknown.
func (r *enrollRun) total() int64 {
	if r.file == "-" || r.o.Quiet || r.o.Progress == "never" {
		return -1
	}
	return progress.CountRows(r.file)
}

// expectedRows is about how many rows the input holds, to bound the
// listing of a nightly run; 0 when unknown (standard input).
func (r *enrollRun) expectedRows() int {
	if r.file == "-" {
		return 0
	}
	return int(max(progress.CountRows(r.file), 0))
}

// enrollExitCode maps a finished run to its exit code.
func enrollExitCode(info *enroll.RunInfo, sum *report.Summary, runErr error) int {
	var readErr *enroll.ReadError
	switch {
	case errors.As(runErr, new(*enroll.RecordError)):
		return ExitRecords // the nightly wrapper alerts on it: a record is missing
	case errors.As(runErr, &readErr):
		return ExitUsage // the nightly wrapper alerts on it: fix the export
	case info.Stop == enroll.StopFatal && runErr == nil:
		return ExitFatalAPI
	case info.Stop == enroll.StopInterrupted:
		return ExitInterrupted
	case info.Stop == enroll.StopMaxDuration:
		return ExitMaxDuration
	case runErr != nil, sum.Counts[enroll.Failed] > 0, sum.Counts[enroll.Interrupted] > 0, sum.Counts[enroll.NotAttempted] > 0:
		return ExitFailedRows
	}
	return ExitOK
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, o enrollOptions, log *slog.Logger, total int64, counts progress.Counts) progress.Progress {
	switch {
	case o.Quiet || o.Progress == "never":
		return progress.NoProgress{}
	case o.Progress == "always" || isTerminal(w):
		return progress.NewBarProgress(w, total, counts)
	}
	return progress.NewLogProgress(log, 30*time.Second, total, counts)
}
