package cli

import (
	"fmt"
	"io"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// checkTokenScopes is the ID of check's line on the token's scopes (the
// preflight's own lines have theirs in perkville).
const checkTokenScopes = "token_scopes"

// checkTally is what check's lines add up to.
type checkTally struct {
	lines  []checkLineJSON
	checks int // the lines a request proved: a note is no check
	failed int
	code   int // the exit code when a check failed
	hints  []string
}

// tallyChecks reads check's results: the lines, how many checks failed,
// with what exit code (3 when no run could go on, else 1), and what to do.
func tallyChecks(results []pv.Check, ep *endpoint) checkTally {
	t := checkTally{lines: []checkLineJSON{}, code: ExitFailedRows}
	for _, r := range results {
		status := "ok"
		if r.Note {
			status = "note"
		} else {
			t.checks++
		}
		if !r.OK {
			status = "fail"
			t.failed++
			t.hints = append(t.hints, apiHints(r.Err, ep)...)
			if h := checkHint(r); h != "" {
				t.hints = append(t.hints, h)
			}
			if r.Fatal {
				t.code = ExitFatalAPI // no run could go on
			}
		}
		t.lines = append(t.lines, checkLineJSON{ID: r.ID, Name: r.Name, Status: status, Detail: r.Detail, Fatal: !r.OK && r.Fatal})
	}
	if t.failed > 0 && len(t.hints) == 0 {
		t.hints = append(t.hints, "the FAIL lines say what the API answered; 'pvenroll check --report api-shapes.json' records it, to send Perkville support")
	}
	return t
}

// checkHint is what to do about a failed line that a run can go on with,
// which no API error's hint covers.
func checkHint(r pv.Check) string {
	if r.ID == pv.CheckProgramURL {
		return "a run can go on: Perkville support can set the business's perkville_url to its program's https page, which customer messages link to"
	}
	return ""
}

// printChecks prints check's lines as text, one a line, marked ok, note
// or FAIL. A line quotes the API (the business's name, its URL): it is
// printed terminal-safe.
func printChecks(w io.Writer, lines []checkLineJSON) {
	marks := map[string]string{"ok": "ok  ", "note": "note", "fail": "FAIL"}
	for _, l := range lines {
		fmt.Fprintf(w, "%s %s", marks[l.Status], termText(l.Name))
		if l.Detail != "" {
			fmt.Fprintf(w, ": %s", termText(l.Detail))
		}
		fmt.Fprintln(w)
	}
}
