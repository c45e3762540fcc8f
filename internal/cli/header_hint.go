package cli

import (
	"fmt"
	"strings"

	"github.com/pvenroll/pvenroll/export"
)

// headerHint says which flag resolves a refused header: the export package
// names its settings in the operator's words, and only the command line
// knows them as flags.
func headerHint(he *export.HeaderError) string {
	if len(he.Fix) > 0 {
		forms := make([]string, len(he.Fix))
		for i, r := range he.Fix {
			if he.Setting == export.SettingConsentColumn {
				forms[i] = fmt.Sprintf("--consent-column #%d", r.Position)
			} else {
				forms[i] = fmt.Sprintf("--map %s=#%d", r.Field, r.Position)
			}
		}
		return "name it by position: " + strings.Join(forms, " or ")
	}
	switch he.Setting {
	case export.SettingFieldMap:
		return "name a column with --map FIELD=COLUMN (as written in the header) or --map FIELD=#POSITION, e.g. --map email=#2"
	case export.SettingConsentColumn:
		return "--consent-column names the column holding when each customer accepted the program terms (or #POSITION); leave it out if the export holds no consent"
	case export.SettingSheet:
		return "name the sheet to read with --sheet NAME"
	case export.SettingPreset:
		return "is it the right preset? --preset generic reads any export's own names"
	}
	return ""
}
