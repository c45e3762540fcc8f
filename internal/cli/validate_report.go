package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
)

// validation is what validate found: the file's shape, then its rows.
type validation struct {
	name     string
	asked    string // --encoding
	preset   *export.Preset
	rd       *export.Reader
	rows     validateRowsJSON
	problems []problemJSON // the first 20
	hint     string        // the preset the header looks like
}

// readRows reads every row, counting what validate reports, and tallies
// what they say beyond their customer.
func (v *validation) readRows(tally *exportTally) error {
	for {
		rec, err := v.rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		o, detail, bad := enroll.Precheck(rec)
		tally.add(rec, !bad)
		switch {
		case !bad:
			v.rows.Usable++
		case o == enroll.Invalid:
			v.rows.Invalid++
		default:
			v.rows.Duplicate++
		}
		if bad && len(v.problems) < 20 {
			v.problems = append(v.problems, problemJSON{Line: rec.Line, Outcome: o, Detail: detail})
		}
	}
}

// print says it as text.
func (v *validation) print(out io.Writer, tally *exportTally) {
	rd, preset := v.rd, v.preset
	if rd.Encoding() == export.EncodingXLSX {
		fmt.Fprintf(out, "%s: Excel workbook, sheet %q, preset %s\ncolumns used:\n", v.name, rd.Sheet, preset.Name)
	} else {
		fmt.Fprintf(out, "%s: delimiter %q, preset %s\ncolumns used:\n", v.name, rd.Comma, preset.Name)
	}
	if preset.Rule != nil {
		fmt.Fprintf(out, "  %-19s from %s (the %s rule)\n", "membership_status", presetRuleColumns(preset), preset.Name)
	}
	for _, c := range v.columns() {
		fmt.Fprintf(out, "  %-19s column %d %q\n", c.Field, c.Position, c.Name)
	}
	for _, l := range rd.LeftAlone {
		fmt.Fprintf(out, "  left alone:         column %d %q: not taken as the Perkville %s (--map %s=%q if it holds one)\n",
			l.Position, l.Name, strings.ReplaceAll(l.Field, "_", " "), l.Field, l.Name)
	}
	fmt.Fprintf(out, "encoding: %s\n", describeEncoding(rd.Encoding(), v.asked))
	fmt.Fprintf(out, "rows: %d usable, %d invalid, %d duplicate\n", v.rows.Usable, v.rows.Invalid, v.rows.Duplicate)
	printMembership(out, rd.MembershipFrom(), tally.active, tally.inactive)
	tally.print(out)
	if len(v.problems) > 0 {
		fmt.Fprintln(out, "first problems:")
		for _, p := range v.problems {
			fmt.Fprintf(out, "  line %d: %s: %s\n", p.Line, p.Outcome, termText(p.Detail))
		}
	}
	if v.hint != "" {
		fmt.Fprintln(out, "hint:", v.hint)
	}
}

// columns are the fields read and the columns they come from.
func (v *validation) columns() []columnJSON {
	cols := []columnJSON{}
	for _, f := range append(export.MappableFields, "consent") {
		if i, ok := v.rd.Columns[f]; ok {
			cols = append(cols, columnJSON{Field: f, Position: i + 1, Name: v.rd.Header[i]})
		}
	}
	return cols
}

// json is validate --json's object.
func (v *validation) json(tally *exportTally) validateJSON {
	j := validateJSON{jsonHead: head("pvenroll-validate"), File: v.name, Format: "csv", Encoding: v.rd.Encoding(),
		EncodingFrom: "detected", Preset: v.preset.Name, Columns: v.columns(), Rows: v.rows, Problems: v.problems}
	switch {
	case v.rd.Encoding() == export.EncodingXLSX:
		j.Format, j.Sheet, j.EncodingFrom = "xlsx", v.rd.Sheet, "xlsx"
	case v.asked != "" && v.asked != export.EncodingAuto:
		j.EncodingFrom = "--encoding"
	}
	if j.Format == "csv" {
		j.Delimiter = string(v.rd.Comma)
	}
	if v.preset.Rule != nil {
		j.MembershipRule = v.preset.RuleText
	}
	if from := v.rd.MembershipFrom(); from != "" && tally.active+tally.inactive > 0 {
		j.Membership = membershipJSON{Active: tally.active, Inactive: tally.inactive, From: from}
	}
	if j.Problems == nil {
		j.Problems = []problemJSON{}
	}
	j.Hints = []string{}
	if v.hint != "" {
		j.Hints = append(j.Hints, v.hint)
	}
	return j
}
