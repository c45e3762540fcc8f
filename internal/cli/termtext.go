package cli

// Text from the API (an error message, a business name) or the export (a
// cell) is printed to a terminal only through termText: an escape sequence
// in it could set the window's title, clear the screen or rewrite earlier
// lines, and a bidirectional override could make a line read as another.

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// termText escapes, as %q does, what in s a terminal would act on rather
// than show: control characters (C0, DEL, C1), other characters that are
// not printable (bidirectional overrides, zero-width formats) and bytes
// that are not UTF-8. Printable text, accented letters included, is left
// as it is, so a normal message reads the same.
func termText(s string) string {
	if printable(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case strconv.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// termLines is termText for text of several lines that the tool itself
// joined (hints): each line is made safe, the line breaks kept.
func termLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = termText(l)
	}
	return strings.Join(lines, "\n")
}

func printable(s string) bool {
	for _, r := range s {
		if !strconv.IsPrint(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
