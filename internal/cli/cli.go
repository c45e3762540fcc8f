package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
	"github.com/pvenroll/pvenroll/samples"
)

// Exit codes: frozen, as scripts and cron wrappers depend on them.
const (
	ExitOK          = 0
	ExitFailedRows  = 1
	ExitUsage       = 2
	ExitFatalAPI    = 3
	ExitMaxDuration = 4
	ExitLocked      = 5
	ExitRecords     = 6 // a record of the run (report, --state) could not be written
	ExitInterrupted = 130
)

// userAgent names the tool to the API's CDN.
func userAgent() string {
	return "pvenroll/" + version() + " (+https://github.com/pvenroll/pvenroll; " + runtime.Version() + ")"
}

// usageError is a mistake in the command line or the input: exit 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitError carries a decided exit code, and what to do about it.
type exitError struct {
	code int
	err  error
	hint string
}

func (e exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e exitError) Unwrap() error { return e.err }

// hintError adds a line of advice to an error, printed after it as
// "hint: ...".
type hintError struct {
	error
	hint string
}

func (e hintError) Unwrap() error { return e.error }

func withHint(err error, hint string) error { return hintError{err, hint} }

// softMemoryLimit keeps the heap small: pvenroll's live data is a few
// bytes a row (the duplicate index) and a few rows in flight, so without a
// limit the collector's headroom, not the data, would set the peak.
// GOMEMLIMIT overrides it.
const softMemoryLimit = 48 << 20

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	reply := &jsonReply{}
	c, err := root.ExecuteContextC(context.WithValue(ctx, jsonReplyKey{}, reply))
	reply.print(c, args, err, stdout, stderr)
	return exitCode(err, stderr)
}

// exitCode is the one place an error becomes an exit code and the lines
// that say it: "error: what went wrong", then "hint: what to do". An
// error may quote the API or the export: it is printed through termText,
// on one line, so that no text of theirs acts on the terminal or passes
// for a line of the tool's.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	msg, hints, code := explain(err)
	if msg != "" {
		fmt.Fprintln(stderr, "error:", termText(msg))
	}
	for _, h := range hints {
		fmt.Fprintln(stderr, "hint:", termLines(h))
	}
	return code
}

// explain says what an error means for the one who ran the command: its
// message, what to do (each hint may hold further "\nhint: " lines), and
// the exit code. exitCode prints it; --json puts it in the object.
func explain(err error) (msg string, hints []string, code int) {
	msg = err.Error()
	var ee exitError
	if errors.As(err, &ee) && ee.hint != "" {
		hints = append(hints, ee.hint)
	}
	var hint hintError
	if errors.As(err, &hint) {
		hints = append(hints, hint.hint)
	}
	if errors.As(err, &ee) {
		return msg, hints, ee.code
	}
	var ue usageError
	var he *export.HeaderError
	var fe *export.FileError
	if errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &fe) {
		if he != nil {
			if h := headerHint(he); h != "" {
				hints = append(hints, h)
			}
		}
		if fe != nil && fe.Line > 0 {
			hints = append(hints, "if the file is in another encoding, name it with --encoding utf-8, utf-16, windows-1252 or latin1, or save it as CSV UTF-8")
		}
		return msg, hints, ExitUsage
	}
	if pv.IsFatal(err) {
		return msg, hints, ExitFatalAPI
	}
	return msg, hints, ExitFailedRows
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "pvenroll",
		Short: "Enroll a business's customers into its Perkville loyalty program from a CSV export",
		Long: `pvenroll enrolls a business's customers into its Perkville loyalty program from a
CSV export of its membership system, and writes a reconciliation report: every
input row once, grouped by outcome, with follow-up files for whoever must act.

Try it, from any folder, against the built-in sandbox API:
  pvenroll samples
  pvenroll enroll --sandbox --dry-run --rate 0 samples/members.csv`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          unknownCommand,
		RunE:          func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	root.SuggestionsMinimumDistance = 2
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{withHint(err, flagHint(c, err))}
	})
	// `pvenroll --version` works as people expect; the version command is
	// the documented way.
	root.Version = version()
	root.SetVersionTemplate(versionLine() + "\n")
	root.AddCommand(newEnrollCmd(), newSandboxCmd(), newReportCmd(), newValidateCmd(), newCheckCmd(), newLoginCmd(), newStateCmd(), newSamplesCmd(), &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) {
			fmt.Fprintln(c.OutOrStdout(), versionLine())
		},
	})
	strictCompletion(root)
	decorate(root)
	return root
}

// flagHint is the line under an unknown or bad flag: the right way for the
// flags people guess, else where the flags are listed.
func flagHint(c *cobra.Command, err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "unknown flag: --token") && !strings.HasPrefix(msg, "unknown flag: --token-"):
		return "a token is never a flag value (anyone on the machine can read a command line): " +
			"set PERKVILLE_TOKEN, or put it in a file only you can read and use --token-file PATH"
	case strings.HasPrefix(msg, "unknown flag: --version"), msg == "unknown shorthand flag: 'v' in -v":
		return "the version is a command: pvenroll version"
	}
	return fmt.Sprintf("see '%s --help'", c.CommandPath())
}

// newLogger logs on stderr as text or JSON.
func newLogger(w io.Writer, format string, quiet bool) (*slog.Logger, error) {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	o := &slog.HandlerOptions{Level: level}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, usagef("--log-format %q: text or json", format)
}

// env reads an environment variable unless the flag was given.
func fromEnv(c *cobra.Command, flag, env string, value *string) {
	if !c.Flags().Changed(flag) {
		if v, ok := os.LookupEnv(env); ok {
			*value = v
		}
	}
}

// loadWorld reads a sandbox world, or the embedded sample.
func loadWorld(path string) (*sandbox.World, error) {
	if path == "" {
		return sandbox.ReadWorld(bytes.NewReader(samples.World))
	}
	w, err := sandbox.LoadWorld(path)
	if err != nil {
		return nil, usageError{err}
	}
	return w, nil
}

// adminToken picks the world's admin token for its business.
func adminToken(w *sandbox.World) string {
	if t := worldAdmin(w); t != nil {
		return t.Token
	}
	return w.Tokens[0].Token
}

// worldAdmin is the world's token of an admin staff member of its
// business; nil if it has none.
func worldAdmin(w *sandbox.World) *sandbox.Token {
	for i, t := range w.Tokens {
		if slices.Contains(t.StaffOf, w.Business.BusinessID) && slices.Contains(t.Scopes, pv.ScopeAdminCustomerInfo) {
			return &w.Tokens[i]
		}
	}
	return nil
}

// readerFlags are the flags that say how to read an export, shared by
// enroll and validate.
type readerFlags struct {
	Preset        string
	Map           []string
	Delimiter     string
	Encoding      string
	Sheet         string
	ConsentColumn string
	ConsentAfter  string
	StatusMap     []string
}

func (r *readerFlags) add(f *pflag.FlagSet) {
	f.StringVar(&r.Preset, "preset", "generic", "export shape: "+strings.Join(export.PresetNames(), ", ")+" (column names, membership rule, system id)")
	f.StringSliceVar(&r.Map, "map", nil, "FIELD=COLUMN,...: the column of a field ("+strings.Join(export.MappableFields, ", ")+"), by name or by position (email=#2)")
	f.StringVar(&r.Delimiter, "delimiter", "", `field delimiter: , ; \t or | (default: guessed from the header line)`)
	f.StringVar(&r.Encoding, "encoding", "auto", "the CSV's encoding: auto, utf-8, utf-16, windows-1252 or latin1 (auto: a byte-order mark, else UTF-8 if valid, else Windows-1252)")
	f.StringVar(&r.Sheet, "sheet", "", "the sheet of an .xlsx workbook to read (default: the active one, or the first visible; a hidden sheet only when named)")
	f.StringVar(&r.ConsentColumn, "consent-column", "", "column holding when the customer accepted the program terms")
	f.StringSliceVar(&r.StatusMap, "status-map", nil, "WORD=ACTIVE|INACTIVE,...: the business's own membership status words (e.g. Paused=INACTIVE); the generic words are known")
	f.StringVar(&r.ConsentAfter, "consent-after", export.ISODate(export.DefaultConsentAfter), "DATE: a consent counts only if later than this (and no later than tomorrow); earlier dates are placeholders")
}

// options checks the flags and names the input for messages.
func (r *readerFlags) options(name string) (export.ReaderOptions, error) {
	o := export.ReaderOptions{Name: name, ConsentColumn: r.ConsentColumn, Sheet: r.Sheet, Map: map[string]string{}}
	enc, err := export.ParseEncoding(r.Encoding)
	if err != nil {
		return o, usagef("--encoding: %v", err)
	}
	o.Encoding = enc
	o.Consent = export.ConsentRule{After: export.DefaultConsentAfter, Now: time.Now(), AfterName: "--consent-after"}
	if r.ConsentAfter != "" {
		if o.Consent.After, err = export.ParseDate(r.ConsentAfter); err != nil {
			return o, usagef("--consent-after: %v", err)
		}
	}
	if o.StatusMap, err = export.ParseStatusMap(r.StatusMap); err != nil {
		return o, usagef("--status-map %v", err)
	}
	o.StatusMapName = "--status-map"
	for _, m := range r.Map {
		field, col, ok := strings.Cut(m, "=")
		if !ok || strings.TrimSpace(col) == "" {
			return o, usagef("--map %q: write FIELD=COLUMN, e.g. --map email=\"E-mail Address\"", m)
		}
		o.Map[strings.TrimSpace(field)] = strings.TrimSpace(col)
	}
	switch r.Delimiter {
	case "":
	case ",", ";", "|":
		o.Delimiter = rune(r.Delimiter[0])
	case `\t`, "\t", "tab":
		o.Delimiter = '\t'
	default:
		return o, usagef(`--delimiter %q: one of , ; \t |`, r.Delimiter)
	}
	p, err := export.LookupPreset(r.Preset)
	if err != nil {
		return o, usageError{withHint(err, "name one with --preset NAME; 'pvenroll validate --help' says what each reads")}
	}
	if len(o.StatusMap) > 0 && p.Rule != nil {
		return o, usagef("--status-map names the words of a membership status column; preset %s derives the status by its rule instead (%s)", p.Name, p.RuleText)
	}
	o.Preset = p
	return o, nil
}

func parseBusiness(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("--business %q: a business id is a positive whole number (PERKVILLE_BUSINESS)", s)
	}
	return id, nil
}

// plural names n things: "1 row", "2 rows".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// rowCount names n rows: "1 row", "2 rows".
func rowCount(n int) string { return plural(n, "row", "rows") }
