package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/cli"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	"github.com/pvenroll/pvenroll/report"
)

// TestRunHistoryChartMatchesTheLedger runs the sample export nightly, as
// cron would, against one sandbox (so the runs differ: the first joins,
// the next find everyone active, the last rejoins those who left), then
// reads the chart of recent runs in the last report.html and checks each
// bar against the run's counts in the state file, and `pvenroll state`'s
// table against the same.
func TestRunHistoryChartMatchesTheLedger(t *testing.T) {
	t.Parallel()
	world, err := sandbox.LoadWorld("samples/sandbox-world.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := sandbox.NewServer(world, sandbox.Faults{})
	defer srv.Close()
	// The token and business as flags, not the environment: the test runs
	// in parallel with others.
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("sandbox-admin-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.db")
	const runs = 3
	for i := 1; i <= runs; i++ {
		args := []string{"enroll", "--api", srv.URL, "--token-file", token, "--business", fmt.Sprint(world.Business.BusinessID),
			"-q", "--rate", "0", "--create-missing", "--system-id", "RIVERSIDE_ABC",
			"--consent-column", "Terms Accepted At", "--backoff", "1ms", "--state", state, "--out", filepath.Join(dir, fmt.Sprint("run", i)), "samples/members.csv"}
		if i == runs {
			args = append(args, "--rejoin-inactive")
		}
		var stderr bytes.Buffer
		if code := cli.Main(args, strings.NewReader(""), io.Discard, &stderr); code > 1 {
			t.Fatalf("run %d: exit %d: %s", i, code, stderr.String())
		}
	}
	l, err := ledger.Open(state, true)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := l.Runs()
	l.Close()
	if err != nil || len(stored) != runs {
		t.Fatalf("%d runs in the ledger (%v)", len(stored), err)
	}
	if stored[0].Counts[enroll.Joined] == stored[1].Counts[enroll.Joined] {
		t.Fatal("the runs do not differ: the chart would show no trend")
	}
	page, err := os.ReadFile(filepath.Join(dir, fmt.Sprint("run", runs), "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	bars := historyBars(t, page)
	for _, s := range report.HistorySeries {
		if len(bars[s.Outcome]) != runs {
			t.Fatalf("%s: %d bars for %d runs", s.Outcome, len(bars[s.Outcome]), runs)
		}
		for _, r := range stored {
			if got, want := bars[s.Outcome][fmt.Sprint(r.ID)], r.Counts[s.Outcome]; got != want {
				t.Errorf("%s, run %d: the bar says %d, the ledger %d", s.Outcome, r.ID, got, want)
			}
		}
	}
	// pvenroll state prints the same runs and counts.
	var out bytes.Buffer
	if code := cli.Main([]string{"state", state}, strings.NewReader(""), &out, io.Discard); code != 0 {
		t.Fatalf("state: exit %d", code)
	}
	for _, r := range stored {
		cells := []string{fmt.Sprint(r.ID), r.Start.UTC().Format("2006-01-02T15:04:05Z"), r.Status}
		for _, s := range report.HistorySeries {
			cells = append(cells, fmt.Sprint(r.Counts[s.Outcome]))
		}
		if !strings.Contains(collapse(out.String()), strings.Join(cells, " ")) {
			t.Errorf("state lacks run %d as %q:\n%s", r.ID, strings.Join(cells, " "), out.String())
		}
	}
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// historyBars reads the chart's bars: series -> run -> count.
func historyBars(t *testing.T, page []byte) map[enroll.Outcome]map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	bars := map[enroll.Outcome]map[string]int{}
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
		var n int
		if _, err := fmt.Sscan(a["data-count"], &n); err != nil {
			t.Fatalf("bar %v: %v", a, err)
		}
		o := enroll.Outcome(a["data-series"])
		if bars[o] == nil {
			bars[o] = map[string]int{}
		}
		bars[o][a["data-run"]] = n
	}
}
