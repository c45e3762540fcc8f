package cli

import (
	"fmt"
	"io"

	"github.com/pvenroll/pvenroll/export"
)

// membershipFrom names where the rows' membership status comes from: the
// preset's rule, the export's column, or nowhere ("").
func membershipFrom(p *export.Preset, rd *export.Reader) string {
	if p != nil && p.Rule != nil {
		return "the " + p.Name + " rule: " + p.RuleText
	}
	if i, ok := rd.Columns[export.FieldMembershipStatus]; ok {
		return fmt.Sprintf("the export's column %q", rd.Header[i])
	}
	return ""
}

// printMembership says the membership split, where it comes from, and what
// it does: the status is sent when a member is created (and with
// --sync-membership); it does not decide who joins.
func printMembership(out io.Writer, from string, active, inactive int) {
	if active+inactive == 0 {
		return
	}
	fmt.Fprintf(out, "membership: %d active, %d inactive, by %s\n", active, inactive, from)
	fmt.Fprintln(out, "  it sets the status of the members --create-missing creates (and, with --sync-membership,")
	fmt.Fprintln(out, "  of existing ones); inactive rows are still sent: whether they join is Perkville's decision")
}
