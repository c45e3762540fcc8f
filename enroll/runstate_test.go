package enroll_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// One Enroller serves two runs at once, each with a state of its own: a
// customer the other run's line claimed is not a conflict here (a claim
// held in the Enroller would make one of the two rows of join@x.co, on
// lines 2 and 3, a conflict naming the other run's line).
func TestEnrollerServesRunsOfTheirOwn(t *testing.T) {
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	api, err := pv.New(pv.Options{BaseURL: s.URL, Token: adminToken, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	en := enroll.New(api, business(t, api), enroll.Policy{DryRun: true})
	files := []string{"email\njoin@x.co\n", "email\nterms@x.co\njoin@x.co\n"}
	sinks := make([]*memSink, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, data := range files {
		sinks[i] = &memSink{rows: map[int]enroll.Result{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows, err := export.NewReader(strings.NewReader(data), export.ReaderOptions{Name: "t.csv"})
			if err == nil {
				_, err = enroll.Run(context.Background(), rows, en, sinks[i], enroll.Options{Workers: 2})
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	want := [][]enroll.Outcome{{enroll.WouldJoin}, {enroll.NeedsAgreement, enroll.WouldJoin}}
	for i := range files {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		got := sinks[i].ordered(t)
		if len(got) != len(want[i]) {
			t.Fatalf("run %d: %d rows reported of %d", i, len(got), len(want[i]))
		}
		for j, r := range got {
			if r.Outcome != want[i][j] {
				t.Errorf("run %d, line %d: %s (%s), want %s", i, r.Line, r.Outcome, r.Detail, want[i][j])
			}
		}
	}
}
