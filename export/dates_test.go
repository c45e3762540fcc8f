package export

import (
	"strings"
	"testing"
	"time"
)

func TestConsentRule(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rule := ConsentRule{Now: now, AfterName: "the floor setting"}
	for _, tt := range []struct {
		cell string
		at   string // the consent's time, RFC 3339; "" when none
		note string // part of the note; "" when none
		err  bool
	}{
		{cell: ""},
		{cell: "2026-10-02 09:15", at: "2026-10-02T09:15:00Z"},
		{cell: "2026-09-14T18:40:00Z", at: "2026-09-14T18:40:00Z"},
		{cell: "2026-09-14T18:40:00-05:00", at: "2026-09-14T23:40:00Z"},
		{cell: " 2026-10-02 ", at: "2026-10-02T00:00:00Z"},
		{cell: "10/2/2026 9:15 AM", at: "2026-10-02T09:15:00Z"},
		{cell: "10/02/2026", at: "2026-10-02T00:00:00Z"},
		{cell: "2026-12-02 11:00", at: "2026-12-02T11:00:00Z"}, // within a day of now
		{cell: "2000-01-01T00:00:01Z", at: "2000-01-01T00:00:01Z"},
		{cell: "0001-01-01", note: "0001-01-01 looks like an empty date in the export (.NET"},
		{cell: "0001-01-01T00:00:00", note: "looks like an empty date"},
		{cell: "1899-12-30", note: "1899-12-30 looks like an empty date in the export (Excel"},
		{cell: "1900-01-01", note: "1900-01-01 looks like an empty date in the export"},
		{cell: "1900-01-01 00:00:00", note: "looks like an empty date"},
		{cell: "1/1/1900 12:00:00 AM", note: "looks like an empty date"},
		{cell: "9999-12-31", note: "looks like an empty date"},
		{cell: "9999-12-31T23:59:59Z", note: "looks like an empty date"},
		{cell: "9999-12-31 23:59:59.9999999", note: "looks like an empty date"}, // .NET's DateTime.MaxValue
		{cell: "0001-01-01T00:00:00.0000000", note: "looks like an empty date"},
		{cell: "12/30/1899 12:00:00 AM", note: "looks like an empty date"},
		{cell: "0000-00-00", note: "0000-00-00 looks like an empty date in the export (MySQL's zero date)"},
		{cell: "0000-00-00 00:00:00", note: "looks like an empty date"},
		{cell: "00/00/0000", note: "looks like an empty date"},
		{cell: "2000-01-01", note: "2000-01-01 is not after 2000-01-01 (the floor setting)"},
		{cell: "1987-05-04", note: "is not after 2000-01-01"},
		{cell: "2026-12-03", note: "2026-12-03 is in the future"},
		{cell: "2031-01-01T00:00:00Z", note: "in the future"},
		{cell: "0", note: `"0" is not a date`},
		{cell: "1", note: `"1" is not a date`},
		{cell: "TRUE", note: "is not a date"},
		{cell: "false", note: "is not a date"},
		{cell: "Yes", note: "is not a date"},
		{cell: "no", note: "is not a date"},
		{cell: "N/A", note: "is not a date"},
		{cell: "yesterday", err: true},
		{cell: "2026-13-01", err: true},
		{cell: "13/1/2026", err: true}, // month/day/year: no month 13
	} {
		at, note, err := rule.Read(tt.cell)
		if (err != nil) != tt.err {
			t.Errorf("%q: error %v, want one: %v", tt.cell, err, tt.err)
			continue
		}
		var got string
		if !at.IsZero() {
			got = at.UTC().Format(time.RFC3339)
		}
		if got != tt.at {
			t.Errorf("%q: consent at %q, want %q", tt.cell, got, tt.at)
		}
		if (note == "") != (tt.note == "") || !strings.Contains(note, tt.note) {
			t.Errorf("%q: note %q, want one holding %q", tt.cell, note, tt.note)
		}
	}
}

func TestConsentRuleFloor(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rule := ConsentRule{After: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Now: now}
	if _, note, _ := rule.Read("2026-05-31 23:59"); !strings.Contains(note, "is not after 2026-06-01 (the consent floor)") {
		t.Errorf("a consent before the floor: note %q", note)
	}
	if at, note, _ := rule.Read("2026-06-01 00:01"); at.IsZero() || note != "" {
		t.Errorf("a consent after the floor: %v, note %q", at, note)
	}
}

// A consent cell that holds no consent leaves the row usable, without
// consent, and says why; one that is not a date makes the row invalid.
func TestReaderConsentPlaceholders(t *testing.T) {
	data := "Email,Consent\na@x.co,2026-10-02 09:15\nb@x.co,1900-01-01\nc@x.co,yes\nd@x.co,\ne@x.co,someday\n"
	o := ReaderOptions{ConsentColumn: "Consent", Consent: ConsentRule{Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}}
	recs, _, err := readAll(t, data, o)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ consent, note, invalid string }
	for i, w := range []want{
		{consent: "2026-10-02 09:15"},
		{note: "1900-01-01 looks like an empty date in the export"},
		{note: `"yes" is not a date`},
		{},
		{invalid: "line 6, column 2 (Consent): consent time \"someday\" is not a date"},
	} {
		r := recs[i]
		if w.invalid != "" {
			if !strings.Contains(r.Invalid, w.invalid) {
				t.Errorf("line %d: invalid %q, want %q", r.Line, r.Invalid, w.invalid)
			}
			continue
		}
		if r.Consent != w.consent || !strings.Contains(r.ConsentNote, w.note) || (w.note == "") != (r.ConsentNote == "") ||
			r.Invalid != "" {
			t.Errorf("line %d: consent %q, note %q, invalid %q; want %+v", r.Line, r.Consent, r.ConsentNote, r.Invalid, w)
		}
		if (r.Consent != "") == r.ConsentAt.IsZero() {
			t.Errorf("line %d: consent %q at %v: a consent has its time and only a consent does", r.Line, r.Consent, r.ConsentAt)
		}
	}
}
