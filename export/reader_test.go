package export

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func readAll(t testing.TB, data string, o ReaderOptions) ([]*Record, *Reader, error) {
	t.Helper()
	if o.Name == "" {
		o.Name = "members.csv"
	}
	rd, err := NewReader(strings.NewReader(data), o)
	if err != nil {
		return nil, nil, err
	}
	var recs []*Record
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return recs, rd, nil
		}
		if err != nil {
			return recs, rd, err
		}
		recs = append(recs, r)
	}
}

func TestReaderShapes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		data   string
		emails []string // "" for an invalid row
		lines  []int
	}{
		{"plain", "Email,First Name\na@x.co,A\nb@x.co,B\n", []string{"a@x.co", "b@x.co"}, []int{2, 3}},
		{"BOM and CRLF", "\xEF\xBB\xBFE-mail Address,Surname\r\nA@X.co ,Lee\r\nb@x.co,Kim\r\n", []string{"a@x.co", "b@x.co"}, []int{2, 3}},
		{"BOM before a quoted header", "\xEF\xBB\xBF\"Email\",\"Name\"\n\"a@x.co\",\"A\"\n", []string{"a@x.co"}, []int{2}},
		{"semicolons", "Member ID;E-Mail;Vorname\n1;a@x.co;A\n2;b@x.co;B\n", []string{"a@x.co", "b@x.co"}, []int{2, 3}},
		{"tabs", "email\tmember_id\na@x.co\t1\n", []string{"a@x.co"}, []int{2}},
		{"pipes with commas in cells", "email|notes\na@x.co|one, two\n", []string{"a@x.co"}, []int{2}},
		{"quoted newline: line is where the record starts", "email,notes\na@x.co,\"two\nlines\"\nb@x.co,x\n", []string{"a@x.co", "b@x.co"}, []int{2, 4}},
		{"ragged row in the middle", "email,name\na@x.co,A\nb@x.co\nc@x.co,C\n", []string{"a@x.co", "", "c@x.co"}, []int{2, 3, 4}},
		{"bare quote is literal", "email,name\nb@x.co,B\na@x.co,5'10\"\nc@x.co,C\n", []string{"b@x.co", "a@x.co", "c@x.co"}, []int{2, 3, 4}},
		{"malformed and missing email", "email,perkville user id\nnot-an-email,\n,\n,42\n", []string{"", "", ""}, []int{2, 3, 4}},
		{"no trailing newline", "email\na@x.co", []string{"a@x.co"}, []int{2}},
		{"header only", "email\n", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			recs, _, err := readAll(t, tt.data, ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(tt.emails) {
				t.Fatalf("%d records, want %d: %+v", len(recs), len(tt.emails), recs)
			}
			for i, r := range recs {
				if r.Line != tt.lines[i] {
					t.Errorf("record %d at line %d, want %d", i, r.Line, tt.lines[i])
				}
				wantInvalid := tt.emails[i] == "" && r.UserID == ""
				if tt.emails[i] != "" && r.Email != tt.emails[i] {
					t.Errorf("record %d email %q, want %q", i, r.Email, tt.emails[i])
				}
				if wantInvalid != (r.Invalid != "") {
					t.Errorf("record %d invalid=%q, want invalid=%v", i, r.Invalid, wantInvalid)
				}
			}
		})
	}
}

func TestReaderInvalidNamesLineAndColumn(t *testing.T) {
	recs, _, err := readAll(t, "Member ID,Email,Consent\n1,a@@x,\n2,b@x.co,yesterday\n3,c@x.co\n", ReaderOptions{ConsentColumn: "consent"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"line 2, column 2 (Email)", "line 3, column 3 (Consent)", "line 4: ragged row"} {
		if !strings.Contains(recs[i].Invalid, want) {
			t.Errorf("row %d: %q does not name %q", i, recs[i].Invalid, want)
		}
	}
}

func TestReaderDuplicates(t *testing.T) {
	recs, _, err := readAll(t, "email,member id,perkville user id\na@x.co,1,\n A@X.CO ,2,\n,3,\n,3,\n,,9\n,,9\nb@x.co,1,\n", ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A member id alone is no key (the row is invalid); member id 1 again
	// with another email is another customer.
	want := []int{0, 2, 0, 0, 0, 6, 0}
	for i, r := range recs {
		if r.DuplicateOf != want[i] {
			t.Errorf("line %d: duplicate of %d, want %d", r.Line, r.DuplicateOf, want[i])
		}
	}
}

func TestReaderHeaderRefusals(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		o          ReaderOptions
		want       string
		setting    Setting
		fix        []Remedy
	}{
		{"empty", "", ReaderOptions{}, "empty", SettingNone, nil},
		{"no email column", "Name,Phone\nA,1\n", ReaderOptions{}, `no email or user id column`, SettingFieldMap, nil},
		{"a User ID that may not be Perkville's", "Name,User ID\nA,1\n", ReaderOptions{}, `column 2 "User ID" is not taken as the Perkville user id`, SettingFieldMap, nil},
		{"duplicated email column", "Email,Name,E-mail\na@x.co,A,b@x.co\n", ReaderOptions{}, "cannot tell which holds the email: name it by position", SettingFieldMap, []Remedy{{FieldEmail, 1}, {FieldEmail, 3}}},
		{"two aliases of one field", "Email,Name,Primary Email\na@x.co,A,b@x.co\n", ReaderOptions{}, "could hold the email", SettingFieldMap, []Remedy{{FieldEmail, 1}, {FieldEmail, 3}}},
		{"same header twice", "email,email\na@x.co,b@x.co\n", ReaderOptions{}, "2 columns go by the same name", SettingFieldMap, []Remedy{{FieldEmail, 1}, {FieldEmail, 2}}},
		{"map to a missing column", "Email\na@x.co\n", ReaderOptions{Map: map[string]string{"first_name": "Vorname"}}, "no such column", SettingFieldMap, nil},
		{"map of an unknown field", "Email\na@x.co\n", ReaderOptions{Map: map[string]string{"phone": "Email"}}, "unknown field", SettingFieldMap, nil},
		{"missing consent column", "Email\na@x.co\n", ReaderOptions{ConsentColumn: "Terms"}, `the consent column "Terms": no such column`, SettingConsentColumn, nil},
		{"consent column twice", "Email,Terms,terms\na@x.co,1,2\n", ReaderOptions{ConsentColumn: "TERMS"}, "holds the consent", SettingConsentColumn, []Remedy{{fieldConsent, 2}, {fieldConsent, 3}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, tt.data, tt.o)
			var he *HeaderError
			if !errors.As(err, &he) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a HeaderError with %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "members.csv: line 1") {
				t.Fatalf("error does not name the file and line: %v", err)
			}
			// The library speaks of settings, not of a front end's flags.
			if strings.Contains(err.Error(), "--") {
				t.Errorf("error names a command-line flag: %v", err)
			}
			if he.Setting != tt.setting || !slices.Equal(he.Fix, tt.fix) {
				t.Errorf("setting %v, fix %v; want %v, %v", he.Setting, he.Fix, tt.setting, tt.fix)
			}
		})
	}
}

func TestReaderMapAndAliases(t *testing.T) {
	recs, rd, err := readAll(t, "Correo,Client ID,Given Name,Family Name,Estado,Notes\nA@x.co,C-1,Ana,Ruiz,Active,=1+1\n", ReaderOptions{Map: map[string]string{"email": "correo", "membership_status": "Estado"}})
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if r.Email != "a@x.co" || r.ExternalMemberID != "C-1" || r.FirstName != "Ana" || r.LastName != "Ruiz" || r.MembershipStatus != "ACTIVE" || r.MembershipWord != "Active" {
		t.Fatalf("%+v", r)
	}
	if strings.Join(r.Raw, ",") != "A@x.co,C-1,Ana,Ruiz,Active,=1+1" || strings.Join(rd.Header, ",") != "Correo,Client ID,Given Name,Family Name,Estado,Notes" {
		t.Fatalf("raw cells %q header %q", r.Raw, rd.Header)
	}
}

// A membership system's own "User ID" is not taken for Perkville's: the
// reader leaves it alone and says so; only a name that says Perkville, or
// the field map, makes a column the Perkville user id.
func TestReaderUserIDColumn(t *testing.T) {
	for _, tt := range []struct {
		name, header string
		o            ReaderOptions
		userID       string
		left         []LeftAlone
	}{
		{"bare user id", "Email,User ID", ReaderOptions{}, "", []LeftAlone{{2, "User ID", FieldUserID}}},
		{"perkville user id", "Email,Perkville User ID", ReaderOptions{}, "42", nil},
		{"mapped", "Email,User ID", ReaderOptions{Map: map[string]string{FieldUserID: "User ID"}}, "42", nil},
		{"both", "Email,user_id,Perkville User ID", ReaderOptions{}, "7", []LeftAlone{{2, "user_id", FieldUserID}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			row := "a@x.co,42"
			if strings.Count(tt.header, ",") == 2 {
				row = "a@x.co,42,7"
			}
			recs, rd, err := readAll(t, tt.header+"\n"+row+"\n", tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if recs[0].UserID != tt.userID || !slices.Equal(rd.LeftAlone, tt.left) {
				t.Fatalf("user id %q, left alone %+v; want %q, %+v", recs[0].UserID, rd.LeftAlone, tt.userID, tt.left)
			}
		})
	}
}

func TestGuessDelimiter(t *testing.T) {
	for head, want := range map[string]rune{
		"a,b,c":            ',',
		"a;b;c":            ';',
		"a\tb\tc":          '\t',
		"a|b|c":            '|',
		`"x;y",b,c`:        ',',
		"email":            ',',
		"a;b,c;d\n1,2,3,4": ';',
	} {
		if got := GuessDelimiter([]byte(head)); got != want {
			t.Errorf("%q: %q, want %q", head, got, want)
		}
	}
}

// Whatever the bytes and the encoding, the reader never panics, fails only
// by refusing the file, returns records at increasing lines after the
// header, and reads the same however the bytes arrive. Without quotes,
// every non-blank line after the header is exactly one record.
func FuzzReader(f *testing.F) {
	f.Add("email,name\na@x.co,A\n", uint8(0))
	f.Add("\xEF\xBB\xBFEmail;Member ID\r\nA@X.co;1\r\n\"b@x.co\";\"2\n3\"\r\n", uint8(0))
	f.Add("email,notes\na@x.co,\"unterminated\nb@x.co,x\n", uint8(0))
	f.Add("perkville user id|email\n12|\n|a@x.co\nx|y|z\n", uint8(0))
	f.Add("email,name\na@x.co,Ren\xe9e\nb@x.co,5'10\"\n", uint8(3))
	f.Add("\xFF\xFEe\x00m\x00a\x00i\x00l\x00\n\x00a\x00@\x00x\x00.\x00c\x00o\x00", uint8(2))
	f.Add("email\na@x.co\nZo\xc3\xab@x.co\n\x81\n", uint8(1))
	f.Add("email,club,notes\nu1@x.co,North,\"said hi\nu2@x.co,East,ok\nu3@x.co,East,\"closing\"\n", uint8(0))
	f.Add("email,club,notes\nu1@x.co,North,\"said hi\nu2@x.co,\"Riverside, East\",ok\n", uint8(0))
	f.Add("email,name\ra@x.co,A\rb@x.co,\"two\rlines\"\r", uint8(0))
	f.Add("email,notes\r\na@x.co,\"two\r\nlines\"\r\nb@x.co,\"x\nc@x.co,y\"\n", uint8(0))
	f.Add("email,first name\na@x.co,\"Ann\r\nMarie\"\n", uint8(0))
	encodings := []string{EncodingAuto, EncodingUTF8, EncodingUTF16, EncodingWindows1252, EncodingLatin1}
	f.Fuzz(func(t *testing.T, data string, enc uint8) {
		o := ReaderOptions{Encoding: encodings[int(enc)%len(encodings)]}
		recs, rd, err := readAll(t, data, o)
		slow, _, slowErr := readAllFrom(t, iotest.OneByteReader(strings.NewReader(data)), o)
		if fmt.Sprint(err) != fmt.Sprint(slowErr) || len(recs) != len(slow) {
			t.Fatalf("read whole: %d records, %v; one byte at a time: %d records, %v", len(recs), err, len(slow), slowErr)
		}
		for i := range recs {
			if a, b := recs[i], slow[i]; a.Line != b.Line || a.Invalid != b.Invalid || fmt.Sprintf("%q", a.Raw) != fmt.Sprintf("%q", b.Raw) {
				t.Fatalf("record %d differs by how the bytes arrive: %+v vs %+v", i, a, b)
			}
		}
		var he *HeaderError
		var fe *FileError
		if err != nil && !errors.As(err, &he) && !errors.As(err, &fe) {
			t.Fatalf("an error that is no refusal: %v", err)
		}
		last := 1
		for _, r := range recs {
			if r.Line <= last {
				t.Fatalf("record at line %d after line %d", r.Line, last)
			}
			last = r.Line
			if r.Invalid == "" && r.Email == "" && r.UserID == "" {
				t.Fatalf("a usable record with no key at line %d", r.Line)
			}
			if r.Invalid == "" && r.Email != "" && !ValidEmail(r.Email) {
				t.Fatalf("invalid email %q passed", r.Email)
			}
			if r.Invalid == "" && strings.ContainsRune(r.FirstName+r.LastName+r.Email, '\uFFFD') {
				t.Fatalf("a usable record with U+FFFD at line %d", r.Line)
			}
			if r.Invalid == "" {
				mappedAsRead(t, rd, r)
			}
		}
		if physical := strings.Count(data, "\n") + strings.Count(data, "\r") + 1; len(recs) > physical {
			t.Fatalf("%d records from %d lines", len(recs), physical)
		}
		if err == nil && o.Encoding != EncodingUTF16 && !strings.Contains(data, `"`) && !strings.HasPrefix(data, "\xFF\xFE") && !strings.HasPrefix(data, "\xFE\xFF") {
			if want := dataLines(data); len(recs) != want {
				t.Fatalf("%d records from %d non-blank lines after the header", len(recs), want)
			}
		}
	})
}

// dataLines counts the non-blank lines after the first non-blank one.
// mappedAsRead fails unless each field of r is its column's cell as read,
// but for the spaces around it: mapping cells to fields changes no
// character, line breaks included.
func mappedAsRead(t *testing.T, rd *Reader, r *Record) {
	t.Helper()
	for field, got := range map[string]string{FieldExternalMemberID: r.ExternalMemberID, FieldFirstName: r.FirstName, FieldLastName: r.LastName, FieldMembershipType: r.MembershipType} {
		if i, ok := rd.Columns[field]; ok && got != strings.TrimSpace(r.Raw[i]) {
			t.Fatalf("line %d: %s %q, but its cell was read as %q", r.Line, field, got, r.Raw[i])
		}
	}
}

func dataLines(data string) int {
	if i := strings.IndexAny(data, "\r\n"); i >= 0 && data[i] == '\r' && !strings.HasPrefix(data[i:], "\r\n") {
		b := []byte(data) // an old Mac file: a lone CR ends a line
		for i := range b {
			if b[i] == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
				b[i] = '\n'
			}
		}
		data = string(b)
	}
	lines := strings.Split(data, "\n")
	n := 0
	for i, l := range lines {
		if l == "" || (l == "\r" && i < len(lines)-1) {
			continue
		}
		n++
	}
	return max(n-1, 0)
}
