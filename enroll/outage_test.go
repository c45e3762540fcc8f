package enroll_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// outageRun runs rows customers who can all join against a sandbox whose
// API goes down after the preflight and its first answers, on a fake clock
// that the sandbox's outage is timed on too.
func outageRun(t *testing.T, rows int, f sandbox.Faults, timeout time.Duration) ([]enroll.Result, *enroll.RunInfo, *sandbox.Server) {
	t.Helper()
	clock := &skipClock{now: time.Date(2026, 11, 29, 2, 14, 7, 0, time.UTC)}
	f.Now = clock.Now
	w, csv := joinWorld(rows)
	s := sandbox.NewServer(w, f)
	t.Cleanup(func() { s.Close() })
	got, out, _ := run(t, s, runCase{csv: csv, workers: 10, api: pv.Options{Retries: 5, Clock: clock, Timeout: timeout}})
	return got, out, s
}

// sentInOutage counts the requests the sandbox got from the outage's first
// on, apart from the breaker's probes (the preflight's GET of the business,
// which no row sends).
func sentInOutage(log []sandbox.LogEntry) (sent, probes int) {
	in := false
	for _, e := range log {
		in = in || strings.HasPrefix(e.Fault, "outage")
		switch {
		case !in:
		case e.Method == http.MethodGet && e.Path == pv.BusinessPath(25):
			probes++
		default:
			sent++
		}
	}
	return sent, probes
}

// An outage is one event: against an API that answers the preflight and
// then fails every request, the breaker opens after 20 failures in a row,
// probes on a backoff, and after --max-wait (10 minutes on the fake clock)
// stops the run, fatally, naming the outage. At most 40 requests are sent
// in the outage besides the probes, not 1,200; rows never sent are
// not-attempted, and no row is failed by the outage.
func TestOutageIsOneEvent(t *testing.T) {
	for name, f := range map[string]sandbox.Faults{
		"500s":          {OutageAfter: 2 + 20},
		"never answers": {OutageAfter: 2 + 20, OutageHang: true},
	} {
		t.Run(name, func(t *testing.T) {
			got, out, s := outageRun(t, 200, f, 50*time.Millisecond)
			var oe *pv.OutageError
			if out.Stop != enroll.StopFatal || !errors.As(out.StopErr, &oe) || !pv.IsFatal(out.StopErr) {
				t.Fatalf("stop %v: %T %v", out.Stop, out.StopErr, out.StopErr)
			}
			if msg := out.StopErr.Error(); !strings.HasPrefix(msg, "the API failed 20 requests in a row from 02:1") ||
				!strings.Contains(msg, "nothing more was sent") {
				t.Errorf("message %q", msg)
			}
			sent, probes := sentInOutage(s.Log())
			if sent > 40 || probes == 0 {
				t.Errorf("%d requests sent in the outage besides %d probes; want at most 40, and probes", sent, probes)
			}
			counts := map[enroll.Outcome]int{}
			for _, r := range got {
				counts[r.Outcome]++
				if r.Outcome == enroll.Failed {
					t.Errorf("line %d failed: %s", r.Line, r.Detail)
				}
			}
			t.Logf("%d requests in the outage besides %d probes; rows: %v", sent, probes, counts)
			if len(got) != 200 || counts[enroll.Failed] != 0 || counts[enroll.NotAttempted] < 150 ||
				counts[enroll.Joined]+counts[enroll.NotAttempted]+counts[enroll.Interrupted] != 200 {
				t.Errorf("%d rows: %v", len(got), counts)
			}
		})
	}
}

// A 90-second outage in the middle of a run is ridden out: the breaker
// opens, its probe finds the API back, and every row is joined.
func TestOutageRiddenOut(t *testing.T) {
	got, out, s := outageRun(t, 200, sandbox.Faults{OutageAfter: 2 + 150, OutageFor: 90 * time.Second}, 0)
	if out.Stop != enroll.StopNone {
		t.Fatalf("stop %v: %v", out.Stop, out.StopErr)
	}
	for _, r := range got {
		if r.Outcome != enroll.Joined {
			t.Errorf("line %d: %s %s", r.Line, r.Outcome, r.Detail)
		}
	}
	if len(got) != 200 {
		t.Fatalf("%d rows", len(got))
	}
	sent, probes := sentInOutage(s.Log())
	if probes == 0 || sent < 400-150 {
		t.Errorf("%d requests from the outage on, %d probes", sent, probes)
	}
}
