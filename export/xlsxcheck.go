package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds on a workbook's parts. excelize builds a whole row, and holds the
// shared strings, in memory; these keep that bounded for any crafted file
// (a 1 MB workbook can unpack to gigabytes).
const (
	MaxWorkbookUnzipBytes = 1 << 30  // all parts unpacked: a 1,000,000-row sheet is about 270 MiB
	maxWorkbookXMLInMem   = 16 << 20 // a bigger sheet or string table goes to a temporary file
	maxXMLTextRun         = 8 << 20  // XML bytes between two '<': one cell's text, escaped
	maxXLSXRowBytes       = 16 << 20 // a row's XML plus the shared strings it uses
)

var errXMLTextRun = fmt.Errorf("a text of more than %d MiB (no real export holds a cell that big)", maxXMLTextRun>>20)

// checkWorkbook reads the workbook's parts once before excelize does and
// refuses what excelize would read silently wrong or without bound: parts
// that unpack past MaxWorkbookUnzipBytes, XML that is not well formed (an
// undefined entity makes excelize drop a row's text), a shared-string
// index out of range (excelize reads it as an empty cell), a huge cell.
func checkWorkbook(zr *zip.Reader, name string) error {
	var total uint64
	var sst, sheets []*zip.File
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > MaxWorkbookUnzipBytes {
			return &FileError{Name: name, Problem: fmt.Sprintf("the workbook unpacks to more than %d MiB, more than any real export (is this the right file?); %s", MaxWorkbookUnzipBytes>>20, saveAsCSV)}
		}
		switch part := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/")); {
		case part == "xl/sharedstrings.xml":
			sst = append(sst, f)
		case strings.HasPrefix(part, "xl/worksheets/sheet"):
			sheets = append(sheets, f)
		}
	}
	var strs []int32 // the length of each shared string
	for _, f := range sst {
		var err error
		if strs, err = sharedStringSizes(f); err != nil {
			return &FileError{Name: name, Problem: fmt.Sprintf("the workbook's shared strings (%s) cannot be read: %v; %s", f.Name, err, saveAsCSV)}
		}
	}
	for _, f := range sheets {
		if err := checkSheet(f, strs); err != nil {
			return &FileError{Name: name, Problem: fmt.Sprintf("the worksheet %s cannot be read: %v; %s", f.Name, err, saveAsCSV)}
		}
	}
	return nil
}

// sharedStringSizes returns the length of each <si> of the string table.
func sharedStringSizes(f *zip.File) ([]int32, error) {
	d, done, err := openXML(f)
	if err != nil {
		return nil, err
	}
	defer done()
	var sizes []int32
	depth := 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return sizes, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "si" {
				sizes = append(sizes, 0)
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth >= 2 && len(sizes) > 0 {
				sizes[len(sizes)-1] += int32(len(t))
			}
		}
	}
}

// checkSheet reads a worksheet's XML: well formed, every shared-string
// index in range, no row bigger than maxXLSXRowBytes.
func checkSheet(f *zip.File, strs []int32) error {
	d, done, err := openXML(f)
	if err != nil {
		return err
	}
	defer done()
	var rowStart, rowStrs int64
	row, inShared, inV := 0, false, false
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("at row %d or after: %w", row, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				row, rowStart, rowStrs = row+1, d.InputOffset(), 0
				if n, err := strconv.Atoi(attr(t, "r")); err == nil {
					row = n
				}
			case "c":
				inShared = attr(t, "t") == "s"
			case "v":
				inV = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "row":
				if size := d.InputOffset() - rowStart + rowStrs; size > maxXLSXRowBytes {
					return fmt.Errorf("row %d is %d MiB, more than %d MiB", row, size>>20, maxXLSXRowBytes>>20)
				}
			case "v":
				inV = false
			}
		case xml.CharData:
			if inShared && inV {
				i, err := strconv.ParseInt(string(bytes.TrimSpace(t)), 10, 64)
				if err != nil || i < 0 || i >= int64(len(strs)) {
					return fmt.Errorf("row %d: a cell points at shared string %q, the workbook has %d", row, cut(string(t), 20), len(strs))
				}
				rowStrs += int64(strs[i])
			}
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// openXML opens a part for reading XML, with no text run longer than
// maxXMLTextRun: the decoder buffers a whole text.
func openXML(f *zip.File) (*xml.Decoder, func(), error) {
	rc, err := f.Open()
	if err != nil {
		return nil, nil, err
	}
	return xml.NewDecoder(&textRunLimit{r: rc}), func() { _ = rc.Close() }, nil
}

// textRunLimit fails a read once more than maxXMLTextRun bytes pass
// without a '<'.
type textRunLimit struct {
	r   io.Reader
	run int
}

func (l *textRunLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			i = len(b)
		}
		if l.run += i; l.run > maxXMLTextRun {
			return 0, errXMLTextRun
		}
		if i == len(b) {
			return n, err
		}
		l.run, b = 0, b[i+1:]
	}
}
