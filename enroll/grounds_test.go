package enroll_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// stoppedRun runs the CSV with policy and leaves its run stopped, as
// --max-duration or an interrupt would: its settled rows are resumable.
func stoppedRun(t *testing.T, s *sandbox.Server, path, data string, policy enroll.Policy) []enroll.Result {
	t.Helper()
	l, err := ledger.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	ro := export.ReaderOptions{Name: "t.csv", ConsentColumn: "consent"}
	api, _ := pv.New(pv.Options{BaseURL: s.URL, Token: pv.Secret(adminToken)})
	en := enroll.New(api, business(t, api), policy)
	read := beginRun(t, l, en, ro, time.Now())
	sink := &memSink{rows: map[int]enroll.Result{}}
	out := runRows(t, data, ro, en, sink, enroll.Options{Workers: 4, Read: read, Memory: l})
	if err := l.Finish(out.End, "", ledger.RunStopped, nil, 0, 0); err != nil {
		t.Fatal(err)
	}
	return sink.ordered(t)
}

// beginRun begins a run of en over rows read with ro in the ledger l, as
// the command does: the run's record holds the grounds it goes by. The
// run is to be given the reader grounds it returns (Options.Read).
func beginRun(t *testing.T, l *ledger.Ledger, en *enroll.Enroller, ro export.ReaderOptions, at time.Time) enroll.ReaderGrounds {
	t.Helper()
	read := enroll.ReaderGroundsOf(ro)
	if err := l.Begin(ledger.Start{Input: ro.Name, At: at, Grounds: en.Grounds(read)}); err != nil {
		t.Fatal(err)
	}
	return read
}

// A row settled under grounds that could decide it differently is decided
// again when the run is resumed: not-found rows of a run without
// --create-missing are created by the resuming run that has it, opted-out
// rows rejoined with --rejoin-inactive; the rest stay resumed.
func TestResumeDecidesAgainWhatOtherGroundsCouldChange(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	state := filepath.Join(t.TempDir(), "state.db")
	first := stoppedRun(t, s, state, outcomesCSV, enroll.Policy{})
	byLine := map[int]enroll.Outcome{}
	for _, r := range first {
		byLine[r.Line] = r.Outcome
	}
	if byLine[10] != enroll.NotFound || byLine[6] != enroll.OptedOut {
		t.Fatalf("first run: line 10 %s, line 6 %s; want not-found and opted-out", byLine[10], byLine[6])
	}

	second := stoppedRun(t, s, state, outcomesCSV, enroll.Policy{CreateMissing: true, SystemID: "SYS", RejoinInactive: true})
	resumed := 0
	for _, r := range second {
		switch byLine[r.Line] {
		case enroll.NotFound, enroll.OptedOut:
			if r.Resumed {
				t.Errorf("line %d: %s under other grounds was resumed, not decided again", r.Line, byLine[r.Line])
			}
		case enroll.Joined, enroll.AlreadyActive:
			if !r.Resumed || r.Attempts != 0 {
				t.Errorf("line %d: %s stands under any grounds, yet was %s with %d calls", r.Line, byLine[r.Line], r.Outcome, r.Attempts)
			}
			resumed++
		}
	}
	if resumed == 0 {
		t.Fatal("no row was resumed: the test proves nothing")
	}
	for _, r := range second {
		if r.Line == 10 && (len(r.Actions) == 0 || r.Actions[0] != enroll.ActionCreated) {
			t.Errorf("line 10 (not found, with a member id) under --create-missing: %s %v, want the member created", r.Outcome, r.Actions)
		}
		if r.Line == 6 && r.Outcome != enroll.Joined {
			t.Errorf("line 6 (opted out) under --rejoin-inactive: %s, want joined", r.Outcome)
		}
	}
}

func TestGroundsThatCouldChangeAnOutcome(t *testing.T) {
	base := enroll.Grounds{SystemID: "SYS"}
	for _, c := range []struct {
		outcome enroll.Outcome
		now     enroll.Grounds
		want    bool
	}{
		{enroll.NotFound, enroll.Grounds{SystemID: "SYS", CreateMissing: true}, true},
		{enroll.NotFound, enroll.Grounds{SystemID: "SYS", RejoinInactive: true}, false},
		{enroll.OptedOut, enroll.Grounds{SystemID: "SYS", RejoinInactive: true}, true},
		{enroll.NeedsAgreement, enroll.Grounds{SystemID: "SYS", ReaderGrounds: enroll.ReaderGrounds{ConsentAfter: "2010-01-01"}}, true},
		{enroll.MembershipInactive, enroll.Grounds{SystemID: "SYS", SyncMembership: true}, true},
		{enroll.MembershipInactive, enroll.Grounds{SystemID: "SYS", ReaderGrounds: enroll.ReaderGrounds{Preset: "abc-ignite"}}, true},
		{enroll.Joined, enroll.Grounds{CreateMissing: true, RejoinInactive: true, SyncMembership: true}, false},
		{enroll.AlreadyActive, enroll.Grounds{ReaderGrounds: enroll.ReaderGrounds{Preset: "csi-spectrum"}}, false},
		{enroll.NeedsAgreement, base, false},
	} {
		if got := c.now.CouldChange(c.outcome, &base); got != c.want {
			t.Errorf("%s, %+v after %+v: could change %v, want %v", c.outcome, c.now, base, got, c.want)
		}
	}
	if !base.CouldChange(enroll.NotFound, nil) || base.CouldChange(enroll.Joined, nil) {
		t.Error("a run that recorded no grounds: a waiting row must be decided again, a joined one not")
	}
}

// A run's grounds are recorded (--state) byte for byte as a version that
// kept the reader's settings in Grounds itself recorded them, and such a
// record reads as the same grounds.
func TestGroundsAreRecordedAsBefore(t *testing.T) {
	for _, c := range []struct {
		g    enroll.Grounds
		json string
	}{
		{enroll.Grounds{CreateMissing: true, RejoinInactive: true, SyncMembership: true, SystemID: "ABC_IGNITE",
			ReaderGrounds: enroll.ReaderGrounds{Preset: "abc-ignite", ConsentColumn: "Terms Accepted At", ConsentAfter: "2024-01-31"}},
			`{"create_missing":true,"rejoin_inactive":true,"sync_membership":true,"system_id":"ABC_IGNITE","preset":"abc-ignite","consent_column":"Terms Accepted At","consent_after":"2024-01-31"}`},
		{enroll.Grounds{SystemID: "S", ReaderGrounds: enroll.ReaderGrounds{ConsentColumn: "c"}}, `{"system_id":"S","consent_column":"c"}`},
		{enroll.Grounds{}, `{}`},
	} {
		b, err := json.Marshal(c.g)
		if err != nil || string(b) != c.json {
			t.Errorf("%+v recorded as %s (%v), want %s", c.g, b, err, c.json)
		}
		var back enroll.Grounds
		if err := json.Unmarshal([]byte(c.json), &back); err != nil || back != c.g {
			t.Errorf("%s read as %+v (%v), want %+v", c.json, back, err, c.g)
		}
	}
}

// The run's grounds are its Enroller's policy with how its rows were read:
// no caller can hand a run grounds its policy does not hold.
func TestGroundsAreThePolicysWithTheReaders(t *testing.T) {
	read := enroll.ReaderGroundsOf(export.ReaderOptions{Preset: export.Presets["abc-ignite"], ConsentColumn: "Terms Accepted At",
		Consent: export.ConsentRule{After: time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)}})
	want := enroll.ReaderGrounds{Preset: "abc-ignite", ConsentColumn: "Terms Accepted At", ConsentAfter: "2024-01-31"}
	if read != want {
		t.Fatalf("reader grounds %+v, want %+v", read, want)
	}
	en := enroll.New(nil, &pv.Business{}, enroll.Policy{CreateMissing: true, SystemID: "ABC_IGNITE", DryRun: true})
	g := en.Grounds(read)
	if g != (enroll.Grounds{CreateMissing: true, SystemID: "ABC_IGNITE", ReaderGrounds: want}) {
		t.Fatalf("grounds %+v: not the policy's with the reader's", g)
	}
}
