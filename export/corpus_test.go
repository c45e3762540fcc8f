package export

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus/*.golden from what the reader does")

// TestCorpus reads each file of testdata/corpus, small files as real
// exports and Excel write them (and files that are no export), and
// compares every result with its .golden file: the header, the encoding,
// one line per record with its cells, or the refusal. Huge inputs and
// workbooks are made at test time (records_test.go, xlsx_test.go).
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := corpusResult(t, path)
			golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCorpus -update, then check the file by eye)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n--- got\n%s--- want\n%s", path, golden, got, want)
			}
		})
	}
	if n < 20 {
		t.Fatalf("%d corpus files: the corpus is missing", n)
	}
}

func corpusResult(t *testing.T, path string) string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, rd, err := readAllFrom(t, f, ReaderOptions{Name: filepath.Base(path)})
	var b strings.Builder
	if rd != nil {
		fmt.Fprintf(&b, "header: %q\nencoding: %s, delimiter %q\n", rd.Header, rd.Encoding(), rd.Comma)
	}
	for _, r := range recs {
		if r.Invalid != "" {
			fmt.Fprintf(&b, "line %d: invalid: %s\n", r.Line, r.Invalid)
			continue
		}
		fmt.Fprintf(&b, "line %d: %q\n", r.Line, r.Raw)
	}
	if err != nil {
		fmt.Fprintf(&b, "refused: %v\n", err)
	}
	return b.String()
}
