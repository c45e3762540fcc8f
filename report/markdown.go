package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pvenroll/pvenroll/enroll"
)

// Markdown renders the reconciliation for a person.
func Markdown(w io.Writer, s *Summary, meta Meta) error {
	var b strings.Builder
	title := "pvenroll reconciliation"
	if meta.DryRun {
		title += " (dry run: nothing was written)"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	if len(meta.Warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		for _, w := range meta.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdCell(w))
		}
		b.WriteString("\n")
	}
	if meta.Business.Name != "" {
		fmt.Fprintf(&b, "Business: %s (%d)  \n", mdCell(meta.Business.Name), meta.Business.ID)
	}
	enc := ""
	if meta.Input.Encoding != "" {
		enc = ", encoding " + meta.Input.Encoding
	}
	fmt.Fprintf(&b, "Input: `%s`, %s%s, sha256 `%s`  \n", mdCode(meta.Input.Path), count(s.Rows, "row", "rows"), enc, short(meta.Input.SHA256))
	run, earlier, api := runLines(meta)
	if run != "" {
		b.WriteString(run)
		if meta.Stop != "" {
			fmt.Fprintf(&b, ", stopped: %s", mdCell(meta.Stop))
		}
		b.WriteString("  \n")
	}
	for _, line := range earlier {
		fmt.Fprintf(&b, "%s  \n", mdCell(line))
	}
	fmt.Fprintf(&b, "%s\n\n", api)
	b.WriteString("| outcome | rows | meaning |\n|---|---:|---|\n")
	for _, o := range enroll.Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(&b, "| %s | %d | %s |\n", o, n, s.Resumed.Describe(o, n))
		}
	}
	fmt.Fprintf(&b, "| **total** | **%d** | every input row, once |\n", s.Rows)
	if s.MembershipDiffers > 0 {
		fmt.Fprintf(&b, "\n%s a membership status that differs from Perkville's and was not updated (see the detail).\n", count(s.MembershipDiffers, "row holds", "rows hold"))
	}
	if line := membershipNote(s, markdownPreset(meta)); line != "" {
		fmt.Fprintf(&b, "\n%s\n", line)
	}
	if meta.DryRun && s.Counts[enroll.WouldJoin] > 0 {
		markdownRisks(&b, s)
	}
	if c := meta.Changes; c != nil {
		fmt.Fprintf(&b, "\n## Since the last run (run %d, %s)\n\n", c.SinceRun, c.SinceStart.UTC().Format(time.RFC3339))
		fmt.Fprintf(&b, "- newly joined: %d\n- newly opted out: %d\n- %s\n", c.NewlyJoined, c.NewlyOptedOut, waitingLine(s, c))
		fmt.Fprintf(&b, "- resumed from an unfinished run: %d\n- unchanged and still active (no call): %d\n", c.Resumed, c.Skipped)
		fmt.Fprintf(&b, "- waiting, not due for a check (no call): %d\n", c.Waited)
	}
	for _, o := range enroll.FollowUp {
		rows := s.Groups[o]
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n%s. Follow-up file: `followup/%s.csv`.\n\n", o, s.Counts[o], capitalise(o.Description()), o)
		b.WriteString("| line | email | name | member id | code | detail |\n|---:|---|---|---|---|---|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", r.Line, mdCell(r.Email), mdCell(strings.TrimSpace(r.FirstName+" "+r.LastName)),
				mdCell(r.ExternalMemberID), mdCell(r.Code), mdCell(r.Detail))
		}
		if more := s.Counts[o] - len(rows); more > 0 {
			fmt.Fprintf(&b, "\n… and %d more in `followup/%s.csv`.\n", more, o)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// waitingLine says how many rows wait on agreements (every
// needs-agreement row) and how many of them were waiting before this run,
// which is what Changes.StillWaiting counts.
func waitingLine(s *Summary, c *Changes) string {
	line := fmt.Sprintf("waiting on agreements: %s (needs-agreement), %d of them waiting since an earlier run",
		count(s.Counts[enroll.NeedsAgreement], "row", "rows"), c.StillWaiting)
	if c.StillWaiting == 0 { // no wait to tell the longest of
		return line
	}
	return line + fmt.Sprintf(" (the longest for %s)", count(c.LongestWaitDays, "day", "days"))
}

// markdownRisks splits a dry run's would-join: the rows a real run would
// likely join, and those it would try but that will likely be refused.
func markdownRisks(b *strings.Builder, s *Summary) {
	try := s.WouldTry()
	fmt.Fprintf(b, "\n## would-join, split (%d)\n\n", s.Counts[enroll.WouldJoin])
	b.WriteString("| would-join | rows |\n|---|---:|\n")
	fmt.Fprintf(b, "| would join | %d |\n| would try, likely refused | %d |\n", s.Counts[enroll.WouldJoin]-try, try)
	for _, r := range enroll.Risks {
		if n := s.AtRisk[r]; n > 0 {
			fmt.Fprintf(b, "| · %s | %d |\n", r.Description(), n)
		}
	}
	b.WriteString("\nA real run sends every would-join row. Those it would try but that will likely be refused are why the real run's `joined` can be lower; `report.csv`'s `risk` column names each one's reason.\n")
	if len(s.Risky) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### would try, likely refused (%d)\n\n", try)
	b.WriteString("| line | email | name | member id | why | detail |\n|---:|---|---|---|---|---|\n")
	for _, r := range s.Risky {
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s |\n", r.Line, mdCell(r.Email), mdCell(strings.TrimSpace(r.FirstName+" "+r.LastName)),
			mdCell(r.ExternalMemberID), r.Risk, mdCell(r.Detail))
	}
	if more := try - len(s.Risky); more > 0 {
		fmt.Fprintf(b, "\n… and %d more in `report.csv` (its `risk` column).\n", more)
	}
}

// markdownPreset is meta with the preset's membership source, which may
// name a column of the export, made plain Markdown text.
func markdownPreset(meta Meta) Meta {
	if p := meta.Preset; p != nil {
		escaped := *p
		escaped.MembershipFrom = mdCell(p.MembershipFrom)
		meta.Preset = &escaped
	}
	return meta
}

// membershipNote says how many rows the export marks inactive, and what the
// export's membership status does: whether they join stays Perkville's
// decision.
func membershipNote(s *Summary, meta Meta) string {
	p := meta.Preset
	if s.ExportInactive == 0 && (p == nil || p.MembershipFrom == "") {
		return ""
	}
	line := fmt.Sprintf("Export says inactive: %d %s.", s.ExportInactive, plural(s.ExportInactive, "row", "rows"))
	if p == nil {
		return line + " Whether they join stays Perkville's decision."
	}
	from := "The export's membership status"
	if p.MembershipFrom != "" {
		from = "The membership status (from " + p.MembershipFrom + ")"
	}
	if p.AtCreationOnly {
		return line + " " + from + " is sent only when a member is created; for customers Perkville already has, Perkville's own membership status decides whether they join."
	}
	return line + " " + from + " is sent when a member is created and, where it differs, for customers Perkville already has; Perkville then decides whether they join."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// mdCell makes a value from the export or the API plain text inside a
// table cell or a line: a name such as ![t](https://evil.example/x.png)
// must not load an image when summary.md is viewed, nor [x](…) become a
// link. CommonMark lets any ASCII punctuation be escaped with a backslash;
// every character that can open inline markup is (links, images, raw
// HTML, entities, emphasis, code, math), and so are the characters GFM's
// bare autolinks hinge on: the @ of an email, the : of "://", the . of
// "www.". Line breaks would end the table row: they become spaces.
func mdCell(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteByte(' ')
			continue
		case unicode.IsControl(r):
			// An escape sequence from the server or the export must not
			// reach a terminal that shows the file: written as %q does,
			// its backslash escaped.
			b.WriteString(`\` + controlEscape(r))
			continue
		case strings.ContainsRune(mdMarkup, r),
			r == ':' && strings.HasPrefix(s[i+1:], "//"),
			r == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www"):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdMarkup is the ASCII punctuation that opens inline markup in GFM (and
// GitHub's math); the rest is left as is, so names and details stay
// readable in the raw file.
const mdMarkup = "\\`*_[]!<>&|~$@"

// mdCode keeps a value inside a code span, where backslashes are literal:
// a backquote would close the span, a line break end the line.
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ").Replace(escapeControls(s))
}

// escapeControls writes each control character other than a line break
// as %q does (\x1b, \a, \u009b).
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' {
			b.WriteString(controlEscape(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// controlEscape is r as %q spells it, without the quotes.
func controlEscape(r rune) string {
	q := strconv.QuoteRune(r)
	return q[1 : len(q)-1]
}
