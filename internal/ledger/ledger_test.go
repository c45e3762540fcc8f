package ledger

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

func TestOneRunAtATime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	l, err := Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := Open(path, false); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v", err)
	}
	if _, err := Open(path, true); !errors.Is(err, ErrLocked) {
		t.Fatalf("a reader while a run writes: %v", err)
	}
}

func TestRecordsSurviveAndRunsResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

	// Run 1 finishes.
	l, _ := Open(path, false)
	must(t, l.Begin(Start{Input: "a.csv", At: now}))
	must(t, l.Record("email a@x.co", enroll.Memo{Outcome: "joined", ConnectionID: 1, Hash: "h1"}))
	must(t, l.Finish(now.Add(time.Minute), "sha", RunFinished, map[enroll.Outcome]int{"joined": 1}, 0, 0))

	// Run 2 is killed: Close without Finish, after more than one batch.
	l, _ = Open(path, false)
	must(t, l.Begin(Start{Input: "a.csv", At: now.Add(time.Hour)}))
	for i := 0; i < CommitRows+3; i++ {
		must(t, l.Record("email b"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@x.co", enroll.Memo{Outcome: "needs-agreement", Hash: "h"}))
	}
	if l.Resumable(1) || l.Resumable(2) {
		t.Fatal("a finished run, or the current one, is not resumable")
	}
	must(t, l.Close())

	// Run 3 sees run 2 unfinished and resumable, run 1 not.
	l, _ = Open(path, false)
	must(t, l.Begin(Start{Input: "a.csv", At: now.Add(2 * time.Hour)}))
	if !l.Resumable(2) || l.Resumable(1) || l.Resumable(3) {
		t.Fatalf("resumable: run1 %v run2 %v run3 %v", l.Resumable(1), l.Resumable(2), l.Resumable(3))
	}
	if e, ok := l.Prior("email a@x.co"); !ok || e.Outcome != "joined" || e.Run != 1 || e.ConnectionID != 1 {
		t.Fatalf("prior %+v %v", e, ok)
	}
	counts, _ := l.Outcomes()
	if counts["needs-agreement"] != CommitRows+3 {
		t.Fatalf("records of the killed run: %v", counts)
	}
	runs, _ := l.Runs()
	if len(runs) != 3 || runs[1].Status != RunRunning || runs[0].Status != RunFinished {
		t.Fatalf("runs %+v", runs)
	}
	must(t, l.Close())
}

func TestDryRunWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	l, err := Open(path, true) // missing: an empty ledger, no file made
	if err != nil {
		t.Fatal(err)
	}
	must(t, l.Begin(Start{Input: "a.csv", At: time.Now()}))
	must(t, l.Record("email a@x.co", enroll.Memo{Outcome: "joined"}))
	must(t, l.Finish(time.Now(), "", RunFinished, nil, 0, 0))
	if _, err := Open(path, true); err != nil {
		t.Fatal(err)
	}
	if matches, _ := filepath.Glob(path); len(matches) != 0 {
		t.Fatal("a dry run created the state file")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// historyRuns is the history asked for: fewer runs than the file holds.
const historyRuns = 30

func TestHistoryIsTheLastRunsWithThisOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	start := time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)
	for i := 1; i <= historyRuns+5; i++ {
		l, err := Open(path, false)
		if err != nil {
			t.Fatal(err)
		}
		must(t, l.Begin(Start{Input: "a.csv", At: start.AddDate(0, 0, i)}))
		must(t, l.Finish(start.AddDate(0, 0, i).Add(time.Minute), "sha", RunFinished, map[enroll.Outcome]int{enroll.Joined: i}, 0, 0))
		h := l.History(historyRuns)
		if len(h) != min(i, historyRuns) {
			t.Fatalf("run %d: %d runs of history", i, len(h))
		}
		if last := h[len(h)-1]; last.ID != uint64(i) || last.Counts[enroll.Joined] != i || last.Status != RunFinished {
			t.Fatalf("run %d: the last of the history is %+v, not this run finished", i, last)
		}
		for k := 1; k < len(h); k++ {
			if h[k].ID != h[k-1].ID+1 {
				t.Fatalf("run %d: history not in order: %d after %d", i, h[k].ID, h[k-1].ID)
			}
		}
	}
	// A reader (pvenroll state, a dry run) sees the stored runs only.
	l, err := Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	must(t, l.Begin(Start{Input: "dry.csv", At: start}))
	h := l.History(historyRuns)
	if len(h) != historyRuns || h[0].ID != 6 || h[len(h)-1].ID != historyRuns+5 {
		t.Fatalf("read-only history: %d runs, %d to %d", len(h), h[0].ID, h[len(h)-1].ID)
	}
}

// A state file takes the origin of its first run, and refuses another,
// read-only too (a dry run); a file of an older version adopts this run's.
func TestStateFileKnowsWhereItCameFrom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	sandbox := Origin{API: "http://127.0.0.1:8080", Business: 25}
	l, err := Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	must(t, l.Adopt(path, sandbox))
	must(t, l.Close())
	for _, o := range []Origin{{API: "https://api.perkville.com", Business: 25}, {API: sandbox.API, Business: 26}} {
		for _, readOnly := range []bool{false, true} {
			l, err := Open(path, readOnly)
			if err != nil {
				t.Fatal(err)
			}
			err = l.Adopt(path, o)
			var oe *OriginError
			if !errors.As(err, &oe) || !errors.Is(err, ErrOtherOrigin) || oe.File != sandbox || oe.This != o {
				t.Errorf("%v (read-only %v) on a file of %v: %v", o, readOnly, sandbox, err)
			}
			must(t, l.Close())
		}
	}
	l, _ = Open(path, false)
	must(t, l.Adopt(path, sandbox))
	must(t, l.Close())
}
