package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings the reader decodes, by the names messages and reports use.
const (
	EncodingAuto        = "auto"
	EncodingUTF8        = "utf-8"
	EncodingUTF16       = "utf-16" // as asked for; read as utf-16le or utf-16be
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252"
	EncodingLatin1      = "latin1"
	EncodingXLSX        = "xlsx" // not a text encoding: the input is a workbook
)

// ParseEncoding checks an encoding name as a person writes it.
func ParseEncoding(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return EncodingAuto, nil
	case "utf-8", "utf8":
		return EncodingUTF8, nil
	case "utf-16", "utf16", "unicode":
		return EncodingUTF16, nil
	case "windows-1252", "cp1252", "win1252", "ansi":
		return EncodingWindows1252, nil
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		return EncodingLatin1, nil
	}
	return "", fmt.Errorf("unknown encoding %q: auto, utf-8, utf-16, windows-1252 or latin1", s)
}

// FileError refuses a whole input: it is not a text export the reader can
// use, or holds bytes that are not valid in its encoding.
type FileError struct {
	Name    string
	Line    int   // 0: not about one place in the file
	Offset  int64 // byte offset from the start of the file, with Line
	Problem string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d, byte offset %d: %s", e.Name, e.Line, e.Offset, e.Problem)
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Problem)
}

// Bytes that refuse an 8-bit file: NUL (no text export holds one), and
// for Windows-1252 the five bytes it leaves undefined.
var (
	cp1252Bad = [256]bool{0x00: true, 0x81: true, 0x8D: true, 0x8F: true, 0x90: true, 0x9D: true}
	latin1Bad = [256]bool{0x00: true}
)

// decoder turns the input's bytes into UTF-8 as they arrive, never reading
// ahead of what the reader asks for. In auto mode the encoding stays open
// while the text is ASCII (every candidate reads it the same); the first
// other byte decides: a valid UTF-8 sequence means UTF-8, anything else
// Windows-1252. A byte invalid in the encoding decided is an error naming
// its line and offset, never a U+FFFD.
type decoder struct {
	src     io.Reader
	enc     string // "" while auto and only ASCII was seen
	started bool   // the byte-order mark was looked for
	buf     []byte // raw bytes of the current read
	hold    []byte // the start of a character split by the last read
	conv    []byte // decoded bytes of an 8-bit or UTF-16 chunk
	out     []byte // decoded bytes not yet handed out
	tr      transform.Transformer
	off     int64 // raw offset of buf[0] in the input
	line    int   // 1 + the line ends handed out so far
	ends    int   // lineEndsLF, lineEndsCR or undecided, as crLines reads them
	cr      bool  // the text handed out so far ends with '\r'
	err     error
}

func newDecoder(src io.Reader, enc string) *decoder {
	d := &decoder{src: src, buf: make([]byte, 32<<10), line: 1}
	if enc != EncodingAuto {
		d.setEncoding(enc)
	}
	return d
}

// Encoding is the encoding decided so far: utf-8 while the text is ASCII.
func (d *decoder) Encoding() string {
	if d.enc == "" {
		return EncodingUTF8
	}
	return d.enc
}

func (d *decoder) setEncoding(enc string) {
	d.enc = enc
	switch enc {
	case EncodingWindows1252:
		d.tr = charmap.Windows1252.NewDecoder()
	case EncodingLatin1:
		d.tr = charmap.ISO8859_1.NewDecoder()
	case EncodingUTF16LE:
		d.tr = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case EncodingUTF16BE:
		d.tr = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	}
}

func (d *decoder) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// fill reads once from the source and decodes what it can. It runs only
// when every decoded byte was handed out, so buf may be reused.
func (d *decoder) fill() {
	held := copy(d.buf, d.hold)
	n, err := d.src.Read(d.buf[held:])
	chunk := d.buf[:held+n]
	atEOF := err != nil
	if err != nil && !errors.Is(err, io.EOF) {
		d.err = err
	}
	if !d.started {
		if len(chunk) < 3 && !atEOF {
			d.hold = append(d.hold[:0], chunk...)
			return
		}
		d.started = true
		chunk = d.skipBOM(chunk)
	}
	used := d.decode(chunk, atEOF)
	if d.err == nil && atEOF && used < len(chunk) {
		d.fail(used, chunk, fmt.Sprintf("the file ends inside a %s character", d.Encoding()))
	}
	d.line += d.lineEnds(d.out, true)
	if d.err == nil && atEOF {
		d.err = io.EOF
	}
	d.off += int64(used) // d.off is now the offset of the held bytes
	d.hold = append(d.hold[:0], chunk[used:]...)
}

// skipBOM drops a byte-order mark and lets it decide the encoding.
func (d *decoder) skipBOM(chunk []byte) []byte {
	bom := func(enc string, n int) []byte {
		if d.enc == "" || d.enc == EncodingUTF16 || d.enc == enc || (d.enc == EncodingUTF8 && enc == EncodingUTF8) {
			d.setEncoding(enc)
			d.off += int64(n)
			return chunk[n:]
		}
		return chunk
	}
	switch {
	case bytes.HasPrefix(chunk, []byte{0xEF, 0xBB, 0xBF}):
		return bom(EncodingUTF8, 3)
	case bytes.HasPrefix(chunk, []byte{0xFF, 0xFE}):
		return bom(EncodingUTF16LE, 2)
	case bytes.HasPrefix(chunk, []byte{0xFE, 0xFF}):
		return bom(EncodingUTF16BE, 2)
	}
	if d.enc == EncodingUTF16 {
		d.setEncoding(EncodingUTF16LE) // Windows writes little-endian
	}
	return chunk
}

// decode hands out the decodable start of chunk and returns its length;
// the rest is an incomplete character to carry, or an error.
func (d *decoder) decode(chunk []byte, atEOF bool) int {
	if d.enc == "" {
		i := 0
		for i < len(chunk) && chunk[i] < utf8.RuneSelf && chunk[i] != 0 {
			i++
		}
		if i == len(chunk) {
			d.out = chunk
			return i
		}
		if chunk[i] == 0 {
			d.out = chunk[:i]
			d.fail(i, chunk, nulProblem)
			return i
		}
		if !utf8.FullRune(chunk[i:]) && !atEOF {
			d.out = chunk[:i]
			return i
		}
		if r, size := utf8.DecodeRune(chunk[i:]); r != utf8.RuneError || size > 1 {
			d.setEncoding(EncodingUTF8)
		} else {
			d.setEncoding(EncodingWindows1252)
		}
	}
	switch d.enc {
	case EncodingUTF8:
		return d.decodeUTF8(chunk, atEOF)
	case EncodingUTF16LE, EncodingUTF16BE:
		return d.decodeUTF16(chunk)
	}
	return d.decode8bit(chunk)
}

const nulProblem = "byte 0x00 (NUL): this is not a text export; save it as CSV UTF-8"

func (d *decoder) decodeUTF8(chunk []byte, atEOF bool) int {
	if utf8.Valid(chunk) && bytes.IndexByte(chunk, 0) < 0 {
		d.out = chunk
		return len(chunk)
	}
	i := 0
	for i < len(chunk) {
		c := chunk[i]
		if c == 0 {
			d.out = chunk[:i]
			d.fail(i, chunk, nulProblem)
			return i
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(chunk[i:])
		if r == utf8.RuneError && size <= 1 {
			if !utf8.FullRune(chunk[i:]) && !atEOF {
				break
			}
			d.out = chunk[:i]
			d.fail(i, chunk, fmt.Sprintf("byte 0x%02X is not valid UTF-8 (the file may be Windows-1252 or another encoding; save it as CSV UTF-8)", c))
			return i
		}
		i += size
	}
	d.out = chunk[:i]
	return i
}

func (d *decoder) decode8bit(chunk []byte) int {
	bad := &latin1Bad
	if d.enc == EncodingWindows1252 {
		bad = &cp1252Bad
	}
	for i, c := range chunk {
		if bad[c] {
			d.out = d.transform(chunk[:i])
			if c == 0 {
				d.fail(i, chunk, nulProblem)
			} else {
				d.fail(i, chunk, fmt.Sprintf("byte 0x%02X is not a Windows-1252 character (the file may be in another encoding; save it as CSV UTF-8)", c))
			}
			return i
		}
	}
	d.out = d.transform(chunk)
	return len(chunk)
}

// decodeUTF16 checks the code units (an unpaired surrogate or a NUL
// refuses the file) before x/text decodes them, which would otherwise
// turn bad units into U+FFFD.
func (d *decoder) decodeUTF16(chunk []byte) int {
	unit := func(i int) uint16 {
		if d.enc == EncodingUTF16LE {
			return uint16(chunk[i]) | uint16(chunk[i+1])<<8
		}
		return uint16(chunk[i])<<8 | uint16(chunk[i+1])
	}
	i := 0
	for ; i+1 < len(chunk); i += 2 {
		u := unit(i)
		bad := ""
		switch {
		case u == 0:
			bad = nulProblem
		case u >= 0xDC00 && u < 0xE000:
			bad = fmt.Sprintf("a lone UTF-16 low surrogate 0x%04X", u)
		case u >= 0xD800 && u < 0xDC00:
			if i+3 >= len(chunk) {
				d.out = d.transform(chunk[:i])
				return i // the pair may finish in the next read
			}
			if v := unit(i + 2); v < 0xDC00 || v >= 0xE000 {
				bad = fmt.Sprintf("a lone UTF-16 high surrogate 0x%04X", u)
			} else {
				i += 2
			}
		}
		if bad != "" {
			d.out = d.transform(chunk[:i])
			d.fail(i, chunk, bad)
			return i
		}
	}
	d.out = d.transform(chunk[:i])
	return i
}

// transform decodes a chunk that holds only whole, valid characters.
func (d *decoder) transform(src []byte) []byte {
	if need := 3 * len(src); cap(d.conv) < need {
		d.conv = make([]byte, need)
	}
	d.tr.Reset()
	n, _, err := d.tr.Transform(d.conv[:cap(d.conv)], src, true)
	if err != nil { // cannot happen: room for 3 bytes a source byte
		d.err = err
	}
	return d.conv[:n]
}

// fail records an invalid byte at chunk[i], after the decoded text before it.
func (d *decoder) fail(i int, chunk []byte, problem string) {
	if d.err != nil && !errors.Is(d.err, io.EOF) {
		return
	}
	line := d.line + d.lineEnds(d.out, false)
	d.err = &FileError{Line: line, Offset: d.off + int64(i), Problem: problem}
}

// lineEnds counts the line ends in b, decoded text after what was counted
// so far: each "\n", and each lone "\r" in a file whose first line end is
// one (as crLines reads it). With commit, the count moves past b.
func (d *decoder) lineEnds(b []byte, commit bool) int {
	if d.ends == lineEndsLF && !d.cr {
		return bytes.Count(b, []byte{'\n'})
	}
	mode, cr, n := d.ends, d.cr, 0
	for _, c := range b {
		switch {
		case c == '\n':
			if mode == lineEndsUndecided {
				mode = lineEndsLF
			}
			n++
		case cr: // the '\r' before c was alone
			if mode == lineEndsUndecided {
				mode = lineEndsCR
			}
			if mode == lineEndsCR {
				n++
			}
		}
		cr = c == '\r'
	}
	if commit {
		d.ends, d.cr = mode, cr
	}
	return n
}
