package export

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// A line break inside a quoted cell reaches the record's fields as written
// (CRLF as CRLF, LF as LF), whatever the file's own line ends and encoding,
// and in a workbook: gocsv maps the cells the record reader read, with no
// second CSV parse to turn CRLF into LF.
func TestLineBreaksInsideQuotesReachTheFields(t *testing.T) {
	const first, last = "Ann\r\nMarie", "Lee\nSmith"
	row := `a@x.co,"` + first + `","` + last + `",` + "b@x.co"
	for _, c := range []struct{ name, end, enc string }{
		{"crlf file", "\r\n", EncodingUTF8},
		{"lf file", "\n", EncodingUTF8},
		{"old mac cr file", "\r", EncodingUTF8},
		{"utf-16 crlf file", "\r\n", EncodingUTF16LE},
		{"windows-1252 lf file", "\n", EncodingWindows1252},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := "Email,First Name,Last Name,Notes" + c.end + row + c.end + "c@x.co,Cy,Ng,x" + c.end
			recs, _, err := readAll(t, encodeWith(t, text, c.enc), ReaderOptions{})
			if err != nil || len(recs) != 2 {
				t.Fatalf("%d records, %v", len(recs), err)
			}
			if r := recs[0]; r.Invalid != "" || r.FirstName != first || r.LastName != last || r.Email != "a@x.co" {
				t.Fatalf("fields %q %q %q (%s), want %q %q", r.Email, r.FirstName, r.LastName, r.Invalid, first, last)
			}
			if r := recs[1]; r.Line != 5 || r.FirstName != "Cy" {
				t.Fatalf("the row after: line %d, %q", r.Line, r.FirstName)
			}
		})
	}
	t.Run("workbook", func(t *testing.T) {
		book := workbook(t, []string{"Members"}, map[string][][]any{"Members": {
			{"Email", "First Name", "Last Name"},
			{"a@x.co", first, last},
		}})
		recs, _, err := readAllFrom(t, bytes.NewReader(book), ReaderOptions{})
		if err != nil || len(recs) != 1 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
		if r := recs[0]; r.FirstName != first || r.LastName != last {
			t.Fatalf("fields %q %q, want %q %q", r.FirstName, r.LastName, first, last)
		}
	})
}

// A Reader may be closed before its end, and twice; it then reads no more.
func TestReaderClose(t *testing.T) {
	rd, err := NewReader(strings.NewReader("email\na@x.co\nb@x.co\n"), ReaderOptions{Name: "m.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := rd.Next(); err != nil || rec.Email != "a@x.co" {
		t.Fatalf("%+v %v", rec, err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if rec, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after Close: %+v %v, want io.EOF", rec, err)
	}
}
