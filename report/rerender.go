package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RetryColumns head a retry file rebuilt from report.csv, where the input's
// own columns are no longer known; enroll reads them by their names.
var RetryColumns = []string{"email", "external_member_id", "user_id", "first_name", "last_name"}

// ReadResults streams the results of a report.csv, calling fn for each.
func ReadResults(r io.Reader, name string, fn func(Result) error) error {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: no header: %w", name, err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[h] = i
	}
	for _, c := range Columns[:11] {
		if _, ok := idx[c]; !ok {
			return fmt.Errorf("%s: line 1: column %q is missing; is this a pvenroll report.csv?", name, c)
		}
	}
	get := func(rec []string, col string) string {
		if i, ok := idx[col]; ok && i < len(rec) {
			return unNeutralise(rec[i])
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		r := Result{Email: get(rec, "email"), ExternalMemberID: get(rec, "external_member_id"), UserID: get(rec, "user_id"),
			FirstName: get(rec, "first_name"), LastName: get(rec, "last_name"), Outcome: Outcome(get(rec, "outcome")),
			Code: get(rec, "code"), CustomerMessage: get(rec, "customer_message"), Detail: get(rec, "detail")}
		r.MembershipDiffers = strings.Contains(r.Detail, MembershipDiffersNote)
		if r.Line, err = strconv.Atoi(get(rec, "line")); err != nil {
			return fmt.Errorf("%s: line %d, column 1: line %q is not a number", name, line, get(rec, "line"))
		}
		if !r.Outcome.Valid() {
			return fmt.Errorf("%s: line %d, column %d: unknown outcome %q", name, line, idx["outcome"]+1, r.Outcome)
		}
		r.ConnectionID, _ = strconv.ParseInt(get(rec, "connection_id"), 10, 64)
		r.Attempts, _ = strconv.Atoi(get(rec, "attempts"))
		if a := get(rec, "actions"); a != "" {
			r.Actions = strings.Split(a, ";")
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

func unNeutralise(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

// Rerender rebuilds summary.md, summary.json's counts, followup/ and
// report.html of a report directory from its report.csv.
func Rerender(dir string) (*Summary, error) {
	f, err := os.Open(filepath.Join(dir, "report.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var meta Meta
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err == nil {
		if err := json.Unmarshal(b, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "summary.json"), err)
		}
	}
	followups := map[Outcome]*atomicCSV{}
	abort := func() {
		for _, a := range followups {
			a.Abort()
		}
	}
	sum := NewSummary()
	err = ReadResults(f, filepath.Join(dir, "report.csv"), func(r Result) error {
		sum.Add(r)
		if !r.Outcome.NeedsFollowUp() {
			return nil
		}
		a := followups[r.Outcome]
		if a == nil {
			header := FollowUpColumns
			if r.Outcome.Retryable() {
				header = RetryColumns
			}
			var err error
			if a, err = newFollowUp(dir, r.Outcome, header); err != nil {
				return err
			}
			followups[r.Outcome] = a
		}
		if r.Outcome.Retryable() {
			return a.WriteRaw([]string{r.Email, r.ExternalMemberID, r.UserID, r.FirstName, r.LastName})
		}
		return a.Write(FollowUpRecord(r))
	})
	if err != nil {
		abort()
		return nil, err
	}
	// Follow-up files of outcomes no longer present are stale.
	for _, o := range FollowUp {
		if followups[o] == nil {
			if err := os.Remove(filepath.Join(dir, "followup", string(o)+".csv")); err != nil && !errors.Is(err, os.ErrNotExist) {
				abort()
				return nil, err
			}
		}
	}
	for _, a := range followups {
		if err := a.Commit(); err != nil {
			abort()
			return nil, err
		}
	}
	return sum, WriteSummaries(dir, sum, meta)
}
