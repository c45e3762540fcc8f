package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/ledger"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// enrollOptions are the enroll command's flags. Those the packages take
// are bound straight into their values: what the operator allowed the run
// (Policy), how the run spends its time and requests (Run) and how it
// calls the API (Client; its URL, token and read-only switch come from the
// endpoint and --dry-run when the client is built); resolve fills the
// defaults that depend on other flags or on the export.
type enrollOptions struct {
	API    apiFlags
	Reader readerFlags
	Policy enroll.Policy
	Run    enroll.Options
	Client pv.Options

	Out       string
	State     string
	LogFormat string
	Quiet     bool
	Progress  string
}

func newEnrollCmd() *cobra.Command {
	var o enrollOptions
	c := &cobra.Command{
		Use:   "enroll [flags] FILE",
		Short: "Enroll the customers of a CSV or .xlsx export (FILE, or - for standard input)",
		Long: `Enroll reads an export of a membership system, a CSV or an .xlsx workbook,
and, for each row, finds the customer's Perkville connection, creates the
customer when asked and allowed, accepts the program's agreements only where
the row holds the customer's own recorded consent, sets the connection ACTIVE,
and writes a report directory.

` + tokenSourcesHelp() + `; never
from a flag value.
Flags may come before or after FILE.`,
		Example: `  # try it, from any folder, in a second: write the sample files, then a dry
  # run against the built-in sandbox (--rate 0: the sandbox has no rate limit)
  pvenroll samples
  pvenroll enroll --sandbox --dry-run --rate 0 samples/members.csv

  # a real run of an ABC Ignite export (the preset names its columns, its
  # membership rule and its system id), with a state file to resume from;
  # the token is the one 'pvenroll login' saved
  export PERKVILLE_BUSINESS=25
  pvenroll enroll --preset abc-ignite --create-missing \
      --consent-column "Terms Accepted At" --state pvenroll.db --out run-1 members.csv

  # standard input, semicolon-separated, columns named by hand
  cat export.csv | pvenroll enroll --map email=Correo,first_name=Nombre -`,
		Args: oneArg("one FILE (or - for standard input)"),
		RunE: func(c *cobra.Command, args []string) error {
			o.API.fromEnv(c)
			return runEnroll(c.Context(), c, o, args[0])
		},
	}
	o.add(c.Flags())
	return c
}

// add binds the flags to their fields: each straight into the value its
// package takes.
func (o *enrollOptions) add(f *pflag.FlagSet) {
	o.API.add(f)
	o.API.addSandbox(f)
	f.BoolVar(&o.Policy.DryRun, "dry-run", false, "reads only: never send a write; report what would happen")
	f.BoolVar(&o.Policy.CreateMissing, "create-missing", false, "create customers without a connection as external members (admin token)")
	f.StringVar(&o.Policy.SystemID, "system-id", "", "external_system_id used by --create-missing and --sync-membership (default: the --preset's, "+presetSystemIDs()+")")
	f.BoolVar(&o.Policy.RejoinInactive, "rejoin-inactive", false, "also re-activate INACTIVE (opted-out or removed) connections")
	f.IntVar(&o.Run.AcceptBatch, "accept-batch", pv.MaxAcceptanceBatch, "rows whose agreement acceptances share one request (1: one request a row)")
	f.BoolVar(&o.Policy.SyncMembership, "sync-membership", false, "update the external member's membership status where the export's differs (needs --system-id or a preset's)")
	f.Float64Var(&o.Client.Rate, "rate", 10, "API requests per second, all workers together (0: unlimited)")
	f.IntVar(&o.Run.Workers, "workers", 0, fmt.Sprintf("rows in flight at once, at most %d (default: enough to keep --rate busy, 3× that with batched acceptances and a consent column)", enroll.MaxWorkers))
	f.IntVar(&o.Client.Retries, "retries", 5, fmt.Sprintf("retries of one request on 429, 5xx, timeouts and resets, at most %d", maxRetries))
	f.DurationVar(&o.Client.Timeout, "timeout", 30*time.Second, "time limit of one request")
	f.DurationVar(&o.Run.MaxDuration, "max-duration", 0, "stop starting rows after this long (e.g. 45m); the rest are not-attempted")
	f.DurationVar(&o.Client.MaxWait, "max-wait", pv.DefaultMaxWait, "longest Retry-After to wait for, and longest outage to ride out; past either, the run stops (exit 3)")
	f.StringVar(&o.Out, "out", "", "report directory, created; an existing non-empty one is refused, unless it holds the report of the unfinished run this one continues with --state (default pvenroll-report-YYYYMMDD-HHMMSS)")
	o.Reader.add(f)
	f.StringVar(&o.State, "state", "", "run ledger: resume after a crash, skip unchanged rows on nightly runs, remember opt-outs")
	f.DurationVar(&o.Policy.RecheckAfter, "recheck-after", 0, "with --state: check a waiting customer's unchanged row at least this often (default: more than 1, 2, 4 and 7 days after they were first found waiting, then weekly; never the next night)")
	f.BoolVar(&o.Policy.RecheckAll, "recheck-all", false, "with --state: check every waiting customer in this run")
	f.StringVar(&o.LogFormat, "log-format", "text", "log lines on stderr: text or json")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print only warnings, errors and the final hint: no progress, no outcome table")
	f.StringVar(&o.Progress, "progress", "auto", "progress: auto (a bar on a terminal, a line every 30 s otherwise), always or never")
	f.DurationVar(&o.Run.Grace, "stop-grace", enroll.DefaultGrace, "after a stop, how long rows in flight may finish")
	f.DurationVar(&o.Client.BackoffBase, "backoff", 250*time.Millisecond, "first retry backoff for 5xx and resets (doubles, with jitter)")
	_ = f.MarkHidden("stop-grace")
	_ = f.MarkHidden("backoff")
}

// enrollRun is an enroll run, set up in order: the flags, the API, the
// input's header, the ledger, the report directory, the preflight. A
// step that fails leaves nothing behind: no report directory, no run in
// the ledger.
type enrollRun struct {
	o       enrollOptions
	flags   *pflag.FlagSet // as given, for the commands a hint advises
	file    string
	log     *slog.Logger
	mode    runMode
	read    export.ReaderOptions
	ep      *endpoint
	api     *pv.Client
	input   io.Closer
	hashing *hashReader
	rows    *export.Reader
	ledger  *ledger.Ledger // nil without --state
	biz     *pv.Business
	en      *enroll.Enroller // made from the flags' policy once biz is found
	out     string
	report  *report.Writer
	made    bool // the report directory is this run's own
	// continued is the unfinished run whose report this run continues
	// (0: none): its folder holds that run's report until this one's.
	continued uint64
	// rightsProven: the preflight proved the token an admin staff member's
	// of the business (a run that may create or upsert members).
	rightsProven bool
	// warnings are the run's warnings, as logged: its report records
	// them too, for a reader of the folder who never saw the log.
	warnings []string
}

func runEnroll(ctx context.Context, c *cobra.Command, o enrollOptions, file string) (err error) {
	r := &enrollRun{o: o, flags: c.Flags(), file: file, mode: runMode{dryRun: o.Policy.DryRun}}
	defer r.close()
	if err := r.setUp(ctx, c); err != nil {
		return err
	}
	if err := r.presetMemberID(); err != nil {
		return err
	}
	if err := r.startReport(); err != nil {
		r.discard()
		return err
	}
	if err := r.preflight(ctx); err != nil {
		r.discard()
		return err
	}
	r.en = enroll.New(r.api, r.biz, r.o.Policy)
	if r.ledger != nil {
		start := ledger.Start{Input: r.file, Out: absPath(r.out), At: time.Now(), Grounds: r.en.Grounds(r.o.Run.Read)}
		if err := r.ledger.Begin(start); err != nil {
			r.discard()
			return exitError{code: ExitFailedRows, err: fmt.Errorf("--state: %w", err)}
		}
	}
	return r.run(ctx, c)
}

// setUp checks the flags and reads the header: nothing is sent yet.
func (r *enrollRun) setUp(ctx context.Context, c *cobra.Command) error {
	o := &r.o
	var err error
	if r.log, err = newLogger(c.ErrOrStderr(), o.LogFormat, o.Quiet); err != nil {
		return err
	}
	if r.read, err = o.Reader.options(r.file); err != nil {
		return err
	}
	o.resolve(r.read)
	if err := o.check(); err != nil {
		return err
	}
	if r.ep, err = o.API.endpoint(c); err != nil {
		return err
	}
	r.api, err = r.mode.client(r.ep, o.Client)
	if err != nil {
		return err
	}
	in, name, err := openInput(c, r.file)
	if err != nil {
		return err
	}
	r.input = in
	r.read.Name = name
	if f, ok := in.(*os.File); ok {
		// A regular file's bytes are checked whole before any request: a
		// bad byte on its last line must not come after writes were sent.
		if err := export.PrescanFile(f, r.read); err != nil {
			return err
		}
	}
	r.hashing = &hashReader{r: in, h: sha256.New()}
	if r.file == "-" {
		// A stream may be slow to start: say what the run waits for.
		r.log.Info("reading", "input", name)
	}
	if r.rows, err = readHeader(ctx, r.hashing, r.read); err != nil {
		return withPresetHint(c, err)
	}
	if h := presetHint(c, r.rows.Header); h != "" {
		r.warn(h)
	}
	if o.State != "" {
		if err := r.openState(); err != nil {
			return err
		}
	}
	return nil
}

// resolve decides, in this one place, the settings whose default depends
// on other flags or on the export: the system id is the preset's unless
// --system-id names one; the run learns how its rows are read (preset,
// consent column and --consent-after), its part of the grounds the state
// file records; and --workers, unset, is enough to keep --rate busy. Only
// consenting rows wait for a batch of acceptances, holding their worker: a
// file without consent needs no more workers than the rate, and every
// extra row in flight is one a crash makes the next run look up again.
func (o *enrollOptions) resolve(read export.ReaderOptions) {
	if o.Policy.SystemID == "" {
		o.Policy.SystemID = read.Preset.SystemID
	}
	o.Policy.SystemID = strings.TrimSpace(o.Policy.SystemID)
	o.Run.Read = enroll.ReaderGroundsOf(read)
	if o.Run.Workers == 0 {
		o.Run.Workers = enroll.DefaultWorkers(o.Client.Rate)
		if o.Run.AcceptBatch > 1 && !o.Policy.DryRun && read.ConsentColumn != "" {
			o.Run.Workers = enroll.DefaultBatchWorkers(o.Client.Rate)
		}
	}
}

// check refuses flag values no run can use, before anything is read or sent.
func (o *enrollOptions) check() error {
	if o.Run.AcceptBatch < 1 || o.Run.AcceptBatch > pv.MaxAcceptanceBatch {
		return usagef("--accept-batch %d: from 1 (no batching) to %d, the most the API is assumed to take", o.Run.AcceptBatch, pv.MaxAcceptanceBatch)
	}
	if o.Policy.SyncMembership && o.Policy.SystemID == "" {
		return usagef("--sync-membership needs --system-id NAME, the external_system_id of your membership system (e.g. ABC_IGNITE), or a --preset that names it")
	}
	if o.Policy.CreateMissing && o.Policy.SystemID == "" {
		return usagef("--create-missing needs --system-id NAME, the external_system_id of your membership system (e.g. ABC_IGNITE), or a --preset that names it")
	}
	if err := checkPace(o.Client.Rate, o.Run.Workers, o.Client.Retries); err != nil {
		return err
	}
	if err := checkDurations(flagDuration{"timeout", o.Client.Timeout}, flagDuration{"max-duration", o.Run.MaxDuration},
		flagDuration{"stop-grace", o.Run.Grace}, flagDuration{"backoff", o.Client.BackoffBase}); err != nil {
		return err
	}
	if err := checkProgress(o.Progress); err != nil {
		return err
	}
	if o.Policy.RecheckAfter < 0 {
		return usagef("--recheck-after %s: a wait is a positive duration, e.g. 72h", o.Policy.RecheckAfter)
	}
	if o.Client.MaxWait <= 0 {
		return usagef("--max-wait %s: a wait limit is a positive duration, e.g. 10m", o.Client.MaxWait)
	}
	return nil
}

// openState opens the --state ledger and adopts it for this run's API and
// business, refusing one that holds another's.
func (r *enrollRun) openState() error {
	o := &r.o
	l, err := r.mode.ledger(o.State)
	if errors.Is(err, ledger.ErrLocked) {
		return exitError{code: ExitLocked, err: err}
	}
	if err != nil {
		if !errors.Is(err, fs.ErrPermission) { // the file is something else than a ledger
			err = withHint(err, o.State+" is not a state file: name the file earlier runs' --state wrote, or a new one for a first run")
		}
		return usageError{fmt.Errorf("--state: %w", err)}
	}
	r.ledger = l
	if err := l.Adopt(o.State, r.ep.origin()); err != nil {
		if errors.Is(err, ledger.ErrOtherOrigin) {
			return usageError{withHint(fmt.Errorf("--state: %w", err),
				"a state file holds one API's and one business's runs: give this one a state file of its own, e.g. --state "+otherStateName(o.State))}
		}
		return usageError{fmt.Errorf("--state: %w", err)}
	}
	return nil
}

// readHeader reads the export's header. An interrupt ends the wait for a
// stream that sends nothing; the read itself cannot be cancelled, and ends
// with the process.
func readHeader(ctx context.Context, in io.Reader, o export.ReaderOptions) (*export.Reader, error) {
	type header struct {
		rows *export.Reader
		err  error
	}
	ch := make(chan header, 1)
	go func() {
		rows, err := export.NewReader(in, o)
		ch <- header{rows, err}
	}()
	select {
	case h := <-ch:
		return h.rows, h.err
	case <-ctx.Done():
		return nil, exitError{code: ExitInterrupted, err: fmt.Errorf("interrupted while waiting for the header of %s; nothing was sent", o.Name)}
	}
}

// preflight finds the business, and proves the token's rights before any
// row of a run that may create or upsert members (proveRights; other runs
// warn when the rights are not known); a failure is the run's
// only output (exit 3), and the report directory is removed, so the same
// command works once the cause is fixed.
func (r *enrollRun) preflight(ctx context.Context) error {
	fail := func(err error) error {
		if ctx.Err() != nil {
			return exitError{code: ExitInterrupted, err: errors.New("interrupted during the preflight; nothing was written")}
		}
		return exitError{code: ExitFatalAPI, err: fmt.Errorf("preflight: %w", err),
			hint: hintLines(apiHints(err, r.ep), rightsHint(err), "nothing was written; run the same command again once this is fixed")}
	}
	if sc := r.ep.scopeCheck(); sc.Fatal {
		return fail(sc.Err) // known from login: a dry run learns it too
	}
	biz, err := r.api.Business(ctx, r.ep.business)
	if err != nil {
		return fail(fmt.Errorf("business %d: %w", r.ep.business, err))
	}
	if r.rightsProven, err = r.proveRights(ctx); err != nil {
		return fail(err)
	}
	r.biz = biz
	r.log.Info("business", "id", biz.BusinessID, "name", biz.Name, "perkville_url", biz.ShownURL())
	return nil
}

// startReport makes the report directory, before any request, so that a
// directory in the way is refused first.
func (r *enrollRun) startReport() error {
	r.out = r.o.Out
	if r.out == "" {
		r.out = "pvenroll-report-" + time.Now().Format("20060102-150405")
	}
	_, err := os.Stat(r.out)
	r.made = errors.Is(err, os.ErrNotExist)
	err = report.Prepare(r.out)
	if errors.Is(err, report.ErrOutNotEmpty) && r.ledger != nil && !r.o.Policy.DryRun {
		if prev := r.ledger.Continues(absPath(r.out)); prev != nil {
			// The same command again, after a stop: one report, every row once.
			r.log.Info("continuing the report of the unfinished run", "run", prev.ID, "out", r.out)
			r.continued, err = prev.ID, report.Continue(r.out)
		}
	}
	if err != nil {
		r.made = false
		if errors.Is(err, report.ErrOutNotEmpty) {
			return usageError{withHint(fmt.Errorf("--out %w", err), "name a new report directory, or remove the old one")}
		}
		return usageError{fmt.Errorf("--out: %w", err)}
	}
	w, err := report.NewWriter(r.out, report.Options{InputHeader: r.rows.Header, Delimiter: r.rows.Comma})
	if err != nil {
		return err
	}
	r.report = w
	return nil
}

// discard removes an unfinished report: its files, and its directory if
// this run made it.
func (r *enrollRun) discard() {
	if r.report != nil {
		r.report.Abort()
	}
	if r.made {
		os.RemoveAll(r.out)
	}
}

// close releases what the run holds; the ledger's Close is a no-op after
// Finish, and the report's Abort after Close.
func (r *enrollRun) close() {
	if r.report != nil {
		r.report.Abort()
	}
	if r.ledger != nil {
		r.ledger.Close()
	}
	if r.input != nil {
		r.input.Close()
	}
	r.ep.Close()
}
