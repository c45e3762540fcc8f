package bench

import (
	"fmt"
	"net/http"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// createdCost: what believing nothing unread costs a created customer.
// The same rows run twice: as new customers (--create-missing: find,
// create, read back the connection the email finds, join) and as existing
// ones (find, join). The reads after the create are the lookups beyond
// each row's first, from the sandbox's log.
func createdCost(rows int) {
	newWorld := world(0)
	newWorld.Business.Agreements = nil // no terms: every created customer joins
	created := requestsOf(newWorld, rows, enroll.Policy{CreateMissing: true, SystemID: "SYS"})
	existing := requestsOf(world(rows), rows, enroll.Policy{})
	perCreated := float64(created.total) / float64(rows)
	perExisting := float64(existing.total) / float64(rows)
	readBacks := float64(created.lookups-rows) / float64(rows)
	fmt.Printf("| created customer (--create-missing, %d rows, joined): requests each (find, create, read back, join) | %.2f | %.2f (the same rows as existing customers: find, join) | %.2f | the create and its read-back: 2 more |\n",
		rows, perCreated, perExisting, perCreated/perExisting)
	fmt.Printf("| created customer: reads after the create, each (the connection the email finds, checked against the answer) | %.2f | %.2f (creates, each) | %.2f | at most 2 |\n",
		readBacks, float64(created.creates)/float64(rows), readBacks/(float64(created.creates)/float64(rows)))
}

type requestCount struct{ total, lookups, creates int }

// requestsOf runs the bench rows against w with policy and counts the
// sandbox's log: every request but the preflight's business read.
func requestsOf(w *sandbox.World, rows int, policy enroll.Policy) requestCount {
	srv := sandbox.NewServer(w, sandbox.Faults{})
	defer srv.Close()
	r := enrollRun(srv, csvRows(rows), 0, 8, true, policy, "")
	for _, res := range r.results {
		if res.Outcome != "joined" {
			panic(fmt.Sprintf("bench: created-customer row %d: %s (%s)", res.Line, res.Outcome, res.Detail))
		}
	}
	var c requestCount
	for _, e := range srv.Log() {
		switch {
		case e.Method == http.MethodGet && e.Path == pv.BusinessPath(25):
			continue
		case e.Method == http.MethodGet && e.Path == pv.PathConnections:
			c.lookups++
		case e.Method == http.MethodPost && e.Path == pv.PathExternalMembers:
			c.creates++
		}
		c.total++
	}
	return c
}
