package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

var runStart = time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)

// continuedReport is run 3's report, which continued runs 1 and 2: of its
// five joins, two were resumed, from runs 1 and 2; it holds four
// needs-agreement rows, one of them waiting since an earlier run.
func continuedReport(run2Requests *int64) (*Summary, Meta) {
	s := NewSummary()
	add := func(o enroll.Outcome, from uint64) {
		s.Add(enroll.Result{Outcome: o, Resumed: from != 0, ResumedFrom: from})
	}
	for range 3 {
		add(enroll.Joined, 0)
	}
	add(enroll.Joined, 2)
	add(enroll.Joined, 1)
	for range 4 {
		add(enroll.NeedsAgreement, 0)
	}
	one := int64(40)
	meta := Meta{Input: Input{Path: "members.csv"}, Run: 3, Resumed: &s.Resumed,
		Start: runStart.Add(time.Hour), End: runStart.Add(time.Hour + time.Minute), ExitCode: 0,
		API: APIStats{Requests: 100, Retries: 2},
		Earlier: []RunPart{
			{Run: 1, Start: runStart, End: runStart.Add(20 * time.Second), Stop: "interrupted", Requests: &one},
			{Run: 2, Start: runStart.Add(30 * time.Minute), Requests: run2Requests},
		},
		Changes: &Changes{SinceRun: 2, StillWaiting: 1}}
	return s, meta
}

// A continued report says, in summary.md and report.html, which rows this
// run decided and which it resumed, from which runs, and which command its
// Run: and API lines cover; a total of requests only when every part's is
// known.
func TestContinuedReportCreditsEachRun(t *testing.T) {
	sixty := int64(60)
	for _, c := range []struct {
		name     string
		requests *int64
		api      string
		run2     string
	}{
		{"run 2 stopped", &sixty, "API requests in this command: 100 (2 retries, 0 rate-limited); 200 with the earlier parts",
			"Continues run 2: from 2026-11-29T02:30:00Z; 60 API requests"},
		{"run 2 killed", nil, "API requests in this command: 100 (2 retries, 0 rate-limited)",
			"Continues run 2: from 2026-11-29T02:30:00Z; it was killed before its report, so its API requests are not known"},
	} {
		s, meta := continuedReport(c.requests)
		var md, html bytes.Buffer
		must(t, Markdown(&md, s, meta))
		must(t, HTML(&html, s, meta))
		for name, text := range map[string]string{"summary.md": md.String(), "report.html": html.String()} {
			for _, want := range []string{
				"3 in this run, 2 resumed from runs 1, 2 (joined the program)",
				"Run 3 (this command): 2026-11-29T03:00:00Z to 2026-11-29T03:01:00Z (1m0s), exit code 0",
				"Continues run 1: from 2026-11-29T02:00:00Z to 2026-11-29T02:00:20Z (20s), stopped: interrupted; 40 API requests",
				c.run2, c.api,
				"waiting on agreements: 4 rows (needs-agreement), 1 of them waiting since an earlier run",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("%s, %s: lacks %q:\n%s", c.name, name, want, text)
				}
			}
			if c.requests == nil && strings.Contains(text, "with the earlier parts") {
				t.Errorf("%s, %s: a total of requests counts a part whose requests are not known", c.name, name)
			}
			if strings.Contains(text, "| joined | 5 | joined the program in this run |") || strings.Contains(text, "<td>joined the program in this run</td>") {
				t.Errorf("%s, %s: credits this run with every join", c.name, name)
			}
		}
	}
}

// The earlier parts come from the continued report's summary.json (its
// own part and those it lists), then from the ledger for the run being
// continued when it wrote no report; without a summary, the ledger's run
// alone.
func TestReadPartsChainsTheEarlierRuns(t *testing.T) {
	dir := t.TempDir()
	killed := RunPart{Run: 3, Start: runStart.Add(2 * time.Hour)}
	if parts := ReadParts(dir, killed); len(parts) != 1 || parts[0].Run != 3 || parts[0].Requests != nil {
		t.Errorf("no summary: parts %+v, want run 3 alone, requests unknown", parts)
	}

	_, meta := continuedReport(nil) // run 3's summary, which lists runs 1 and 2
	b, err := json.Marshal(meta)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "summary.json"), b, FileMode))
	// run 4 was killed after run 3's report: run 5 continues run 4
	parts := ReadParts(dir, RunPart{Run: 4, Start: runStart.Add(3 * time.Hour)})
	var runs []uint64
	for _, p := range parts {
		runs = append(runs, p.Run)
	}
	if len(runs) != 4 || runs[0] != 1 || runs[1] != 2 || runs[2] != 3 || runs[3] != 4 {
		t.Fatalf("parts of runs %v, want 1, 2, 3, 4", runs)
	}
	if r := parts[2].Requests; r == nil || *r != 100 || !parts[2].End.Equal(meta.End) {
		t.Errorf("run 3's part %+v: want its summary's 100 requests and its end", parts[2])
	}
	if parts[3].Requests != nil {
		t.Errorf("run 4 wrote no report, yet its requests are %d", *parts[3].Requests)
	}
	// the summary is the continued run's own: the ledger's run is not added twice
	if parts := ReadParts(dir, RunPart{Run: 3}); len(parts) != 3 || parts[2].Requests == nil {
		t.Errorf("continuing run 3: parts %+v, want runs 1, 2, 3 with run 3's requests", parts)
	}
}

// `pvenroll report` re-renders from report.csv, which has no column for
// it: the split of resumed rows comes back from summary.json.
func TestRerenderKeepsTheResumedSplit(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, Options{})
	must(t, err)
	s, meta := continuedReport(nil)
	// the rows of continuedReport, as the run that continued runs 1 and 2 got them
	from := []uint64{0, 0, 0, 2, 1}
	for i := range s.Rows {
		r := enroll.Result{Line: i + 2, Email: "a@example.com", Outcome: enroll.NeedsAgreement}
		if i < len(from) {
			r.Outcome, r.Resumed, r.ResumedFrom = enroll.Joined, from[i] != 0, from[i]
		}
		must(t, w.Add(i, r))
	}
	meta.Resumed = nil // the writer's summary counts them
	must(t, w.Close(meta))
	if _, err := Rerender(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	must(t, err)
	if want := "| joined | 5 | 3 in this run, 2 resumed from runs 1, 2 (joined the program) |"; !strings.Contains(string(md), want) {
		t.Errorf("re-rendered summary.md lacks %q:\n%s", want, md)
	}
}

// An earlier part killed before its report has every field, null where it
// is not known; a part that wrote its report has them all filled; and
// summary.json's part reads back as it was.
func TestRunPartFieldsAreNullNotMissing(t *testing.T) {
	start := time.Date(2026, 12, 1, 2, 15, 0, 0, time.UTC)
	n := int64(55)
	for _, c := range []struct {
		part RunPart
		want string
	}{
		{RunPart{Run: 1, Start: start}, `{"run":1,"start":"2026-12-01T02:15:00Z","end":null,"stop":null,"requests":null}`},
		{RunPart{Run: 2, Start: start, End: start.Add(time.Second), Stop: "interrupted", Requests: &n},
			`{"run":2,"start":"2026-12-01T02:15:00Z","end":"2026-12-01T02:15:01Z","stop":"interrupted","requests":55}`},
	} {
		b, err := json.Marshal(c.part)
		if err != nil || string(b) != c.want {
			t.Errorf("%+v: %s %v, want %s", c.part, b, err, c.want)
		}
		var back RunPart
		if err := json.Unmarshal(b, &back); err != nil || back.Run != c.part.Run || !back.End.Equal(c.part.End) || back.Stop != c.part.Stop {
			t.Errorf("%s read back as %+v (%v)", b, back, err)
		}
	}
}
