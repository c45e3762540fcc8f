package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// One of a thing is singular in every file a person reads.
func TestOneIsSingular(t *testing.T) {
	s := NewSummary()
	s.Add(Result{Line: 2, Email: "a@example.com", Outcome: Joined})
	meta := Meta{Input: Input{Path: "one.csv"}, API: APIStats{Requests: 2, Retries: 1},
		Changes: &Changes{StillWaiting: 1, LongestWaitDays: 1},
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
		for _, wrong := range []string{"1 rows", "1 retries", "1 days"} {
			if strings.Contains(text, wrong) {
				t.Errorf("%s: %q", name, wrong)
			}
		}
	}
}
