package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pvenroll/pvenroll/export"
)

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

// presetHint suggests the preset whose columns the header holds, when no
// --preset was given (the generic one reads the file): "this looks like an
// ABC Ignite export: add --preset abc-ignite". "" when none matches, or a
// preset was named, --preset generic included.
func presetHint(c *cobra.Command, header []string) string {
	if c.Flags().Changed("preset") {
		return ""
	}
	var says []string
	for _, r := range export.Recognise(header) {
		says = append(says, fmt.Sprintf("this looks like %s %s export: add --preset %s", article(r.Title), r.Title, r.Name))
	}
	return strings.Join(says, "; or ")
}

// withPresetHint adds presetHint to a refused header: the likeliest fix of
// "no email column" in a known system's export is its preset, not --map.
func withPresetHint(c *cobra.Command, err error) error {
	var he *export.HeaderError
	if errors.As(err, &he) {
		if h := presetHint(c, he.Found); h != "" {
			return withHint(err, h)
		}
	}
	return err
}

// article is "an" before a vowel sound of the titles we have ("an ABC
// Ignite export"), else "a".
func article(title string) string {
	if title != "" && strings.ContainsRune("AEIOUaeiou", rune(title[0])) {
		return "an"
	}
	return "a"
}
