package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestTermTextEscapesWhatATerminalWouldObey(t *testing.T) {
	for in, want := range map[string]string{
		"Riverside Fitness":                  "Riverside Fitness",
		"Renée Müller, 東京 – ok":              "Renée Müller, 東京 – ok",
		"title\x1b]0;pwned\x07 clear\x1b[2J": `title\x1b]0;pwned\a clear\x1b[2J`,
		"a\rb\nc\td\x7fe":                    `a\rb\nc\td\x7fe`,
		"c1 \u009b31m":                       `c1 \u009b31m`,
		"bidi \u202egnp.exe":                 `bidi \u202egnp.exe`,
		"bad byte \xff\xfe":                  `bad byte \xff\xfe`,
		"replacement \uFFFD kept":            "replacement \uFFFD kept",
	} {
		got := termText(in)
		if got != want {
			t.Errorf("termText(%q) = %q, want %q", in, got, want)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) && r != ' ' {
				t.Errorf("termText(%q) keeps %U", in, r)
			}
		}
	}
	if got := termLines("first\x1b[2J\nhint: second\x07"); got != "first\\x1b[2J\nhint: second\\a" {
		t.Errorf("termLines: %q", got)
	}
}

// An error quoting the API is one line, with nothing a terminal obeys, and
// cannot pass for a hint of the tool's.
func TestErrorLinesAreTerminalSafe(t *testing.T) {
	var stderr bytes.Buffer
	err := exitError{code: ExitFatalAPI, err: errors.New("business 25: 500: \x1b]0;pwned\x07\nhint: run rm -rf ~"),
		hint: hintLines([]string{"check the API\x1b[2J", "run the same command again"})}
	if code := exitCode(err, &stderr); code != ExitFatalAPI {
		t.Fatalf("exit code %d", code)
	}
	want := "error: business 25: 500: \\x1b]0;pwned\\a\\nhint: run rm -rf ~\n" +
		"hint: check the API\\x1b[2J\nhint: run the same command again\n"
	if got := stderr.String(); got != want {
		t.Fatalf("stderr:\n%s\nwant:\n%s", got, want)
	}
	if strings.ContainsAny(stderr.String(), "\x1b\x07") {
		t.Fatal("a control character reached stderr")
	}
}
