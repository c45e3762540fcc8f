package export

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func zipOf(t testing.TB, files map[string]string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// workbook builds an .xlsx in memory: sheet name -> rows (nil: a gap).
func workbook(t testing.TB, sheets []string, rows map[string][][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, name := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range rows[name] {
			if row == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestXLSX(t *testing.T) {
	data := workbook(t, []string{"Members", "Staff"}, map[string][][]any{
		"Members": {
			{"Member ID", "Email", "First Name", "Notes"},
			{"M-1", "A@x.co", "Renée", "5'10\""},
			nil,               // an empty row is no record
			{"M-3", "b@x.co"}, // trailing cells left empty
			{"M-4", "not-an-email", "X", ""},
			{12345, "c@x.co", "Num", "=1+1"},
		},
		"Staff": {{"email"}, {"staff@x.co"}},
	})
	recs, rd, err := readAllFrom(t, bytes.NewReader(data), ReaderOptions{Name: "members.xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	if rd.Encoding() != EncodingXLSX || rd.Sheet != "Members" || strings.Join(rd.Header, "|") != "Member ID|Email|First Name|Notes" {
		t.Fatalf("encoding %s sheet %q header %q", rd.Encoding(), rd.Sheet, rd.Header)
	}
	want := []struct {
		line    int
		email   string
		invalid bool
	}{{2, "a@x.co", false}, {4, "b@x.co", false}, {5, "", true}, {6, "c@x.co", false}}
	if len(recs) != len(want) {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Line != w.line || (r.Invalid != "") != w.invalid || (!w.invalid && r.Email != w.email) || len(r.Raw) != 4 {
			t.Errorf("record %d: line %d email %q invalid %q raw %q; want line %d %q", i, r.Line, r.Email, r.Invalid, r.Raw, w.line, w.email)
		}
	}
	if recs[0].FirstName != "Renée" || recs[3].ExternalMemberID != "12345" || !strings.Contains(recs[2].Invalid, "line 5, column 2 (Email)") {
		t.Errorf("cells: %+v", recs)
	}

	recs, _, err = readAllFrom(t, bytes.NewReader(data), ReaderOptions{Name: "members.xlsx", Sheet: "Staff"})
	if err != nil || len(recs) != 1 || recs[0].Email != "staff@x.co" {
		t.Fatalf("--sheet Staff: %+v %v", recs, err)
	}
	_, _, err = readAllFrom(t, bytes.NewReader(data), ReaderOptions{Name: "members.xlsx", Sheet: "Nope"})
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `no sheet "Nope"; its sheets: "Members", "Staff"`) {
		t.Fatalf("missing sheet: %v", err)
	}
}

func TestXLSXHeaderRefusal(t *testing.T) {
	data := workbook(t, []string{"S"}, map[string][][]any{"S": {{"Name", "Phone"}, {"A", "1"}}})
	_, _, err := readAllFrom(t, bytes.NewReader(data), ReaderOptions{Name: "m.xlsx"})
	var he *HeaderError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "no email or user id column") {
		t.Fatalf("%v", err)
	}
}

// Two columns whose names normalise alike: refused with the form that
// works, and --map by position (or by the exact name) resolves it.
func TestMapResolvesAmbiguity(t *testing.T) {
	data := "Email,Name,E-Mail\na@x.co,A,b@x.co\n"
	_, _, err := readAll(t, data, ReaderOptions{})
	var he *HeaderError
	if !errors.As(err, &he) || !slices.Equal(he.Fix, []Remedy{{FieldEmail, 1}, {FieldEmail, 3}}) {
		t.Fatalf("refusal %v does not carry the positions that work", err)
	}
	for m, want := range map[string]string{"#3": "b@x.co", "#1": "a@x.co", "E-Mail": "b@x.co", "Email": "a@x.co"} {
		recs, _, err := readAll(t, data, ReaderOptions{Map: map[string]string{"email": m}})
		if err != nil || recs[0].Email != want {
			t.Errorf("--map email=%s: %+v %v", m, recs, err)
		}
	}
	for _, m := range []string{"#0", "#4", "#x"} {
		if _, _, err := readAll(t, data, ReaderOptions{Map: map[string]string{"email": m}}); err == nil || !strings.Contains(err.Error(), "a position is #1 to #3") {
			t.Errorf("--map email=%s: %v", m, err)
		}
	}
}

// withSheet returns a workbook whose first sheet's XML (and, if sst is not
// empty, shared strings) are replaced.
func withSheet(t *testing.T, sheetXML, sst string) []byte {
	t.Helper()
	data := workbook(t, []string{"S"}, map[string][][]any{"S": {{"email"}}})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		parts[f.Name] = string(b)
	}
	parts["xl/worksheets/sheet1.xml"] = sheetXML
	if sst != "" {
		parts["xl/sharedStrings.xml"] = sst
	}
	return []byte(zipOf(t, parts))
}

const sheetHead = `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>email</t></is></c></row>`

// A small workbook that unpacks to gigabytes, or holds a giant cell, is
// refused before excelize builds it, naming the file and the limit.
func TestXLSXBombsRefused(t *testing.T) {
	var lying bytes.Buffer
	zw := zip.NewWriter(&lying)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Store, CompressedSize64: 1, UncompressedSize64: 1<<30 + 1})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("<"))
	for _, p := range []string{"xl/workbook.xml", "[Content_Types].xml"} {
		w, _ := zw.Create(p)
		_, _ = w.Write([]byte("<x/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bigCell := sheetHead + `<row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat("a", maxXMLTextRun+1) + `</t></is></c></row></sheetData></worksheet>`
	var row strings.Builder
	row.WriteString(sheetHead + `<row r="2">`)
	for range maxXLSXRowBytes>>20 + 1 {
		row.WriteString(`<c t="s"><v>0</v></c>`)
	}
	row.WriteString(`</row></sheetData></worksheet>`)
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>` + strings.Repeat("b", 1<<20) + `</t></si></sst>`
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"declared 1 GiB": {lying.Bytes(), "unpacks to more than 1024 MiB"},
		"9 MiB cell":     {withSheet(t, bigCell, ""), "a text of more than 8 MiB"},
		"17 MiB row":     {withSheet(t, row.String(), sst), "row 2 is 17 MiB, more than 16 MiB"},
	} {
		_, _, err := readAllFrom(t, bytes.NewReader(c.data), ReaderOptions{Name: "bomb.xlsx"})
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "bomb.xlsx") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal saying %q", name, err, c.want)
		}
	}
	// Within the limits a big row is an invalid row of its own.
	row.Reset()
	row.WriteString(sheetHead + `<row r="2"><c t="inlineStr"><is><t>a@x.co</t></is></c>`)
	for range 3 {
		row.WriteString(`<c t="s"><v>0</v></c>`)
	}
	row.WriteString(`</row></sheetData></worksheet>`)
	recs, _, err := readAllFrom(t, bytes.NewReader(withSheet(t, row.String(), sst)), ReaderOptions{Name: "ok.xlsx"})
	if err != nil || len(recs) != 1 || recs[0].Line != 2 || !strings.Contains(recs[0].Invalid, "longer than 1024 KiB") {
		t.Fatalf("a workbook within the limits: %d records, %v", len(recs), err)
	}
}

// visibilityWorkbook has a hidden first sheet (an old export), the
// members' sheet, and a staff sheet; active is the index of the sheet
// Excel opens on. Row 3 of Members is hidden by hand, row 5 filtered out.
func visibilityWorkbook(t *testing.T, active int, hideAll bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheets := map[string][][]any{
		"Old":     {{"email"}, {"old@x.co"}},
		"Members": {{"email", "first name"}, {"a@x.co", "A"}, {"hidden@x.co", "H"}, {"b@x.co", "B"}, {"filtered@x.co", "F"}},
		"Staff":   {{"email"}, {"staff@x.co"}},
	}
	for i, name := range []string{"Old", "Members", "Staff"} {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[name] {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(name, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.AutoFilter("Members", "A1:B5", []excelize.AutoFilterOptions{{Column: "A", Expression: "x != filtered@x.co"}}); err != nil {
		t.Fatal(err)
	}
	for _, row := range []int{3, 5} {
		if err := f.SetRowVisible("Members", row, false); err != nil {
			t.Fatal(err)
		}
	}
	f.SetActiveSheet(1)
	if !hideAll {
		if err := f.SetSheetVisible("Old", false); err != nil {
			t.Fatal(err)
		}
	}
	f.SetActiveSheet(active)
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	if hideAll {
		// excelize keeps one sheet visible; a crafted file need not.
		return rewritePart(t, b.Bytes(), "xl/workbook.xml", func(x string) string {
			return strings.ReplaceAll(x, "<sheet name=", `<sheet state="hidden" name=`)
		})
	}
	return b.Bytes()
}

// rewritePart returns the ZIP archive data with one part rewritten.
func rewritePart(t *testing.T, data []byte, part string, edit func(string) string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(b)
	}
	if !strings.Contains(files[part], "<sheet name=") {
		t.Fatalf("%s holds no sheet to hide", part)
	}
	files[part] = edit(files[part])
	return []byte(zipOf(t, files))
}

func TestXLSXReadsWhatTheOperatorSees(t *testing.T) {
	for _, tt := range []struct {
		name   string
		active int
		sheet  string
		want   string // the sheet read
	}{
		{"the active sheet, not the hidden first one", 1, "", "Members"},
		{"the active sheet, not the first visible one", 2, "", "Staff"},
		{"an active sheet that is hidden: the first visible one", 0, "", "Members"},
		{"a hidden sheet named with --sheet", 1, "Old", "Old"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, rd, err := readAllFrom(t, bytes.NewReader(visibilityWorkbook(t, tt.active, false)), ReaderOptions{Name: "m.xlsx", Sheet: tt.sheet})
			if err != nil || rd.Sheet != tt.want {
				t.Fatalf("read sheet %q (%v), want %q", rd.Sheet, err, tt.want)
			}
		})
	}
	_, _, err := readAllFrom(t, bytes.NewReader(visibilityWorkbook(t, 1, true)), ReaderOptions{Name: "m.xlsx"})
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `every sheet of the workbook is hidden; name the one to read with its name: "Old", "Members", "Staff"`) {
		t.Fatalf("a workbook whose sheets are all hidden: %v", err)
	}

	// Rows hidden by hand or filtered out are read, and marked.
	recs, _, err := readAllFrom(t, bytes.NewReader(visibilityWorkbook(t, 1, false)), ReaderOptions{Name: "m.xlsx"})
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records (%v), want every row of the sheet", len(recs), err)
	}
	for _, r := range recs {
		if want := r.Email == "hidden@x.co" || r.Email == "filtered@x.co"; r.Hidden != want {
			t.Errorf("line %d %s: hidden %v, want %v", r.Line, r.Email, r.Hidden, want)
		}
	}
}
