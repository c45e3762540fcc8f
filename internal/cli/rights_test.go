package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	"github.com/pvenroll/pvenroll/report"
)

// The end-of-run warning fires only when enough rows were looked up and
// all but at most one (a customer's own token finds that customer) are
// not-found; it names the token's rights when they are not known, and the
// export when they are. Resumed rows are earlier runs' work: they count
// for neither side.
func TestWarnAllNotFound(t *testing.T) {
	admin := &sandbox.Token{Token: "t", StaffOf: []int64{25}}
	tests := []struct {
		name     string
		counts   map[enroll.Outcome]int
		resumed  map[enroll.Outcome]int
		dryRun   bool
		knownAdm bool
		proven   bool   // the preflight sent the probe (a run that may create)
		want     string // "" for no warning
	}{
		{name: "176 not found, one own customer, dry run", counts: map[enroll.Outcome]int{enroll.NotFound: 176, enroll.WouldJoin: 1, enroll.Invalid: 3},
			dryRun: true, want: "176 of the 177 rows looked up are not-found: the token is likely not an admin staff member's of business 25"},
		{name: "exactly the threshold", counts: map[enroll.Outcome]int{enroll.NotFound: allNotFoundRows}, dryRun: true, want: "10 of the 10 rows"},
		{name: "one below the threshold", counts: map[enroll.Outcome]int{enroll.NotFound: allNotFoundRows - 1}, dryRun: true},
		{name: "two found: the token finds customers", counts: map[enroll.Outcome]int{enroll.NotFound: 50, enroll.AlreadyActive: 1, enroll.Joined: 1}},
		{name: "a conflict is a found customer", counts: map[enroll.Outcome]int{enroll.NotFound: 50, enroll.Conflict: 2}, dryRun: true},
		{name: "rights known: the export is named", counts: map[enroll.Outcome]int{enroll.NotFound: 12}, dryRun: true, knownAdm: true,
			want: "12 of the 12 rows looked up are not-found, though the token is an admin staff member's of business 25: check that the export"},
		{name: "a real run that may create proved the rights", counts: map[enroll.Outcome]int{enroll.NotFound: 12}, proven: true,
			want: "though the token is an admin staff member's"},
		{name: "a real run that only joins did not prove them", counts: map[enroll.Outcome]int{enroll.NotFound: 176, enroll.Joined: 1},
			want: "176 of the 177 rows looked up are not-found: the token is likely not an admin staff member's of business 25"},
		{name: "resumed not-founds are not this run's", counts: map[enroll.Outcome]int{enroll.NotFound: 15}, resumed: map[enroll.Outcome]int{enroll.NotFound: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			r := &enrollRun{log: slog.New(slog.NewTextHandler(&log, nil)), ep: &endpoint{business: 25}}
			r.o.Policy.DryRun = tt.dryRun
			r.rightsProven = tt.proven
			if tt.knownAdm {
				r.ep.sandboxAdmin = admin
			}
			sum := report.NewSummary()
			sum.Counts = tt.counts
			resumed := &report.Resumed{}
			for o, n := range tt.resumed {
				for range n {
					resumed.Add(enroll.Result{Outcome: o})
				}
			}
			r.warnAllNotFound(sum, resumed)
			got := log.String()
			switch {
			case tt.want == "" && got != "":
				t.Errorf("warned: %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("log %q, want it to hold %q", got, tt.want)
			}
		})
	}
}
