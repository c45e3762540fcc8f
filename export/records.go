package export

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits no real export reaches; past them a record is invalid (or, for
// the header, the file is refused) instead of memory growing without end.
const (
	MaxRecordBytes  = 1 << 20  // one record, all its lines
	MaxHeaderBytes  = 64 << 10 // the header record
	MaxColumns      = 1000     // columns of the header
	MaxQuotedBytes  = 64 << 10 // a quoted field still open at a line end
	MaxQuotedLines  = 50       // physical lines a quoted field may span
	MaxEmailLength  = 254      // RFC 5321's path limit
	lineBufferBytes = 64 << 10
)

// rawRecord is one physical record: its cells, or why it cannot be used.
type rawRecord struct {
	line    int // physical line where the record starts
	fields  []string
	invalid string
	hidden  bool // a workbook row Excel hides (by hand or by a filter)
}

// physLine is one physical line with its terminator as written; tooLong
// lines were cut to their first bytes (the rest was skipped).
type physLine struct {
	data    []byte
	tooLong bool
}

// recordReader reads CSV records the way spreadsheets write them, and
// resyncs: a quoted field still open after MaxQuotedLines lines or
// MaxQuotedBytes makes only its own record invalid, and reading resumes at
// the line after the quote opened. A '"' inside an unquoted field is a
// literal character, as Excel reads it. Line breaks inside quoted fields
// stay as written. It reads no further than the record it returns.
type recordReader struct {
	br    *bufio.Reader
	comma byte
	line  int        // number of the next physical line
	back  []physLine // lines to read again after a resync, in order
	long  []byte     // a line longer than the bufio buffer
	field []byte     // the cells of the current record, end to end
	ends  []int      // where each cell ends in field
	err   error      // the input's error, after the lines before it

	// isRow says whether cells, read from one line alone, are a data row
	// of the header's shape (nil: no check, while reading the header).
	isRow func(cells []string) bool
	width int        // cells of the header (0: not known yet)
	kept  []physLine // lines of the current record after its first
	// Where the current record's first quoted cell that spans lines
	// opened (line 0: none), and whether stray text followed its close.
	spanLine, spanCol int
	stray             bool
}

func newRecordReader(r io.Reader) *recordReader {
	return &recordReader{br: bufio.NewReaderSize(r, lineBufferBytes), line: 1, comma: ','}
}

// readLine returns the next physical line, at most limit bytes of it;
// skipRest reads past the rest of a line that is too long.
func (rr *recordReader) readLine(limit int, skipRest bool) (physLine, error) {
	if len(rr.back) > 0 {
		l := rr.back[0]
		rr.back = rr.back[1:]
		return l, nil
	}
	if rr.err != nil {
		return physLine{}, rr.err
	}
	rr.long = rr.long[:0]
	for {
		chunk, err := rr.br.ReadSlice('\n')
		if len(rr.long)+len(chunk) > limit {
			rr.long = append(rr.long, chunk[:limit-len(rr.long)]...)
			if errors.Is(err, bufio.ErrBufferFull) {
				if !skipRest {
					rr.err = errors.New("the rest of an over-long line was not read")
					return physLine{data: rr.long, tooLong: true}, nil
				}
				err = rr.skipLine()
			}
			rr.err = err
			return physLine{data: rr.long, tooLong: true}, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			rr.long = append(rr.long, chunk...)
			continue
		}
		if len(rr.long) > 0 {
			chunk = append(rr.long, chunk...)
			rr.long = chunk
		}
		if err != nil {
			rr.err = err
			// A read error (or bytes invalid in the encoding) drops the
			// line it cut short: half a row is never handed out.
			if len(chunk) == 0 || !errors.Is(err, io.EOF) {
				return physLine{}, err
			}
		}
		return physLine{data: chunk}, nil
	}
}

// skipLine discards the rest of a line that is too long.
func (rr *recordReader) skipLine() error {
	for {
		_, err := rr.br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// next returns the next record; io.EOF at the end. limit is the most
// bytes a record may have (the header has its own).
func (rr *recordReader) next(limit int) (rawRecord, error) {
	for {
		start := rr.line
		l, err := rr.readLine(limit, true)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return rawRecord{}, io.EOF
			}
			return rawRecord{}, err
		}
		rr.line++
		if l.tooLong {
			return rawRecord{line: start, invalid: fmt.Sprintf("line %d: the record is longer than %d KiB; no real export writes one (is this the right file?)", start, limit>>10)}, nil
		}
		if isBlank(l.data) {
			continue // blank lines are no records, as in encoding/csv
		}
		return rr.parse(start, l.data, limit)
	}
}

func isBlank(b []byte) bool {
	return len(b) == 0 || string(b) == "\n" || string(b) == "\r\n"
}

// lineEnd is the length of b's terminator: "\r\n", "\n" or none.
func lineEnd(b []byte) int {
	switch {
	case len(b) >= 2 && b[len(b)-2] == '\r' && b[len(b)-1] == '\n':
		return 2
	case len(b) >= 1 && b[len(b)-1] == '\n':
		return 1
	}
	return 0
}

// parse reads the record that starts with line l.
func (rr *recordReader) parse(start int, l []byte, limit int) (rawRecord, error) {
	rr.field, rr.ends, rr.kept = rr.field[:0], rr.ends[:0], rr.kept[:0]
	rr.spanLine, rr.stray = 0, false
	pos := 0
	for {
		if pos < len(l)-lineEnd(l) && l[pos] == '"' {
			var done bool
			var invalid string
			var err error
			l, pos, done, invalid, err = rr.quoted(start, l, pos+1, limit)
			if err != nil || invalid != "" {
				return rawRecord{line: start, invalid: invalid}, err
			}
			if done {
				return rr.checked(start), nil
			}
			continue
		}
		// An unquoted field: up to the delimiter or the line end; quotes
		// in it are literal.
		end := len(l) - lineEnd(l)
		i := end
		if k := bytes.IndexByte(l[pos:end], rr.comma); k >= 0 {
			i = pos + k
		}
		rr.field = append(rr.field, l[pos:i]...)
		rr.ends = append(rr.ends, len(rr.field))
		if i >= end {
			return rr.checked(start), nil
		}
		pos = i + 1
		if pos == end { // a delimiter last: one more, empty, cell
			rr.ends = append(rr.ends, len(rr.field))
			return rr.checked(start), nil
		}
	}
}

// quoted reads a quoted field whose text starts at l[pos]. It returns the
// line and position after the field, and whether the record ended.
func (rr *recordReader) quoted(start int, l []byte, pos, limit int) ([]byte, int, bool, string, error) {
	quoteLine, quoteCol := rr.line-1, utf8.RuneCount(l[:pos])
	size, spanned := 0, false
	for {
		i := len(l)
		if k := bytes.IndexByte(l[pos:], '"'); k >= 0 {
			i = pos + k
		}
		rr.field = append(rr.field, l[pos:i]...)
		size += i - pos
		if i < len(l) { // a quote: doubled, or the field's end
			if i+1 < len(l) && l[i+1] == '"' {
				rr.field = append(rr.field, '"')
				pos = i + 2
				continue
			}
			if spanned && i+1 < len(l)-lineEnd(l) && l[i+1] != rr.comma {
				rr.stray = true
			}
			return rr.afterQuote(l, i+1)
		}
		// The line ended inside the quotes: the field goes on, with the
		// line break as written.
		lines := rr.line - quoteLine // lines of the field so far
		if len(rr.field) > limit || size > MaxQuotedBytes || lines >= MaxQuotedLines || lineEnd(l) == 0 {
			return rr.unclosed(start, quoteLine, quoteCol)
		}
		next, err := rr.readLine(limit, true)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, false, "", err
		}
		if err != nil || next.tooLong {
			if err == nil {
				rr.kept = append(rr.kept, physLine{data: []byte{}, tooLong: true})
			}
			return rr.unclosed(start, quoteLine, quoteCol)
		}
		rr.line++
		next.data = append([]byte(nil), next.data...)
		rr.kept = append(rr.kept, next)
		if !spanned && rr.spanLine == 0 {
			rr.spanLine, rr.spanCol = quoteLine, quoteCol
		}
		spanned = true
		l, pos = next.data, 0
	}
}

// afterQuote reads what follows a closing quote: the delimiter, the line
// end, or stray text that Excel appends to the cell.
func (rr *recordReader) afterQuote(l []byte, pos int) ([]byte, int, bool, string, error) {
	end := len(l) - lineEnd(l)
	i := end
	if pos < end {
		if k := bytes.IndexByte(l[pos:end], rr.comma); k >= 0 {
			i = pos + k
		}
	}
	rr.field = append(rr.field, l[pos:min(i, end)]...)
	rr.ends = append(rr.ends, len(rr.field))
	if i >= end {
		return l, i, true, "", nil
	}
	if i+1 == end {
		rr.ends = append(rr.ends, len(rr.field))
		return l, i + 1, true, "", nil
	}
	return l, i + 1, false, "", nil
}

// unclosed gives up on a runaway quote: the record is invalid, and the
// lines read after the quote's are read again as records of their own.
func (rr *recordReader) unclosed(start, quoteLine, quoteCol int) ([]byte, int, bool, string, error) {
	rr.back = append(append([]physLine(nil), rr.kept[quoteLine-start:]...), rr.back...)
	rr.line = quoteLine + 1
	return nil, 0, false, fmt.Sprintf("line %d: unclosed quote starting at line %d, column %d (a '\"' that opens a cell and is never closed; the next lines are read on their own)", start, quoteLine, quoteCol), nil
}

// checked returns the record read, unless a quoted cell of it spans lines
// and the record does not look like one row: stray text after the quote
// that closed it, a cell count other than the header's, or a swallowed
// line that reads alone as a data row. Then the quote is a runaway that a
// later stray quote happened to close: the record is invalid and the lines
// it swallowed are read again as records of their own. When in doubt this
// costs one row marked invalid, never rows silently swallowed.
func (rr *recordReader) checked(start int) rawRecord {
	if rr.spanLine == 0 || rr.width == 0 {
		return rr.record(start)
	}
	why := ""
	switch {
	case rr.stray:
		why = "text follows the quote that closes it"
	case len(rr.ends) != rr.width:
		why = fmt.Sprintf("closing it gives %s, the header has %d", plural(len(rr.ends), "cell"), rr.width)
	default:
		for i, l := range rr.kept {
			if rr.readsAsRow(l.data) {
				why = fmt.Sprintf("line %d inside it reads as a row of its own", start+1+i)
				break
			}
		}
	}
	if why == "" {
		return rr.record(start)
	}
	rr.back = append(append([]physLine(nil), rr.kept[rr.spanLine-start:]...), rr.back...)
	rr.line = rr.spanLine + 1
	return rawRecord{line: start, invalid: fmt.Sprintf("line %d: unclosed quote starting at line %d, column %d (a '\"' that opens a cell runs over %s and %s: taken for a stray quote; the next lines are read on their own)", start, rr.spanLine, rr.spanCol, plural(len(rr.kept)+1, "line"), why)}
}

// readsAsRow says whether line, read alone, is a data row.
func (rr *recordReader) readsAsRow(line []byte) bool {
	if rr.isRow == nil {
		return false
	}
	alone := newRecordReader(bytes.NewReader(line))
	alone.comma = rr.comma
	rec, err := alone.next(len(line) + 1)
	return err == nil && rec.invalid == "" && rr.isRow(rec.fields)
}

// record turns the cells read into a rawRecord, with one string for all
// cells of the record.
func (rr *recordReader) record(start int) rawRecord {
	all := string(rr.field)
	fields := make([]string, len(rr.ends))
	from := 0
	for i, e := range rr.ends {
		fields[i] = all[from:e]
		from = e
	}
	return rawRecord{line: start, fields: fields}
}
