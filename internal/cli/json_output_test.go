package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/ledger"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// runJSON runs the command line and decodes its standard output, which
// must be one JSON object and nothing else.
func runJSON(t *testing.T, want int, v any, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Main(args, strings.NewReader(""), &out, &errOut); code != want {
		t.Fatalf("%v: exit %d, want %d: %s", args, code, want, errOut.String())
	}
	everyField(t, out.Bytes(), reflect.TypeOf(v).Elem())
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
	if v.Schema != "pvenroll-validate" || v.Version != 2 || v.Error != nil || v.Format != "csv" || v.Delimiter != "," || v.Preset != "csi-spectrum" {
		t.Errorf("head: %+v", v)
	}
	if v.Rows != (validateRowsJSON{Usable: 1, Invalid: 1, Duplicate: 1}) {
		t.Errorf("rows: %+v", v.Rows)
	}
	if len(v.Problems) != 2 || v.Problems[0].Line != 3 || v.Problems[0].Outcome != enroll.Invalid || v.Problems[1].Outcome != enroll.Duplicate {
		t.Errorf("problems: %+v", v.Problems)
	}
	if v.Membership.Active != 1 || v.MembershipRule == "" {
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
	if s.Schema != "pvenroll-state" || s.Version != 2 || s.Error != nil || s.RunsTotal != 2 || len(s.Runs) != 2 || s.Runs[1].Run != 2 {
		t.Errorf("state: %+v", s)
	}
	if total := sum(s.Customers); total != 2 {
		t.Errorf("customers by last outcome add up to %d, want 2: %v", total, s.Customers)
	}
	var c checkJSON
	runJSON(t, ExitOK, &c, "check", "--sandbox", "--json")
	if c.Schema != "pvenroll-check" || c.Version != 2 || c.Error != nil || !c.OK || c.Business != 25 || len(c.Checks) < 3 {
		t.Errorf("check: %+v", c)
	}
	ids := map[string]bool{}
	for _, l := range c.Checks {
		if l.Status != "ok" && l.Status != "note" {
			t.Errorf("check line %+v in a passing check", l)
		}
		if l.ID == "" || ids[l.ID] || len(l.Name) > 40 {
			t.Errorf("check line %+v: its id is not a key of its own, or its name is not short", l)
		}
		ids[l.ID] = true
	}
	for _, id := range []string{checkTokenScopes, pv.CheckAPI, pv.CheckBusiness, pv.CheckAdminRights} {
		if !ids[id] {
			t.Errorf("no check line %q: %+v", id, c.Checks)
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
	if !strings.Contains(errOut, "error: 1 of 3 checks failed\n") { // the note is no check
		t.Errorf("failing check: stderr %q", errOut)
	}
	if c.Error == nil || !strings.Contains(errOut, "error: "+c.Error.Message) || len(c.Error.Hints) == 0 || !strings.Contains(errOut, "hint: "+c.Error.Hints[0]) {
		t.Errorf("failing check: the object's error %+v is not stderr's %q", c.Error, errOut)
	}
}

// everyField fails unless the JSON in out holds every field of the schema
// type typ, in nested objects and in each element of a list too: a
// documented field is never left out.
func everyField(t *testing.T, out []byte, typ reflect.Type) {
	t.Helper()
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct:
		var list []json.RawMessage
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatalf("not a list: %v\n%s", err, out)
		}
		for _, e := range list {
			everyField(t, e, typ.Elem())
		}
	case typ.Kind() == reflect.Struct && bytes.HasPrefix(out, []byte("{")): // not time.Time
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(out, &obj); err != nil {
			t.Fatalf("not a JSON object: %v\n%s", err, out)
		}
		everyStructField(t, obj, typ, out)
	}
}

func everyStructField(t *testing.T, obj map[string]json.RawMessage, typ reflect.Type, out []byte) {
	t.Helper()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			everyStructField(t, obj, f.Type, out)
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		v, ok := obj[name]
		if !ok {
			t.Errorf("field %q missing from %s", name, out)
			continue
		}
		if string(v) != "null" {
			everyField(t, v, f.Type)
		}
	}
}

// A command that fails prints one object too: its head and error alone
// when it failed before making its object, else the object with its error.
func TestJSONWhenTheCommandFails(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.csv")
	for _, args := range [][]string{
		{"validate", "--json", missing},
		{"validate", "--json"},
		{"validate", "--bogus", "--json", missing},
		{"state", "--json", missing},
		{"check", "--json", "--api", "http://127.0.0.1:1", "--business", "0"},
	} {
		var h jsonHead
		errOut := runJSON(t, ExitUsage, &h, args...)
		if h.Schema != "pvenroll-"+args[0] || h.Version != 2 || h.Error == nil || h.Error.Message == "" || h.Error.Hints == nil {
			t.Errorf("%v: %+v", args, h)
			continue
		}
		if !strings.Contains(errOut, "error: "+h.Error.Message) {
			t.Errorf("%v: the object's error %q is not stderr's %q", args, h.Error.Message, errOut)
		}
	}
	// validate makes its object, then fails: no usable row
	csv := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(csv, []byte("email\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var v validateJSON
	runJSON(t, ExitUsage, &v, "validate", "--json", csv)
	if v.Error == nil || !strings.Contains(v.Error.Message, "no usable row") || v.Rows.Invalid != 1 || len(v.Problems) != 1 {
		t.Errorf("no usable row: %+v", v)
	}
}

// A run that ended before it counted (killed after it began) is in state
// --json with its counts {}, not without them.
func TestStateJSONOfARunThatNeverCounted(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	l, err := ledger.Open(db, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Begin(ledger.Start{Input: "x.csv", Out: "out", At: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var s stateJSON
	runJSON(t, ExitOK, &s, "state", "--json", db) // every field there, counts too
	if len(s.Runs) != 1 || s.Runs[0].Counts == nil || len(s.Runs[0].Counts) != 0 {
		t.Errorf("runs: %+v", s.Runs)
	}
}
