package export

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Fields the tool reads from a row, named as in the field map.
const (
	FieldEmail            = "email"
	FieldExternalMemberID = "external_member_id"
	FieldUserID           = "user_id"
	FieldFirstName        = "first_name"
	FieldLastName         = "last_name"
	FieldMembershipStatus = "membership_status"
	FieldMembershipType   = "membership_type"
	FieldHomeLocation     = "home_location"
	FieldJoinDate         = "join_date"
	FieldCancelDate       = "cancel_date"
	fieldConsent          = "consent" // the consent column, by whatever name
)

// MappableFields are the fields the field map may name.
var MappableFields = []string{FieldEmail, FieldExternalMemberID, FieldUserID, FieldFirstName, FieldLastName, FieldMembershipStatus, FieldMembershipType,
	FieldHomeLocation, FieldJoinDate, FieldCancelDate}

// aliases are the header names each field is known by, normalised.
var aliases = map[string][]string{
	FieldEmail:            {"email", "e-mail", "email address", "e-mail address", "primary email", "emailaddress", "mail"},
	FieldExternalMemberID: {"external member id", "member id", "memberid", "member number", "client id", "account id", "barcode"},
	// A bare "User ID" is a membership system's own id as often as
	// Perkville's: only a name that says Perkville is taken (lookalikes).
	FieldUserID:           {"perkville user id"},
	FieldFirstName:        {"first name", "given name", "firstname"},
	FieldLastName:         {"last name", "surname", "family name", "lastname"},
	FieldMembershipStatus: {"membership status", "member status", "status"},
	FieldMembershipType:   {"membership type", "plan", "membership"},
	FieldHomeLocation:     {"home club", "home location", "location", "site", "home site", "club"},
	FieldJoinDate:         {"join date", "member since", "joined", "date joined", "since date"},
	FieldCancelDate:       {"cancel date", "cancellation date", "canceled date", "cancelled date", "expiration date", "expiry date"},
}

// lookalikes are header names, normalised, that look like a field's but
// are left alone: the column is more likely the source system's own id.
// A Reader lists the columns it left so (Reader.LeftAlone), for validate
// to name them.
var lookalikes = map[string]string{"userid": FieldUserID}

// LeftAlone is a column that looks like a field's but was not taken for it.
type LeftAlone struct {
	Position int    // counted from 1
	Name     string // as written in the header
	Field    string // the field it looks like
}

// leftAlone lists the lookalike columns m did not give a field.
func (m *headerMap) leftAlone() []LeftAlone {
	var out []LeftAlone
	for i, h := range m.header {
		if f, ok := lookalikes[normHeader(h)]; ok && m.canon[i] == "" {
			out = append(out, LeftAlone{Position: i + 1, Name: h, Field: f})
		}
	}
	return out
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

// Setting names which of the reader's settings a HeaderError is about, so a
// front end can say how its user changes that setting (a flag, a field).
type Setting int

// The settings a HeaderError can be about.
const (
	SettingNone          Setting = iota
	SettingFieldMap              // ReaderOptions.Map
	SettingConsentColumn         // ReaderOptions.ConsentColumn
	SettingSheet                 // ReaderOptions.Sheet
	SettingPreset                // ReaderOptions.Preset
)

// Remedy is one setting that would resolve an ambiguous column: the field
// (FieldEmail, ...; for SettingConsentColumn, the consent column itself)
// held by the column at Position, counted from 1.
type Remedy struct {
	Field    string
	Position int
}

// HeaderError refuses a file before any API call. Its message names things
// in the operator's words; Setting and Fix carry what a front end needs to
// say which of its options would resolve it.
type HeaderError struct {
	Name    string
	Problem string
	Found   []string
	// Expected says what the header should hold, where that is not the
	// email or user id column every file needs.
	Expected string
	// Setting is the setting at fault, or the one that would resolve the
	// refusal (SettingFieldMap for a file without an email column).
	Setting Setting
	// Fix lists the positional settings, any one of which would resolve an
	// ambiguous column.
	Fix []Remedy
}

func (e *HeaderError) Error() string {
	expected := e.Expected
	if expected == "" {
		expected = fmt.Sprintf("an email column (%s) or a user id column (%s); others can be named in the field map, by name or by position",
			strings.Join(aliases[FieldEmail][:5], ", "), strings.Join(aliases[FieldUserID], ", "))
	}
	// One line: the CLI prints an error as one line, escaping control
	// characters, so a newline here would show as a literal \n.
	return fmt.Sprintf("%s: line 1: %s; columns found: %s; expected: %s", e.Name, e.Problem, quoteList(e.Found), expected)
}

// Bounds of a header as messages show it: a header can be megabytes long.
const (
	shownColumns    = 20
	shownColumnRune = 40
)

// quoteList shows the first columns, each cut short.
func quoteList(ss []string) string {
	if len(ss) == 0 {
		return "(none)"
	}
	n := min(len(ss), shownColumns)
	q := make([]string, n)
	for i, s := range ss[:n] {
		q[i] = strconv.Quote(cut(s, shownColumnRune))
	}
	out := strings.Join(q, ", ")
	if len(ss) > n {
		out += fmt.Sprintf(" … and %d more", len(ss)-n)
	}
	return out
}

// cut shortens s to at most n runes, marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// headerMap names each column with the field it holds.
type headerMap struct {
	header []string
	canon  []string // field held by each column, "" for others
	cols   map[string]int
}

// claim gives the column(s) idx to field; more than one is ambiguous.
func (m *headerMap) claim(field string, idx []int, how string) *HeaderError {
	h := m.header
	if len(idx) > 1 {
		named := make([]string, 0, len(idx))
		fix := make([]Remedy, 0, len(idx))
		for _, i := range idx[:min(len(idx), 5)] {
			named = append(named, fmt.Sprintf("%d %q", i+1, cut(h[i], shownColumnRune)))
			fix = append(fix, Remedy{Field: field, Position: i + 1})
		}
		return &HeaderError{Problem: fmt.Sprintf("%d columns go by the same name (columns %s); the tool cannot tell which holds the %s: name it by position", len(idx), strings.Join(named, ", "), fieldWords(field)), Found: h,
			Setting: settingOf(field), Fix: fix}
	}
	if prev, taken := m.cols[field]; taken && prev != idx[0] {
		return ambiguous(h, field, prev, idx[0])
	}
	if c := m.canon[idx[0]]; c != "" && c != field {
		return &HeaderError{Problem: fmt.Sprintf("column %d %q %s cannot hold both %s and %s", idx[0]+1, cut(h[idx[0]], shownColumnRune), how, c, field), Found: h}
	}
	m.cols[field] = idx[0]
	m.canon[idx[0]] = field
	return nil
}

// ambiguous refuses two columns a, b that could both hold field.
func ambiguous(h []string, field string, a, b int) *HeaderError {
	return &HeaderError{Problem: fmt.Sprintf("both %q and %q could hold the %s; name one by position", cut(h[a], shownColumnRune), cut(h[b], shownColumnRune), fieldWords(field)), Found: h,
		Setting: settingOf(field), Fix: []Remedy{{Field: field, Position: a + 1}, {Field: field, Position: b + 1}}}
}

// settingOf is the setting that names the column of field.
func settingOf(field string) Setting {
	if field == fieldConsent {
		return SettingConsentColumn
	}
	return SettingFieldMap
}

// fieldWords names a field in a message.
func fieldWords(field string) string {
	switch field {
	case fieldConsent:
		return "consent"
	case FieldJoinDate:
		return "join date"
	case FieldCancelDate:
		return "cancel date"
	}
	return field
}

// named finds the columns a field map or consent column value names: #N is
// the N-th column; else an exact name beats a name that normalises alike.
func (m *headerMap) named(name string, byNorm map[string][]int) ([]int, error) {
	if pos, ok := strings.CutPrefix(name, "#"); ok {
		n, err := strconv.Atoi(pos)
		if err != nil || n < 1 || n > len(m.header) {
			return nil, fmt.Errorf("%q: a position is #1 to #%d", name, len(m.header))
		}
		return []int{n - 1}, nil
	}
	var exact []int
	for i, h := range m.header {
		if h == name || strings.TrimSpace(h) == name {
			exact = append(exact, i)
		}
	}
	if len(exact) == 1 {
		return exact, nil
	}
	idx := byNorm[normHeader(name)]
	if len(idx) == 0 {
		return nil, fmt.Errorf("%q: no such column", name)
	}
	return idx, nil
}

// mapHeader names each column with the field it holds.
func mapHeader(header []string, o ReaderOptions) (*headerMap, *HeaderError) {
	m := &headerMap{header: header, canon: make([]string, len(header)), cols: map[string]int{}}
	byNorm := map[string][]int{}
	for i, h := range header {
		byNorm[normHeader(h)] = append(byNorm[normHeader(h)], i)
	}
	// Explicit names first: the field map, then the consent column.
	fields := make([]string, 0, len(o.Map))
	for f := range o.Map {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		if !slices.Contains(MappableFields, f) {
			return nil, &HeaderError{Problem: fmt.Sprintf("the field map names an unknown field %q (fields: %s)", f, strings.Join(MappableFields, ", ")), Found: header,
				Setting: SettingFieldMap}
		}
		idx, err := m.named(o.Map[f], byNorm)
		if err != nil {
			return nil, &HeaderError{Problem: fmt.Sprintf("the field map's %s column %v", f, err), Found: header,
				Expected: "the field map names a column of the header as written there, or by position (#POSITION)", Setting: SettingFieldMap}
		}
		if err := m.claim(f, idx, "(from the field map)"); err != nil {
			return nil, err
		}
	}
	if o.ConsentColumn != "" {
		idx, err := m.named(o.ConsentColumn, byNorm)
		if err != nil {
			return nil, &HeaderError{Problem: fmt.Sprintf("the consent column %v", err), Found: header,
				Expected: "the consent column is the one holding when each customer accepted the program terms, named as written in the header (or #POSITION); leave it unset if the export holds no consent",
				Setting:  SettingConsentColumn}
		}
		if err := m.claim(fieldConsent, idx, "(the consent column)"); err != nil {
			return nil, err
		}
	}
	for _, f := range MappableFields {
		if err := m.byAlias(f, byNorm, o.Preset); err != nil {
			return nil, err
		}
	}
	_, hasEmail := m.cols[FieldEmail]
	_, hasUser := m.cols[FieldUserID]
	if !hasEmail && !hasUser {
		problem := "no email or user id column"
		for _, l := range m.leftAlone() {
			problem += fmt.Sprintf(" (column %d %q is not taken as the Perkville user id: name it in the field map if it holds one)", l.Position, cut(l.Name, shownColumnRune))
		}
		return nil, &HeaderError{Problem: problem, Found: header, Setting: SettingFieldMap}
	}
	return m, nil
}

// byAlias finds the column of a field not named explicitly. Two columns
// that both go by a name of the field are ambiguous: it refuses rather than
// guess which one holds it.
func (m *headerMap) byAlias(f string, byNorm map[string][]int, p *Preset) *HeaderError {
	if _, done := m.cols[f]; done {
		return nil
	}
	if f == FieldMembershipStatus && p != nil && p.Rule != nil {
		return nil // the preset's rule derives it from its own columns
	}
	var found []int
	names := aliases[f]
	switch {
	case p != nil && f == FieldExternalMemberID && p.OwnMemberID:
		names = p.Aliases[f] // no generic name stands in for the integration's own
	case p != nil:
		names = append(slices.Clone(p.Aliases[f]), names...)
	}
	for _, a := range names {
		idx := byNorm[normHeader(a)]
		if len(idx) == 0 || m.canon[idx[0]] != "" {
			continue
		}
		if len(idx) > 1 {
			return m.claim(f, idx, "")
		}
		if !slices.Contains(found, idx[0]) {
			found = append(found, idx[0])
		}
	}
	if len(found) > 1 {
		return ambiguous(m.header, f, found[0], found[1])
	}
	if len(found) == 1 {
		return m.claim(f, found, "")
	}
	return nil
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
