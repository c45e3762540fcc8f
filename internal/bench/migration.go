package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// consentWorld has n customers not yet joined, none of whom has accepted
// the program terms; consentCSV's rows of four in five (every one when all
// is set) hold the customer's recorded consent.
func consentWorld(n int) *sandbox.World {
	w := world(0)
	for i := 0; i < n; i++ {
		w.Users = append(w.Users, sandbox.User{UserID: int64(100 + i), Emails: []string{fmt.Sprintf("m%d@example.com", i)},
			Connection: &sandbox.Connection{ConnectionID: int64(10_000 + i), Status: pv.StatusImported, ExternalMembershipStatus: pv.StatusActive}})
	}
	return w
}

func consentCSV(n int, all bool) (data string, consenting int) {
	var b strings.Builder
	b.WriteString("Email,Member ID,Consent\n")
	for i := 0; i < n; i++ {
		consent := ""
		if all || i%5 != 4 {
			consent = "2026-11-20T10:04:00Z"
			consenting++
		}
		fmt.Fprintf(&b, "m%d@example.com,A-%d,%s\n", i, i, consent)
	}
	return b.String(), consenting
}

// consentRun enrolls data against a fresh sandbox of n customers and
// returns the requests it sent (the preflight included) and its wall time.
func consentRun(n int, data string, f sandbox.Faults, rate float64, workers, batch int, wait time.Duration) (int64, time.Duration) {
	srv := sandbox.NewServer(consentWorld(n), f)
	defer srv.Close()
	api, err := pv.New(pv.Options{BaseURL: srv.URL, Token: token, Rate: rate, Retries: 5})
	must(err)
	rows, err := export.NewReader(strings.NewReader(data), export.ReaderOptions{Name: "bench.csv", ConsentColumn: "Consent"})
	must(err)
	start := time.Now()
	biz, err := api.Business(context.Background(), 25)
	must(err)
	en := enroll.New(api, biz, enroll.Policy{})
	sink := &countSink{}
	_, err = enroll.Run(context.Background(), rows, en, sink, enroll.Options{Workers: workers, AcceptBatch: batch, BatchWait: wait})
	must(err)
	if int(sink.n.Load()) != n {
		fail(fmt.Errorf("%d results for %d rows", sink.n.Load(), n))
	}
	return api.Stats.Snapshot().Requests, time.Since(start)
}

// batchedCalls: the calls of a consenting join with its acceptance batched,
// amortised over 500 such rows (unthrottled, 32 workers), against the same
// rows with --accept-batch 1.
func batchedCalls() {
	const n = 500
	data, _ := consentCSV(n, true)
	batched, _ := consentRun(n, data, sandbox.Faults{}, 0, 32, pv.MaxAcceptanceBatch, 0)
	single, _ := consentRun(n, data, sandbox.Faults{}, 0, 32, 1, 0)
	// Less the preflight and the one agreements view of the run.
	b, s := float64(batched-2)/n, float64(single-2)/n
	fmt.Printf("| calls per row: join + accept, batched (--accept-batch %d, %d rows, 32 workers, amortised) → joined | %.2f | %.2f (--accept-batch 1) | %.2f | about 2 |\n",
		pv.MaxAcceptanceBatch, n, b, s, b/s)
}

// migration: a first import of rows customers, four in five with recorded
// consent, batched with the CLI's default workers at --rate 10, against
// --accept-batch 1. Requests are measured. At --rate 10 the run would take
// most of an hour, so it runs scale times faster: the rate, the batch wait
// and the answers' latency (200 ms at --rate 10) are all scaled, the
// workers are not, so that rows meet their batches as they would at
// --rate 10. The wall time at --rate 10 is derived: requests ÷ 10, since
// the rate is the ceiling (rate fidelity above). --accept-batch 1 sends
// the same requests at any rate, so it is measured unthrottled.
func migration(rows int, scale float64) {
	const rate = 10
	data, consenting := consentCSV(rows, false)
	workers := enroll.DefaultBatchWorkers(rate)
	f := sandbox.Faults{Latency: time.Duration(float64(200*time.Millisecond) / scale)}
	wait := time.Duration(float64(enroll.DefaultBatchWait) / scale)
	batched, took := consentRun(rows, data, f, rate*scale, workers, pv.MaxAcceptanceBatch, wait)
	single, _ := consentRun(rows, data, sandbox.Faults{}, 0, 32, 1, 0)
	clock := func(req int64) string { return (time.Duration(req) * time.Second / rate).Round(time.Second).String() }
	fmt.Printf("| migration, %d rows, %d with consent, --accept-batch %d: requests (measured at --rate %.0f, %d workers, batch wait and %s latency: --rate 10 scaled %.0f×) | %d | %d (--accept-batch 1) | %.2f | fewer |\n",
		rows, consenting, pv.MaxAcceptanceBatch, rate*scale, workers, f.Latency, scale, batched, single, float64(batched)/float64(single))
	fmt.Printf("| migration: wall time at --rate 10 (derived: requests ÷ 10; the scaled run took %s, ×%.0f = %s) | %s | %s (--accept-batch 1) | %.2f | — |\n",
		took.Round(time.Second), scale, (time.Duration(float64(took) * scale)).Round(time.Second), clock(batched), clock(single), float64(batched)/float64(single))
	// Every row is found and joined (2 calls); the rest are acceptances.
	perJoin := 2 + float64(batched-2-2*int64(rows))/float64(consenting)
	fmt.Printf("| migration: calls per consenting join, amortised (2 + acceptance requests ÷ consenting rows) | %.2f | %.2f (--accept-batch 1) | %.2f | about 2 |\n",
		perJoin, 2+float64(single-2-2*int64(rows))/float64(consenting), perJoin/(2+float64(single-2-2*int64(rows))/float64(consenting)))
}
