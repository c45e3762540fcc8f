package export

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchRows is n rows with accented names, in UTF-8.
func benchRows(n int) string {
	var b strings.Builder
	b.WriteString("Email,Member ID,First Name,Last Name\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "m%d@example.com,A-%d,Renée,Müller-Lüdenscheidt\r\n", i, i)
	}
	return b.String()
}

// BenchmarkReader reads the same rows in each encoding; compare each with
// utf-8 (go test -bench Reader ./internal/export).
func BenchmarkReader(b *testing.B) {
	text := benchRows(20000)
	for _, enc := range []string{EncodingUTF8, EncodingWindows1252, EncodingUTF16LE} {
		data := encodeWith(b, text, enc)
		b.Run(enc, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				rd, err := NewReader(strings.NewReader(data), ReaderOptions{Name: "bench.csv"})
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := rd.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
