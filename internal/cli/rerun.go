package cli

import (
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// rerunCommand is a command line that sends the rows of a retry file
// (followup/not-attempted.csv, interrupted.csv): this run's own flags, as
// given, with a new report directory and the retry file as the input. It
// is what a run without --state advises after a stop: the retry file keeps
// the input's header and delimiter, so the same flags read it.
func rerunCommand(flags *pflag.FlagSet, out, file string) string {
	parts := []string{"pvenroll", "enroll"}
	if flags != nil {
		flags.Visit(func(f *pflag.Flag) {
			switch {
			case f.Name == "out":
			case f.Value.Type() == "bool":
				if f.Value.String() == "true" {
					parts = append(parts, "--"+f.Name)
				} else {
					parts = append(parts, "--"+f.Name+"=false")
				}
			default:
				values := []string{f.Value.String()}
				if s, ok := f.Value.(pflag.SliceValue); ok {
					values = s.GetSlice()
				}
				for _, v := range values {
					parts = append(parts, "--"+f.Name, shellQuote(v))
				}
			}
		})
	}
	return strings.Join(append(parts, "--out", shellQuote(out), shellQuote(file)), " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// characters, so that an advised command can be pasted as it is.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// absPath is path made absolute, as the ledger records a run's report
// directory; path itself if that fails.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}
