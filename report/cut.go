package report

import (
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/pvenroll/pvenroll/enroll"
)

// MaxCell is how many characters of a cell the report keeps. A real cell
// is far shorter; a runaway one (a broken export, a hostile file) would
// otherwise be copied whole into report.csv, summary.md and report.html.
const MaxCell = 1000

// cutMarker ends a cut cell, naming the length of the whole.
var cutMarker = regexp.MustCompile(`…\[cut: [0-9]+ chars\]$`)

// Cut keeps the first MaxCell characters of s and says how long it was:
// "…[cut: 104857600 chars]". A cell already cut is left alone, so that a
// re-render of report.csv keeps the length of the original.
func Cut(s string) string {
	if len(s) <= MaxCell || utf8.RuneCountInString(s) <= MaxCell {
		return s
	}
	if loc := cutMarker.FindStringIndex(s); loc != nil && utf8.RuneCountInString(s[:loc[0]]) == MaxCell {
		return s
	}
	end, n := 0, 0
	for i := range s {
		if n == MaxCell {
			end = i
			break
		}
		n++
	}
	return s[:end] + "…[cut: " + strconv.Itoa(utf8.RuneCountInString(s)) + " chars]"
}

// Bounded is r with every text cut to MaxCell characters, for the report's
// files; Raw, the input's cells for the retry files, is kept as read.
func Bounded(r enroll.Result) enroll.Result {
	for _, p := range []*string{&r.Email, &r.ExternalMemberID, &r.UserID, &r.FirstName, &r.LastName,
		&r.Code, &r.CustomerMessage, &r.Detail, &r.ExportMembership} {
		*p = Cut(*p)
	}
	if len(r.Actions) > 0 {
		actions := make([]string, len(r.Actions))
		for i, a := range r.Actions {
			actions[i] = Cut(a)
		}
		r.Actions = actions
	}
	return r
}
