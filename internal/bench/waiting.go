package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// waitingWorld is world(n) where the last quarter of the customers wait
// on someone else: a third of them must accept the terms themselves, a
// third have a membership that is not active, and a third have no
// connection (their rows are in the file, not in the world).
func waitingWorld(n int) *sandbox.World {
	w := world(n)
	waiting := n / 4
	first := n - waiting
	var users []sandbox.User
	for i, u := range w.Users {
		switch k := i - first; {
		case k < 0:
		case k%3 == 0:
			u.AcceptedAgreements = nil // needs-agreement
		case k%3 == 1:
			u.Connection.ExternalMembershipStatus = pv.StatusInactive // membership-inactive
		default:
			continue // not-found
		}
		users = append(users, u)
	}
	w.Users = users
	return w
}

// waitingNights: an unchanged nightly file of rows customers, a quarter of
// them waiting, run every night for a month: requests per row each night,
// against the first night's. The schedule checks the waiting again on the
// 2nd, 3rd, 5th and 8th night after they were first found waiting, then
// every 7th (enroll.NextCheck); on the other nights, the next one first,
// the run costs its listing of ACTIVE connections alone. Every night's
// outcomes must be the first night's (joined then already-active).
func waitingNights(rows int) {
	srv := sandbox.NewServer(waitingWorld(rows), sandbox.Faults{})
	defer srv.Close()
	dir, err := os.MkdirTemp("", "pvenroll-bench-waiting")
	must(err)
	defer os.RemoveAll(dir)
	state := filepath.Join(dir, "state.db")
	data := csvRows(rows)
	first := time.Date(2026, 11, 1, 2, 15, 0, 0, time.UTC)
	perRow := make([]float64, 31)
	var waited int
	var firstNight map[int]enroll.Outcome
	for night := range perRow {
		at := first.AddDate(0, 0, night)
		requests, sink := nightOf(srv, state, data, at)
		perRow[night] = float64(requests) / float64(rows)
		if night == 0 {
			firstNight = sink.outcomes
		} else if wrong := sink.differFrom(firstNight); wrong != "" {
			panic(fmt.Sprintf("night %d: %s", night, wrong))
		}
		if night == 1 {
			waited = sink.waited
		}
	}
	due := map[int]bool{2: true, 3: true, 5: true, 8: true, 15: true, 22: true, 29: true}
	var dueSum, freeSum float64
	for night := 1; night < len(perRow); night++ {
		if due[night] {
			dueSum += perRow[night]
		} else {
			freeSum += perRow[night]
		}
	}
	month := (dueSum + freeSum) / float64(len(perRow)-1)
	fmt.Printf("| nightly file of %d unchanged rows, a quarter waiting: requests per row the next night (night 1; %d waited; outcomes as night 0's every night) | %.4f | %.2f (the first night) | %.4f | ≤ 0.01 |\n",
		rows, waited, perRow[1], perRow[0], perRow[1]/perRow[0])
	fmt.Printf("| the same: on a night the schedule checks the waiting (night 2) | %.4f | %.2f (the first night) | %.4f | |\n",
		perRow[2], perRow[0], perRow[2]/perRow[0])
	fmt.Printf("| the same: requests per row a night, averaged over nights 1 to 30 | %.4f | %.2f (the first night) | %.4f | |\n",
		month, perRow[0], month/perRow[0])
}

// nightOf runs data once with the state file as a run at the time at
// would: the requests it sent, and what became of its rows.
func nightOf(srv *sandbox.Server, state, data string, at time.Time) (int64, *waitSink) {
	sink := &waitSink{outcomes: map[int]enroll.Outcome{}}
	return ledgerRun(srv, state, data, at, sink), sink
}

// ledgerRun runs data once against srv with the state file at state, as a
// run that starts at at would (the ledger's dates go by it), giving each
// row's result to sink: the requests it sent.
func ledgerRun(srv *sandbox.Server, state, data string, at time.Time, sink enroll.Sink) int64 {
	l, err := ledger.Open(state, false)
	must(err)
	must(l.Begin(ledger.Start{Input: "bench.csv", At: at}))
	api, err := pv.New(pv.Options{BaseURL: srv.URL, Token: token})
	must(err)
	rows, err := export.NewReader(strings.NewReader(data), export.ReaderOptions{Name: "bench.csv"})
	must(err)
	biz, err := api.Business(context.Background(), 25)
	must(err)
	_, err = enroll.Run(context.Background(), rows, enroll.New(api, biz, enroll.Policy{}),
		sink, enroll.Options{Workers: 16, Memory: l, Now: func() time.Time { return at }})
	must(err)
	must(l.Finish(at, "", ledger.RunFinished, nil, 0, 0))
	return api.Stats.Snapshot().Requests
}

// waitSink keeps each row's outcome, and counts the rows that waited.
type waitSink struct {
	outcomes map[int]enroll.Outcome
	waited   int
}

func (s *waitSink) Add(seq int, r enroll.Result) error {
	s.outcomes[seq] = r.Outcome
	if r.Waited {
		s.waited++
	}
	return nil
}

// differFrom names the first row whose outcome is not the first night's
// (a customer joined then is already-active now); "" when none.
func (s *waitSink) differFrom(first map[int]enroll.Outcome) string {
	for seq := range len(first) {
		want := first[seq]
		if want == enroll.Joined {
			want = enroll.AlreadyActive
		}
		if got := s.outcomes[seq]; got != want {
			return fmt.Sprintf("row %d is %s, want %s", seq, got, want)
		}
	}
	return ""
}
