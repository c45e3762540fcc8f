package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pvenroll/pvenroll/enroll"
)

// Columns of report.csv. The first eleven are frozen by the contract;
// later ones may be added, never removed.
var Columns = []string{"line", "email", "external_member_id", "user_id", "outcome", "code",
	"customer_message", "detail", "connection_id", "actions", "attempts", "first_name", "last_name",
	"risk", "export_membership"}

// FollowUpColumns are the columns of a mail-merge follow-up file.
var FollowUpColumns = []string{"line", "email", "first_name", "last_name", "external_member_id", "user_id",
	"customer_message", "code", "detail"}

// Modes: reports hold personal data.
const (
	DirMode  os.FileMode = 0o700
	FileMode os.FileMode = 0o600
)

// groupRows is how many rows of a group summary.md and report.html list.
const groupRows = 100

// Writer writes a report directory as results arrive. Results may come out
// of order (workers finish when they finish): a reorder buffer keyed by the
// row's sequence number holds the early ones until the rows before them
// arrive, so memory is bounded by the rows in flight, not by the run.
//
// It is also how `pvenroll report` re-renders a directory (Rerender): then
// report.csv is the source, not rewritten, and the retry files are left as
// the run wrote them, since report.csv does not hold the input's cells.
type Writer struct {
	dir  string
	opts Options

	csv       *atomicCSV // nil when re-rendering
	followups map[enroll.Outcome]*atomicCSV
	pending   map[int]enroll.Result
	next      int
	sum       *Summary
	closed    bool
	rerender  bool
	// failed is the first write that failed (a full disk, a file size
	// limit): the files are given up, but rows are still counted, so that
	// the run can say what it settled when no record of it could be kept.
	failed   error
	lastLine int // the line of the last row settled in input order
}

// Options shape a report after its input.
type Options struct {
	// InputHeader is the input's header. Retry files (failed,
	// not-attempted) carry it and each row's cells as read, so that they
	// can be fed back to enroll; without it they are mail-merge files.
	InputHeader []string
	// Delimiter is the input's field separator. Follow-up files use it,
	// and start with a UTF-8 BOM, so that they open in the operator's
	// spreadsheet as the input did; 0 is a comma. report.csv, the machine
	// format, is always comma-separated UTF-8 without a BOM.
	Delimiter rune
}

// ErrOutNotEmpty refuses to write into a directory that holds files.
var ErrOutNotEmpty = errors.New("the report directory exists and is not empty")

// Prepare creates dir (0700), refusing an existing non-empty one, and one
// that is a symbolic link.
func Prepare(dir string) error {
	if err := notALink(dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil && len(entries) > 0:
		return fmt.Errorf("%s: %w", dir, ErrOutNotEmpty)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	}
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return err
	}
	return os.Chmod(dir, DirMode)
}

// NewWriter starts a report in dir, which Prepare made.
func NewWriter(dir string, o Options) (*Writer, error) {
	if o.Delimiter == 0 {
		o.Delimiter = ','
	}
	if !strings.ContainsRune(",;\t|", o.Delimiter) {
		return nil, fmt.Errorf("report: delimiter %q: follow-up files are written with , ; tab or |", o.Delimiter)
	}
	c, err := openAtomicCSV(filepath.Join(dir, "report.csv"), Columns, machineFormat)
	if err != nil {
		return nil, err
	}
	return &Writer{dir: dir, opts: o, csv: c, followups: map[enroll.Outcome]*atomicCSV{},
		pending: map[int]enroll.Result{}, sum: NewSummary()}, nil
}

// Add takes the result of the row with sequence number seq (0, 1, 2, ...
// in input order). Each seq must come exactly once. After a write failed,
// Add keeps counting the rows and returns that first failure.
func (w *Writer) Add(seq int, r enroll.Result) error {
	if seq < w.next {
		return fmt.Errorf("report: row %d (line %d) reported twice", seq, r.Line)
	}
	if _, dup := w.pending[seq]; dup {
		return fmt.Errorf("report: row %d (line %d) reported twice", seq, r.Line)
	}
	w.pending[seq] = r
	for {
		r, ok := w.pending[w.next]
		if !ok {
			return w.failed
		}
		delete(w.pending, w.next)
		w.next++
		w.settle(r)
	}
}

// settle counts a row in input order and writes it, unless a write failed.
func (w *Writer) settle(r enroll.Result) {
	if !r.Outcome.Valid() {
		w.fail(fmt.Errorf("report: line %d has no valid outcome %q", r.Line, r.Outcome))
		return
	}
	raw := r.Raw
	r = Bounded(r)
	w.sum.Add(r)
	w.lastLine = r.Line
	if w.failed == nil {
		if err := w.write(r, raw); err != nil {
			w.fail(err)
		}
	}
}

// fail gives the files up at the first failed write.
func (w *Writer) fail(err error) {
	if w.failed == nil {
		w.failed = err
		w.Abort()
		w.closed = false // Close still reports the failure
	}
}

// LastLine is the line of the last row settled in input order: every row
// up to it has its result.
func (w *Writer) LastLine() int { return w.lastLine }

func (w *Writer) write(r enroll.Result, raw []string) error {
	if w.csv != nil {
		if err := w.csv.Write(Record(r)); err != nil {
			return err
		}
	}
	if !r.Outcome.NeedsFollowUp() {
		return nil
	}
	retry := r.Outcome.Retryable() && (w.opts.InputHeader != nil || w.rerender)
	if retry && (w.rerender || raw == nil) {
		// Re-rendering leaves the retry files as the run wrote them; a
		// row that could not be parsed has no cells to give back.
		return nil
	}
	f := w.followups[r.Outcome]
	if f == nil {
		header, format := FollowUpColumns, sheetFormat(w.opts.Delimiter)
		if retry {
			header, format.neutralise = w.opts.InputHeader, false
		}
		var err error
		if f, err = newFollowUp(w.dir, r.Outcome, header, format); err != nil {
			return err
		}
		w.followups[r.Outcome] = f
	}
	if retry {
		// Retry files are input to the next run: cells as they were read.
		return f.Write(raw)
	}
	return f.Write(FollowUpRecord(r))
}

func newFollowUp(dir string, o enroll.Outcome, header []string, format csvFormat) (*atomicCSV, error) {
	fd := filepath.Join(dir, "followup")
	if err := realDir(fd); err != nil {
		return nil, err
	}
	return openAtomicCSV(filepath.Join(fd, string(o)+".csv"), header, format)
}

// Summary is what the writer has counted so far.
func (w *Writer) Summary() *Summary { return w.sum }

// Close finishes the files: report.csv, follow-ups, summary.json (meta
// filled with the counts), summary.md and report.html. Every row must have
// been added.
func (w *Writer) Close(meta Meta) error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.failed != nil {
		w.discard()
		return w.failed
	}
	if len(w.pending) > 0 {
		w.Abort()
		return fmt.Errorf("report: %d rows never arrived before row %d", len(w.pending), w.next)
	}
	if w.rerender {
		// Mail-merge files of outcomes no longer in report.csv are stale.
		// Removed only inside a real followup folder, never through a link.
		if err := notALink(filepath.Join(w.dir, "followup")); err != nil {
			w.Abort()
			return err
		}
		for _, o := range enroll.FollowUp {
			if w.followups[o] == nil && !o.Retryable() {
				if err := os.Remove(filepath.Join(w.dir, "followup", string(o)+".csv")); err != nil && !errors.Is(err, os.ErrNotExist) {
					w.Abort()
					return err
				}
			}
		}
	}
	if err := w.commit(meta); err != nil {
		w.failed = err
		w.discard()
		return err
	}
	return nil
}

// commit puts the files in place. report.csv is committed last, so that
// its presence means the whole report is there: a run killed a moment
// earlier leaves no report.csv.
func (w *Writer) commit(meta Meta) error {
	for _, f := range w.followups {
		if err := f.Commit(); err != nil {
			return err
		}
	}
	meta.Input.Delimiter = string(w.opts.Delimiter)
	if err := WriteSummaries(w.dir, w.sum, meta); err != nil {
		return err
	}
	if w.csv != nil {
		return w.csv.Commit()
	}
	return nil
}

// discard removes what a report that could not be finished wrote: its
// temporary files and, during a run, the files it had put in place (the
// folder was empty when it began), so that no summary stands without its
// report.csv and the same --out can be used again. A re-render's folder
// keeps the run's files.
func (w *Writer) discard() {
	w.Abort()
	if w.rerender {
		return
	}
	fd := filepath.Join(w.dir, "followup")
	if notALink(fd) == nil {
		for o := range w.followups {
			os.Remove(filepath.Join(fd, string(o)+".csv"))
		}
		os.Remove(fd) // only if empty
	}
	for _, name := range []string{"summary.json", "summary.md", "report.html"} {
		os.Remove(filepath.Join(w.dir, name))
	}
}

// Abort removes the unfinished files.
func (w *Writer) Abort() {
	w.closed = true
	if w.csv != nil {
		w.csv.Abort()
	}
	for _, f := range w.followups {
		f.Abort()
	}
}

// Record is a result as a report.csv row.
func Record(r enroll.Result) []string {
	conn := ""
	if r.ConnectionID > 0 {
		conn = strconv.FormatInt(r.ConnectionID, 10)
	}
	return []string{strconv.Itoa(r.Line), r.Email, r.ExternalMemberID, r.UserID, string(r.Outcome), r.Code,
		r.CustomerMessage, r.Detail, conn, strings.Join(r.Actions, ";"), strconv.Itoa(r.Attempts), r.FirstName, r.LastName,
		string(r.Risk), r.ExportMembership}
}

// FollowUpRecord is a result as a follow-up row.
func FollowUpRecord(r enroll.Result) []string {
	return []string{strconv.Itoa(r.Line), r.Email, r.FirstName, r.LastName, r.ExternalMemberID, r.UserID,
		r.CustomerMessage, r.Code, r.Detail}
}

// Neutralise makes a cell inert in a spreadsheet: one starting with = + - @
// tab or CR would run as a formula, so it gets a leading apostrophe.
func Neutralise(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvFormat is how one CSV file is written.
type csvFormat struct {
	comma      rune
	bom        bool // a UTF-8 BOM first: Excel on Windows then reads UTF-8
	neutralise bool // cells that would run as a formula get a leading '
}

// machineFormat is report.csv's, documented for scripts: comma, UTF-8, no
// BOM, formula cells neutralised.
var machineFormat = csvFormat{comma: ',', neutralise: true}

// sheetFormat is a follow-up file's, for a person's spreadsheet.
func sheetFormat(comma rune) csvFormat { return csvFormat{comma: comma, bom: true, neutralise: true} }

const utf8BOM = "\ufeff"
