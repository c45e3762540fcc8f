package cli

// The paths the state and report commands read: each refused in words,
// with a hint naming what to give, before the ledger or the report
// package says it in theirs.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFileHint says which file the state command reads.
const stateFileHint = "name the file that enroll's --state FILE wrote"

// checkStateFile refuses, in words, a path that cannot be a state file: the
// state command reads one a run wrote, and never creates one.
func checkStateFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageError{withHint(fmt.Errorf("state file %s: no such file", path), stateFileHint)}
	case err != nil:
		return usageError{fmt.Errorf("state file %s: %w", path, pathCause(err))}
	case fi.IsDir():
		return usageError{withHint(fmt.Errorf("state file %s: a directory, not a file", path), stateFileHint)}
	case fi.Size() == 0:
		return usageError{withHint(fmt.Errorf("state file %s: empty, so no run wrote it", path), stateFileHint)}
	}
	return nil
}

// pathCause is an os error without the operation and path it repeats
// ("stat x: permission denied" → "permission denied").
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// reportDirHint says which directory the report command reads.
const reportDirHint = "name the report directory of an enroll run (its --out DIR)"

// checkReportDir refuses, in words, a path that cannot be a report
// directory. A link is left to Rerender, which refuses it as a link.
func checkReportDir(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageError{withHint(fmt.Errorf("report directory %s: no such directory", dir), reportDirHint)}
	case err != nil:
		return usageError{fmt.Errorf("report directory %s: %w", dir, pathCause(err))}
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil
	case !fi.IsDir():
		return usageError{withHint(fmt.Errorf("report directory %s: a file, not a directory", dir), reportDirHint)}
	}
	if _, err := os.Lstat(filepath.Join(dir, "report.csv")); errors.Is(err, fs.ErrNotExist) {
		return usageError{withHint(fmt.Errorf("report directory %s: no report.csv in it, so it is not a run's report directory", dir), reportDirHint)}
	}
	return nil
}
