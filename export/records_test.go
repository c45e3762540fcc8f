package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// One stray quote on row 2 of 1,000 costs row 2 only.
func TestUnclosedQuoteResyncs(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,notes\n")
	b.WriteString("a2@x.co,\"never closed\n")
	for i := 3; i <= 1000; i++ {
		fmt.Fprintf(&b, "a%d@x.co,note %d\n", i, i)
	}
	recs, _, err := readAll(t, b.String(), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 999 {
		t.Fatalf("%d records, want 999 (one per data line)", len(recs))
	}
	if want := "unclosed quote starting at line 2, column 9"; !strings.Contains(recs[0].Invalid, want) || recs[0].Line != 2 {
		t.Fatalf("row 2: line %d %q, want %q", recs[0].Line, recs[0].Invalid, want)
	}
	for i, r := range recs[1:] {
		if r.Line != i+3 || r.Invalid != "" || r.Email != fmt.Sprintf("a%d@x.co", i+3) {
			t.Fatalf("record %d: line %d email %q invalid %q", i+1, r.Line, r.Email, r.Invalid)
		}
	}
}

// A quoted field may span up to MaxQuotedLines lines; one line more and it
// is a runaway quote, after which every line is read on its own.
func TestQuotedLinesLimit(t *testing.T) {
	within := "email,notes\na@x.co,\"" + strings.Repeat("x\n", MaxQuotedLines-1) + "end\"\nb@x.co,y\n"
	recs, _, err := readAll(t, within, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Invalid != "" || recs[1].Line != 2+MaxQuotedLines {
		t.Fatalf("within the limit: %d records, first %q, second at line %d", len(recs), recs[0].Invalid, recs[1].Line)
	}
	beyond := "email,notes\na@x.co,\"" + strings.Repeat("b@x.co,x\n", MaxQuotedLines) + "end\"\n"
	recs, _, err = readAll(t, beyond, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// line 2 invalid, the MaxQuotedLines-1 lines after it read alone, and
	// `end"` is a ragged row of its own.
	if len(recs) != MaxQuotedLines+1 || !strings.Contains(recs[0].Invalid, "unclosed quote starting at line 2, column 8") {
		t.Fatalf("beyond the limit: %d records, first %q", len(recs), recs[0].Invalid)
	}
	for i, r := range recs {
		if r.Line != i+2 {
			t.Fatalf("record %d at line %d, want %d", i, r.Line, i+2)
		}
	}
	if recs[1].Email != "b@x.co" || recs[1].Invalid != "" {
		t.Fatalf("the line after the quote: %+v", recs[1])
	}
}

// A quoted field open over more than MaxQuotedBytes is a runaway, even on
// few lines.
func TestQuotedBytesLimit(t *testing.T) {
	data := "email,notes\na@x.co,\"" + strings.Repeat("y", MaxQuotedBytes) + "\nb@x.co,z\n"
	recs, _, err := readAll(t, data, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || !strings.Contains(recs[0].Invalid, "unclosed quote") || recs[1].Email != "b@x.co" || recs[1].Line != 3 {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
}

func TestQuotesAsExportsWriteThem(t *testing.T) {
	data := "email,height,notes,first name\r\n" +
		"a@x.co,5'10\",\"two\r\nlines\",Ann\r\n" + // bare quote; CRLF inside quotes
		"b@x.co,37.8\"N,\"say \"\"hi\"\"\",\"Bo\"b\r\n" + // doubled quotes; text after a closing quote
		"c@x.co,,x,\r\n"
	recs, _, err := readAll(t, data, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	want := [][]string{{"a@x.co", "5'10\"", "two\r\nlines", "Ann"}, {"b@x.co", "37.8\"N", `say "hi"`, "Bob"}, {"c@x.co", "", "x", ""}}
	for i, r := range recs {
		if r.Invalid != "" || fmt.Sprintf("%q", r.Raw) != fmt.Sprintf("%q", want[i]) {
			t.Errorf("record %d: invalid %q raw %q, want %q", i, r.Invalid, r.Raw, want[i])
		}
	}
	if recs[1].FirstName != "Bob" || recs[2].Line != 5 {
		t.Errorf("first name %q, third record at line %d", recs[1].FirstName, recs[2].Line)
	}
}

func TestRecordAndEmailLimits(t *testing.T) {
	long := "a@x.co," + strings.Repeat("n", MaxRecordBytes) + "\n"
	longEmail := strings.Repeat("a", 250) + "@x.co,n\n"
	recs, _, err := readAll(t, "email,notes\n"+long+longEmail+"b@x.co,ok\n", ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	if !strings.Contains(recs[0].Invalid, "line 2: the record is longer than 1024 KiB") {
		t.Errorf("long record: %q", recs[0].Invalid)
	}
	if !strings.Contains(recs[1].Invalid, "the email is 255 characters long") {
		t.Errorf("long email: %q", recs[1].Invalid)
	}
	if recs[2].Invalid != "" || recs[2].Line != 4 {
		t.Errorf("the row after: %+v", recs[2])
	}
}

func TestHeaderLimits(t *testing.T) {
	wide := strings.Repeat("column with a long name,", MaxColumns) + "email\na@x.co\n"
	long := "email," + strings.Repeat("h", MaxHeaderBytes) + "\na@x.co,1\n"
	for name, data := range map[string]string{"too many columns": wide, "too long": long} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(t, data, ReaderOptions{})
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want a HeaderError", err)
			}
			if msg := err.Error(); len(msg) > 2000 || !strings.Contains(msg, "members.csv: line 1") {
				t.Fatalf("message of %d bytes: %.300s", len(msg), msg)
			}
		})
	}
}

// lazyBytes produces n bytes of c without holding them.
type lazyBytes struct {
	n     int64
	c     byte
	read  int64
	block []byte
}

func (l *lazyBytes) Read(p []byte) (int, error) {
	if l.read >= l.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), l.n-l.read))
	if len(l.block) == 0 {
		l.block = bytes.Repeat([]byte{l.c}, 32<<10)
	}
	for i := 0; i < k; i += len(l.block) {
		copy(p[i:k], l.block)
	}
	l.read += int64(k)
	return k, nil
}

// A file without a newline is refused after its first 64 KiB, not read
// whole.
func TestHugeLineRefusedEarly(t *testing.T) {
	in := &lazyBytes{n: 1 << 30, c: 'x'}
	_, err := NewReader(in, ReaderOptions{Name: "huge.csv"})
	var he *HeaderError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "longer than 64 KiB") {
		t.Fatalf("got %v", err)
	}
	if in.read > 1<<20 {
		t.Fatalf("read %d bytes to refuse the header", in.read)
	}
}

// A 32 MiB data line is skipped, not held: the reader allocates a bounded
// amount whatever the line's length.
func TestHugeRecordMemoryBounded(t *testing.T) {
	in := io.MultiReader(strings.NewReader("email,notes\na@x.co,"), &lazyBytes{n: 32 << 20, c: 'n'}, strings.NewReader("\nb@x.co,ok\n"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rd, err := NewReader(in, ReaderOptions{Name: "big.csv"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := rd.Next()
	if err != nil || !strings.Contains(first.Invalid, "longer than") {
		t.Fatalf("first: %+v %v", first, err)
	}
	second, err := rd.Next()
	if err != nil || second.Email != "b@x.co" || second.Line != 3 {
		t.Fatalf("second: %+v %v", second, err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("allocated %d MiB to read past a 32 MiB line", alloc>>20)
	}
}

// On a pipe, the first row comes out before the writer sends more.
func TestStreamHandsOutRowsAsTheyArrive(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		_, _ = io.WriteString(pw, "email;name\na@x.co;A\n")
	}()
	type result struct {
		rd  *Reader
		rec *Record
		err error
	}
	got := make(chan result, 1)
	go func() {
		rd, err := NewReader(pr, ReaderOptions{Name: "standard input"})
		if err != nil {
			got <- result{err: err}
			return
		}
		rec, err := rd.Next()
		got <- result{rd, rec, err}
	}()
	var r result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no row within 10 s while the writer waits")
	}
	if r.err != nil || r.rec.Email != "a@x.co" || r.rd.Comma != ';' {
		t.Fatalf("%+v", r)
	}
	go func() {
		_, _ = io.WriteString(pw, "b@x.co;B\n")
		pw.Close()
	}()
	rec, err := r.rd.Next()
	if err != nil || rec.Email != "b@x.co" || rec.Line != 3 {
		t.Fatalf("%+v %v", rec, err)
	}
	if _, err := r.rd.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}
