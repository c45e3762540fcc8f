package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
)

// A continued report's folder loses only the killed run's temporary files
// at the start, and at the end the follow-ups of outcomes the new report
// has none of; the rest is replaced file by file.
func TestContinuedReportDropsOnlyWhatIsStale(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{ // path: kept
		"report.csv":                     true,
		"summary.json":                   true,
		".report.csv.123.partial":        false,
		"followup/.failed.csv.9.partial": false,
		"followup/not-attempted.csv":     false,
		"followup/needs-agreement.csv":   true,
		"notes.txt":                      true, // the operator's own
	}
	for p := range files {
		must(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), DirMode))
		must(t, os.WriteFile(filepath.Join(dir, p), []byte("x"), FileMode))
	}
	must(t, Continue(dir))
	s := NewSummary()
	s.Add(enroll.Result{Outcome: enroll.NeedsAgreement})
	must(t, DropStale(dir, s))
	for p, kept := range files {
		_, err := os.Stat(filepath.Join(dir, p))
		if (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v", p, err == nil, kept)
		}
	}

	elsewhere := t.TempDir()
	must(t, os.Symlink(elsewhere, filepath.Join(dir, "link")))
	if err := Continue(dir); err == nil {
		t.Error("a folder holding a link was continued")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
