package export

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

// MaxWorkbookBytes bounds an .xlsx input: it is copied to a temporary file
// first, as a ZIP archive is read from its end.
const MaxWorkbookBytes = 1 << 30

// xlsxSource reads the rows of one sheet with excelize's streaming row
// reader; a record's line is its row number in the sheet.
type xlsxSource struct {
	f      *excelize.File
	rows   *excelize.Rows
	sheet  string
	sheets []string // all the workbook's sheets, for messages
	row    int
}

// openXLSX copies the input to a temporary file, checks it is an .xlsx
// workbook, and opens the sheet (when sheet is "", the one the operator
// sees on opening the workbook: see defaultSheet).
func openXLSX(r io.Reader, name, sheet string) (*xlsxSource, error) {
	tmp, err := os.CreateTemp("", "pvenroll-*.xlsx")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(r, MaxWorkbookBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if n > MaxWorkbookBytes {
		return nil, &FileError{Name: name, Problem: fmt.Sprintf("this ZIP archive or workbook is larger than %d MiB: %s", MaxWorkbookBytes>>20, saveAsCSV)}
	}
	zr, err := zip.NewReader(tmp, n)
	if err != nil {
		return nil, &FileError{Name: name, Problem: "this starts like a ZIP archive (an .xlsx workbook is one) but cannot be read as one: " + err.Error()}
	}
	if ok, problem := zipKind(zr); !ok {
		return nil, &FileError{Name: name, Problem: problem}
	}
	if err := checkWorkbook(zr, name); err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(tmp.Name(), excelize.Options{UnzipSizeLimit: MaxWorkbookUnzipBytes, UnzipXMLSizeLimit: maxWorkbookXMLInMem})
	if err != nil {
		return nil, &FileError{Name: name, Problem: "the workbook cannot be read: " + err.Error() + "; " + saveAsCSV}
	}
	s, err := openSheet(f, name, sheet)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, nil
}

func openSheet(f *excelize.File, name, sheet string) (*xlsxSource, error) {
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &FileError{Name: name, Problem: "the workbook has no sheet"}
	}
	if sheet == "" {
		var ok bool
		if sheet, ok = defaultSheet(f, sheets); !ok {
			return nil, &FileError{Name: name, Problem: fmt.Sprintf("every sheet of the workbook is hidden; name the one to read with its name: %s", quoteSheets(sheets))}
		}
	}
	found := false
	for _, s := range sheets {
		found = found || s == sheet
	}
	if !found {
		return nil, &FileError{Name: name, Problem: fmt.Sprintf("the workbook has no sheet %q; its sheets: %s", cut(sheet, shownColumnRune), quoteSheets(sheets))}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, &FileError{Name: name, Problem: fmt.Sprintf("sheet %q cannot be read: %v", sheet, err)}
	}
	return &xlsxSource{f: f, rows: rows, sheet: sheet, sheets: sheets}, nil
}

// defaultSheet is the sheet Excel shows on opening the workbook: the
// active one if it is visible, else the first visible one. A hidden sheet
// (an old export, a lookup table) is read only when named.
func defaultSheet(f *excelize.File, sheets []string) (string, bool) {
	visible := func(s string) bool {
		v, err := f.GetSheetVisible(s)
		return err == nil && v
	}
	if i := f.GetActiveSheetIndex(); i >= 0 && i < len(sheets) && visible(sheets[i]) {
		return sheets[i], true
	}
	for _, s := range sheets {
		if visible(s) {
			return s, true
		}
	}
	return "", false
}

func quoteSheets(sheets []string) string {
	q := make([]string, 0, min(len(sheets), shownColumns))
	for _, s := range sheets[:min(len(sheets), shownColumns)] {
		q = append(q, fmt.Sprintf("%q", cut(s, shownColumnRune)))
	}
	return strings.Join(q, ", ")
}

// next returns the next row that has a cell, with its row number, and
// whether Excel hides it (hidden by hand, or filtered out): it is still a
// row of the export, and is read.
func (s *xlsxSource) next(limit int) (rawRecord, error) {
	for s.rows.Next() {
		s.row++
		cells, err := s.rows.Columns()
		if err != nil {
			return rawRecord{}, fmt.Errorf("row %d: %w", s.row, err)
		}
		hidden := s.rows.GetRowOpts().Hidden
		size, blank := 0, true
		for _, c := range cells {
			size += len(c)
			blank = blank && c == ""
		}
		switch {
		case blank:
			continue
		case size > limit:
			return rawRecord{line: s.row, hidden: hidden, invalid: fmt.Sprintf("line %d: the row is longer than %d KiB", s.row, limit>>10)}, nil
		}
		return rawRecord{line: s.row, fields: cells, hidden: hidden}, nil
	}
	if err := s.rows.Error(); err != nil {
		return rawRecord{}, err
	}
	return rawRecord{}, io.EOF
}

func (s *xlsxSource) close() error {
	return errors.Join(s.rows.Close(), s.f.Close())
}
