package export

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func encodeWith(t testing.TB, s, enc string) string {
	t.Helper()
	var out string
	var err error
	switch enc {
	case EncodingWindows1252:
		out, err = charmap.Windows1252.NewEncoder().String(s)
	case EncodingUTF16LE:
		out, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(s)
	case EncodingUTF16BE:
		out, err = unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().String(s)
	case EncodingUTF8:
		out = s
	case "utf-8-bom":
		out = "\xEF\xBB\xBF" + s
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readAllFrom reads records from any reader (to cut the input into
// one-byte reads).
func readAllFrom(t testing.TB, r io.Reader, o ReaderOptions) ([]*Record, *Reader, error) {
	t.Helper()
	if o.Name == "" {
		o.Name = "members.csv"
	}
	rd, err := NewReader(r, o)
	if err != nil {
		return nil, nil, err
	}
	var recs []*Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return recs, rd, nil
		}
		if err != nil {
			return recs, rd, err
		}
		recs = append(recs, rec)
	}
}

// Each encoding a real export uses reads to the same names, however the
// bytes arrive.
func TestEncodingsReadToTheSameText(t *testing.T) {
	text := "Email\tFirst Name\tLast Name\r\nrenee@x.co\tRenée\tMüller\r\nzoe@x.co\tZoë\t“Smith” – Œ\r\n"
	for _, enc := range []string{EncodingUTF8, "utf-8-bom", EncodingUTF16LE, EncodingUTF16BE, EncodingWindows1252} {
		data := encodeWith(t, text, enc)
		for _, oneByte := range []bool{false, true} {
			var in io.Reader = strings.NewReader(data)
			if oneByte {
				in = iotest.OneByteReader(in)
			}
			recs, rd, err := readAllFrom(t, in, ReaderOptions{})
			if err != nil {
				t.Fatalf("%s: %v", enc, err)
			}
			if len(recs) != 2 || recs[0].FirstName != "Renée" || recs[0].LastName != "Müller" || recs[1].LastName != "“Smith” – Œ" || recs[1].Line != 3 {
				t.Fatalf("%s (one byte at a time: %v): %+v", enc, oneByte, recs)
			}
			want := strings.TrimSuffix(enc, "-bom")
			if rd.Encoding() != want {
				t.Errorf("%s: detected %s", enc, rd.Encoding())
			}
		}
	}
}

// --encoding overrides detection: bytes valid as UTF-8 are read as Latin-1
// when asked.
func TestEncodingOverride(t *testing.T) {
	data := "email,first name\na@x.co,RenÃ©e\n"
	recs, rd, err := readAll(t, data, ReaderOptions{Encoding: "latin1"})
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].FirstName != "RenÃ\u0083Â©e" || rd.Encoding() != EncodingLatin1 {
		t.Fatalf("%q %s", recs[0].FirstName, rd.Encoding())
	}
	if _, err := ParseEncoding("ebcdic"); err == nil {
		t.Fatal("an unknown encoding was accepted")
	}
}

// Bytes invalid in the encoding decided refuse the file, naming the line
// and byte offset; rows before them were whole, none is cut at the byte.
func TestInvalidBytesRefuseTheFile(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		o          ReaderOptions
		rows       int // rows handed out before the error
		want       string
	}{
		{"invalid UTF-8 after UTF-8 was decided", "email,name\na@x.co,Zoë\nb@x.co,Ren\xe9e\n", ReaderOptions{}, 1, "line 3, byte offset 33: byte 0xE9 is not valid UTF-8"},
		{"asked for UTF-8", "email,name\na@x.co,Ren\xe9e\n", ReaderOptions{Encoding: "utf-8"}, 0, "line 2, byte offset 21: byte 0xE9"},
		{"undefined Windows-1252 byte", "email,name\na@x.co,Ren\xe9e\nb@x.co,\x81\n", ReaderOptions{}, 1, "line 3, byte offset 31: byte 0x81 is not a Windows-1252 character"},
		{"NUL", "email,name\na@x.co,A\x00\n", ReaderOptions{}, 0, "line 2, byte offset 19: byte 0x00 (NUL)"},
		{"lone surrogate", encodeWith(t, "email\na@x.co\n", EncodingUTF16LE) + "\x00\xDC", ReaderOptions{}, 1, "lone UTF-16 low surrogate"},
		{"truncated UTF-8", "email,name\na@x.co,Zoë\nb@x.co,Zo\xc3", ReaderOptions{}, 1, "line 3, byte offset 32: byte 0xC3 is not valid UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recs, _, err := readAll(t, tt.data, tt.o)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "members.csv: ") {
				t.Fatalf("got %v, want a FileError with %q", err, tt.want)
			}
			if len(recs) != tt.rows {
				t.Fatalf("%d rows before the error, want %d: %+v", len(recs), tt.rows, recs)
			}
		})
	}
}

// A cell that holds U+FFFD lost a character before pvenroll saw it: the row
// is invalid, never sent.
func TestReplacementCharacterRowIsInvalid(t *testing.T) {
	recs, _, err := readAll(t, "email,first name\na@x.co,Ren\uFFFDe\nb@x.co,Bo\n", ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(recs[0].Invalid, "U+FFFD") || recs[1].Invalid != "" {
		t.Fatalf("%+v", recs)
	}
}

func TestOtherFilesRefused(t *testing.T) {
	for name, tt := range map[string]struct{ data, want string }{
		"xls":                {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" + strings.Repeat("\x00", 100), "Excel 97-2003 workbook (.xls)"},
		"pdf":                {"%PDF-1.7\n%\xe2\xe3\n", "PDF document"},
		"html as xls":        {"<html><table><tr><td>email</td></tr></table></html>\n", "HTML or XML file"},
		"utf-16 without BOM": {"e\x00m\x00a\x00i\x00l\x00\n\x00", "UTF-16 text without a byte-order mark"},
		"zip":                {zipOf(t, map[string]string{"members.csv": "email\n"}), "ZIP archive"},
		"numbers":            {zipOf(t, map[string]string{"Index/Document.iwa": "x"}), "Apple Numbers document"},
		"docx":               {zipOf(t, map[string]string{"word/document.xml": "x"}), "Word document"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(t, tt.data, ReaderOptions{})
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	// Told it is UTF-16, a file without the mark is read as little-endian.
	recs, _, err := readAll(t, "e\x00m\x00a\x00i\x00l\x00\n\x00a\x00@\x00x\x00.\x00c\x00o\x00\n\x00", ReaderOptions{Encoding: "utf-16"})
	if err != nil || len(recs) != 1 || recs[0].Email != "a@x.co" {
		t.Fatalf("%+v %v", recs, err)
	}
}
