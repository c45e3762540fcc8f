package report

// A report continued by a resumed run (--state: the same command run again
// after a stop) holds the rows the stopped runs settled and the rows this
// run decided. Its counts say which is which, and its Run: and API lines
// say which command they cover, so that no run is credited with another's
// work.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

// Resumed counts the rows a run resumed, by outcome and by the runs that
// decided them. The zero value is ready to use; Add is called from one
// goroutine, the rest after the run.
type Resumed struct {
	Outcomes map[enroll.Outcome]int      `json:"outcomes"`
	Runs     map[enroll.Outcome][]uint64 `json:"runs"` // per outcome, the runs that decided them, ascending
}

// Add counts one resumed row.
func (t *Resumed) Add(r enroll.Result) {
	if t.Outcomes == nil {
		t.Outcomes, t.Runs = map[enroll.Outcome]int{}, map[enroll.Outcome][]uint64{}
	}
	t.Outcomes[r.Outcome]++
	if i, found := slices.BinarySearch(t.Runs[r.Outcome], r.ResumedFrom); !found {
		t.Runs[r.Outcome] = slices.Insert(t.Runs[r.Outcome], i, r.ResumedFrom)
	}
}

// Rows is how many rows were resumed; 0 for nil.
func (t *Resumed) Rows() int {
	if t == nil {
		return 0
	}
	n := 0
	for _, k := range t.Outcomes {
		n += k
	}
	return n
}

// Own is counts less the resumed rows: the run's own work.
func (t *Resumed) Own(counts map[enroll.Outcome]int) map[enroll.Outcome]int {
	own := maps.Clone(counts)
	if t == nil {
		return own
	}
	for o, n := range t.Outcomes {
		if own[o] -= n; own[o] == 0 {
			delete(own, o)
		}
	}
	return own
}

// Describe says what the count of o is made of, when some of it was
// resumed ("482 in this run, 368 resumed from run 3 (joined the
// program)"), else what o means. t may be nil.
func (t *Resumed) Describe(o enroll.Outcome, count int) string {
	if t == nil || t.Outcomes[o] == 0 {
		return o.Description()
	}
	n := t.Outcomes[o]
	return fmt.Sprintf("%d in this run, %d resumed from %s (%s)", count-n, n, runNames(t.Runs[o]), strings.TrimSuffix(o.Description(), " in this run"))
}

// runNames is "run 3" or "runs 2, 4".
func runNames(ids []uint64) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = fmt.Sprint(id)
	}
	if len(names) == 1 {
		return "run " + names[0]
	}
	return "runs " + strings.Join(names, ", ")
}

// RunPart is an earlier command's part of a continued report: a run of the
// ledger that stopped before its end, whose settled rows a later run took
// over.
type RunPart struct {
	Run   uint64    `json:"run"`
	Start time.Time `json:"start"`
	// End is zero when the run was killed before it recorded its end.
	End time.Time `json:"end"`
	// Stop is why it stopped, as its own report said; empty when it
	// wrote no report (killed).
	Stop string `json:"stop"`
	// Requests are the API requests it sent; nil when it wrote no
	// report that counted them (killed).
	Requests *int64 `json:"requests"`
}

// MarshalJSON writes every field, null when not known (a killed part's end,
// stop and requests), as summary.json's schema says: a field a script reads
// is never missing.
func (p RunPart) MarshalJSON() ([]byte, error) {
	w := struct {
		Run      uint64     `json:"run"`
		Start    time.Time  `json:"start"`
		End      *time.Time `json:"end"`
		Stop     *string    `json:"stop"`
		Requests *int64     `json:"requests"`
	}{Run: p.Run, Start: p.Start, Requests: p.Requests}
	if !p.End.IsZero() {
		w.End = &p.End
	}
	if p.Stop != "" {
		w.Stop = &p.Stop
	}
	return json.Marshal(w)
}

// ReadParts is the earlier parts of the report in dir that the run
// continuing it takes over, oldest first: those its summary.json lists,
// the run that wrote it, and then, from the ledger, the run being
// continued if that one wrote no summary (it was killed). A folder without
// a readable summary.json yields prev alone.
func ReadParts(dir string, prev RunPart) []RunPart {
	var parts []RunPart
	if old, err := readMeta(dir); err == nil && old.Run != 0 && old.Run <= prev.Run {
		requests := old.API.Requests
		parts = append(slices.Clone(old.Earlier), RunPart{Run: old.Run, Start: old.Start, End: old.End, Stop: old.Stop, Requests: &requests})
	}
	if len(parts) == 0 || parts[len(parts)-1].Run != prev.Run {
		parts = append(parts, prev)
	}
	return parts
}

// runLines are the Run: and the API requests lines of a report, plain
// text: which command the figures cover and, in a continued report, the
// earlier parts'.
func runLines(meta Meta) (run string, earlier []string, api string) {
	who := "Run"
	if meta.Run != 0 {
		who = fmt.Sprintf("Run %d", meta.Run)
	}
	if len(meta.Earlier) > 0 {
		who += " (this command)"
	}
	if !meta.Start.IsZero() {
		run = fmt.Sprintf("%s: %s to %s (%s), exit code %d", who, meta.Start.UTC().Format(time.RFC3339), meta.End.UTC().Format(time.RFC3339),
			Duration(meta.End.Sub(meta.Start)), meta.ExitCode)
	}
	api = fmt.Sprintf("API requests: %d (%s, %d rate-limited)", meta.API.Requests, count(meta.API.Retries, "retry", "retries"), meta.API.Throttled)
	if len(meta.Earlier) == 0 {
		return run, nil, api
	}
	all, known := meta.API.Requests, true
	for _, p := range meta.Earlier {
		earlier = append(earlier, p.line())
		if p.Requests == nil {
			known = false
		} else {
			all += *p.Requests
		}
	}
	api = fmt.Sprintf("API requests in this command: %d (%s, %d rate-limited)", meta.API.Requests, count(meta.API.Retries, "retry", "retries"), meta.API.Throttled)
	if known {
		api += fmt.Sprintf("; %d with the earlier %s", all, plural(len(meta.Earlier), "part", "parts"))
	}
	return run, earlier, api
}

// line says what an earlier part was, as far as it is known.
func (p RunPart) line() string {
	s := fmt.Sprintf("Continues run %d: from %s", p.Run, p.Start.UTC().Format(time.RFC3339))
	if !p.End.IsZero() {
		s += fmt.Sprintf(" to %s (%s)", p.End.UTC().Format(time.RFC3339), Duration(p.End.Sub(p.Start)))
	}
	if p.Stop != "" {
		s += ", stopped: " + p.Stop
	}
	if p.Requests == nil {
		return s + "; it was killed before its report, so its API requests are not known"
	}
	return s + fmt.Sprintf("; %d API requests", *p.Requests)
}
