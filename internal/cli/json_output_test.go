package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
)

// runJSON runs the command line and decodes its standard output, which
// must be one JSON object and nothing else.
func runJSON(t *testing.T, want int, v any, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Main(args, strings.NewReader(""), &out, &errOut); code != want {
		t.Fatalf("%v: exit %d, want %d: %s", args, code, want, errOut.String())
	}
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields() // the schema structs document every field
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%v: stdout is not the schema's JSON: %v\n%s", args, err, out.String())
	}
	if dec.More() {
		t.Fatalf("%v: more than one JSON value on stdout", args)
	}
	return errOut.String()
}

func TestValidateJSON(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "x.csv")
	body := "AccountId,FirstName,LastName,Email,AccountType,Status\n1,A,B,a@x.co,MEMBER,A\n2,C,D,not-an-email,MEMBER,A\n3,E,F,a@x.co,GUEST,A\n"
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var v validateJSON
	runJSON(t, ExitOK, &v, "validate", "--json", "--preset", "csi-spectrum", csv)
	if v.Schema != "pvenroll-validate" || v.Version != 1 || v.Format != "csv" || v.Delimiter != "," || v.Preset != "csi-spectrum" {
		t.Errorf("head: %+v", v)
	}
	if v.Rows != (validateRowsJSON{Usable: 1, Invalid: 1, Duplicate: 1}) {
		t.Errorf("rows: %+v", v.Rows)
	}
	if len(v.Problems) != 2 || v.Problems[0].Line != 3 || v.Problems[0].Outcome != enroll.Invalid || v.Problems[1].Outcome != enroll.Duplicate {
		t.Errorf("problems: %+v", v.Problems)
	}
	if v.Membership == nil || v.Membership.Active != 1 || v.MembershipRule == "" {
		t.Errorf("membership: %+v, rule %q", v.Membership, v.MembershipRule)
	}
	if len(v.Columns) == 0 || v.Columns[0] != (columnJSON{Field: "email", Position: 4, Name: "Email"}) {
		t.Errorf("columns: %+v", v.Columns)
	}
	// read without its preset: the hint is in the object
	runJSON(t, ExitOK, &v, "validate", "--json", csv)
	if len(v.Hints) != 1 || !strings.Contains(v.Hints[0], "--preset csi-spectrum") {
		t.Errorf("hints: %v", v.Hints)
	}
}

func TestStateAndCheckJSON(t *testing.T) {
	dir := t.TempDir()
	csv, db := filepath.Join(dir, "x.csv"), filepath.Join(dir, "s.db")
	if err := os.WriteFile(csv, []byte("email\ndana.johnson59@example.com\nnobody@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, out := range []string{"r1", "r2"} {
		var o, e bytes.Buffer
		if code := Main([]string{"enroll", "--sandbox", "--rate", "0", "-q", "--state", db, "--out", filepath.Join(dir, out), csv}, strings.NewReader(""), &o, &e); code != ExitFailedRows && code != ExitOK {
			t.Fatalf("run %d: exit %d: %s", i+1, code, e.String())
		}
	}
	var s stateJSON
	runJSON(t, ExitOK, &s, "state", "--json", db)
	if s.Schema != "pvenroll-state" || s.Version != 1 || s.RunsTotal != 2 || len(s.Runs) != 2 || s.Runs[1].Run != 2 {
		t.Errorf("state: %+v", s)
	}
	if total := sum(s.Customers); total != 2 {
		t.Errorf("customers by last outcome add up to %d, want 2: %v", total, s.Customers)
	}
	var c checkJSON
	runJSON(t, ExitOK, &c, "check", "--sandbox", "--json")
	if c.Schema != "pvenroll-check" || c.Version != 1 || !c.OK || c.Business != 25 || len(c.Checks) < 3 {
		t.Errorf("check: %+v", c)
	}
	for _, l := range c.Checks {
		if l.Status != "ok" && l.Status != "note" {
			t.Errorf("check line %+v in a passing check", l)
		}
	}
	// a failing check: the same object, ok false, the failure fatal, exit 3
	errOut := runJSON(t, ExitFatalAPI, &c, "check", "--sandbox", "--business", "26", "--json")
	failed := 0
	for _, l := range c.Checks {
		if l.Status == "fail" {
			failed++
		}
	}
	if c.OK || failed == 0 || !strings.Contains(errOut, "error: ") {
		t.Errorf("failing check: ok=%v, %d fail lines, stderr %q", c.OK, failed, errOut)
	}
}
