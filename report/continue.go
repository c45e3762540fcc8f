package report

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/pvenroll/pvenroll/enroll"
)

// A run that continues the report of an unfinished one (`--state`: the same
// command run again after a stop) writes its report into the same folder:
// the new report holds every row, the resumed ones too, and replaces the old
// one file by file as it is committed. Until then the old report stays as it
// was, so a continuing run that stops at its preflight destroys nothing.

// Continue readies dir, the folder of an unfinished run's report, for the
// run that continues it: it removes the temporary files of a run killed
// while it wrote (they are no one's now). A folder that is or holds a
// symbolic link is refused, as by Prepare.
func Continue(dir string) error {
	if err := notALink(dir); err != nil {
		return err
	}
	if err := CheckNoLinks(dir); err != nil {
		return err
	}
	var partial []string
	for _, d := range []string{dir, filepath.Join(dir, "followup")} {
		p, err := filepath.Glob(filepath.Join(d, ".*.partial"))
		if err != nil {
			return err
		}
		partial = append(partial, p...)
	}
	return removeAll(partial)
}

// DropStale removes, from the folder of a continued report, the follow-up
// files of outcomes that s, the new report's summary, counts none of: the
// new report does not replace them. Nothing else is removed.
func DropStale(dir string, s *Summary) error {
	if err := CheckNoLinks(dir); err != nil {
		return err
	}
	var stale []string
	for _, o := range enroll.FollowUp {
		if s.Counts[o] == 0 {
			stale = append(stale, filepath.Join(dir, "followup", string(o)+".csv"))
		}
	}
	return removeAll(stale)
}

func removeAll(paths []string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
