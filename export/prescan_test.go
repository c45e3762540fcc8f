package export

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad byte on the last line of a regular file refuses it before any
// record is read, and a good file reads from its start after the scan.
func TestPrescanFile(t *testing.T) {
	dir := t.TempDir()
	var good strings.Builder
	good.WriteString("email,name\n")
	for range 2000 {
		good.WriteString("a@x.co,Zoë\n")
	}
	for name, c := range map[string]struct {
		data, enc, want string
	}{
		"utf8 then 1252": {good.String() + "b@x.co,Ren\xe9e\n", "", "line 2002, byte offset 24021: byte 0xE9 is not valid UTF-8"},
		"nul":            {good.String() + "b@x.co,\x00\n", "", "line 2002, byte offset 24018: byte 0x00 (NUL)"},
		"1252 undefined": {"email\na@x.co\n\x81\n", "windows-1252", "line 3, byte offset 13"},
		"old mac":        {"email\ra@x.co\rb@x.co,\x00\r", "", "line 3, byte offset 20: byte 0x00 (NUL)"},
		"good":           {good.String(), "", ""},
		"workbook":       {"PK\x03\x04 not checked here", "", ""},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".csv")
		if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		o := ReaderOptions{Name: "in.csv", Encoding: c.enc}
		err = PrescanFile(f, o)
		var fe *FileError
		if c.want != "" {
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), "in.csv: "+c.want) {
				t.Errorf("%s: %v, want a refusal %q", name, err, c.want)
			}
		} else if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if name == "good" {
			recs, _, err := readAllFrom(t, f, o)
			if err != nil || len(recs) != 2000 || recs[0].Line != 2 {
				t.Errorf("after the scan: %d records, %v", len(recs), err)
			}
		}
		f.Close()
	}
}
