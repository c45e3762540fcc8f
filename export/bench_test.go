package export

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
// utf-8 (go test -bench Reader ./export).
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

// BenchmarkPrescan reads a 1,000,000-row file with and without the
// pre-scan that checks its bytes first; compare the two (go test -run '^$'
// -bench Prescan -benchtime 3x ./export).
func BenchmarkPrescan(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.csv")
	if err := os.WriteFile(path, []byte(benchRows(1_000_000)), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("prescan-only", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := PrescanFile(f, ReaderOptions{Name: "big.csv"}); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	for _, scan := range []bool{false, true} {
		b.Run(fmt.Sprintf("prescan=%v", scan), func(b *testing.B) {
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if scan {
					if err := PrescanFile(f, ReaderOptions{Name: "big.csv"}); err != nil {
						b.Fatal(err)
					}
				}
				rd, err := NewReader(f, ReaderOptions{Name: "big.csv"})
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := rd.Next(); errors.Is(err, io.EOF) {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
			}
		})
	}
}
