package cli

// The --json outputs of check, validate and state: one JSON object on
// standard output, for scripts. Each names its schema and version; within
// a version a field is only ever added, never renamed, removed or given
// another meaning (the README documents each). Every documented field is
// always there (empty rather than missing), so that a script needs no
// test of presence. Errors and hints are printed on standard error as
// without --json, and are also the object's error: standard output holds
// the one object also when the command fails, and the exit codes are
// those of the text output.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// jsonSchemaVersion is the version of every --json schema below.
// Version 2: the error object, every field always present, check's ids.
const jsonSchemaVersion = 2

// jsonHead starts every --json object: which schema, which version, and
// whether the command failed. A command that fails before its object is
// made prints the head alone.
type jsonHead struct {
	Schema  string     `json:"schema"`
	Version int        `json:"schema_version"`
	Error   *jsonError `json:"error"` // null unless the command failed
}

// jsonError is what stderr's "error:" and "hint:" lines say.
type jsonError struct {
	Message string   `json:"message"`
	Hints   []string `json:"hints"`
}

func head(schema string) jsonHead { return jsonHead{Schema: schema, Version: jsonSchemaVersion} }

func (h *jsonHead) fail(e *jsonError) { h.Error = e }

// jsonObject is any of the objects below, made by a command.
type jsonObject interface{ fail(*jsonError) }

// jsonAsked says whether c's command line asked for --json. A flag error
// stops the parsing at the bad flag, so a failed command's line is also
// read as written: `validate --bogus --json` still prints its object.
func jsonAsked(c *cobra.Command, args []string, err error) bool {
	f := c.Flags().Lookup("json")
	switch {
	case f == nil:
		return false
	case f.Value.String() == "true":
		return true
	case err == nil:
		return false
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// jsonReplyKey finds, in a command's context, where its --json object
// waits for Main: Main prints it once the command has ended, with the
// command's error, so that a failing command still prints one object.
type jsonReplyKey struct{}

type jsonReply struct{ obj jsonObject }

// replyJSON hands the command's --json object to Main to print.
func replyJSON(c *cobra.Command, obj jsonObject) error {
	if r, ok := c.Context().Value(jsonReplyKey{}).(*jsonReply); ok {
		r.obj = obj
		return nil
	}
	return printJSON(c.OutOrStdout(), obj) // run without Main
}

// print prints the --json object of the command c that ended with err, or
// nothing when c printed text. args is the command line.
func (r *jsonReply) print(c *cobra.Command, args []string, err error, stdout, stderr io.Writer) {
	if c == nil || !jsonAsked(c, args, err) {
		return
	}
	obj := r.obj
	if obj == nil && err == nil {
		return // --help
	}
	if obj == nil {
		obj = &jsonHead{Schema: "pvenroll-" + c.Name(), Version: jsonSchemaVersion}
	}
	if err != nil {
		msg, hints, _ := explain(err)
		e := &jsonError{Message: msg, Hints: []string{}}
		for _, h := range hints {
			e.Hints = append(e.Hints, strings.Split(h, "\nhint: ")...)
		}
		obj.fail(e)
	}
	if perr := printJSON(stdout, obj); perr != nil {
		fmt.Fprintln(stderr, "error: printing the JSON object:", perr)
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// checkJSON is `pvenroll check --json`.
type checkJSON struct {
	jsonHead
	API      string          `json:"api"`
	Business int64           `json:"business"`
	OK       bool            `json:"ok"` // every check passed
	Checks   []checkLineJSON `json:"checks"`
}

type checkLineJSON struct {
	ID     string `json:"id"`     // a stable key: api, token_scopes, admin_rights, ...
	Name   string `json:"name"`   // worded for people
	Status string `json:"status"` // ok, fail or note
	Detail string `json:"detail"`
	Fatal  bool   `json:"fatal"` // a failure no run could go on with
}

// validateJSON is `pvenroll validate --json`.
type validateJSON struct {
	jsonHead
	File           string           `json:"file"`
	Format         string           `json:"format"`    // csv or xlsx
	Delimiter      string           `json:"delimiter"` // csv
	Sheet          string           `json:"sheet"`     // xlsx
	Encoding       string           `json:"encoding"`
	EncodingFrom   string           `json:"encoding_from"` // detected, --encoding or xlsx
	Preset         string           `json:"preset"`
	Columns        []columnJSON     `json:"columns"`
	MembershipRule string           `json:"membership_rule"`
	Rows           validateRowsJSON `json:"rows"`
	Membership     membershipJSON   `json:"membership"` // zero without a membership column
	Problems       []problemJSON    `json:"problems"`   // the first 20
	Hints          []string         `json:"hints"`
}

type columnJSON struct {
	Field    string `json:"field"`
	Position int    `json:"position"` // 1 is the first column
	Name     string `json:"name"`
}

type validateRowsJSON struct {
	Usable    int `json:"usable"`
	Invalid   int `json:"invalid"`
	Duplicate int `json:"duplicate"`
}

type membershipJSON struct {
	Active   int    `json:"active"`
	Inactive int    `json:"inactive"`
	From     string `json:"from"`
}

type problemJSON struct {
	Line    int            `json:"line"`
	Outcome enroll.Outcome `json:"outcome"`
	Detail  string         `json:"detail"`
}

// stateJSON is `pvenroll state --json`.
type stateJSON struct {
	jsonHead
	RunsTotal int                    `json:"runs_total"`
	Runs      []report.HistoryRun    `json:"runs"` // the last 30, oldest first
	Customers map[enroll.Outcome]int `json:"customers_by_last_outcome"`
}
