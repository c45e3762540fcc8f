package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	followups map[Outcome]*atomicCSV
	pending   map[int]Result
	next      int
	sum       *Summary
	closed    bool
	rerender  bool
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
	return &Writer{dir: dir, opts: o, csv: c, followups: map[Outcome]*atomicCSV{},
		pending: map[int]Result{}, sum: NewSummary()}, nil
}

// Add takes the result of the row with sequence number seq (0, 1, 2, ...
// in input order). Each seq must come exactly once.
func (w *Writer) Add(seq int, r Result) error {
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
			return nil
		}
		delete(w.pending, w.next)
		w.next++
		if err := w.write(r); err != nil {
			return err
		}
	}
}

func (w *Writer) write(r Result) error {
	if !r.Outcome.Valid() {
		return fmt.Errorf("report: line %d has no valid outcome %q", r.Line, r.Outcome)
	}
	raw := r.Raw
	r = Bounded(r)
	w.sum.Add(r)
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

func newFollowUp(dir string, o Outcome, header []string, format csvFormat) (*atomicCSV, error) {
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
		for _, o := range FollowUp {
			if w.followups[o] == nil && !o.Retryable() {
				if err := os.Remove(filepath.Join(w.dir, "followup", string(o)+".csv")); err != nil && !errors.Is(err, os.ErrNotExist) {
					w.Abort()
					return err
				}
			}
		}
	}
	for _, f := range w.followups {
		if err := f.Commit(); err != nil {
			w.Abort()
			return err
		}
	}
	meta.Input.Delimiter = string(w.opts.Delimiter)
	if err := WriteSummaries(w.dir, w.sum, meta); err != nil {
		w.Abort()
		return err
	}
	// report.csv is committed last, so that its presence means the whole
	// report is there: a run killed a moment earlier leaves no report.csv.
	if w.csv != nil {
		if err := w.csv.Commit(); err != nil {
			w.Abort()
			return err
		}
	}
	return nil
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
func Record(r Result) []string {
	conn := ""
	if r.ConnectionID > 0 {
		conn = strconv.FormatInt(r.ConnectionID, 10)
	}
	return []string{strconv.Itoa(r.Line), r.Email, r.ExternalMemberID, r.UserID, string(r.Outcome), r.Code,
		r.CustomerMessage, r.Detail, conn, strings.Join(r.Actions, ";"), strconv.Itoa(r.Attempts), r.FirstName, r.LastName,
		string(r.Risk), r.ExportMembership}
}

// FollowUpRecord is a result as a follow-up row.
func FollowUpRecord(r Result) []string {
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

// atomicCSV writes a CSV to a hidden temporary file beside its name and
// renames it into place on Commit, so a crash never leaves a half file
// under the final name.
type atomicCSV struct {
	path   string
	tmp    *os.File
	w      *csv.Writer
	format csvFormat
}

func openAtomicCSV(path string, header []string, format csvFormat) (*atomicCSV, error) {
	tmp, err := CreateTemp(path)
	if err != nil {
		return nil, err
	}
	a := &atomicCSV{path: path, tmp: tmp, w: csv.NewWriter(tmp), format: format}
	a.w.Comma = format.comma
	if format.bom {
		if _, err := io.WriteString(tmp, utf8BOM); err != nil {
			a.Abort()
			return nil, err
		}
	}
	if err := a.w.Write(header); err != nil {
		a.Abort()
		return nil, err
	}
	return a, nil
}

func (a *atomicCSV) Write(rec []string) error {
	if a.format.neutralise {
		out := make([]string, len(rec))
		for i, c := range rec {
			out[i] = Neutralise(c)
		}
		rec = out
	}
	return a.w.Write(rec)
}

func (a *atomicCSV) Commit() error {
	a.w.Flush()
	if err := a.w.Error(); err != nil {
		a.Abort()
		return err
	}
	return CommitTemp(a.tmp, a.path)
}

func (a *atomicCSV) Abort() {
	if a.tmp != nil {
		a.tmp.Close()
		os.Remove(a.tmp.Name())
		a.tmp = nil
	}
}

// CreateTemp opens a hidden temporary file (0600) beside path.
func CreateTemp(path string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// CommitTemp syncs, closes and renames a temporary file into place.
func CommitTemp(f *os.File, path string) error {
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	f, err := CreateTemp(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	return CommitTemp(f, path)
}
