package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// After a stop, the advice names only follow-up files the run wrote: an
// interrupt whose unsent rows are in no report (a partial last line on
// standard input) advises no not-attempted.csv.
func TestStopAdviceNamesOnlyFilesThatExist(t *testing.T) {
	out := t.TempDir()
	r := &enrollRun{out: out}
	sum := &report.Summary{Counts: map[enroll.Outcome]int{enroll.Joined: 3}, Rows: 3}
	info := &enroll.RunInfo{Stop: enroll.StopInterrupted, Unread: true}
	err := r.stopError(info, sum, ExitInterrupted, nil)
	hint := err.(exitError).hint
	if strings.Contains(hint, "not-attempted.csv") {
		t.Errorf("hint names a file the run did not write: %q", hint)
	}
	if !strings.Contains(hint, "in no file") {
		t.Errorf("hint does not say unsent rows are in no file: %q", hint)
	}

	path := followup(out, enroll.NotAttempted)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("email\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum.Counts[enroll.NotAttempted] = 1
	info.Unread = false
	if hint := r.stopError(info, sum, ExitInterrupted, nil).(exitError).hint; !strings.Contains(hint, path) {
		t.Errorf("hint %q does not name the not-attempted file the run wrote", hint)
	}
}
