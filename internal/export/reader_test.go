package export

import (
	"errors"
	"io"
	"strings"
	"testing"
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
		{"bare quote", "email,name\nb@x.co,B\na@x.co,A\"B\nc@x.co,C\n", []string{"b@x.co", "", "c@x.co"}, []int{2, 3, 4}},
		{"malformed and missing email", "email,user id\nnot-an-email,\n,\n,42\n", []string{"", "", ""}, []int{2, 3, 4}},
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
	recs, _, err := readAll(t, "email,member id,user id\na@x.co,1,\n A@X.CO ,2,\n,3,\n,3,\n,,9\n,,9\nb@x.co,1,\n", ReaderOptions{})
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
	}{
		{"empty", "", ReaderOptions{}, "empty"},
		{"no email column", "Name,Phone\nA,1\n", ReaderOptions{}, `no email or user id column`},
		{"duplicated email column", "Email,Name,E-mail\na@x.co,A,b@x.co\n", ReaderOptions{}, "appears 2 times"},
		{"two aliases of one field", "Email,Name,Primary Email\na@x.co,A,b@x.co\n", ReaderOptions{}, "could hold the email"},
		{"same header twice", "email,email\na@x.co,b@x.co\n", ReaderOptions{}, "appears 2 times"},
		{"map to a missing column", "Email\na@x.co\n", ReaderOptions{Map: map[string]string{"first_name": "Vorname"}}, "no such column"},
		{"map of an unknown field", "Email\na@x.co\n", ReaderOptions{Map: map[string]string{"phone": "Email"}}, "unknown field"},
		{"missing consent column", "Email\na@x.co\n", ReaderOptions{ConsentColumn: "Terms"}, "--consent-column"},
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
		})
	}
}

func TestReaderMapAndAliases(t *testing.T) {
	recs, rd, err := readAll(t, "Correo,Client ID,Given Name,Family Name,Estado,Notes\nA@x.co,C-1,Ana,Ruiz,Active,=1+1\n", ReaderOptions{Map: map[string]string{"email": "correo", "membership_status": "Estado"}})
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if r.Email != "a@x.co" || r.ExternalMemberID != "C-1" || r.FirstName != "Ana" || r.LastName != "Ruiz" || r.MembershipStatus != "Active" {
		t.Fatalf("%+v", r)
	}
	if strings.Join(r.Raw, ",") != "A@x.co,C-1,Ana,Ruiz,Active,=1+1" || strings.Join(rd.Header, ",") != "Correo,Client ID,Given Name,Family Name,Estado,Notes" {
		t.Fatalf("raw cells %q header %q", r.Raw, rd.Header)
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

// The reader never panics, and every record it returns is a distinct data
// row at a line after the header, in order.
func FuzzReader(f *testing.F) {
	f.Add("email,name\na@x.co,A\n")
	f.Add("\xEF\xBB\xBFEmail;Member ID\r\nA@X.co;1\r\n\"b@x.co\";\"2\n3\"\r\n")
	f.Add("email,notes\na@x.co,\"unterminated\nb@x.co,x\n")
	f.Add("user id|email\n12|\n|a@x.co\nx|y|z\n")
	f.Fuzz(func(t *testing.T, data string) {
		recs, _, err := readAll(t, data, ReaderOptions{})
		if err != nil {
			var he *HeaderError
			if errors.As(err, &he) {
				return
			}
			t.Fatalf("non-header error: %v", err)
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
		}
		if physical := strings.Count(data, "\n") + 1; len(recs) > physical {
			t.Fatalf("%d records from %d lines", len(recs), physical)
		}
	})
}
