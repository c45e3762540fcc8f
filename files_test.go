package main

import (
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/xuri/excelize/v2"
)

// xlsxhide FILE.xlsx SHEET [ROW...]: make SHEET the workbook's active
// sheet, hide every other sheet, and hide the ROWs of SHEET (as Excel does
// for rows hidden by hand or filtered out).
func cmdXLSXHide(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: xlsxhide FILE.xlsx SHEET [ROW...]")
	}
	f, err := excelize.OpenFile(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	sheet := args[1]
	idx, err := f.GetSheetIndex(sheet)
	ts.Check(err)
	f.SetActiveSheet(idx)
	for _, other := range f.GetSheetList() {
		if other != sheet {
			ts.Check(f.SetSheetVisible(other, false))
		}
	}
	for _, r := range args[2:] {
		row, err := strconv.Atoi(r)
		ts.Check(err)
		ts.Check(f.SetRowVisible(sheet, row, false))
	}
	ts.Check(f.Save())
}
