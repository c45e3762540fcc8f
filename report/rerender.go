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

	"github.com/pvenroll/pvenroll/enroll"
)

// ReadResults streams the results of a report.csv, calling fn for each.
func ReadResults(r io.Reader, name string, fn func(enroll.Result) error) error {
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
		r := enroll.Result{Email: get(rec, "email"), ExternalMemberID: get(rec, "external_member_id"), UserID: get(rec, "user_id"),
			FirstName: get(rec, "first_name"), LastName: get(rec, "last_name"), Outcome: enroll.Outcome(get(rec, "outcome")),
			Code: get(rec, "code"), CustomerMessage: get(rec, "customer_message"), Detail: get(rec, "detail"),
			Risk: enroll.Risk(get(rec, "risk")), ExportMembership: get(rec, "export_membership")}
		r.MembershipDiffers = strings.Contains(r.Detail, enroll.MembershipDiffersNote)
		if r.Line, err = strconv.Atoi(get(rec, "line")); err != nil {
			return fmt.Errorf("%s: line %d, column 1: line %q is not a number", name, line, get(rec, "line"))
		}
		if !r.Outcome.Valid() {
			return fmt.Errorf("%s: line %d, column %d: unknown outcome %q", name, line, idx["outcome"]+1, Cut(string(r.Outcome)))
		}
		if r.Risk != "" && !r.Risk.Valid() {
			return fmt.Errorf("%s: line %d, column %d: unknown risk %q", name, line, idx["risk"]+1, Cut(string(r.Risk)))
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

// Rerender rebuilds summary.md, summary.json's counts, the mail-merge
// follow-ups and report.html of a report directory from its report.csv,
// through the Writer that wrote them. report.csv and the retry files
// (failed, not-attempted) are left as the run wrote them: report.csv does
// not hold the input's own columns, which the retry files keep. A folder
// holding a symbolic link is refused before anything is read or written.
func Rerender(dir string) (*Summary, error) {
	if err := CheckNoLinks(dir); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, "report.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	meta, err := readMeta(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	o := Options{Delimiter: ','}
	if d := []rune(meta.Input.Delimiter); len(d) == 1 && strings.ContainsRune(",;\t|", d[0]) {
		o.Delimiter = d[0]
	}
	w := &Writer{dir: dir, opts: o, followups: map[enroll.Outcome]*atomicCSV{}, pending: map[int]enroll.Result{},
		sum: NewSummary(), rerender: true}
	if meta.Resumed != nil {
		w.sum.Resumed = *meta.Resumed // report.csv does not say which rows were resumed
	}
	seq := 0
	err = ReadResults(f, filepath.Join(dir, "report.csv"), func(r enroll.Result) error {
		seq++
		return w.Add(seq-1, r)
	})
	if err != nil {
		w.Abort()
		return nil, err
	}
	return w.sum, w.Close(meta)
}

// readMeta reads the summary.json of the report in dir.
func readMeta(dir string) (Meta, error) {
	var meta Meta
	path := filepath.Join(dir, "summary.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return meta, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("%s: %w", path, err)
	}
	return meta, nil
}
