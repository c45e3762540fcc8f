package enroll_test

import (
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
)

// A Windows-1252 export (Excel's "CSV" on Windows) and a UTF-16 one create
// their customers in Perkville with their names byte for byte: no U+FFFD,
// no mojibake.
func TestEncodedExportsStoreNamesExactly(t *testing.T) {
	const text = "email,member id,first name,last name\r\n" +
		"renee@x.co,N-1,Renée,Müller\r\n" +
		"francois@x.co,N-2,François,Ødegård–Šťastný\r\n"
	cp1252, err := charmap.Windows1252.NewEncoder().String("email,member id,first name,last name\r\nrenee@x.co,N-1,Renée,Müller\r\nfrancois@x.co,N-2,François,Œuvre “Zoë”\r\n")
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		csv   string
		names map[string][2]string
	}{
		"windows-1252": {cp1252, map[string][2]string{"renee@x.co": {"Renée", "Müller"}, "francois@x.co": {"François", "Œuvre “Zoë”"}}},
		"utf-16le":     {utf16, map[string][2]string{"renee@x.co": {"Renée", "Müller"}, "francois@x.co": {"François", "Ødegård–Šťastný"}}},
	} {
		t.Run(name, func(t *testing.T) {
			s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
			defer s.Close()
			got, _, _ := run(t, s, runCase{csv: tt.csv, policy: enroll.Policy{CreateMissing: true, SystemID: "SYS"}})
			if len(got) != 2 {
				t.Fatalf("%d results", len(got))
			}
			for _, r := range got {
				if r.Outcome == enroll.Invalid || r.Outcome == enroll.Failed {
					t.Fatalf("line %d: %s %s", r.Line, r.Outcome, r.Detail)
				}
			}
			found := 0
			for _, u := range s.State().Users {
				want, ok := tt.names[u.Emails[0]]
				if !ok {
					continue
				}
				found++
				if u.FirstName != want[0] || u.LastName != want[1] {
					t.Errorf("%s stored as %q %q (% x), want %q %q", u.Emails[0], u.FirstName, u.LastName, u.LastName, want[0], want[1])
				}
			}
			if found != 2 {
				t.Fatalf("%d of 2 customers created", found)
			}
		})
	}
}
