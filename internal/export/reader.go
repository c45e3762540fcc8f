package export

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gocarina/gocsv"
)

// Fields the tool reads from a row, named as in --map.
const (
	FieldEmail            = "email"
	FieldExternalMemberID = "external_member_id"
	FieldUserID           = "user_id"
	FieldFirstName        = "first_name"
	FieldLastName         = "last_name"
	FieldMembershipStatus = "membership_status"
	FieldMembershipType   = "membership_type"
	fieldConsent          = "consent" // the --consent-column, by whatever name
)

// MappableFields are the fields --map may name.
var MappableFields = []string{FieldEmail, FieldExternalMemberID, FieldUserID, FieldFirstName, FieldLastName, FieldMembershipStatus, FieldMembershipType}

// aliases are the header names each field is known by, normalised.
var aliases = map[string][]string{
	FieldEmail:            {"email", "e-mail", "email address", "e-mail address", "primary email", "emailaddress", "mail"},
	FieldExternalMemberID: {"external member id", "member id", "memberid", "member number", "client id", "account id", "barcode"},
	FieldUserID:           {"user id", "perkville user id"},
	FieldFirstName:        {"first name", "given name", "firstname"},
	FieldLastName:         {"last name", "surname", "family name", "lastname"},
	FieldMembershipStatus: {"membership status", "member status", "status"},
	FieldMembershipType:   {"membership type", "plan", "membership"},
}

// normHeader folds case and drops spaces, '-' and '_'.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if r == ' ' || r == '-' || r == '_' || r == '\t' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// csvRow is what gocsv fills; the tags are the canonical field names that
// the header normaliser maps the file's columns to.
type csvRow struct {
	Email            string `csv:"email"`
	ExternalMemberID string `csv:"external_member_id"`
	UserID           string `csv:"user_id"`
	FirstName        string `csv:"first_name"`
	LastName         string `csv:"last_name"`
	MembershipStatus string `csv:"membership_status"`
	MembershipType   string `csv:"membership_type"`
	Consent          string `csv:"consent"`
}

// Record is one data row of the input.
type Record struct {
	Line             int // physical line where the record starts; the header is line 1
	Email            string
	ExternalMemberID string
	UserID           string
	FirstName        string
	LastName         string
	MembershipStatus string
	MembershipType   string
	Consent          string   // raw consent cell, when --consent-column is set
	Raw              []string // the row's cells as read, for follow-up files
	// Invalid says why the row cannot be used (empty: usable).
	Invalid string
	// DuplicateOf is the earlier line of the same customer (0: none).
	DuplicateOf int
	// DuplicateKey names what matched ("email x@y").
	DuplicateKey string
}

// Key is the customer key: email, else member id, else user id.
func (r *Record) Key() string {
	switch {
	case r.Email != "":
		return "email " + r.Email
	case r.ExternalMemberID != "":
		return "member id " + r.ExternalMemberID
	case r.UserID != "":
		return "user id " + r.UserID
	}
	return ""
}

// Hash identifies the row's content: a changed row is enrolled afresh by
// a nightly run with --state.
func (r *Record) Hash() string {
	h := sha256.New()
	for _, f := range []string{r.Email, r.ExternalMemberID, r.UserID, r.FirstName, r.LastName, r.MembershipStatus, r.MembershipType, r.Consent} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// ReaderOptions configure a Reader.
type ReaderOptions struct {
	Name          string            // file name for messages ("-" is standard input)
	Delimiter     rune              // 0: guessed from the header line
	Map           map[string]string // field -> column name, from --map
	ConsentColumn string
	Preset        *Preset // the export's shape; nil: generic
}

// HeaderError refuses a file before any API call.
type HeaderError struct {
	Name    string
	Problem string
	Found   []string
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("%s: line 1: %s\n  columns found: %s\n  expected: an email column (%s) or a user id column (%s); name others with --map FIELD=COLUMN",
		e.Name, e.Problem, quoteList(e.Found), strings.Join(aliases[FieldEmail][:5], ", "), strings.Join(aliases[FieldUserID], ", "))
}

func quoteList(ss []string) string {
	if len(ss) == 0 {
		return "(none)"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// Reader streams Records from a CSV export. It holds one record at a time,
// plus a 12-byte entry per customer to find duplicates.
type Reader struct {
	name    string
	csv     *csv.Reader
	um      *gocsv.Unmarshaller
	Header  []string       // the file's header as written
	Columns map[string]int // field -> column index used
	Comma   rune

	colField []string // the field each column holds ("" for others)
	rule     func([]string) string
	ruleIdx  []int

	seen  map[uint64]uint32 // customer key hash -> first line
	seed  maphash.Seed
	width int
	done  bool
}

// NewReader reads and checks the header. A *HeaderError means the file must
// be refused whole.
func NewReader(r io.Reader, o ReaderOptions) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// Excel's "CSV UTF-8" starts with a BOM: encoding/csv would read it as
	// part of the first header (or fail on a quoted one).
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	comma := o.Delimiter
	if comma == 0 {
		head, _ := br.Peek(64 << 10)
		comma = GuessDelimiter(head)
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = 0 // every row as wide as the header: ragged rows error instead of shifting
	rd := &Reader{name: o.Name, csv: cr, Comma: comma, seen: map[uint64]uint32{}, seed: maphash.MakeSeed()}

	um, err := gocsv.NewUnmarshaller(cr, csvRow{})
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &HeaderError{Name: o.Name, Problem: "the file is empty: no header line"}
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &HeaderError{Name: o.Name, Problem: fmt.Sprintf("the header cannot be read (column %d): %v", pe.Column, pe.Err)}
		}
		return nil, fmt.Errorf("%s: line 1: %w", o.Name, err)
	}
	rd.Header = slices.Clone(um.Headers)
	rd.width = len(rd.Header)
	canon, cols, herr := mapHeader(rd.Header, o)
	if herr != nil {
		herr.Name = o.Name
		return nil, herr
	}
	rd.Columns = cols
	rd.colField = make([]string, rd.width)
	for f, i := range cols {
		rd.colField[i] = f
	}
	if p := o.Preset; p != nil && p.Rule != nil {
		idx, herr := p.ruleColumns(rd.Header)
		if herr != nil {
			herr.Name = o.Name
			return nil, herr
		}
		rd.rule, rd.ruleIdx = p.Rule, idx
	}
	if err := um.RenormalizeHeaders(func([]string) []string { return canon }); err != nil {
		return nil, fmt.Errorf("%s: line 1: %w", o.Name, err)
	}
	rd.um = um
	return rd, nil
}

// mapHeader names each column with the field it holds; other columns get a
// private unique name so that gocsv hands them back untouched.
func mapHeader(header []string, o ReaderOptions) ([]string, map[string]int, *HeaderError) {
	canon := make([]string, len(header))
	cols := map[string]int{}
	byNorm := map[string][]int{}
	for i, h := range header {
		canon[i] = "\x00col" + strconv.Itoa(i)
		byNorm[normHeader(h)] = append(byNorm[normHeader(h)], i)
	}
	claim := func(field string, idx []int, how string) *HeaderError {
		if len(idx) > 1 {
			return &HeaderError{Problem: fmt.Sprintf("column %q appears %d times (columns %s); the tool cannot tell which holds the %s", header[idx[0]], len(idx), joinInts(idx, 1), field), Found: header}
		}
		if prev, taken := cols[field]; taken && prev != idx[0] {
			return &HeaderError{Problem: fmt.Sprintf("both %q and %q could hold the %s; name one with --map %s=COLUMN", header[prev], header[idx[0]], field, field), Found: header}
		}
		if canon[idx[0]][0] != 0 && canon[idx[0]] != field {
			return &HeaderError{Problem: fmt.Sprintf("column %q %s cannot hold both %s and %s", header[idx[0]], how, canon[idx[0]], field), Found: header}
		}
		cols[field] = idx[0]
		canon[idx[0]] = field
		return nil
	}
	// Explicit names first: --map, then the consent column.
	fields := make([]string, 0, len(o.Map))
	for f := range o.Map {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		if !slices.Contains(MappableFields, f) {
			return nil, nil, &HeaderError{Problem: fmt.Sprintf("--map names an unknown field %q (fields: %s)", f, strings.Join(MappableFields, ", ")), Found: header}
		}
		idx := byNorm[normHeader(o.Map[f])]
		if len(idx) == 0 {
			return nil, nil, &HeaderError{Problem: fmt.Sprintf("--map %s=%s: no such column", f, o.Map[f]), Found: header}
		}
		if err := claim(f, idx, "(from --map)"); err != nil {
			return nil, nil, err
		}
	}
	if o.ConsentColumn != "" {
		idx := byNorm[normHeader(o.ConsentColumn)]
		if len(idx) == 0 {
			return nil, nil, &HeaderError{Problem: fmt.Sprintf("--consent-column %q: no such column", o.ConsentColumn), Found: header}
		}
		if err := claim(fieldConsent, idx, "(--consent-column)"); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range MappableFields {
		if _, done := cols[f]; done {
			continue
		}
		if f == FieldMembershipStatus && o.Preset != nil && o.Preset.Rule != nil {
			continue // the preset's rule derives it from its own columns
		}
		// Two columns that both go by a name of the field are ambiguous:
		// refuse rather than guess which one holds it.
		var found []int
		names := aliases[f]
		if o.Preset != nil {
			names = append(slices.Clone(o.Preset.Aliases[f]), names...)
		}
		for _, a := range names {
			idx := byNorm[normHeader(a)]
			if len(idx) == 0 || canon[idx[0]][0] != 0 {
				continue
			}
			if len(idx) > 1 {
				return nil, nil, claim(f, idx, "")
			}
			if !slices.Contains(found, idx[0]) {
				found = append(found, idx[0])
			}
		}
		if len(found) > 1 {
			return nil, nil, &HeaderError{Problem: fmt.Sprintf("both %q and %q could hold the %s; name one with --map %s=COLUMN", header[found[0]], header[found[1]], f, f), Found: header}
		}
		if len(found) == 1 {
			if err := claim(f, found, ""); err != nil {
				return nil, nil, err
			}
		}
	}
	_, hasEmail := cols[FieldEmail]
	_, hasUser := cols[FieldUserID]
	if !hasEmail && !hasUser {
		return nil, nil, &HeaderError{Problem: "no email or user id column", Found: header}
	}
	return canon, cols, nil
}

func joinInts(idx []int, plus int) string {
	s := make([]string, len(idx))
	for i, n := range idx {
		s[i] = strconv.Itoa(n + plus)
	}
	return strings.Join(s, ", ")
}

// GuessDelimiter picks , ; tab or | from the first line: the one that occurs
// most often outside quotes (comma on a tie or when none occurs).
func GuessDelimiter(head []byte) rune {
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	counts := map[rune]int{}
	inQuote := false
	for _, c := range string(head) {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ',' || c == ';' || c == '\t' || c == '|'):
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t', '|'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// Next returns the next record, or io.EOF. A row that cannot be parsed is
// returned as an invalid Record, never as an error: every data row comes
// back exactly once. Only a read failure of the input itself is an error.
func (rd *Reader) Next() (*Record, error) {
	if rd.done {
		return nil, io.EOF
	}
	v, unmatched, err := rd.um.ReadUnmatched()
	if err != nil {
		if errors.Is(err, io.EOF) {
			rd.done = true
			return nil, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return rd.badRecord(pe), nil
		}
		rd.done = true
		return nil, fmt.Errorf("%s: %w", rd.name, err)
	}
	line, _ := rd.csv.FieldPos(0)
	row := v.(csvRow)
	rec := &Record{Line: line,
		Email:            strings.ToLower(strings.TrimSpace(row.Email)),
		ExternalMemberID: strings.TrimSpace(row.ExternalMemberID),
		UserID:           strings.TrimSpace(row.UserID),
		FirstName:        strings.TrimSpace(row.FirstName),
		LastName:         strings.TrimSpace(row.LastName),
		MembershipStatus: strings.TrimSpace(row.MembershipStatus),
		MembershipType:   strings.TrimSpace(row.MembershipType),
		Consent:          strings.TrimSpace(row.Consent),
	}
	rec.Raw = make([]string, rd.width)
	for i := range rec.Raw {
		switch rd.colField[i] {
		case FieldEmail:
			rec.Raw[i] = row.Email
		case FieldExternalMemberID:
			rec.Raw[i] = row.ExternalMemberID
		case FieldUserID:
			rec.Raw[i] = row.UserID
		case FieldFirstName:
			rec.Raw[i] = row.FirstName
		case FieldLastName:
			rec.Raw[i] = row.LastName
		case FieldMembershipStatus:
			rec.Raw[i] = row.MembershipStatus
		case FieldMembershipType:
			rec.Raw[i] = row.MembershipType
		case fieldConsent:
			rec.Raw[i] = row.Consent
		default:
			rec.Raw[i] = unmatched["\x00col"+strconv.Itoa(i)]
		}
	}
	if rd.rule != nil {
		cells := make([]string, len(rd.ruleIdx))
		for k, i := range rd.ruleIdx {
			cells[k] = rec.Raw[i]
		}
		rec.MembershipStatus = rd.rule(cells)
	}
	rd.check(rec)
	return rec, nil
}

// badRecord turns a parse error into an invalid record at its line.
func (rd *Reader) badRecord(pe *csv.ParseError) *Record {
	rec := &Record{Line: pe.StartLine}
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		rec.Invalid = fmt.Sprintf("line %d: ragged row: %v (the header has %d)", pe.StartLine, pe.Err, rd.width)
	case pe.Line > pe.StartLine:
		rec.Invalid = fmt.Sprintf("line %d, column %d: bad quoting: %v (lines %d-%d were read as one record)", pe.Line, pe.Column, pe.Err, pe.StartLine, pe.Line)
	default:
		rec.Invalid = fmt.Sprintf("line %d, column %d: bad quoting: %v", pe.Line, pe.Column, pe.Err)
	}
	return rec
}

// check validates a parsed record and marks duplicates.
func (rd *Reader) check(rec *Record) {
	col := func(f string) string {
		return fmt.Sprintf("line %d, column %d (%s)", rec.Line, rd.Columns[f]+1, rd.Header[rd.Columns[f]])
	}
	switch {
	case rec.Email == "" && rec.UserID == "":
		rec.Invalid = fmt.Sprintf("line %d: no email and no user id", rec.Line)
	case rec.Email != "" && !ValidEmail(rec.Email):
		rec.Invalid = fmt.Sprintf("%s: malformed email %q", col(FieldEmail), rec.Email)
	case rec.UserID != "" && !validID(rec.UserID):
		rec.Invalid = fmt.Sprintf("%s: user id %q is not a positive whole number", col(FieldUserID), rec.UserID)
	case rec.Consent != "":
		if _, err := ParseConsent(rec.Consent); err != nil {
			rec.Invalid = fmt.Sprintf("%s: %v", col(fieldConsent), err)
		}
	}
	if rec.Invalid != "" {
		return
	}
	if s := rec.MembershipStatus; s != "" {
		if _, ok := MembershipStatus(s); !ok {
			rec.Invalid = fmt.Sprintf("%s: membership status %q is not active or inactive", col(FieldMembershipStatus), s)
			return
		}
	}
	key := rec.Key()
	h := maphash.String(rd.seed, key)
	if first, dup := rd.seen[h]; dup {
		rec.DuplicateOf, rec.DuplicateKey = int(first), key
		return
	}
	rd.seen[h] = uint32(rec.Line)
}

// ValidEmail accepts a bare address: local@domain with a dot in the domain.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func validID(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// MembershipStatus reads a membership status cell: ACTIVE or INACTIVE, in
// the words exports use.
func MembershipStatus(s string) (string, bool) {
	switch normHeader(s) {
	case "active", "a", "current", "member", "yes", "true", "1":
		return "ACTIVE", true
	case "inactive", "i", "cancelled", "canceled", "expired", "frozen", "suspended", "terminated", "no", "false", "0":
		return "INACTIVE", true
	}
	return "", false
}

// ParseConsent reads a consent timestamp: RFC 3339, or a date and time
// without a zone (taken as UTC), or a date alone.
func ParseConsent(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("consent time %q is not a date and time like 2026-11-20T10:04:00Z or 2026-11-20 10:04", s)
}
