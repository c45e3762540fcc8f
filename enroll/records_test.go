package enroll_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// fullMemory is a run's memory whose file stops growing after room
// records, as a ledger on a full disk does.
type fullMemory struct {
	mu   sync.Mutex
	room int
	kept map[string]enroll.Memo
}

func (m *fullMemory) Prior(string) (enroll.Memo, bool)      { return enroll.Memo{}, false }
func (m *fullMemory) Resumable(uint64) bool                 { return false }
func (m *fullMemory) Grounds(uint64) (enroll.Grounds, bool) { return enroll.Grounds{}, false }
func (m *fullMemory) Record(key string, memo enroll.Memo) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.kept) >= m.room {
		return fmt.Errorf("state.db: %w", syscall.ENOSPC)
	}
	m.kept[key] = memo
	return nil
}

// fullSink is a report whose files stop growing after room rows: like
// report.Writer, it still counts (keeps) every row it is given, and
// answers each Add after the failure with it.
type fullSink struct {
	memSink
	room int
}

func (s *fullSink) Add(seq int, r enroll.Result) error {
	if err := s.memSink.Add(seq, r); err != nil {
		return err
	}
	if len(s.rows) > s.room {
		return fmt.Errorf("out/report.csv: %w", syscall.EFBIG)
	}
	return nil
}

// runRecords runs n joinable rows with mem and sink as the run's records.
func runRecords(t *testing.T, n int, mem enroll.Memory, sink enroll.Sink) (*enroll.RunInfo, *sandbox.Server, error) {
	t.Helper()
	w, csv := joinWorld(n)
	s := sandbox.NewServer(w, sandbox.Faults{})
	t.Cleanup(func() { s.Close() })
	api, err := pv.New(pv.Options{BaseURL: s.URL, Token: adminToken, Clock: &skipClock{}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := export.NewReader(strings.NewReader(csv), export.ReaderOptions{Name: "test.csv"})
	if err != nil {
		t.Fatal(err)
	}
	en := enroll.New(api, business(t, api), enroll.Policy{})
	info, err := enroll.Run(context.Background(), rows, en, sink, enroll.Options{Workers: 4, Memory: mem})
	return info, s, err
}

// activeInSandbox is the connections the run set ACTIVE: what Perkville
// applied.
func activeInSandbox(s *sandbox.Server) map[int64]bool {
	out := map[int64]bool{}
	for _, u := range s.State().Users {
		if u.Connection.Status == pv.StatusActive {
			out[u.Connection.ConnectionID] = true
		}
	}
	return out
}

// The ledger fills up: the run stops sending writes, and the report takes
// every row, every join Perkville applied among them.
func TestMemoryFullReportTakesEveryRow(t *testing.T) {
	const n = 200
	mem := &fullMemory{room: 20, kept: map[string]enroll.Memo{}}
	sink := &memSink{rows: map[int]enroll.Result{}}
	info, s, err := runRecords(t, n, mem, sink)
	var rec *enroll.RecordError
	if !errors.As(err, &rec) || rec.Memory == nil || rec.Sink != nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("run error %v, want the memory's record error", err)
	}
	if info.Stop != enroll.StopRecords {
		t.Fatalf("stop %v, want %v", info.Stop, enroll.StopRecords)
	}
	got := sink.ordered(t)
	if len(got) != n {
		t.Fatalf("the report holds %d of %d rows", len(got), n)
	}
	joined := map[int64]bool{}
	counts := map[enroll.Outcome]int{}
	for _, r := range got {
		counts[r.Outcome]++
		if r.Outcome == enroll.Joined {
			joined[r.ConnectionID] = true
		}
	}
	for conn := range activeInSandbox(s) {
		if !joined[conn] {
			t.Errorf("connection %d was set ACTIVE but the report does not say joined", conn)
		}
	}
	if counts[enroll.NotAttempted] == 0 || counts[enroll.Joined] < mem.room {
		t.Fatalf("outcomes %v: the run should stop sending, after the memory's %d records", counts, mem.room)
	}
}

// The report fills up: the run stops sending writes, and memory records
// every row an API answer decided, every applied join among them.
func TestReportFullMemoryTakesEveryRow(t *testing.T) {
	const n = 200
	mem := &fullMemory{room: n, kept: map[string]enroll.Memo{}}
	sink := &fullSink{memSink: memSink{rows: map[int]enroll.Result{}}, room: 20}
	info, s, err := runRecords(t, n, mem, sink)
	var rec *enroll.RecordError
	if !errors.As(err, &rec) || rec.Sink == nil || rec.Memory != nil || !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("run error %v, want the report's record error", err)
	}
	if info.Stop != enroll.StopRecords {
		t.Fatalf("stop %v, want %v", info.Stop, enroll.StopRecords)
	}
	recorded := 0
	for _, r := range sink.ordered(t) {
		if r.Outcome.Recorded() {
			recorded++
			if m, ok := mem.kept["email "+r.Email]; !ok || m.Outcome != r.Outcome {
				t.Errorf("line %d (%s) is not in memory: %+v", r.Line, r.Outcome, m)
			}
		}
	}
	if recorded != len(mem.kept) || recorded >= n {
		t.Fatalf("memory holds %d rows, the run decided %d of %d", len(mem.kept), recorded, n)
	}
	for conn := range activeInSandbox(s) {
		found := false
		for _, m := range mem.kept {
			found = found || m.ConnectionID == conn && m.Outcome == enroll.Joined
		}
		if !found {
			t.Errorf("connection %d was set ACTIVE but memory does not hold it joined", conn)
		}
	}
}
