package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// readmeRewrites are the only README lines the test does not run as
// written, each with why. Any other `make` line fails the test, so that a
// new one is seen.
var readmeRewrites = []struct {
	line *regexp.Regexp
	with string
	why  string
}{
	// the test's sandbox is started by the script, on a free port
	{regexp.MustCompile(`^pvenroll sandbox &( *#.*)?$`), `: the script started the sandbox`, "a background server would outlive sh"},
	// the rehearsal's login: the sandbox user's password on standard input
	{regexp.MustCompile(`^pvenroll login --username admin@riverside.example( *#.*)?$`),
		`echo sandbox-password | pvenroll login --username admin@riverside.example --password-stdin`, "no terminal to type the password at"},
	// make test is the suite this test runs in
	{regexp.MustCompile(`^make test( *#.*)?$`), `: make test runs this test`, "recursion"},
	// the demo's recipe, with this test's pvenroll, no rate limit, the
	// broken record's retries a millisecond apart, and its reports in $WORK
	// rather than the repository
	{regexp.MustCompile(`^make demo( *#.*)?$`), `make -s -C "$REPO" -o build demo BIN="$(command -v pvenroll)" DEMO="$PWD/demo-report" RATE=0 DEMO_FLAGS=--backoff=1ms`, "speed, and no writes in the repository"},
}

// readme SECTION FILE: write the ```sh blocks of README.md's "## SECTION"
// (subsections included) into FILE as one sh script that stops at the first
// failing command, with 127.0.0.1:8080 as the test's $SANDBOX_ADDR.
func cmdReadme(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: readme SECTION FILE")
	}
	readme := filepath.Join(ts.Getenv("REPO"), "README.md")
	blocks, err := readmeBlocks(readme, args[0])
	ts.Check(err)
	if len(blocks) == 0 {
		ts.Fatalf("README.md: no ```sh block under ## %s", args[0])
	}
	var script strings.Builder
	script.WriteString("set -ex\n")
	for _, b := range blocks {
		for _, line := range b {
			trimmed := strings.TrimSpace(line)
			for _, rw := range readmeRewrites {
				if rw.line.MatchString(trimmed) {
					line = rw.with
					break
				}
			}
			if strings.HasPrefix(strings.TrimSpace(line), "make ") && !strings.Contains(line, `-C "$REPO"`) {
				ts.Fatalf("README.md: %q: a make target the README test does not know how to run", trimmed)
			}
			script.WriteString(strings.ReplaceAll(line, "127.0.0.1:8080", "$SANDBOX_ADDR") + "\n")
		}
	}
	ts.Logf("README ## %s, as run:\n%s", args[0], script.String())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(script.String()), 0o644))
}

// readmeBlocks returns the lines of each ```sh block under "## section",
// up to the next "## " heading, unindented as a list item's block is.
func readmeBlocks(path, section string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks [][]string
	var in, inBlock bool
	var indent string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line[3:]) == section
			continue
		}
		if !in {
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case !inBlock && trimmed == "```sh":
			inBlock, indent = true, line[:strings.Index(line, "```")]
			blocks = append(blocks, nil)
		case inBlock && trimmed == "```":
			inBlock = false
		case inBlock:
			blocks[len(blocks)-1] = append(blocks[len(blocks)-1], strings.TrimPrefix(line, indent))
		}
	}
	return blocks, sc.Err()
}
