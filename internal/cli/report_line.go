package cli

import (
	"os"
	"path/filepath"
	"strings"
)

// reportLine is the last line of a run on stdout: the report directory and
// the files in it a person opens, named only if the run wrote them (a run
// without follow-ups has no followup/).
func reportLine(out string) string {
	var files []string
	for _, name := range []string{"summary.md", "report.html", "report.csv"} {
		if _, err := os.Stat(filepath.Join(out, name)); err == nil {
			files = append(files, name)
		}
	}
	if entries, err := os.ReadDir(filepath.Join(out, "followup")); err == nil && len(entries) > 0 {
		files = append(files, "followup/")
	}
	line := "report: " + out
	if len(files) > 0 {
		line += " (" + strings.Join(files, ", ") + ")"
	}
	return line
}
