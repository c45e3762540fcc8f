package report

import (
	"strings"
	"testing"
	"unicode"

	"github.com/pvenroll/pvenroll/enroll"
)

// hostileCells are export and API values that are live Markdown: an image
// loaded from another server, a link, raw HTML, bare autolinks, emphasis,
// a cell break and a line break.
var hostileCells = []string{
	"![t](https://evil.example/pixel.png)",
	"[Reset your password](https://evil.example/reset)",
	"[x][ref]",
	"<img src=https://evil.example/p.png>",
	"<https://evil.example/auto>",
	"https://evil.example/bare",
	"www.evil.example",
	"mallory@evil.example",
	"**bold** _em_ ~~gone~~ `code` $x$ &lt;b&gt;",
	"a | b\nc",
}

func TestSummaryMarkdownEscapesEveryCell(t *testing.T) {
	rs := mix(len(hostileCells), enroll.NeedsAgreement, enroll.Failed, enroll.Conflict, enroll.Invalid)
	for i, v := range hostileCells {
		rs[i].FirstName, rs[i].LastName, rs[i].Email, rs[i].ExternalMemberID = v, "", v, v
		rs[i].Code, rs[i].Detail = v, v
	}
	meta := fixedMeta()
	meta.Business.Name = hostileCells[0]
	meta.Stop = "fatal: " + hostileCells[1]
	md := string(readFile(t, writeReportMeta(t, rs, meta), "summary.md"))

	for _, want := range []string{
		`\!\[t\](https\://evil.example/pixel.png)`,
		`\[Reset your password\](https\://evil.example/reset)`,
		`\<img src=https\://evil.example/p.png\>`,
		`www\.evil.example`, `mallory\@evil.example`,
		`\*\*bold\*\* \_em\_ \~\~gone\~\~ \` + "`code\\` " + `\$x\$ \&lt;b\&gt;`,
		`a \| b c`,
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks the escaped %s", want)
		}
	}
	// Whatever the cell, nothing in the file opens a link, an image, HTML
	// or an autolink: each such character is escaped.
	for _, live := range []string{"![", "](", "<img", "<https", "://", "www.", "y@e", "&lt;"} {
		for i := strings.Index(md, live); i >= 0; i = nextIndex(md, live, i) {
			if i == 0 || md[i-1] != '\\' {
				t.Errorf("summary.md holds live %q: …%s…", live, md[max(0, i-20):min(len(md), i+20)])
				break
			}
		}
	}
	for _, line := range strings.Split(md, "\n") {
		// A table row keeps its cells: 3 of the outcome table, 6 of a group's.
		if pipes := strings.Count(line, "|") - strings.Count(line, `\|`); strings.HasPrefix(line, "|") && pipes != 4 && pipes != 7 {
			t.Errorf("a table row lost its cells: %s", line)
		}
	}
}

// nextIndex is the next occurrence of sub in s after i, or -1.
func nextIndex(s, sub string, i int) int {
	j := strings.Index(s[i+1:], sub)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func TestMdCellKeepsPlainTextReadable(t *testing.T) {
	for in, want := range map[string]string{
		"Ann O'Brien-Smith (née Doe), #4; 50% off?": "Ann O'Brien-Smith (née Doe), #4; 50% off?",
		"retries exhausted: 500":                    "retries exhausted: 500",
		"ann@example.com":                           `ann\@example.com`,
		"www.a and WWW.b":                           `www\.a and WWW\.b`,
		`back\slash`:                                `back\\slash`,
	} {
		if got := mdCell(in); got != want {
			t.Errorf("mdCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// summary.md is read with cat and less as often as rendered: a server's
// error text or a name with escape sequences (a title set, the screen
// cleared, C1's CSI) is written as their escapes, in cells and in code spans.
func TestSummaryMarkdownHoldsNoControlCharacters(t *testing.T) {
	const evil = "bad \x1b]0;pwned\a\x1b[2J\tname\u009b31m\x00"
	rs := mix(1, enroll.Failed)
	rs[0].FirstName, rs[0].Code, rs[0].Detail = evil, evil, evil
	meta := fixedMeta()
	meta.Business.Name = evil
	meta.Input.Path = evil
	md := string(readFile(t, writeReportMeta(t, rs, meta), "summary.md"))
	for _, r := range md {
		if r != '\n' && unicode.IsControl(r) {
			t.Fatalf("summary.md holds control character %q:\n%s", r, md)
		}
	}
	if !strings.Contains(md, `bad \\x1b\]0;pwned\\a\\x1b\[2J\\tname\\u009b31m\\x00`) ||
		!strings.Contains(md, "`bad \\x1b]0;pwned\\a\\x1b[2J\\tname\\u009b31m\\x00`") {
		t.Errorf("summary.md should show the control characters as escapes:\n%s", md)
	}
}
