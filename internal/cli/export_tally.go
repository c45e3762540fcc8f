package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pvenroll/pvenroll/export"
)

// exportTally counts, for validate, what the rows of an export say beyond
// their customer: their membership, consent, status words, member ids.
type exportTally struct {
	consentColumn bool
	preset        *export.Preset
	rd            *export.Reader

	consent     int      // usable rows whose consent counts
	placeholder int      // usable rows whose consent cell holds no consent
	noConsent   int      // usable rows with an empty consent cell
	notes       []string // the first placeholders, with why

	active, inactive int // usable rows by their membership status

	words     map[string]*statusWord // by the word in lower case
	wordOrder []string               // as first met
	moreWords int                    // rows whose word came past maxStatusWords

	oddIDs   int      // usable rows whose member id is not in the preset's shape
	oddLines []string // the first of them

	datesLeft int      // usable rows with a date left out (it does not parse)
	dateNotes []string // the first of them

	hidden      int   // workbook rows Excel hides (by hand or by a filter)
	hiddenLines []int // the first of them
}

// statusWord is one status word met: how often, and what it became.
type statusWord struct {
	word   string // as first written
	rows   int
	status string // ACTIVE, INACTIVE, or "" when unknown
}

// Bounds of what validate lists.
const (
	maxTallyNotes  = 5
	maxStatusWords = 30
)

// add counts one row; usable says whether it is left to the API.
func (t *exportTally) add(rec *export.Record, usable bool) {
	t.addWord(rec)
	if rec.Hidden {
		t.hidden++
		if len(t.hiddenLines) < maxTallyNotes {
			t.hiddenLines = append(t.hiddenLines, rec.Line)
		}
	}
	if !usable {
		return
	}
	switch rec.MembershipStatus {
	case "ACTIVE":
		t.active++
	case "INACTIVE":
		t.inactive++
	}
	switch {
	case !t.consentColumn:
	case rec.Consent != "":
		t.consent++
	case rec.ConsentNote != "":
		t.placeholder++
		if len(t.notes) < maxTallyNotes {
			t.notes = append(t.notes, fmt.Sprintf("  line %d: %s", rec.Line, termText(rec.ConsentNote)))
		}
	default:
		t.noConsent++
	}
	t.addDateNotes(rec)
	if id := rec.ExternalMemberID; id != "" && t.preset.MemberIDShape != nil && !t.preset.MemberIDShape(id) {
		t.oddIDs++
		if len(t.oddLines) < 3 {
			t.oddLines = append(t.oddLines, fmt.Sprintf("line %d %q", rec.Line, id))
		}
	}
}

// addDateNotes counts a row whose join or cancel date is left out: every
// note of a usable row but its consent's is about a date.
func (t *exportTally) addDateNotes(rec *export.Record) {
	counted := false
	for _, n := range rec.Notes {
		if rec.ConsentNote != "" && strings.HasSuffix(n, rec.ConsentNote) {
			continue
		}
		if !counted {
			t.datesLeft++
			counted = true
		}
		if len(t.dateNotes) < maxTallyNotes {
			t.dateNotes = append(t.dateNotes, "  "+n)
		}
	}
}

// addWord counts the row's membership status word.
func (t *exportTally) addWord(rec *export.Record) {
	if rec.MembershipWord == "" {
		return
	}
	key := strings.ToLower(rec.MembershipWord)
	w := t.words[key]
	if w == nil {
		if len(t.wordOrder) == maxStatusWords {
			t.moreWords++
			return
		}
		if t.words == nil {
			t.words = map[string]*statusWord{}
		}
		w = &statusWord{word: rec.MembershipWord, status: rec.MembershipStatus}
		t.words[key] = w
		t.wordOrder = append(t.wordOrder, key)
	}
	w.rows++
}

// print writes the counts.
func (t *exportTally) print(out io.Writer) {
	t.printWords(out)
	if t.consentColumn {
		fmt.Fprintf(out, "consent: %d usable, %d placeholder (not consent: enrolled as without), %d none\n", t.consent, t.placeholder, t.noConsent)
		if len(t.notes) > 0 {
			fmt.Fprintln(out, strings.Join(t.notes, "\n"))
		}
	}
	if t.datesLeft > 0 {
		fmt.Fprintf(out, "dates left out: %s (sent without them)\n%s\n", rowCount(t.datesLeft), strings.Join(t.dateNotes, "\n"))
	}
	t.printMemberIDs(out)
	t.printHidden(out)
}

// printHidden counts the workbook rows Excel hides: they are read like
// any row, though the operator looking at the sheet may not see them.
func (t *exportTally) printHidden(out io.Writer) {
	if t.hidden == 0 {
		return
	}
	lines := make([]string, len(t.hiddenLines))
	for i, l := range t.hiddenLines {
		lines[i] = strconv.Itoa(l)
	}
	more := ""
	if t.hidden > len(lines) {
		more = ", …"
	}
	fmt.Fprintf(out, "hidden rows: %d (hidden or filtered out in Excel: read and enrolled like any row; their report rows say so): line %s%s\n", t.hidden, strings.Join(lines, ", "), more)
}

// printWords lists each status word met, how often, and what it became.
func (t *exportTally) printWords(out io.Writer) {
	if len(t.wordOrder) == 0 {
		return
	}
	fmt.Fprintln(out, "status words met (rows, read as):")
	for _, k := range t.wordOrder {
		w := t.words[k]
		became := w.status
		if became == "" {
			became = fmt.Sprintf("unknown: the rows are invalid (--status-map %s=ACTIVE or =INACTIVE says what it means)", w.word)
		}
		fmt.Fprintf(out, "  %-20q %5d  %s\n", w.word, w.rows, became)
	}
	if t.moreWords > 0 {
		fmt.Fprintf(out, "  … and %s with other words\n", rowCount(t.moreWords))
	}
}

// printMemberIDs warns about member ids a preset's integration would not
// recognise, and says where the member id was read from.
func (t *exportTally) printMemberIDs(out io.Writer) {
	p := t.preset
	if p == nil || !p.OwnMemberID {
		return
	}
	own := p.Aliases[export.FieldExternalMemberID][0]
	if _, ok := t.rd.Columns[export.FieldExternalMemberID]; !ok {
		fmt.Fprintf(out, "warning: no member id: preset %s reads it from column %q only (no barcode or other id stands in); without it --create-missing and --sync-membership are refused\n", p.Name, own)
	}
	if t.oddIDs > 0 {
		fmt.Fprintf(out, "warning: %s hold a member id that is not %s, the shape of %s's %s (%s): Perkville's integration keys members by it, so --create-missing would give these customers a second record\n",
			rowCount(t.oddIDs), p.MemberIDShapeText, p.SystemID, own, strings.Join(t.oddLines, ", "))
	}
}

// presetMemberID refuses to create or upsert members under a preset whose
// own member id column the file lacks: Perkville's integration keys its
// members by that id, and another would give each customer a second record.
func (r *enrollRun) presetMemberID() error {
	if !r.o.Policy.CreateMissing && !r.o.Policy.SyncMembership {
		return nil
	}
	if err := r.read.Preset.MemberIDMissing(r.rows.Columns); err != nil {
		return usageError{withHint(err, "if another column holds the integration's own ids, name it with --map external_member_id=COLUMN; else run without --create-missing and --sync-membership")}
	}
	return nil
}
