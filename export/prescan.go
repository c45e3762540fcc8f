package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// PrescanFile reads a regular file's bytes once, with the decoder the
// Reader will use, and seeks back to where it started: a byte invalid in
// the encoding (or a NUL) anywhere refuses the file (a *FileError naming
// the line and byte offset) before any row is acted on, rather than after
// the rows before it. Standard input, a pipe or a workbook passes
// unchecked (NewReader reads those). It holds 32 KiB whatever the size.
func PrescanFile(f *os.File, o ReaderOptions) error {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	return prescan(f, o)
}

func prescan(f io.ReadSeeker, o ReaderOptions) error {
	enc, err := ParseEncoding(o.Encoding)
	if err != nil {
		return nil // NewReader says so
	}
	start, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil // not seekable after all: read as a stream
	}
	br := bufio.NewReaderSize(f, 512)
	head := peekHead(br)
	kind, _ := sniff(head)
	text := kind == "text" || (kind == "binary" && enc == EncodingUTF16 && utf16NoBOM(head))
	var scanErr error
	if text {
		_, scanErr = io.Copy(io.Discard, newDecoder(br, enc))
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", o.Name, err)
	}
	var fe *FileError
	switch {
	case errors.As(scanErr, &fe):
		fe.Name = o.Name
		return fe
	case scanErr != nil:
		return fmt.Errorf("%s: %w", o.Name, scanErr)
	}
	return nil
}
