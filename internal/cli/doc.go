// Package cli is pvenroll's command line: an options struct and a run function per command, the
// setup they share (API, token, input, dry run), and exitCode, where an error becomes an exit code.
package cli
