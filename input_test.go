package main

import (
	"encoding/csv"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// encode ENC IN OUT: write the UTF-8 text of IN to OUT in windows-1252 or
// utf-16le (with its byte-order mark), as Excel on Windows saves it.
func cmdEncode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: encode windows-1252|utf-16le IN OUT")
	}
	var out string
	var err error
	in := ts.ReadFile(args[1])
	switch args[0] {
	case "windows-1252":
		out, err = charmap.Windows1252.NewEncoder().String(in)
	case "utf-16le":
		out, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(in)
	default:
		ts.Fatalf("encode: unknown encoding %s", args[0])
	}
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(out), 0o600))
}

// mkxlsx IN.csv OUT.xlsx [SHEET]: write the rows of a CSV file as the first
// sheet of a workbook (named SHEET), after an empty sheet "Notes" when
// SHEET is given.
func cmdMkXLSX(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: mkxlsx IN.csv OUT.xlsx [SHEET]")
	}
	recs, err := csv.NewReader(strings.NewReader(ts.ReadFile(args[0]))).ReadAll()
	ts.Check(err)
	f := excelize.NewFile()
	defer f.Close()
	sheet := "Sheet1"
	if len(args) == 3 {
		ts.Check(f.SetSheetName("Sheet1", "Notes"))
		sheet = args[2]
		_, err := f.NewSheet(sheet)
		ts.Check(err)
	}
	for i, rec := range recs {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		ts.Check(err)
		row := make([]any, len(rec))
		for j, c := range rec {
			row[j] = c
		}
		ts.Check(f.SetSheetRow(sheet, cell, &row))
	}
	ts.Check(f.SaveAs(ts.MkAbs(args[1])))
}
