package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/report"
)

// sandboxOptions are the sandbox command's flags.
type sandboxOptions struct {
	Listen string
	World  string
	Faults sandbox.Faults
}

func newSandboxCmd() *cobra.Command {
	var o sandboxOptions
	c := &cobra.Command{
		Use:   "sandbox [flags]",
		Short: "Serve the sandbox Perkville API on loopback",
		Long: `Serve the sandbox Perkville v2 API on a loopback address, seeded from a world
file (default: the embedded sample world), for curl and for
'pvenroll enroll --api URL'. It prints its URL and the tokens it accepts, and
runs until interrupted. GET /_sandbox/log and /_sandbox/state show its request
log and its state.`,
		Example: `  pvenroll sandbox --listen 127.0.0.1:8080

  # in another terminal
  curl -H "Authorization: Bearer sandbox-admin-token" \
      "http://127.0.0.1:8080/v2/connections/?business=25&user__emails__email=reese.lee1@example.com"
  pvenroll samples
  PERKVILLE_TOKEN=sandbox-admin-token pvenroll enroll --api http://127.0.0.1:8080 --business 25 --rate 0 samples/members.csv

  # a flaky API: 5% 5xx (half of them after applying a write), 5% 429, 200 ms latency
  pvenroll sandbox --p5xx 0.025 --p5xx-applied 0.025 --p429 0.05 --latency 200ms`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSandbox(c.Context(), c, o) },
	}
	c.Flags().StringVar(&o.Listen, "listen", "127.0.0.1:8080", "loopback address to listen on")
	c.Flags().StringVar(&o.World, "world", "", "world file (JSON; default: the embedded sample world)")
	addFaultFlags(c.Flags(), &o.Faults, "")
	return c
}

func runSandbox(ctx context.Context, c *cobra.Command, o sandboxOptions) error {
	w, err := loadWorld(o.World)
	if err != nil {
		return err
	}
	srv, err := sandbox.Listen(o.Listen, w, o.Faults)
	if err != nil {
		return usageError{fmt.Errorf("--listen %s: %w", o.Listen, err)}
	}
	out := c.OutOrStdout()
	fmt.Fprintf(out, "sandbox Perkville API at %s\nbusiness %d %s\ntokens:\n", srv.URL, w.Business.BusinessID, termText(w.Business.Name))
	for _, t := range w.Tokens {
		fmt.Fprintf(out, "  %-12s %s staff_of=%v: %s\n", t.Name, strings.Join(t.Scopes, ","), t.StaffOf, t.Token)
		if t.Username != "" {
			fmt.Fprintf(out, "  %-12s pvenroll login --username %s (password %s)\n", "", t.Username, t.Password)
		}
	}
	for _, cl := range w.OAuthClients {
		fmt.Fprintf(out, "login client: PERKVILLE_CLIENT_ID=%s PERKVILLE_CLIENT_SECRET=%s\n", cl.ClientID, cl.ClientSecret)
	}
	fmt.Fprintf(out, "try: curl -H \"Authorization: Bearer %s\" %s/v2/businesses/%d/\n", adminToken(w), srv.URL, w.Business.BusinessID)
	if f, ok := out.(*os.File); ok {
		_ = f.Sync()
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// stateOptions are the state command's flags.
type stateOptions struct {
	JSON bool
}

func newStateCmd() *cobra.Command {
	var o stateOptions
	c := &cobra.Command{
		Use:     "state FILE",
		Short:   "Print a --state file's runs and its customers by last outcome",
		Example: stateExample,
		Args:    oneArg("one FILE (the --state file of enroll runs)"),
		RunE: func(c *cobra.Command, args []string) error {
			return runState(c, o, args[0])
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print one JSON object (schema pvenroll-state, version 2) instead of text")
	return c
}

// runState prints the runs and customers of the state file at path.
func runState(c *cobra.Command, o stateOptions, path string) error {
	if err := checkStateFile(path); err != nil {
		return err
	}
	l, err := ledger.Open(path, true)
	switch {
	case errors.Is(err, ledger.ErrLocked):
		return exitError{code: ExitLocked, err: err}
	case errors.Is(err, fs.ErrPermission):
		return usageError{err}
	case err != nil: // the file is something else than a ledger
		return usageError{withHint(err, path+" is not a state file: "+stateFileHint)}
	}
	defer l.Close()
	runs, err := l.Runs()
	if err != nil {
		return err
	}
	counts, err := l.Outcomes()
	if err != nil {
		return err
	}
	if o.JSON {
		j := stateJSON{jsonHead: head("pvenroll-state"), RunsTotal: len(runs), Runs: runHistory(l), Customers: counts}
		if j.Customers == nil {
			j.Customers = map[enroll.Outcome]int{}
		}
		return replyJSON(c, &j)
	}
	out := c.OutOrStdout()
	printHistory(out, runHistory(l), len(runs))
	fmt.Fprintln(out, "customers by last outcome:")
	for _, outcome := range enroll.Outcomes {
		if n := counts[outcome]; n > 0 {
			fmt.Fprintf(out, "  %-20s %7d\n", outcome, n)
		}
	}
	return nil
}

func sum(m map[enroll.Outcome]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// runHistory is the ledger's last runs, as many as the report's chart has
// room for.
func runHistory(l *ledger.Ledger) []report.HistoryRun {
	h := []report.HistoryRun{}
	for _, r := range l.History(report.HistoryWidth) {
		counts := r.Counts
		if counts == nil { // a run that ended before it counted: {} in the JSON
			counts = map[enroll.Outcome]int{}
		}
		h = append(h, report.HistoryRun{Run: r.ID, Start: r.Start, Status: r.Status, Counts: counts, Resumed: r.Resumed})
	}
	return h
}

// printHistory prints the runs of report.html's chart as a table. Each
// run is credited with its own work; the rows it resumed are counted
// apart, so that its rows are those its report holds.
func printHistory(w io.Writer, runs []report.HistoryRun, all int) {
	fmt.Fprintf(w, "runs (the last %d of %d):\n", len(runs), all)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "run\tstart\tstatus\t")
	for _, s := range report.HistorySeries {
		fmt.Fprintf(tw, "%s\t", s.Label)
	}
	fmt.Fprintln(tw, "resumed\trows\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t", r.Run, r.Start.UTC().Format(time.RFC3339), r.Status)
		for _, s := range report.HistorySeries {
			fmt.Fprintf(tw, "%d\t", r.Counts[s.Outcome])
		}
		fmt.Fprintf(tw, "%d\t%d\t\n", r.Resumed, r.Rows())
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "(a run's outcome columns count its own work; resumed: rows it took over from the stopped run it continued; rows: every row it reported)")
}

func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "report DIR",
		Short:   "Re-render a report directory (summaries, follow-ups, HTML) from its report.csv",
		Example: reportExample,
		Args:    oneArg("one DIR (the --out directory of an enroll run)"),
		RunE: func(c *cobra.Command, args []string) error {
			return runReport(c.OutOrStdout(), args[0])
		},
	}
}

// runReport re-renders the report directory dir and prints its table. The
// command has no flags, so no options.
func runReport(out io.Writer, dir string) error {
	if err := checkReportDir(dir); err != nil {
		return err
	}
	sum, err := report.Rerender(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, report.ErrSymlink) {
			return usageError{err}
		}
		return err
	}
	printTable(out, sum, false)
	return nil
}

// validateOptions are the validate command's flags.
type validateOptions struct {
	Reader readerFlags
	JSON   bool
}

func newValidateCmd() *cobra.Command {
	var o validateOptions
	c := &cobra.Command{
		Use:     "validate [flags] FILE",
		Short:   "Read and check a CSV or .xlsx export offline: the column mapping, usable, invalid and duplicate rows; no API calls",
		Long:    validateLong(),
		Example: validateExample,
		Args:    oneArg("one FILE (CSV or .xlsx, or - for standard input)"),
		RunE: func(c *cobra.Command, args []string) error {
			return runValidate(c, o, args[0])
		},
	}
	o.Reader.add(c.Flags())
	c.Flags().BoolVar(&o.JSON, "json", false, "print one JSON object (schema pvenroll-validate, version 2) instead of text")
	return c
}

func runValidate(c *cobra.Command, o validateOptions, file string) error {
	in, name, err := openInput(c, file)
	if err != nil {
		return err
	}
	defer in.Close()
	ro, err := o.Reader.options(name)
	if err != nil {
		return err
	}
	preset := ro.Preset
	rd, err := export.NewReader(in, ro)
	if err != nil {
		return withPresetHint(c, err)
	}
	defer rd.Close()
	v := validation{name: name, asked: o.Reader.Encoding, preset: preset, rd: rd}
	tally := exportTally{consentColumn: ro.ConsentColumn != "", preset: preset, rd: rd}
	if err := v.readRows(&tally); err != nil {
		return err
	}
	v.hint = presetHint(c, rd.Header)
	if o.JSON {
		j := v.json(&tally)
		err = replyJSON(c, &j)
	} else {
		v.print(c.OutOrStdout(), &tally)
	}
	if err == nil && v.rows.Usable == 0 {
		return exitError{code: ExitUsage, err: fmt.Errorf("%s: no usable row", name)}
	}
	return err
}

// describeEncoding names the encoding read, and whether it was detected.
func describeEncoding(used, asked string) string {
	switch {
	case used == export.EncodingXLSX:
		return "xlsx (an Excel workbook: cells are text already)"
	case asked == "" || asked == export.EncodingAuto:
		return used + " (detected)"
	}
	return used + " (from --encoding)"
}

func presetRuleColumns(p *export.Preset) string {
	var names []string
	for _, n := range p.RuleColumns {
		names = append(names, n[len(n)-1])
	}
	return strings.Join(names, " and ")
}

// checkOptions are the check command's flags, and its client's pace.
type checkOptions struct {
	API    apiFlags
	Report string
	JSON   bool
	// Client paces check's few requests; no flag sets it.
	Client pv.Options
}

func newCheckCmd() *cobra.Command {
	o := checkOptions{Client: pv.Options{Rate: 5, Retries: 2, Timeout: 20 * time.Second}}
	c := &cobra.Command{
		Use:   "check [flags]",
		Short: "Preflight against the API: token, business, admin rights, the shapes the tool relies on",
		Long: `Check calls the API as a run's preflight does, and prints a line for each
finding: the API answers, the token is accepted, the business is found, the
token is an admin staff member's, and the fields pvenroll relies on are in the
answers.

` + tokenSourcesHelp() + ".",
		Example: checkExample,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o.API.fromEnv(c)
			return runCheck(c.Context(), c, o)
		},
	}
	o.API.add(c.Flags())
	o.API.addSandbox(c.Flags())
	c.Flags().StringVar(&o.Report, "report", "", "also write FILE: a JSON record of what the API answered, shape by shape (GETs only), to send Perkville support")
	c.Flags().BoolVar(&o.JSON, "json", false, "print one JSON object (schema pvenroll-check, version 2) instead of text")
	return c
}

func runCheck(ctx context.Context, c *cobra.Command, o checkOptions) error {
	ep, err := o.API.endpoint(c)
	if err != nil {
		return err
	}
	defer ep.Close()
	// check reads, and sends the rights probe, a POST that cannot create
	// anything (perkville.AdminProbe): its client cannot be read-only.
	client, err := runMode{}.client(ep, o.Client)
	if err != nil {
		return err
	}
	// The token's scopes, when login kept them, stop a token that is not
	// an admin's before any request.
	results := []pv.Check{ep.scopeCheck()}
	var hints []string
	if results[0].Fatal {
		hints = append(hints, "log in as an admin staff member of the business: pvenroll login --force --username …")
	} else {
		results = append(results, pv.Preflight(ctx, client, ep.business)...)
	}
	t := tallyChecks(results, ep)
	hints = append(hints, t.hints...)
	if o.JSON {
		out := checkJSON{jsonHead: head("pvenroll-check"), API: ep.url, Business: ep.business, OK: t.failed == 0, Checks: t.lines}
		if err := replyJSON(c, &out); err != nil {
			return err
		}
	} else {
		printChecks(c.OutOrStdout(), t.lines)
	}
	if o.Report != "" && !results[0].Fatal {
		lines := c.OutOrStdout()
		if o.JSON {
			lines = c.ErrOrStderr() // stdout holds the JSON object alone
		}
		failing, err := writeShapeReport(ctx, lines, client, ep.business, o.Report)
		if err != nil {
			return err
		}
		if failing > 0 && t.failed == 0 {
			return exitError{code: ExitFailedRows, err: fmt.Errorf("%s in the API's answers would fail rows", plural(failing, "difference", "differences")),
				hint: "send " + o.Report + " to Perkville support"}
		}
	}
	if t.failed > 0 {
		return exitError{code: t.code, err: fmt.Errorf("%d of %s failed", t.failed, plural(t.checks, "check", "checks")), hint: hintLines(hints)}
	}
	return nil
}

// presetInfo tells the report where the rows' membership status comes from,
// and whether it is sent only when a member is created (without
// --sync-membership) or also for customers Perkville already has.
func presetInfo(p *export.Preset, columns map[string]string, syncMembership bool) *report.PresetInfo {
	info := &report.PresetInfo{Name: "generic", AtCreationOnly: !syncMembership}
	if p != nil {
		info.Name = p.Name
	}
	switch {
	case p != nil && p.Rule != nil:
		info.MembershipFrom = fmt.Sprintf("%s, the %s rule", presetRuleColumns(p), p.Name)
	case columns[export.FieldMembershipStatus] != "":
		info.MembershipFrom = fmt.Sprintf("column %q", columns[export.FieldMembershipStatus])
	}
	return info
}
