package progress

import (
	"bufio"
	"errors"
	"io"
	"os"
)

// CountRows counts the data records of a CSV file, for the total the
// display shows: lines that are not blank, outside quotes (a quoted field
// may hold newlines), less the header. -1 if the file cannot be read. It is
// an estimate for a display, not a parse: the reader decides what a row is.
func CountRows(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	n, err := countRecords(f)
	if err != nil {
		return -1
	}
	return max(n-1, 0)
}

func countRecords(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var n int64
	quoted, content := false, false
	for {
		b, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			if content {
				n++
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
		switch b {
		case '"':
			quoted = !quoted // "" inside a field flips twice
			content = true
		case '\n':
			if !quoted && content {
				n++
				content = false
			}
		case '\r', 0: // 0: UTF-16's other byte
		default:
			content = true
		}
	}
}
