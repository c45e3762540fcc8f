package export

import (
	"bytes"
	"io"
)

// Line ends of a text input, as the first one decides.
const (
	lineEndsUndecided = iota
	lineEndsLF        // "\n" or "\r\n": read as written
	lineEndsCR        // old Mac OS: a lone "\r" ends a line
)

// crLines hands out decoded text with a lone CR turned into LF when the
// text's first line end is a lone CR (a file saved by Excel for old Mac
// OS): without it, the whole file would be one over-long header line.
// Once a line end is "\n" or "\r\n" the text passes unchanged.
type crLines struct {
	src  io.Reader
	mode int
	cr   bool // a '\r' ended the last read; what follows decides it
	buf  []byte
	out  []byte
	err  error
}

func newCRLines(src io.Reader) *crLines {
	return &crLines{src: src, buf: make([]byte, 32<<10)}
}

func (c *crLines) Read(p []byte) (int, error) {
	if c.mode == lineEndsLF && !c.cr && len(c.out) == 0 {
		return c.src.Read(p)
	}
	for len(c.out) == 0 {
		if c.err != nil {
			if c.cr { // a '\r' last in the input ends its line
				if c.mode == lineEndsUndecided {
					c.mode = lineEndsCR
				}
				c.cr, c.out = false, append(c.out[:0], c.lineEnd())
				break
			}
			return 0, c.err
		}
		n, err := c.src.Read(c.buf)
		c.err = err
		c.convert(c.buf[:n])
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// lineEnd is what a lone '\r' becomes.
func (c *crLines) lineEnd() byte {
	if c.mode == lineEndsCR {
		return '\n'
	}
	return '\r'
}

// convert appends b to out, with lone CRs turned into LFs in CR mode; a
// '\r' last in b waits for the next byte.
func (c *crLines) convert(b []byte) {
	c.out = c.out[:0]
	for len(b) > 0 {
		if c.cr {
			c.cr = false
			if b[0] == '\n' {
				if c.mode == lineEndsUndecided {
					c.mode = lineEndsLF
				}
				c.out = append(c.out, '\r')
				continue
			}
			if c.mode == lineEndsUndecided {
				c.mode = lineEndsCR
			}
			c.out = append(c.out, c.lineEnd())
			continue
		}
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			c.out = append(c.out, b...)
			return
		}
		c.out = append(c.out, b[:i]...)
		if b[i] == '\n' {
			if c.mode == lineEndsUndecided {
				c.mode = lineEndsLF
			}
			c.out = append(c.out, '\n')
		} else {
			c.cr = true
		}
		b = b[i+1:]
	}
}
