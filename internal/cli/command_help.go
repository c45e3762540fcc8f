package cli

// The help of the commands commands.go builds: what each reads, and
// examples taken from the README (help_examples.txtar runs them against the
// README's files).

import (
	"fmt"
	"strings"

	"github.com/pvenroll/pvenroll/export"
)

const validateExample = `  # an ABC Ignite export (the README's step 2), with its consent column
  pvenroll validate --preset abc-ignite --consent-column "Terms Accepted At" members.csv

  # any other export: name a column the header aliases miss
  pvenroll validate --map email="E-mail Address" members.csv`

const checkExample = `  # the token 'pvenroll login' saved, the API and the business
  export PERKVILLE_BUSINESS=25
  pvenroll check

  # also record what the API answered, shape by shape, for Perkville support
  pvenroll check --report api-shapes.json

  # against the built-in sandbox
  pvenroll check --sandbox`

const stateExample = `  # the runs of the state file enroll --state pvenroll.db writes, and its
  # customers by last outcome
  pvenroll state pvenroll.db`

const reportExample = `  # re-render run-1's summaries, follow-ups and report.html from its report.csv
  pvenroll report run-1`

// validateLong says what validate reads, and what each preset reads: the
// unknown-preset hint points here.
func validateLong() string {
	var b strings.Builder
	b.WriteString(`Validate reads an export, a CSV or an .xlsx workbook (or - for standard
input), as enroll would, offline: it calls no API. It prints the column used
for each field, the membership status of the rows and where it comes from,
the usable, invalid and duplicate rows, and the first bad rows with their
line and column.

What each --preset reads:
`)
	for _, name := range export.PresetNames() {
		p, _ := export.LookupPreset(name)
		fmt.Fprintf(&b, "  %-13s %s\n", name, presetReads(p))
	}
	b.WriteString("\nFlags may come before or after FILE.")
	return b.String()
}

// presetReads is what a preset reads, in a line of help.
func presetReads(p *export.Preset) string {
	if p.SystemID == "" {
		return "any export: the header aliases name the columns; the membership status comes from its column, if any"
	}
	return fmt.Sprintf("an export of %s: member id %s, email %s; system id %s; membership %s",
		p.Title, p.Aliases[export.FieldExternalMemberID][0], p.Aliases[export.FieldEmail][0], p.SystemID, p.RuleText)
}

// tokenSourcesHelp names the three sources of the token, in the order they
// are tried, for the help of the commands that call the API.
func tokenSourcesHelp() string {
	return "The token comes from --token-file, else PERKVILLE_TOKEN, else the default\n" +
		"token file that 'pvenroll login' writes (" + displayTokenFile() + ")"
}

// presetSystemIDs names the presets that supply a system id, with it:
// "abc-ignite: ABC_IGNITE, csi-spectrum: CSI_SPECTRUM".
func presetSystemIDs() string {
	var ids []string
	for _, name := range export.PresetNames() {
		if p, _ := export.LookupPreset(name); p.SystemID != "" {
			ids = append(ids, name+": "+p.SystemID)
		}
	}
	return strings.Join(ids, ", ")
}
