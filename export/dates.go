package export

import (
	"fmt"
	"strings"
	"time"
)

// Dates in exports: consent timestamps, join and cancel dates. One parser
// reads them all, in the forms membership systems write.

// dateLayouts are the forms read, most specific first: ISO 8601 (a zone
// or none, taken as UTC), and the US month/day/year the US systems'
// exports write (ABC Ignite, CSI Spectrum, Mindbody), with a 24-hour or an
// AM/PM time.
var dateLayouts = []string{
	time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02",
	"1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006",
}

// ParseDate reads a date or date-time as exports write it. A date alone
// is midnight UTC; so is a time without a zone.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date like 2026-11-20, 2026-11-20 10:04, 2026-11-20T10:04:00Z or 11/20/2026 (month/day/year)", cut(s, 40))
}

// ISODate is how a date is sent: ISO 8601, the date alone when the export
// gave no time of day.
func ISODate(t time.Time) string {
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format("2006-01-02")
	}
	return t.Format(time.RFC3339)
}

// placeholderDates are the days membership systems write for "never":
// .NET's empty DateTime, Excel's day zero, SQL Server's, and the end of
// time. A date on one of them, at any hour, is no date.
var placeholderDates = map[string]string{
	"0001-01-01": ".NET's empty date",
	"1899-12-30": "Excel's day zero",
	"1900-01-01": "SQL Server's empty date",
	"9999-12-31": "the end of time",
}

// placeholderDate names the placeholder t is, or "".
func placeholderDate(t time.Time) string {
	return placeholderDates[t.UTC().Format("2006-01-02")]
}

// isZeroDate reports whether s is a date whose digits are all zero
// (0000-00-00, 00/00/0000, with or without a time): MySQL's zero date, no
// day at all, which the parser refuses.
func isZeroDate(s string) bool {
	return strings.Count(s, "0") >= 8 && strings.ContainsAny(s, "-/") && strings.Trim(s, "0-/:. T") == ""
}

// notDates are the cells an export writes in a date column for "no":
// flags and blanks. Read as a consent, they are not one.
var notDates = map[string]bool{"0": true, "1": true, "true": true, "false": true, "yes": true, "no": true,
	"y": true, "n": true, "n/a": true, "na": true, "null": true, "none": true, "-": true}

// DefaultConsentAfter is the consent floor when none is set: a consent
// must be later than this. Earlier dates in a consent column are
// placeholders or imports, not a customer accepting this program's terms.
var DefaultConsentAfter = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// consentSlack is how far past now a consent may be: a day covers a
// sign-up form that writes its local time as UTC.
const consentSlack = 24 * time.Hour

// ConsentRule decides whether a consent cell records a customer's consent.
type ConsentRule struct {
	After time.Time // the floor: a consent must be later (zero: DefaultConsentAfter)
	Now   time.Time // a consent must be no later than Now plus a day (zero: the clock)
	// AfterName is how the user sets After, for notes ("--consent-after");
	// "" says "the consent floor".
	AfterName string
}

// Read reads a consent cell. A consent is its time. A cell that holds a
// date or a flag but no consent (a placeholder, a date before the floor or
// in the future, yes/no) gives a note saying why it is not one: such a
// row is enrolled as one without consent. Anything else is an error: the
// cell is not a date at all.
func (c ConsentRule) Read(cell string) (at time.Time, note string, err error) {
	cell = strings.TrimSpace(cell)
	if cell == "" {
		return time.Time{}, "", nil
	}
	if notDates[strings.ToLower(cell)] {
		return time.Time{}, fmt.Sprintf("%q is not a date: a consent is when the customer accepted the terms", cell), nil
	}
	if isZeroDate(cell) {
		return time.Time{}, fmt.Sprintf("%s looks like an empty date in the export (MySQL's zero date)", cell), nil
	}
	t, err := ParseDate(cell)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("consent time %w", err)
	}
	after, now := c.After, c.Now
	if after.IsZero() {
		after = DefaultConsentAfter
	}
	if now.IsZero() {
		now = time.Now()
	}
	switch {
	case placeholderDate(t) != "":
		return time.Time{}, fmt.Sprintf("%s looks like an empty date in the export (%s)", cell, placeholderDate(t)), nil
	case !t.After(after):
		floor := "the consent floor"
		if c.AfterName != "" {
			floor = c.AfterName
		}
		return time.Time{}, fmt.Sprintf("%s is not after %s (%s)", cell, ISODate(after), floor), nil
	case t.After(now.Add(consentSlack)):
		return time.Time{}, fmt.Sprintf("%s is in the future", cell), nil
	}
	return t, "", nil
}

// readConsent reads a row's consent cell: a consent keeps its cell and
// gains its time; a cell that holds none is emptied, and the row's notes
// say why; a cell that is no date makes the row invalid.
func (rd *Reader) readConsent(rec *Record, col func(string) string) {
	at, note, err := rd.consent.Read(rec.Consent)
	switch {
	case err != nil:
		rec.Invalid = fmt.Sprintf("%s: %v", col(fieldConsent), err)
	case note != "":
		rec.Consent, rec.ConsentNote = "", note
		rec.Notes = append(rec.Notes, "no consent: "+note)
	default:
		rec.ConsentAt = at
	}
}

// readDates reads a row's join and cancel dates into ISO 8601. A date
// that does not parse, or is a placeholder, is left out of what is sent,
// and the row's notes say so: never a silent blank.
func (rd *Reader) readDates(rec *Record, col func(string) string) {
	for _, d := range []struct {
		field string
		v     *string
	}{{FieldJoinDate, &rec.JoinDate}, {FieldCancelDate, &rec.CancelDate}} {
		if *d.v == "" {
			continue
		}
		t, err := ParseDate(*d.v)
		switch {
		case err != nil:
			rec.Notes = append(rec.Notes, fmt.Sprintf("%s not sent: %s %v", fieldWords(d.field), col(d.field), err))
			*d.v = ""
		case placeholderDate(t) != "":
			rec.Notes = append(rec.Notes, fmt.Sprintf("%s not sent: %s: %s looks like an empty date in the export (%s)", fieldWords(d.field), col(d.field), *d.v, placeholderDate(t)))
			*d.v = ""
		default:
			*d.v = ISODate(t)
		}
	}
}
