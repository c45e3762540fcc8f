package report

import (
	"encoding/json"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

// SchemaVersion of summary.json.
const SchemaVersion = 1

// Summary counts results per outcome and keeps the first rows of each group
// that needs someone to act. It is the one owner of a run's counts: the
// progress display and the run ledger read them (Snapshot) while the
// report's writer adds to them, so Add and Snapshot are safe to call from
// different goroutines. Read the fields themselves once the run has ended.
type Summary struct {
	mu     sync.Mutex
	Counts map[enroll.Outcome]int
	Rows   int
	Groups map[enroll.Outcome][]enroll.Result // first groupRows rows of each follow-up outcome
	// MembershipDiffers counts rows whose export membership status differs
	// from Perkville's and was left so (no membership sync, or no ids).
	MembershipDiffers int
	// AtRisk counts a dry run's would-join rows by why the real run will
	// likely refuse them; Risky keeps the first groupRows of them.
	AtRisk map[enroll.Risk]int
	Risky  []enroll.Result
	// ExportInactive counts rows the export marks inactive.
	ExportInactive int
	// Resumed are the rows of Counts that the run took from the
	// unfinished runs it continued (a re-render has them from
	// summary.json: report.csv does not say).
	Resumed Resumed
}

// NewSummary returns an empty summary.
func NewSummary() *Summary {
	return &Summary{Counts: map[enroll.Outcome]int{}, Groups: map[enroll.Outcome][]enroll.Result{}, AtRisk: map[enroll.Risk]int{}}
}

// Add counts one result.
func (s *Summary) Add(r enroll.Result) {
	r = Bounded(r)
	r.Raw = nil
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Rows++
	s.Counts[r.Outcome]++
	if r.MembershipDiffers {
		s.MembershipDiffers++
	}
	if r.ExportMembership == "INACTIVE" {
		s.ExportInactive++
	}
	if r.Resumed {
		s.Resumed.Add(r)
	}
	if r.Outcome == enroll.WouldJoin && r.Risk != "" {
		s.AtRisk[r.Risk]++
		if len(s.Risky) < groupRows {
			s.Risky = append(s.Risky, r)
		}
	}
	if r.Outcome.NeedsFollowUp() && len(s.Groups[r.Outcome]) < groupRows {
		s.Groups[r.Outcome] = append(s.Groups[r.Outcome], r)
	}
}

// Tally is a summary's counts at one moment.
type Tally struct {
	Rows   int
	Counts map[enroll.Outcome]int
}

// Snapshot copies the counts so far; safe while results are being added.
func (s *Summary) Snapshot() Tally {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := Tally{Rows: s.Rows, Counts: make(map[enroll.Outcome]int, len(s.Counts))}
	for o, n := range s.Counts {
		t.Counts[o] = n
	}
	return t
}

// WouldTry is how many of a dry run's would-join rows are at risk.
func (s *Summary) WouldTry() int {
	n := 0
	for _, k := range s.AtRisk {
		n += k
	}
	return n
}

// Meta is summary.json, less what the summary counts.
type Meta struct {
	SchemaVersion int            `json:"schema_version"`
	ToolVersion   string         `json:"tool_version"`
	DryRun        bool           `json:"dry_run"`
	Input         Input          `json:"input"`
	Business      BusinessInfo   `json:"business"`
	Outcomes      map[string]int `json:"outcomes"`
	API           APIStats       `json:"api"`
	Workers       int            `json:"workers,omitempty"`
	Rate          float64        `json:"rate,omitempty"`
	Start         time.Time      `json:"start"`
	End           time.Time      `json:"end"`
	Stop          string         `json:"stop,omitempty"` // why the run stopped early
	// Run is the run's id in the ledger (--state); 0 without one.
	Run uint64 `json:"run,omitempty"`
	// Resumed: the rows of Outcomes that this run took from the unfinished
	// runs it continued, as they decided them (Summary.Resumed); absent
	// when none. Start, End and API are this run's own.
	Resumed *Resumed `json:"resumed,omitempty"`
	// Earlier: the runs whose report this one continued, oldest first.
	Earlier []RunPart `json:"earlier_parts,omitempty"`
	Changes *Changes  `json:"changes,omitempty"`
	// MembershipDiffers: rows whose membership status differs from
	// Perkville's and was not updated.
	MembershipDiffers int `json:"membership_status_differs"`
	// ExportInactive: rows the export marks inactive. Whether they join
	// stays Perkville's decision (Preset says when the export's status
	// is sent).
	ExportInactive int         `json:"export_inactive"`
	Preset         *PresetInfo `json:"preset,omitempty"`
	// DryRunAtRisk: a dry run's would-join rows that the real run would
	// try but that will likely be refused, by reason (an enroll.Risk); {} in a dry
	// run without any, absent in a real run. A sibling of dry_run, which
	// stays the boolean scripts read.
	DryRunAtRisk map[string]int `json:"dry_run_at_risk,omitzero"`
	// History is the last runs of the run ledger (--state), oldest first,
	// this run last: report.html charts them.
	History  []HistoryRun `json:"history,omitempty"`
	ExitCode int          `json:"exit_code"`
	// Warnings are the run's warnings as the CLI logged them, for a
	// reader of the folder who never saw the log; [] when none.
	Warnings []string `json:"warnings"`
}

// Changes since the previous run in the same state file (--state).
type Changes struct {
	SinceRun      uint64    `json:"since_run"`
	SinceStart    time.Time `json:"since_start"`
	NewlyJoined   int       `json:"newly_joined"`
	NewlyOptedOut int       `json:"newly_opted_out"`
	// StillWaiting: needs-agreement rows that were needs-agreement
	// before this run too (resumed ones among them); the rest of the
	// run's needs-agreement rows began waiting in this run.
	StillWaiting    int `json:"still_waiting_on_agreements"`
	LongestWaitDays int `json:"longest_wait_days"`
	Resumed         int `json:"resumed"` // outcomes of an interrupted run, not sent again
	Skipped         int `json:"skipped"` // unchanged and still active: no per-row call
	// Waited: waiting customers whose unchanged rows were not due for a
	// check (they keep their last outcome): no per-row call.
	Waited int `json:"waited"`
}

// Count adds one result's change.
func (c *Changes) Count(r enroll.Result, now time.Time) {
	switch {
	case r.Resumed:
		c.Resumed++
	case r.Skipped:
		c.Skipped++
	case r.Waited:
		c.Waited++
	}
	switch {
	case r.Outcome == enroll.Joined && !r.Resumed:
		c.NewlyJoined++
	case r.Outcome == enroll.OptedOut && (r.PriorOutcome == enroll.Joined || r.PriorOutcome == enroll.AlreadyActive):
		c.NewlyOptedOut++
	case r.Outcome == enroll.NeedsAgreement && r.PriorOutcome == enroll.NeedsAgreement:
		c.StillWaiting++
		c.LongestWaitDays = max(c.LongestWaitDays, int(now.Sub(r.PriorSince).Hours()/24))
	}
}

// PresetInfo names the export's shape and what its membership status does.
type PresetInfo struct {
	Name string `json:"name"`
	// MembershipFrom says where a row's membership status comes from,
	// e.g. "isActive and joinStatus (the abc-ignite rule)".
	MembershipFrom string `json:"membership_from"`
	// AtCreationOnly: the status is sent only when a member is created;
	// for customers Perkville already has, its own status decides.
	AtCreationOnly bool `json:"at_creation_only"`
}

// Input describes the input file.
type Input struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	// Delimiter is the input's field separator, which the follow-up
	// files use; `pvenroll report` reads it back.
	Delimiter string `json:"delimiter"`
	// Encoding is how the input's bytes were read: utf-8, utf-16le,
	// utf-16be, windows-1252, latin1, or xlsx for a workbook.
	Encoding string `json:"encoding"`
}

// BusinessInfo names the business of the run.
type BusinessInfo struct {
	ID           int64  `json:"id"`
	Name         string `json:"name,omitempty"`
	PerkvilleURL string `json:"perkville_url,omitempty"`
}

// APIStats counts the requests of the run.
type APIStats struct {
	Requests   int64            `json:"requests"`
	ByEndpoint map[string]int64 `json:"by_endpoint"`
	Retries    int64            `json:"retries"`
	Throttled  int64            `json:"throttled_429"`
	// OutageProbes are the requests that tried the API while it was down
	// (counted in Requests too).
	OutageProbes int64 `json:"outage_probes"`
}

// WriteSummaries writes summary.json, summary.md and report.html.
func WriteSummaries(dir string, s *Summary, meta Meta) error {
	meta.SchemaVersion = SchemaVersion
	meta.Outcomes = map[string]int{}
	for _, o := range enroll.Outcomes {
		if n := s.Counts[o]; n > 0 || o != enroll.WouldJoin {
			meta.Outcomes[string(o)] = n
		}
	}
	meta.Input.Rows = s.Rows
	meta.MembershipDiffers = s.MembershipDiffers
	meta.ExportInactive = s.ExportInactive
	meta.Resumed = nil
	if s.Resumed.Rows() > 0 {
		meta.Resumed = &s.Resumed
	}
	meta.DryRunAtRisk = nil
	if meta.DryRun {
		meta.DryRunAtRisk = map[string]int{}
		for r, n := range s.AtRisk {
			meta.DryRunAtRisk[string(r)] = n
		}
	}
	if meta.Warnings == nil {
		meta.Warnings = []string{}
	}
	if meta.API.ByEndpoint == nil {
		meta.API.ByEndpoint = map[string]int64{}
	}
	err := WriteFileAtomic(filepath.Join(dir, "summary.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(meta)
	})
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, "summary.md"), func(w io.Writer) error { return Markdown(w, s, meta) }); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "report.html"), func(w io.Writer) error { return HTML(w, s, meta) })
}
