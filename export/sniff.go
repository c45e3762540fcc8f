package export

import (
	"archive/zip"
	"bytes"
	"strings"
)

// saveAsCSV is how to turn a workbook or document into a file pvenroll reads.
const saveAsCSV = `open it in Excel (or Numbers, LibreOffice) and save it with "Save As" → "CSV UTF-8 (Comma delimited) (*.csv)"`

// sniffLen is how many bytes sniff looks at (fewer if the first line is
// shorter): magic numbers are at most 16 bytes long.
const sniffLen = 16

// sniff names what a file is from its first bytes, when it is not text an
// export can be. "zip" means: look inside (a workbook, or not).
func sniff(head []byte) (kind, problem string) {
	has := func(p string) bool { return bytes.HasPrefix(head, []byte(p)) }
	switch {
	case has("PK\x03\x04"):
		return "zip", ""
	case has("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"):
		return "binary", "this is an Excel 97-2003 workbook (.xls) or another old Office file, not CSV: " + saveAsCSV
	case has("%PDF-"):
		return "binary", "this is a PDF document, not CSV: export the data from the membership system as CSV instead"
	case has("\x1F\x8B"):
		return "binary", "this is a gzip-compressed file: decompress it first"
	case has("\x89PNG"), has("\xFF\xD8\xFF"), has("GIF8"):
		return "binary", "this is an image, not CSV"
	case has("SQLite format 3\x00"):
		return "binary", "this is an SQLite database, not CSV"
	case has("bplist"):
		return "binary", "this is an Apple binary property list, not CSV"
	case has("{\\rtf"):
		return "binary", "this is a Rich Text document, not CSV: " + saveAsCSV
	}
	lower := strings.ToLower(string(bytes.TrimLeft(head, "\xEF\xBB\xBF \t\r\n")))
	for _, p := range []string{"<!doctype html", "<html", "<table", "<?xml"} {
		if strings.HasPrefix(lower, p) {
			return "binary", "this is an HTML or XML file (some systems name such a file .xls), not CSV: " + saveAsCSV
		}
	}
	if utf16NoBOM(head) {
		return "binary", "this looks like UTF-16 text without a byte-order mark: " + saveAsCSV
	}
	return "text", ""
}

// utf16NoBOM spots "e\0m\0a\0" (or "\0e\0m"): UTF-16 without its mark.
func utf16NoBOM(head []byte) bool {
	if len(head) < 4 || bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return false
	}
	return (head[1] == 0 && head[3] == 0 && head[0] != 0) || (head[0] == 0 && head[2] == 0 && head[1] != 0)
}

// zipKind names what a ZIP archive holds: an .xlsx workbook, or why not.
func zipKind(zr *zip.Reader) (xlsx bool, problem string) {
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		if strings.HasPrefix(f.Name, "Index/") && strings.HasSuffix(f.Name, ".iwa") {
			return false, "this is an Apple Numbers document (.numbers), not CSV: in Numbers choose File → Export To → CSV…, with Text Encoding Unicode (UTF-8)"
		}
	}
	switch {
	case names["xl/workbook.xml"]:
		return true, ""
	case names["xl/workbook.bin"]:
		return false, "this is an Excel binary workbook (.xlsb), not CSV: " + saveAsCSV
	case names["word/document.xml"]:
		return false, "this is a Word document (.docx), not CSV: export the data from the membership system as CSV instead"
	case names["mimetype"] && names["content.xml"]:
		return false, "this is an OpenDocument file (.ods), not CSV: " + saveAsCSV
	}
	return false, "this is a ZIP archive, not CSV: unpack it and give the CSV file inside"
}
