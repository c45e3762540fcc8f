package cli

// The --json outputs of check, validate and state: one JSON object on
// standard output, for scripts. Each names its schema and version; within
// a version a field is only ever added, never renamed, removed or given
// another meaning (the README documents each). Errors and hints stay on
// standard error, and the exit codes are those of the text output.

import (
	"encoding/json"
	"io"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/report"
)

// jsonSchemaVersion is the version of every --json schema below.
const jsonSchemaVersion = 1

// jsonHead starts every --json object: which schema, which version.
type jsonHead struct {
	Schema  string `json:"schema"`
	Version int    `json:"schema_version"`
}

func head(schema string) jsonHead { return jsonHead{Schema: schema, Version: jsonSchemaVersion} }

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
	Name   string `json:"name"`
	Status string `json:"status"` // ok, fail or note
	Detail string `json:"detail,omitempty"`
	Fatal  bool   `json:"fatal,omitempty"` // a failure no run could go on with
}

// validateJSON is `pvenroll validate --json`.
type validateJSON struct {
	jsonHead
	File           string           `json:"file"`
	Format         string           `json:"format"`              // csv or xlsx
	Delimiter      string           `json:"delimiter,omitempty"` // csv
	Sheet          string           `json:"sheet,omitempty"`     // xlsx
	Encoding       string           `json:"encoding"`
	EncodingFrom   string           `json:"encoding_from"` // detected, --encoding or xlsx
	Preset         string           `json:"preset"`
	Columns        []columnJSON     `json:"columns"`
	MembershipRule string           `json:"membership_rule,omitempty"`
	Rows           validateRowsJSON `json:"rows"`
	Membership     *membershipJSON  `json:"membership,omitempty"`
	Problems       []problemJSON    `json:"problems"` // the first 20
	Hints          []string         `json:"hints,omitempty"`
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
