package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

// One of a thing is singular in every file a person reads.
func TestOneIsSingular(t *testing.T) {
	s := NewSummary()
	s.Add(enroll.Result{Line: 2, Email: "a@example.com", Outcome: enroll.Joined})
	meta := Meta{Input: Input{Path: "one.csv"}, API: APIStats{Requests: 2, Retries: 1},
		Changes: &Changes{StillWaiting: 1, LongestWaitDays: 1},
		History: []HistoryRun{{Run: 1, Start: time.Date(2026, 11, 29, 2, 15, 0, 0, time.UTC), Status: "finished", Counts: map[enroll.Outcome]int{enroll.Joined: 1}}},
		Start:   time.Date(2026, 11, 29, 2, 15, 0, 0, time.UTC), End: time.Date(2026, 11, 29, 2, 15, 1, 0, time.UTC)}
	var md, html bytes.Buffer
	if err := Markdown(&md, s, meta); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, s, meta); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"summary.md": md.String(), "report.html": html.String()} {
		for _, want := range []string{`\b1 row\b`, `\(1 retry,`, `the longest for 1 day\)`} {
			if !regexp.MustCompile(want).MatchString(text) {
				t.Errorf("%s: no %q", name, want)
			}
		}
		for _, wrong := range []string{"1 rows", "1 retries", "1 days", "1 runs"} {
			if strings.Contains(text, wrong) {
				t.Errorf("%s: %q", name, wrong)
			}
		}
	}
}

// The history of one run is "the last run"; a run in which no row
// waited from an earlier one names no longest wait.
func TestOneRunNoWait(t *testing.T) {
	s := NewSummary()
	s.Add(enroll.Result{Line: 2, Email: "a@example.com", Outcome: enroll.NeedsAgreement})
	meta := Meta{Input: Input{Path: "one.csv"}, Changes: &Changes{},
		History: []HistoryRun{{Run: 1, Start: time.Date(2026, 11, 29, 2, 15, 0, 0, time.UTC), Status: "finished", Counts: map[enroll.Outcome]int{enroll.NeedsAgreement: 1}}}}
	var md, html bytes.Buffer
	if err := Markdown(&md, s, meta); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&html, s, meta); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), ">The last run (--state)</h2>") {
		t.Errorf("report.html: no heading \"The last run (--state)\"")
	}
	for name, text := range map[string]string{"summary.md": md.String(), "report.html": html.String()} {
		if !strings.Contains(text, "waiting on agreements: 1 row (needs-agreement), 0 of them waiting since an earlier run") {
			t.Errorf("%s: no waiting line", name)
		}
		if strings.Contains(text, "longest") {
			t.Errorf("%s: names a longest wait though none waited from an earlier run", name)
		}
	}
}

// A run under a second is said in milliseconds, never "0s" or "1s".
func TestDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {730 * time.Millisecond, "730ms"}, {40*time.Millisecond + 400*time.Microsecond, "40ms"},
		{999 * time.Millisecond, "999ms"}, {time.Second, "1s"}, {1600 * time.Millisecond, "2s"}, {75 * time.Second, "1m15s"}} {
		if got := Duration(c.d); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
