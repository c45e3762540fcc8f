package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/progress"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// enrollOptions are the enroll command's flags.
type enrollOptions struct {
	API            string
	Business       string
	TokenFile      string
	Sandbox        bool
	SandboxWorld   string
	SandboxFaults  sandbox.Faults
	DryRun         bool
	CreateMissing  bool
	SystemID       string
	RejoinInactive bool
	SyncMembership bool
	Rate           float64
	Workers        int
	Retries        int
	Timeout        time.Duration
	MaxDuration    time.Duration
	Out            string
	Reader         readerFlags
	State          string
	LogFormat      string
	Quiet          bool
	Progress       string
	Grace          time.Duration
	BackoffBase    time.Duration
}

func newEnrollCmd() *cobra.Command {
	var o enrollOptions
	c := &cobra.Command{
		Use:   "enroll [flags] FILE",
		Short: "Enroll the customers of a CSV export (FILE, or - for standard input)",
		Long: `Enroll reads a CSV export of a membership system and, for each row, finds the
customer's Perkville connection, creates the customer when asked and allowed,
accepts the program's agreements only where the row holds the customer's own
recorded consent, sets the connection ACTIVE, and writes a report directory.

The token comes from PERKVILLE_TOKEN or --token-file, never from a flag value.
Flags may come before or after FILE.`,
		Example: `  # what would happen, against the built-in sandbox
  pvenroll enroll --sandbox --dry-run samples/members.csv

  # a real run
  export PERKVILLE_BUSINESS=25
  pvenroll enroll --token-file ~/.config/pvenroll/token \
      --create-missing --system-id ABC_IGNITE --consent-column "Terms Accepted At" \
      --out /var/lib/pvenroll/report-$(date +%F) members.csv

  # standard input, semicolon-separated, columns named by hand
  cat export.csv | pvenroll enroll --map email=Correo,first_name=Nombre -`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("enroll takes one FILE (or - for standard input), got %d\nsee 'pvenroll enroll --help'", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			fromEnv(c, "api", "PERKVILLE_API", &o.API)
			fromEnv(c, "business", "PERKVILLE_BUSINESS", &o.Business)
			return runEnroll(c.Context(), c, o, args[0])
		},
	}
	f := c.Flags()
	f.StringVar(&o.API, "api", pv.DefaultBaseURL, "API base URL; http:// only for loopback hosts [PERKVILLE_API]")
	f.StringVar(&o.Business, "business", "", "the business whose program customers join [PERKVILLE_BUSINESS]")
	f.StringVar(&o.TokenFile, "token-file", "", "file holding the bearer token (else PERKVILLE_TOKEN)")
	f.BoolVar(&o.Sandbox, "sandbox", false, "run against the built-in sandbox API, in process")
	f.StringVar(&o.SandboxWorld, "sandbox-world", "", "world file of the --sandbox (default: the embedded sample world)")
	addFaultFlags(f, &o.SandboxFaults, "sandbox-")
	f.BoolVar(&o.DryRun, "dry-run", false, "reads only: never send a write; report what would happen")
	f.BoolVar(&o.CreateMissing, "create-missing", false, "create customers without a connection as external members (admin token)")
	f.StringVar(&o.SystemID, "system-id", "", "external_system_id used by --create-missing")
	f.BoolVar(&o.RejoinInactive, "rejoin-inactive", false, "also re-activate INACTIVE (opted-out or removed) connections")
	f.BoolVar(&o.SyncMembership, "sync-membership", false, "update the external member's membership status where the export's differs (needs --system-id or a preset's)")
	f.Float64Var(&o.Rate, "rate", 10, "API requests per second, all workers together")
	f.IntVar(&o.Workers, "workers", 0, "rows in flight at once (default: enough to keep --rate busy)")
	f.IntVar(&o.Retries, "retries", 5, "retries of one request on 429, 5xx, timeouts and resets")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "time limit of one request")
	f.DurationVar(&o.MaxDuration, "max-duration", 0, "stop starting rows after this long (e.g. 45m); the rest are not-attempted")
	f.StringVar(&o.Out, "out", "", "report directory, created; an existing non-empty one is refused (default pvenroll-report-YYYYMMDD-HHMMSS)")
	o.Reader.add(f)
	f.StringVar(&o.State, "state", "", "run ledger: resume after a crash, skip unchanged rows on nightly runs, remember opt-outs")
	f.StringVar(&o.LogFormat, "log-format", "text", "log lines on stderr: text or json")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress and only warnings on stderr")
	f.StringVar(&o.Progress, "progress", "auto", "progress: auto (a bar on a terminal, a line every 30 s otherwise), always or never")
	f.DurationVar(&o.Grace, "stop-grace", enroll.DefaultGrace, "after a stop, how long rows in flight may finish")
	f.DurationVar(&o.BackoffBase, "backoff", 250*time.Millisecond, "first retry backoff for 5xx and resets (doubles, with jitter)")
	_ = f.MarkHidden("stop-grace")
	_ = f.MarkHidden("backoff")
	return c
}

// addFaultFlags registers the sandbox's fault flags.
func addFaultFlags(f *pflag.FlagSet, x *sandbox.Faults, prefix string) {
	f.Int64Var(&x.Seed, prefix+"fault-seed", 1, "seed of the sandbox's fault draws")
	f.DurationVar(&x.Latency, prefix+"latency", 0, "sandbox: latency added to every answer")
	f.DurationVar(&x.Jitter, prefix+"jitter", 0, "sandbox: plus a random 0..jitter")
	f.Float64Var(&x.P429, prefix+"p429", 0, "sandbox: share of requests answered 429 with Retry-After")
	f.DurationVar(&x.RetryAfter, prefix+"retry-after", time.Second, "sandbox: the Retry-After of a 429")
	f.Float64Var(&x.P5xx, prefix+"p5xx", 0, "sandbox: share answered 500 before anything is applied")
	f.Float64Var(&x.P5xxApplied, prefix+"p5xx-applied", 0, "sandbox: share of writes applied, then answered 500")
	f.Float64Var(&x.PCDN, prefix+"pcdn", 0, "sandbox: share answered by a CDN HTML 502 page")
	f.Float64Var(&x.PDrop, prefix+"pdrop", 0, "sandbox: share whose connection is dropped with no answer")
	f.Float64Var(&x.PDropApplied, prefix+"pdrop-applied", 0, "sandbox: share of writes applied, then the connection dropped")
	f.Float64Var(&x.RateLimit, prefix+"rate-limit", 0, "sandbox: requests per second it accepts; more get 429")
}

// prepared is an enroll run ready to go: its client and its options.
type prepared struct {
	api     *pv.Client
	run     enroll.Options
	out     string
	input   io.Closer
	sandbox *sandbox.Server
	total   int64
	ledger  *ledger.Ledger
}

func runEnroll(ctx context.Context, c *cobra.Command, o enrollOptions, file string) error {
	log, err := newLogger(c.ErrOrStderr(), o.LogFormat, o.Quiet)
	if err != nil {
		return err
	}
	p, err := prepareEnroll(c, o, file)
	if p != nil && p.sandbox != nil {
		defer p.sandbox.Close()
	}
	if p != nil && p.input != nil {
		defer p.input.Close()
	}
	if p != nil && p.ledger != nil {
		defer p.ledger.Close() // a no-op after Finish
	}
	if err != nil {
		return err
	}
	p.run.Log = log
	bar := newProgress(c.ErrOrStderr(), o, log, p.total)
	p.run.Progress = bar

	var w *report.Writer
	p.run.OnHeader = func(header []string, delimiter rune) (enroll.Sink, error) {
		if err := report.Prepare(p.out); err != nil {
			return nil, usageError{err}
		}
		w, err = report.NewWriter(p.out, report.Options{InputHeader: header, Delimiter: delimiter})
		return w, err
	}
	log.Info("start", "input", file, "out", p.out, "dry_run", o.DryRun, "rate", o.Rate, "workers", p.run.Workers)
	if p.ledger != nil {
		if err := p.ledger.Begin(file, time.Now()); err != nil {
			return exitError{ExitFailedRows, fmt.Errorf("--state: %w", err)}
		}
		p.run.Ledger = p.ledger
	}
	res, runErr := enroll.Run(ctx, p.api, p.run)
	bar.Done()
	if w == nil {
		return runErr // refused before anything was sent or written
	}
	code := enrollExitCode(res, runErr)
	stats := p.api.Stats.Snapshot()
	meta := report.Meta{ToolVersion: version(), DryRun: o.DryRun,
		Input:   report.Input{Path: file, Size: res.Bytes, SHA256: res.SHA256},
		API:     report.APIStats{Requests: stats.Requests, ByEndpoint: stats.ByEndpoint, Retries: stats.Retries, Throttled: stats.Throttled},
		Workers: p.run.Workers, Rate: o.Rate, Start: res.Start, End: res.End, ExitCode: code}
	if res.Business != nil {
		meta.Business = report.BusinessInfo{ID: res.Business.BusinessID, Name: res.Business.Name, PerkvilleURL: res.Business.PerkvilleURL}
	} else {
		meta.Business.ID = p.run.BusinessID
	}
	if res.Stop != enroll.StopNone {
		meta.Stop = res.Stop.String()
		if res.StopErr != nil {
			meta.Stop += ": " + res.StopErr.Error()
		}
	}
	meta.Changes = res.Changes
	if runErr != nil && w != nil && res.Rows == 0 {
		w.Abort()
		return runErr
	}
	if p.ledger != nil {
		status := ledger.RunFinished
		if res.Stop != enroll.StopNone || runErr != nil {
			status = ledger.RunStopped
		}
		counts := map[string]int{}
		for o, n := range res.Counts {
			counts[string(o)] = n
		}
		var resumed, skipped int
		if res.Changes != nil {
			resumed, skipped = res.Changes.Resumed, res.Changes.Skipped
		}
		if err := p.ledger.Finish(res.End, res.SHA256, status, counts, resumed, skipped); err != nil {
			return exitError{ExitFailedRows, fmt.Errorf("--state: %w", err)}
		}
	}
	if err := w.Close(meta); err != nil {
		return exitError{ExitFailedRows, fmt.Errorf("writing the report in %s: %w", p.out, err)}
	}
	printTable(c.OutOrStdout(), w.Summary(), o.DryRun)
	fmt.Fprintf(c.OutOrStdout(), "report: %s (summary.md, report.html, report.csv, followup/)\n", p.out)
	log.Info("done", "rows", res.Rows, "requests", stats.Requests, "retries", stats.Retries, "throttled_429", stats.Throttled,
		"elapsed", res.End.Sub(res.Start).Round(time.Millisecond), "exit_code", code)
	var msg error
	switch {
	case runErr != nil:
		msg = runErr
	case res.Stop == enroll.StopFatal:
		msg = fmt.Errorf("stopped: %w; the rest are not-attempted", res.StopErr)
	case res.Stop == enroll.StopMaxDuration:
		msg = errors.New("--max-duration reached; the rest are not-attempted (rerun with followup/not-attempted.csv)")
	case res.Stop == enroll.StopInterrupted:
		msg = errors.New("interrupted; the rest are not-attempted (rerun with followup/not-attempted.csv)")
	case code == ExitFailedRows:
		msg = fmt.Errorf("%s failed; rerun them later with %s", rowCount(res.Counts[report.Failed]), filepath.Join(p.out, "followup", "failed.csv"))
	}
	if code == ExitOK {
		return nil
	}
	return exitError{code, msg}
}

// enrollExitCode maps a finished run to its exit code.
func enrollExitCode(res *enroll.Outcome, runErr error) int {
	switch {
	case res.Stop == enroll.StopFatal && runErr == nil:
		return ExitFatalAPI
	case res.Stop == enroll.StopInterrupted:
		return ExitInterrupted
	case res.Stop == enroll.StopMaxDuration:
		return ExitMaxDuration
	case runErr != nil, res.Counts[report.Failed] > 0, res.Counts[report.NotAttempted] > 0:
		return ExitFailedRows
	}
	return ExitOK
}

func prepareEnroll(c *cobra.Command, o enrollOptions, file string) (*prepared, error) {
	p := &prepared{}
	readOpts, err := o.Reader.options(file)
	if err != nil {
		return p, err
	}
	if o.SystemID == "" {
		o.SystemID = readOpts.Preset.SystemID
	}
	if o.SyncMembership && strings.TrimSpace(o.SystemID) == "" {
		return p, usagef("--sync-membership needs --system-id NAME, the external_system_id of your membership system (e.g. ABC_IGNITE), or a --preset that names it")
	}
	if o.CreateMissing && strings.TrimSpace(o.SystemID) == "" {
		return p, usagef("--create-missing needs --system-id NAME, the external_system_id of your membership system (e.g. ABC_IGNITE), or a --preset that names it")
	}
	if o.Rate < 0 || o.Workers < 0 || o.Retries < 0 {
		return p, usagef("--rate, --workers and --retries must not be negative")
	}
	if o.Progress != "auto" && o.Progress != "always" && o.Progress != "never" {
		return p, usagef("--progress %q: auto, always or never", o.Progress)
	}
	var token string
	if o.Sandbox {
		// The sandbox takes its world's admin token, not a real one from
		// the environment; --token-file still picks another.
		if o.TokenFile != "" {
			if token, err = readToken(o.TokenFile); err != nil {
				return p, err
			}
		}
	} else if token, err = readToken(o.TokenFile); err != nil {
		return p, err
	}
	api := o.API
	if o.Sandbox {
		world, err := loadWorld(o.SandboxWorld)
		if err != nil {
			return p, err
		}
		if !c.Flags().Changed("business") && o.Business == "" {
			o.Business = fmt.Sprint(world.Business.BusinessID)
		}
		if token == "" {
			token = adminToken(world)
		}
		p.sandbox = sandbox.NewServer(world, o.SandboxFaults)
		api = p.sandbox.URL
	}
	if o.Business == "" {
		return p, usagef("--business ID (or PERKVILLE_BUSINESS) is required")
	}
	biz, err := parseBusiness(o.Business)
	if err != nil {
		return p, err
	}
	if token == "" {
		return p, usagef("no token: set PERKVILLE_TOKEN or use --token-file PATH (a token is never a flag value)")
	}
	if _, err := pv.CheckBaseURL(api); err != nil {
		return p, usageError{fmt.Errorf("--api: %w", err)}
	}
	workers := o.Workers
	if workers == 0 {
		workers = enroll.DefaultWorkers(o.Rate)
	}
	client, err := pv.New(pv.Options{BaseURL: api, Token: pv.Secret(token), Rate: o.Rate, Retries: o.Retries, Timeout: o.Timeout,
		BackoffBase: o.BackoffBase, ReadOnly: o.DryRun, UserAgent: userAgent()})
	if err != nil {
		return p, usageError{err}
	}
	p.api = client
	var in io.Reader
	name := file
	if file == "-" {
		in, name = c.InOrStdin(), "standard input"
		p.total = -1
	} else {
		f, err := os.Open(file)
		if err != nil {
			return p, usageError{err}
		}
		p.input = f
		in = f
		p.total = -1
		if !o.Quiet && o.Progress != "never" {
			p.total = progress.CountRows(file) // the bar's and the log line's total
		}
	}
	if o.State != "" {
		l, err := ledger.Open(o.State, o.DryRun)
		if errors.Is(err, ledger.ErrLocked) {
			return p, exitError{ExitLocked, err}
		}
		if err != nil {
			return p, usageError{err}
		}
		p.ledger = l
	}
	p.out = o.Out
	if p.out == "" {
		p.out = "pvenroll-report-" + time.Now().Format("20060102-150405")
	}
	readOpts.Name = name
	p.run = enroll.Options{Input: in,
		Reader:     readOpts,
		BusinessID: biz, Workers: workers, MaxDuration: o.MaxDuration, Grace: o.Grace,
		Policy: enroll.Policy{DryRun: o.DryRun, CreateMissing: o.CreateMissing, SystemID: strings.TrimSpace(o.SystemID), RejoinInactive: o.RejoinInactive,
			SyncMembership: o.SyncMembership}}
	return p, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newProgress(w io.Writer, o enrollOptions, log *slog.Logger, total int64) progress.Progress {
	switch {
	case o.Quiet || o.Progress == "never":
		return progress.NoProgress{}
	case o.Progress == "always" || isTerminal(w):
		return progress.NewBarProgress(w, total)
	}
	return progress.NewLogProgress(log, 30*time.Second, total)
}

// printTable prints the outcome counts on stdout.
func printTable(w io.Writer, s *report.Summary, dryRun bool) {
	if dryRun {
		fmt.Fprintln(w, "dry run: nothing was written")
	}
	for _, o := range report.Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(w, "%-20s %7d  %s\n", o, n, o.Description())
		}
	}
	fmt.Fprintf(w, "%-20s %7d\n", "total", s.Rows)
}
