package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func fixedMeta() Meta {
	start := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	return Meta{ToolVersion: "test", Input: Input{Path: "members.csv", Size: 1234, SHA256: strings.Repeat("ab", 32)},
		Business: BusinessInfo{ID: 25, Name: "Riverside Fitness", PerkvilleURL: "https://riverside.perkville.com/"},
		API:      APIStats{Requests: 42, ByEndpoint: map[string]int64{"GET /v2/connections/": 30, "PATCH /v2/connections/{id}/": 12}, Retries: 3, Throttled: 1},
		Start:    start, End: start.Add(95 * time.Second), ExitCode: 1}
}

// mix makes n results whose outcomes cycle through the list.
func mix(n int, outcomes ...enroll.Outcome) []enroll.Result {
	var rs []enroll.Result
	for i := 0; i < n; i++ {
		o := outcomes[i%len(outcomes)]
		r := enroll.Result{Line: i + 2, Email: fmt.Sprintf("p%d@example.com", i), FirstName: "Pat", LastName: fmt.Sprintf("N%d", i),
			ExternalMemberID: fmt.Sprintf("A-%d", i), Outcome: o, Attempts: 2, Raw: []string{fmt.Sprintf("A-%d", i), fmt.Sprintf("p%d@example.com", i), "=cmd|' /C calc'!A0"}}
		switch o {
		case enroll.NeedsAgreement:
			r.Code, r.CustomerMessage = "pv_agreement_required", "Please review and accept the required terms to join at https://riverside.perkville.com/"
		case enroll.Failed, enroll.Interrupted:
			r.Code, r.Detail = "http_500", "PATCH /v2/connections/{id}/: 500 Internal Server Error (retries exhausted; safe to rerun)"
		case enroll.Joined:
			r.ConnectionID, r.Actions = int64(1000+i), []string{"activated"}
		}
		rs = append(rs, r)
	}
	return rs
}

func writeReportMeta(t *testing.T, rs []enroll.Result, meta Meta) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, Options{InputHeader: []string{"Member ID", "Email", "Notes"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if err := w.Add(i, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(meta); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeReport(t *testing.T, rs []enroll.Result, shuffle bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, Options{InputHeader: []string{"Member ID", "Email", "Notes"}})
	if err != nil {
		t.Fatal(err)
	}
	order := make([]int, len(rs))
	for i := range order {
		order[i] = i
	}
	if shuffle {
		// Nearly in order, as workers finish: swap neighbours.
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i+1 < len(order); i++ {
			if r.IntN(3) == 0 {
				order[i], order[i+1] = order[i+1], order[i]
				i++
			}
		}
	}
	maxPending := 0
	for _, i := range order {
		if err := w.Add(i, rs[i]); err != nil {
			t.Fatal(err)
		}
		maxPending = max(maxPending, len(w.pending))
	}
	if maxPending > 2 {
		t.Fatalf("reorder buffer held %d rows for neighbours swapped", maxPending)
	}
	if err := w.Close(fixedMeta()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readCSV reads a report file: report.csv, or a follow-up file (which
// starts with a BOM and uses the input's delimiter, here a comma).
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	isFollowUp := filepath.Base(filepath.Dir(path)) == "followup"
	if bom := bytes.HasPrefix(b, []byte(utf8BOM)); bom != isFollowUp {
		t.Fatalf("%s: starts with a BOM: %v", path, bom)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte(utf8BOM)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestReportInInputOrderAndCountsAddUp(t *testing.T) {
	for _, outcomes := range [][]enroll.Outcome{
		{enroll.Joined},
		{enroll.Joined, enroll.AlreadyActive, enroll.NeedsAgreement, enroll.Failed},
		enroll.Outcomes,
		{enroll.Invalid, enroll.Duplicate, enroll.NotAttempted},
	} {
		rs := mix(250, outcomes...)
		dir := writeReport(t, rs, true)
		recs := readCSV(t, filepath.Join(dir, "report.csv"))
		if strings.Join(recs[0][:11], ",") != "line,email,external_member_id,user_id,outcome,code,customer_message,detail,connection_id,actions,attempts" {
			t.Fatalf("header %v", recs[0])
		}
		if len(recs)-1 != len(rs) {
			t.Fatalf("%d rows in report.csv, want %d", len(recs)-1, len(rs))
		}
		for i, rec := range recs[1:] {
			if rec[0] != fmt.Sprint(rs[i].Line) {
				t.Fatalf("row %d is line %s, want %d: not in input order", i, rec[0], rs[i].Line)
			}
		}
		var meta Meta
		b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range meta.Outcomes {
			total += n
		}
		if total != len(rs) || meta.Input.Rows != len(rs) || meta.SchemaVersion != 1 {
			t.Fatalf("outcomes add up to %d, rows %d, want %d", total, meta.Input.Rows, len(rs))
		}
		for _, o := range enroll.FollowUp {
			path := filepath.Join(dir, "followup", string(o)+".csv")
			n := 0
			for _, r := range rs {
				if r.Outcome == o {
					n++
				}
			}
			if _, err := os.Stat(path); (err == nil) != (n > 0) {
				t.Fatalf("%s: exists=%v with %d rows", path, err == nil, n)
			}
			if n > 0 && len(readCSV(t, path))-1 != n {
				t.Fatalf("%s holds %d rows, want %d", path, len(readCSV(t, path))-1, n)
			}
		}
	}
}

func TestFormulaCellsNeutralised(t *testing.T) {
	rs := mix(4, enroll.Failed, enroll.NeedsAgreement)
	for i := range rs {
		rs[i].Email = "=HYPERLINK(\"http://evil\")"
		rs[i].Detail = "+1"
		rs[i].FirstName = "@SUM(A1)"
		rs[i].LastName = "-2"
	}
	dir := writeReport(t, rs, false)
	for _, rec := range readCSV(t, filepath.Join(dir, "report.csv"))[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("cell %q would run as a formula", cell)
			}
		}
	}
	na := readCSV(t, filepath.Join(dir, "followup", "needs-agreement.csv"))
	if na[1][1] != `'=HYPERLINK("http://evil")` {
		t.Fatalf("follow-up email %q", na[1][1])
	}
	// Retry files are input for the next run: cells as they were read.
	failed := readCSV(t, filepath.Join(dir, "followup", "failed.csv"))
	if strings.Join(failed[0], ",") != "Member ID,Email,Notes" || failed[1][2] != "=cmd|' /C calc'!A0" {
		t.Fatalf("retry file %v", failed)
	}
}

func TestModesAndNoPartialFiles(t *testing.T) {
	dir := writeReport(t, mix(30, enroll.Outcomes...), false)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := FileMode
		if fi.IsDir() {
			want = DirMode
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		if strings.HasSuffix(p, ".partial") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Prepare(dir); !errors.Is(err, ErrOutNotEmpty) {
		t.Fatalf("an existing non-empty --out: %v", err)
	}
	empty := t.TempDir()
	if err := Prepare(empty); err != nil {
		t.Fatalf("an existing empty --out: %v", err)
	}
}

func TestUnfinishedReportLooksUnfinished(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := Prepare(dir); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs := mix(3, enroll.Joined)
	_ = w.Add(0, rs[0])
	_ = w.Add(2, rs[2])
	// A crash now leaves no report.csv, only a hidden .partial file.
	if _, err := os.Stat(filepath.Join(dir, "report.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("report.csv exists before Close: %v", err)
	}
	if err := w.Close(fixedMeta()); err == nil {
		t.Fatal("Close with a row missing must fail")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("a failed report left %d files", len(entries))
	}
	if err := w.Add(0, rs[0]); err == nil {
		t.Fatal("a row reported twice must fail")
	}
}

// historyMeta is fixedMeta with n runs of history, the last this one.
func historyMeta(n int) Meta {
	meta := fixedMeta()
	for i := 1; i <= n; i++ {
		status := "finished"
		if i == 3 {
			status = "running" // killed: no counts
		}
		h := HistoryRun{Run: uint64(i), Start: meta.Start.AddDate(0, 0, i-n), Status: status, Counts: map[enroll.Outcome]int{}}
		if status == "finished" {
			h.Counts = map[enroll.Outcome]int{enroll.Joined: 40 / i, enroll.AlreadyActive: 1000 + 40*i, enroll.NeedsAgreement: 30 - i, enroll.OptedOut: i % 3, enroll.Failed: 1}
		}
		meta.History = append(meta.History, h)
	}
	return meta
}

// chartBars reads report.html's chart of recent runs: series -> run -> the
// bar's count and height.
func chartBars(t *testing.T, page []byte) map[string]map[string][2]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	bars := map[string]map[string][2]int{}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return bars
		}
		if err != nil {
			t.Fatalf("report.html does not parse: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "rect" {
			continue
		}
		a := map[string]string{}
		for _, at := range se.Attr {
			a[at.Name.Local] = at.Value
		}
		if a["class"] != "run" {
			continue
		}
		var count, height int
		if _, err := fmt.Sscan(a["data-count"], &count); err != nil {
			t.Fatalf("bar %v: %v", a, err)
		}
		if _, err := fmt.Sscan(a["height"], &height); err != nil {
			t.Fatalf("bar %v: %v", a, err)
		}
		if bars[a["data-series"]] == nil {
			bars[a["data-series"]] = map[string][2]int{}
		}
		bars[a["data-series"]][a["data-run"]] = [2]int{count, height}
	}
}

func TestHistoryChartBarsMatchTheRuns(t *testing.T) {
	meta := historyMeta(30)
	var buf bytes.Buffer
	if err := HTML(&buf, NewSummary(), meta); err != nil {
		t.Fatal(err)
	}
	bars := chartBars(t, buf.Bytes())
	if len(bars) != len(HistorySeries) {
		t.Fatalf("%d series charted, want %d", len(bars), len(HistorySeries))
	}
	for _, s := range HistorySeries {
		most := 0
		for _, r := range meta.History {
			most = max(most, r.Counts[s.Outcome])
		}
		if len(bars[string(s.Outcome)]) != len(meta.History) {
			t.Fatalf("%s: %d bars for %d runs", s.Outcome, len(bars[string(s.Outcome)]), len(meta.History))
		}
		for _, r := range meta.History {
			b := bars[string(s.Outcome)][fmt.Sprint(r.Run)]
			want := r.Counts[s.Outcome]
			if b[0] != want {
				t.Errorf("%s, run %d: bar says %d, the run %d", s.Outcome, r.Run, b[0], want)
			}
			// Heights are to scale within a series, and a count is never
			// drawn as nothing.
			if wantH := want * histPanelH / max(most, 1); b[1] != wantH && !(want > 0 && wantH == 0 && b[1] == 1) {
				t.Errorf("%s, run %d: height %d for %d of %d, want %d", s.Outcome, r.Run, b[1], want, most, wantH)
			}
		}
	}
	// pvenroll report redraws the chart from summary.json.
	dir := writeReportMeta(t, mix(20, enroll.Joined, enroll.Failed), meta)
	page := readFile(t, dir, "report.html")
	if err := os.Remove(filepath.Join(dir, "report.html")); err != nil {
		t.Fatal(err)
	}
	if _, err := Rerender(dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, readFile(t, dir, "report.html")) || len(chartBars(t, page)) != len(HistorySeries) {
		t.Fatal("the re-rendered page lost the run history")
	}
	// No history, no chart.
	buf.Reset()
	if err := HTML(&buf, NewSummary(), fixedMeta()); err != nil {
		t.Fatal(err)
	}
	if len(chartBars(t, buf.Bytes())) != 0 || strings.Contains(buf.String(), `id="history"`) {
		t.Fatal("a report without --state shows a run history")
	}
}

// dryRows is a dry run's results: would-join rows, some at risk, and
// rows the export marks inactive.
func dryRows() []enroll.Result {
	rs := mix(60, enroll.WouldJoin, enroll.AlreadyActive, enroll.WouldJoin, enroll.NeedsAgreement, enroll.WouldJoin)
	for i := range rs {
		if rs[i].Outcome == enroll.WouldJoin && i%4 == 0 {
			rs[i].Risk = enroll.Risks[i%len(enroll.Risks)]
			rs[i].Detail = "dry run: " + rs[i].Risk.Description()
		}
		if i%5 == 0 {
			rs[i].ExportMembership = "INACTIVE"
		}
	}
	return rs
}

func TestGolden(t *testing.T) {
	meta := fixedMeta()
	meta.DryRun, meta.ExitCode = true, 0
	meta.Preset = &PresetInfo{Name: "abc-ignite", MembershipFrom: "isActive and joinStatus, the abc-ignite rule", AtCreationOnly: true}
	for _, tt := range []struct {
		name string
		rs   []enroll.Result
		meta Meta
	}{
		{"", mix(130, enroll.Joined, enroll.AlreadyActive, enroll.NeedsAgreement, enroll.NeedsAgreement, enroll.Failed, enroll.OptedOut, enroll.Invalid), historyMeta(7)},
		{"dry-run-", dryRows(), meta},
	} {
		dir := writeReportMeta(t, tt.rs, tt.meta)
		for _, name := range []string{"summary.md", "report.html"} {
			got := readFile(t, dir, name)
			golden := filepath.Join("testdata", tt.name+name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./report -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (go test ./report -update rewrites it)", name, golden)
			}
		}
	}
}

func TestDryRunSplitInEveryFile(t *testing.T) {
	meta := fixedMeta()
	meta.DryRun = true
	rs := dryRows()
	dir := writeReportMeta(t, rs, meta)
	wouldJoin, atRisk, inactive := 0, map[string]int{}, 0
	for _, r := range rs {
		if r.Outcome == enroll.WouldJoin {
			wouldJoin++
			if r.Risk != "" {
				atRisk[string(r.Risk)]++
			}
		}
		if r.ExportMembership == "INACTIVE" {
			inactive++
		}
	}
	if len(atRisk) != len(enroll.Risks) {
		t.Fatalf("the test rows show %d of %d risks", len(atRisk), len(enroll.Risks))
	}
	var got Meta
	if err := json.Unmarshal(readFile(t, dir, "summary.json"), &got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.DryRunAtRisk) != fmt.Sprint(atRisk) || got.ExportInactive != inactive || !got.DryRun {
		t.Fatalf("summary.json: at risk %v, export inactive %d; want %v, %d", got.DryRunAtRisk, got.ExportInactive, atRisk, inactive)
	}
	risky := 0
	for _, n := range atRisk {
		risky += n
	}
	md := string(readFile(t, dir, "summary.md"))
	html := string(readFile(t, dir, "report.html"))
	for _, want := range []string{fmt.Sprintf("| would join | %d |", wouldJoin-risky), fmt.Sprintf("| would try, likely refused | %d |", risky),
		fmt.Sprintf("Export says inactive: %d rows.", inactive)} {
		if !strings.Contains(md, want) {
			t.Errorf("summary.md lacks %q", want)
		}
	}
	for r, n := range atRisk {
		if !strings.Contains(md, fmt.Sprintf("| · %s | %d |", enroll.Risk(r).Description(), n)) {
			t.Errorf("summary.md lacks the %s count %d", r, n)
		}
		if !strings.Contains(html, fmt.Sprintf(`<tr data-risk="%s"><td>· %s</td><td class="n">%d</td></tr>`, r, enroll.Risk(r).Description(), n)) {
			t.Errorf("report.html lacks the %s count %d", r, n)
		}
	}
	if !strings.Contains(html, fmt.Sprintf(`<tr data-split="would-try"><td>would try, likely refused</td><td class="n">%d</td></tr>`, risky)) {
		t.Error("report.html lacks the would-try count")
	}
	// A re-render reads the risks back from report.csv.
	if _, err := Rerender(dir); err != nil {
		t.Fatal(err)
	}
	if string(readFile(t, dir, "summary.md")) != md {
		t.Fatal("the re-rendered summary.md differs")
	}
	// A real run carries no dry_run_at_risk; a dry run without risks {}.
	real := writeReport(t, mix(10, enroll.Joined), false)
	if strings.Contains(string(readFile(t, real, "summary.json")), "dry_run_at_risk") {
		t.Fatal("a real run's summary.json has dry_run_at_risk")
	}
	meta.DryRun = true
	none := writeReportMeta(t, mix(10, enroll.WouldJoin), meta)
	if !strings.Contains(string(readFile(t, none, "summary.json")), `"dry_run_at_risk": {}`) {
		t.Fatal("a dry run without risks lacks dry_run_at_risk: {}")
	}
}

func TestCellsCutInTheReportNotInRetryFiles(t *testing.T) {
	long := strings.Repeat("é", 3000) // runes, not bytes, are counted
	rs := mix(6, enroll.Failed, enroll.NeedsAgreement, enroll.Joined)
	for i := range rs {
		rs[i].Detail, rs[i].FirstName = long, long
		rs[i].Raw = []string{"A-1", long, "x"}
	}
	dir := writeReport(t, rs, false)
	cut := strings.Repeat("é", MaxCell) + "…[cut: 3000 chars]"
	if Cut(long) != cut || Cut(cut) != cut || Cut("short") != "short" {
		t.Fatalf("Cut: %d runes", len([]rune(Cut(long))))
	}
	for _, rec := range readCSV(t, filepath.Join(dir, "report.csv"))[1:] {
		if rec[7] != cut || rec[11] != cut {
			t.Fatalf("report.csv cells not cut: %d runes", len([]rune(rec[7])))
		}
	}
	na := readCSV(t, filepath.Join(dir, "followup", "needs-agreement.csv"))
	if na[1][2] != cut {
		t.Fatal("the mail-merge file's name is not cut")
	}
	for name, marker := range map[string]string{"summary.md": mdCell("…[cut: 3000 chars]"), "report.html": "…[cut: 3000 chars]"} {
		b := string(readFile(t, dir, name))
		if strings.Contains(b, strings.Repeat("é", MaxCell+1)) || !strings.Contains(b, marker) {
			t.Fatalf("%s: cells not cut with the marker", name)
		}
	}
	// The retry file keeps the input as read.
	if failed := readCSV(t, filepath.Join(dir, "followup", "failed.csv")); failed[1][1] != long {
		t.Fatal("the retry file's cell was cut")
	}
	// A re-render keeps the original length in the marker.
	md := readFile(t, dir, "summary.md")
	if _, err := Rerender(dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, readFile(t, dir, "summary.md")) {
		t.Fatal("the re-render cut the cut cells again")
	}
}

func TestSummarySnapshotWhileAdding(t *testing.T) {
	s := NewSummary()
	rs := mix(2000, enroll.Outcomes...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, r := range rs {
			s.Add(r)
		}
	}()
	last := 0
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		tally := s.Snapshot()
		total := 0
		for _, n := range tally.Counts {
			total += n
		}
		if total != tally.Rows || tally.Rows < last {
			t.Fatalf("snapshot: counts add up to %d of %d rows (before: %d)", total, tally.Rows, last)
		}
		last = tally.Rows
	}
	if tally := s.Snapshot(); tally.Rows != len(rs) || tally.Counts[enroll.Joined] != s.Counts[enroll.Joined] {
		t.Fatalf("final snapshot %d rows, joined %d", tally.Rows, tally.Counts[enroll.Joined])
	}
}

func TestRecordedAndSettled(t *testing.T) {
	for _, o := range enroll.Outcomes {
		switch o {
		case enroll.Failed, enroll.Interrupted:
			if !o.Recorded() || o.Settled() {
				t.Errorf("%s: recorded, so as not to be taken for done, but not settled", o)
			}
		case enroll.Joined, enroll.AlreadyActive, enroll.NeedsAgreement, enroll.MembershipInactive, enroll.OptedOut, enroll.NotFound, enroll.Conflict:
			if !o.Recorded() || !o.Settled() {
				t.Errorf("%s: an API answer decided it: recorded and settled", o)
			}
		default:
			if o.Recorded() || o.Settled() {
				t.Errorf("%s: no API answer decided it", o)
			}
		}
	}
}

func TestHTMLParsesWithOneBarPerGroup(t *testing.T) {
	for _, outcomes := range [][]enroll.Outcome{{enroll.Joined}, {enroll.Joined, enroll.Failed, enroll.NeedsAgreement}, enroll.Outcomes} {
		var buf bytes.Buffer
		s := NewSummary()
		for _, r := range mix(40, outcomes...) {
			s.Add(r)
		}
		if err := HTML(&buf, s, fixedMeta()); err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(&buf)
		d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
		bars, external := 0, 0
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("HTML does not parse: %v", err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				for _, a := range se.Attr {
					if a.Name.Local == "class" && a.Value == "bar" {
						bars++
					}
					if (a.Name.Local == "src" || a.Name.Local == "href") && strings.Contains(a.Value, "//") {
						external++
					}
				}
				if se.Name.Local == "script" || se.Name.Local == "link" {
					external++
				}
			}
		}
		groups := 0
		for _, o := range enroll.Outcomes {
			if s.Counts[o] > 0 {
				groups++
			}
		}
		if bars != groups || external != 0 {
			t.Fatalf("%d bars for %d groups, %d external assets", bars, groups, external)
		}
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// formulaRows are results whose cells a spreadsheet would run, in every
// kind of file: report.csv, mail merge, retry.
func formulaRows(n int) []enroll.Result {
	rs := mix(n, enroll.Outcomes...)
	for i := range rs {
		rs[i].FirstName = "=HYPERLINK(\"http://evil\")"
		rs[i].Detail = "+1"
		rs[i].Raw = []string{"@SUM(A1)", fmt.Sprintf("p%d@example.com", i), "-2;x"}
	}
	return rs
}

func TestRerenderMatchesTheRun(t *testing.T) {
	dir := writeReport(t, formulaRows(120), false)
	names := []string{"report.csv", "summary.md", "report.html", "summary.json", "followup/needs-agreement.csv", "followup/invalid.csv"}
	before := map[string][]byte{}
	for _, name := range names {
		before[name] = readFile(t, dir, name)
	}
	for _, name := range []string{"summary.md", "report.html", "followup/needs-agreement.csv"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	// An operator's edit of a retry file survives: re-rendering never
	// writes them.
	edited := []byte("Member ID,Email,Notes\nA-1,fixed@example.com,kept\n")
	if err := os.WriteFile(filepath.Join(dir, "followup", "failed.csv"), edited, FileMode); err != nil {
		t.Fatal(err)
	}
	notAttempted := readFile(t, dir, "followup/not-attempted.csv")
	if _, err := Rerender(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if !bytes.Equal(before[name], readFile(t, dir, name)) {
			t.Errorf("re-rendered %s differs from the run's", name)
		}
	}
	if !bytes.Equal(readFile(t, dir, "followup/failed.csv"), edited) || !bytes.Equal(readFile(t, dir, "followup/not-attempted.csv"), notAttempted) {
		t.Error("re-rendering rewrote a retry file")
	}
	// The mail-merge file came back neutralised.
	na := readCSV(t, filepath.Join(dir, "followup", "needs-agreement.csv"))
	if na[1][2] != `'=HYPERLINK("http://evil")` || na[1][8] != "'+1" {
		t.Fatalf("re-rendered mail merge %q", na[1])
	}
}

func TestRerenderRemovesStaleMailMergeOnly(t *testing.T) {
	dir := writeReport(t, mix(20, enroll.Joined, enroll.Failed), false)
	stale := filepath.Join(dir, "followup", "conflict.csv")
	if err := os.WriteFile(stale, []byte("line\n"), FileMode); err != nil {
		t.Fatal(err)
	}
	if _, err := Rerender(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a mail-merge file of an outcome no longer in report.csv is kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "followup", "failed.csv")); err != nil {
		t.Fatalf("the retry file is gone: %v", err)
	}
}

func TestFollowUpsInTheInputsDialect(t *testing.T) {
	for _, delim := range []rune{',', ';', '\t', '|'} {
		dir := filepath.Join(t.TempDir(), "out")
		if err := Prepare(dir); err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(dir, Options{InputHeader: []string{"Member ID", "Email", "Notes"}, Delimiter: delim})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range formulaRows(24) {
			r.LastName = "Müller"
			if err := w.Add(i, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(fixedMeta()); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"needs-agreement.csv", "failed.csv"} {
			b := readFile(t, dir, "followup/"+name)
			if !bytes.HasPrefix(b, []byte(utf8BOM)) {
				t.Fatalf("%c: %s has no UTF-8 BOM", delim, name)
			}
			cr := csv.NewReader(bytes.NewReader(b[len(utf8BOM):]))
			cr.Comma = delim
			recs, err := cr.ReadAll()
			if err != nil {
				t.Fatalf("%c: %s: %v", delim, name, err)
			}
			wantCols := len(FollowUpColumns)
			if name == "failed.csv" {
				wantCols = 3
				if recs[1][0] != "@SUM(A1)" || recs[1][2] != "-2;x" {
					t.Fatalf("%c: retry cells changed: %q", delim, recs[1])
				}
			} else if recs[1][3] != "Müller" {
				t.Fatalf("%c: %s: last name %q", delim, name, recs[1][3])
			}
			if len(recs[0]) != wantCols {
				t.Fatalf("%c: %s: %d columns in %q, want %d", delim, name, len(recs[0]), recs[0], wantCols)
			}
		}
		// report.csv stays the machine format: comma, no BOM.
		recs := readCSV(t, filepath.Join(dir, "report.csv"))
		if strings.Join(recs[0], ",") != strings.Join(Columns, ",") {
			t.Fatalf("%c: report.csv header %q", delim, recs[0])
		}
		var meta Meta
		if err := json.Unmarshal(readFile(t, dir, "summary.json"), &meta); err != nil || meta.Input.Delimiter != string(delim) {
			t.Fatalf("%c: summary.json delimiter %q (%v)", delim, meta.Input.Delimiter, err)
		}
	}
	if _, err := NewWriter(t.TempDir(), Options{Delimiter: '"'}); err == nil {
		t.Fatal("a quote as the delimiter must be refused")
	}
}
