package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/pvenroll/pvenroll/export"
)

// exportTally counts, for validate, what the usable rows of an export
// say beyond their customer: whether they hold a consent.
type exportTally struct {
	consentColumn bool
	consent       int      // rows whose consent counts
	placeholder   int      // rows whose consent cell holds no consent
	noConsent     int      // rows with an empty consent cell
	notes         []string // the first placeholders, with why
}

// maxTallyNotes bounds the examples validate shows.
const maxTallyNotes = 5

// add counts one usable row.
func (t *exportTally) add(rec *export.Record) {
	switch {
	case !t.consentColumn:
	case rec.Consent != "":
		t.consent++
	case rec.ConsentNote != "":
		t.placeholder++
		if len(t.notes) < maxTallyNotes {
			t.notes = append(t.notes, fmt.Sprintf("  line %d: %s", rec.Line, rec.ConsentNote))
		}
	default:
		t.noConsent++
	}
}

// print writes the counts.
func (t *exportTally) print(out io.Writer) {
	if t.consentColumn {
		fmt.Fprintf(out, "consent: %d usable, %d placeholder (not consent: enrolled as without), %d none\n", t.consent, t.placeholder, t.noConsent)
		if len(t.notes) > 0 {
			fmt.Fprintln(out, strings.Join(t.notes, "\n"))
		}
	}
}
