package export

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"strings"
)

// ReaderOptions configure a Reader.
type ReaderOptions struct {
	Name          string            // file name for messages ("-" is standard input)
	Delimiter     rune              // 0: guessed from the header line
	Encoding      string            // "" or EncodingAuto: detected; see ParseEncoding
	Sheet         string            // the sheet of an .xlsx workbook; "": the first
	Map           map[string]string // field -> column name, or #N for the N-th column
	ConsentColumn string
	// Consent says which consent cells count (its zero value: after
	// DefaultConsentAfter, and up to a day past the clock).
	Consent ConsentRule
	Preset  *Preset // the export's shape; nil: generic
	// StatusMap holds the business's own status words (ParseStatusMap);
	// StatusMapName is how the user sets it, for the detail of a row with
	// an unknown word ("--status-map").
	StatusMap     map[string]string
	StatusMapName string
}

// source hands out the input's records: CSV text or a workbook's rows.
type source interface {
	next(limit int) (rawRecord, error)
}

// Reader streams Records from an export. It holds one record at a time,
// plus a 12-byte entry per customer to find duplicates.
type Reader struct {
	name    string
	src     source
	dec     *decoder       // nil for a workbook
	xlsx    *xlsxSource    // nil for text
	Header  []string       // the file's header as written
	Columns map[string]int // field -> column index used
	// LeftAlone are columns that look like a field's but were not taken
	// for it (a "User ID" is not taken as the Perkville user id).
	LeftAlone []LeftAlone
	// Comma is the delimiter of a CSV input (',' for a workbook): the one
	// follow-up files for a person should use.
	Comma rune
	// Sheet is the sheet read, for a workbook.
	Sheet string

	mapper  *mapper // nil until the header is read
	rule    func([]string) string
	ruleIdx []int
	// membershipFrom names the rule or the column the status comes from.
	membershipFrom string
	consent        ConsentRule
	// the business's own status words, and how the user names them
	statusMap     map[string]string
	statusMapName string

	seen map[uint64]uint32 // customer key hash -> first line
	// memberIDs: member id hash -> the first line naming it
	memberIDs map[uint64]uint32
	seed      maphash.Seed
	width     int
	done      bool
}

// NewReader recognises the input, reads and checks the header. A
// *HeaderError or a *FileError means the file must be refused whole.
func NewReader(r io.Reader, o ReaderOptions) (*Reader, error) {
	enc := EncodingAuto
	if o.Encoding != "" {
		var err error
		if enc, err = ParseEncoding(o.Encoding); err != nil {
			return nil, err
		}
	}
	br := bufio.NewReaderSize(r, 512)
	head := peekHead(br)
	rd := &Reader{name: o.Name, seen: map[uint64]uint32{}, memberIDs: map[uint64]uint32{}, seed: maphash.MakeSeed(), Comma: ',', consent: o.Consent,
		statusMap: o.StatusMap, statusMapName: o.StatusMapName}
	kind, problem := sniff(head)
	if kind == "binary" && !(enc == EncodingUTF16 && utf16NoBOM(head)) {
		return nil, &FileError{Name: o.Name, Problem: problem}
	}
	if kind == "zip" {
		x, err := openXLSX(br, o.Name, o.Sheet)
		if err != nil {
			return nil, err
		}
		rd.src, rd.xlsx, rd.Sheet = x, x, x.sheet
	} else {
		rd.dec = newDecoder(br, enc)
		rd.src = newRecordReader(newCRLines(rd.dec))
	}
	if err := rd.readHeader(o); err != nil {
		_ = rd.Close()
		return nil, err
	}
	return rd, nil
}

// peekHead returns the input's first bytes without waiting for more than
// a line: standard input may hold only the header for now.
func peekHead(br *bufio.Reader) []byte {
	for {
		_, err := br.Peek(br.Buffered() + 1) // waits for one more read
		head, _ := br.Peek(br.Buffered())
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i+1]
		}
		if err != nil || len(head) >= sniffLen || bytes.IndexByte(head, '\n') >= 0 {
			return head[:min(len(head), sniffLen)] // the same however the bytes arrive
		}
	}
}

// readStreamHeader guesses the delimiter from the first line of text.
func (rd *Reader) readStreamHeader(o ReaderOptions) error {
	rr := rd.src.(*recordReader)
	l, err := rr.readLine(MaxHeaderBytes, false)
	for err == nil && isBlank(l.data) && !l.tooLong {
		rr.line++
		l, err = rr.readLine(MaxHeaderBytes, false)
	}
	if errors.Is(err, io.EOF) {
		return &HeaderError{Name: rd.name, Problem: "the file is empty: no header line"}
	}
	if err != nil {
		return rd.wrap(err)
	}
	comma := o.Delimiter
	if comma == 0 {
		comma = GuessDelimiter(l.data)
	}
	rd.Comma, rr.comma = comma, byte(comma)
	if l.tooLong {
		prefix := newRecordReader(strings.NewReader(string(l.data)))
		prefix.comma = rr.comma
		first, _ := prefix.next(MaxHeaderBytes)
		return &HeaderError{Name: rd.name, Problem: fmt.Sprintf("the header line is longer than %d KiB; no real export writes one (is this the right file?)", MaxHeaderBytes>>10), Found: first.fields}
	}
	rr.back = append(rr.back, physLine{data: append([]byte(nil), l.data...)})
	return nil
}

// readHeader reads the header record and maps its columns to fields.
func (rd *Reader) readHeader(o ReaderOptions) error {
	if _, ok := rd.src.(*recordReader); ok {
		if err := rd.readStreamHeader(o); err != nil {
			return err
		}
	}
	hr, err := rd.src.next(MaxHeaderBytes)
	switch {
	case errors.Is(err, io.EOF) && rd.xlsx != nil:
		return &HeaderError{Name: rd.name, Problem: fmt.Sprintf("sheet %q is empty; the workbook's sheets: %s (name the one to read)", rd.Sheet, quoteSheets(rd.xlsx.sheets)), Setting: SettingSheet}
	case errors.Is(err, io.EOF):
		return &HeaderError{Name: rd.name, Problem: "the file is empty: no header line"}
	case err != nil:
		return rd.wrap(err)
	case hr.invalid != "":
		return &HeaderError{Name: rd.name, Problem: "the header cannot be read: " + hr.invalid}
	case len(hr.fields) > MaxColumns:
		return &HeaderError{Name: rd.name, Problem: fmt.Sprintf("the header has %d columns, more than %d; no real export writes so many (is this the right file?)", len(hr.fields), MaxColumns), Found: hr.fields}
	}
	rd.Header = hr.fields
	rd.width = len(rd.Header)
	m, herr := mapHeader(rd.Header, o)
	if herr != nil {
		herr.Name = rd.name
		return herr
	}
	rd.Columns, rd.LeftAlone = m.cols, m.leftAlone()
	if rr, ok := rd.src.(*recordReader); ok {
		rr.width, rr.isRow = rd.width, rd.isRow
	}
	if p := o.Preset; p != nil && p.Rule != nil {
		idx, herr := p.ruleColumns(rd.Header)
		if herr != nil {
			herr.Name = rd.name
			return herr
		}
		rd.rule, rd.ruleIdx = p.Rule, idx
	}
	rd.membershipFrom = membershipFrom(o.Preset, rd.Header, rd.Columns)
	rd.mapper = newMapper(m)
	// A Reader dropped before its end, without Close, still ends gocsv's
	// goroutine.
	runtime.AddCleanup(rd, (*mapper).close, rd.mapper)
	return nil
}

// Encoding names how the input's bytes were read: an encoding (decided
// so far, for a stream: utf-8 while every byte was ASCII), or "xlsx".
func (rd *Reader) Encoding() string {
	if rd.dec == nil {
		return EncodingXLSX
	}
	return rd.dec.Encoding()
}

// Close releases a workbook's temporary files and the goroutine that maps
// cells to fields; Next then returns io.EOF. Next calls it at the end; call
// it when stopping early.
func (rd *Reader) Close() error {
	rd.done = true
	if rd.mapper != nil {
		rd.mapper.close()
	}
	if rd.xlsx == nil {
		return nil
	}
	x := rd.xlsx
	rd.xlsx = nil
	return x.close()
}

// wrap names the file in an error of the input.
func (rd *Reader) wrap(err error) error {
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Name = rd.name
		return fe
	}
	return fmt.Errorf("%s: %w", rd.name, err)
}

// Next returns the next record, or io.EOF. A row that cannot be parsed is
// returned as an invalid Record, never as an error: every data row comes
// back exactly once. Only a failure of the input itself is an error (a
// *FileError for bytes invalid in the encoding).
func (rd *Reader) Next() (*Record, error) {
	if rd.done {
		return nil, io.EOF
	}
	raw, err := rd.src.next(MaxRecordBytes)
	if err != nil {
		rd.done = true
		_ = rd.Close()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, rd.wrap(err)
	}
	rec := rd.record(raw)
	rec.Hidden = raw.hidden
	return rec, nil
}

// record is a raw record read as a row of the export.
func (rd *Reader) record(raw rawRecord) *Record {
	if raw.invalid != "" {
		return &Record{Line: raw.line, Invalid: raw.invalid}
	}
	cells, ok := rd.fit(raw.fields)
	if !ok {
		return &Record{Line: raw.line, Raw: cells, Invalid: fmt.Sprintf("line %d: ragged row: %s, the header has %d", raw.line, plural(len(cells), "cell"), rd.width)}
	}
	row, err := rd.mapper.row(cells)
	if err != nil {
		return &Record{Line: raw.line, Raw: cells, Invalid: fmt.Sprintf("line %d: %v", raw.line, err)}
	}
	rec := &Record{Line: raw.line, Raw: cells,
		Email:            strings.ToLower(strings.TrimSpace(row.Email)),
		ExternalMemberID: strings.TrimSpace(row.ExternalMemberID),
		UserID:           strings.TrimSpace(row.UserID),
		FirstName:        strings.TrimSpace(row.FirstName),
		LastName:         strings.TrimSpace(row.LastName),
		MembershipStatus: strings.TrimSpace(row.MembershipStatus),
		MembershipType:   strings.TrimSpace(row.MembershipType),
		HomeLocation:     strings.TrimSpace(row.HomeLocation),
		JoinDate:         strings.TrimSpace(row.JoinDate),
		CancelDate:       strings.TrimSpace(row.CancelDate),
		Consent:          strings.TrimSpace(row.Consent),
	}
	rd.readStatus(rec, cells)
	rd.check(rec)
	return rec
}

// isRow says whether cells are a data row with a customer key: the test
// for a line swallowed by a quoted cell.
func (rd *Reader) isRow(cells []string) bool {
	if len(cells) != rd.width {
		return false
	}
	if i, ok := rd.Columns[FieldEmail]; ok && ValidEmail(strings.ToLower(strings.TrimSpace(cells[i]))) {
		return true
	}
	i, ok := rd.Columns[FieldUserID]
	return ok && validID(strings.TrimSpace(cells[i]))
}

// fit checks a row's width. A workbook omits a row's empty cells at its
// end: they are added back (and empty ones past the header dropped).
func (rd *Reader) fit(cells []string) ([]string, bool) {
	if rd.xlsx != nil {
		for len(cells) > rd.width && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		for len(cells) < rd.width {
			cells = append(cells, "")
		}
	}
	return cells, len(cells) == rd.width
}

// check validates a parsed record and marks duplicates.
func (rd *Reader) check(rec *Record) {
	col := func(f string) string {
		return fmt.Sprintf("line %d, column %d (%s)", rec.Line, rd.Columns[f]+1, cut(rd.Header[rd.Columns[f]], shownColumnRune))
	}
	switch {
	case rec.Email == "" && rec.UserID == "":
		rec.Invalid = fmt.Sprintf("line %d: no email and no user id", rec.Line)
	case len(rec.Email) > MaxEmailLength:
		rec.Invalid = fmt.Sprintf("%s: the email is %d characters long; an address has at most %d", col(FieldEmail), len(rec.Email), MaxEmailLength)
	case rec.Email != "" && !ValidEmail(rec.Email):
		rec.Invalid = fmt.Sprintf("%s: malformed email %q", col(FieldEmail), cut(rec.Email, 100))
	case rec.UserID != "" && !validID(rec.UserID):
		rec.Invalid = fmt.Sprintf("%s: user id %q is not a positive whole number", col(FieldUserID), cut(rec.UserID, 40))
	case rec.Consent != "":
		rd.readConsent(rec, col)
	}
	if rec.Invalid == "" {
		rec.Invalid = rd.lostCharacters(rec, col)
	}
	if rec.Invalid == "" {
		rd.readDates(rec, col)
	}
	if rec.Invalid != "" {
		return
	}
	if rec.MembershipWord != "" && rec.MembershipStatus == "" {
		rec.Invalid = fmt.Sprintf("%s: membership status %q is not a word the tool knows; %s", col(FieldMembershipStatus), cut(rec.MembershipWord, 40), rd.statusMapHint(rec.MembershipWord))
		return
	}
	key := rec.Key()
	h := maphash.String(rd.seed, key)
	if first, dup := rd.seen[h]; dup {
		rec.DuplicateOf, rec.DuplicateKey = int(first), key
		return
	}
	rd.seen[h] = uint32(rec.Line)
	if rec.ExternalMemberID != "" {
		h := maphash.String(rd.seed, rec.ExternalMemberID)
		if first, named := rd.memberIDs[h]; named {
			rec.MemberIDOf = int(first)
		} else {
			rd.memberIDs[h] = uint32(rec.Line)
		}
	}
}

// lostCharacters refuses a row whose cells hold U+FFFD, the mark an earlier
// conversion left where it lost a character: sending it would store the
// loss in Perkville.
func (rd *Reader) lostCharacters(rec *Record, col func(string) string) string {
	for _, f := range []struct {
		name, v string
	}{{FieldEmail, rec.Email}, {FieldExternalMemberID, rec.ExternalMemberID}, {FieldUserID, rec.UserID}, {FieldFirstName, rec.FirstName}, {FieldLastName, rec.LastName}, {FieldMembershipType, rec.MembershipType}, {FieldHomeLocation, rec.HomeLocation}} {
		if strings.ContainsRune(f.v, '\uFFFD') {
			return fmt.Sprintf("%s: %q holds U+FFFD (�), a character an earlier conversion lost; fix the cell", col(f.name), cut(f.v, 40))
		}
	}
	return ""
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
