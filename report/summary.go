package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// SchemaVersion of summary.json.
const SchemaVersion = 1

// Summary counts results per outcome and keeps the first rows of each group
// that needs someone to act.
type Summary struct {
	Counts map[Outcome]int
	Rows   int
	Groups map[Outcome][]Result // first groupRows rows of each follow-up outcome
	// MembershipDiffers counts rows whose export membership status differs
	// from Perkville's and was left so (no membership sync, or no ids).
	MembershipDiffers int
}

// NewSummary returns an empty summary.
func NewSummary() *Summary {
	return &Summary{Counts: map[Outcome]int{}, Groups: map[Outcome][]Result{}}
}

// Add counts one result.
func (s *Summary) Add(r Result) {
	s.Rows++
	s.Counts[r.Outcome]++
	if r.MembershipDiffers {
		s.MembershipDiffers++
	}
	if r.Outcome.NeedsFollowUp() && len(s.Groups[r.Outcome]) < groupRows {
		r.Raw = nil
		s.Groups[r.Outcome] = append(s.Groups[r.Outcome], r)
	}
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
	Changes       *Changes       `json:"changes,omitempty"`
	// MembershipDiffers: rows whose membership status differs from
	// Perkville's and was not updated.
	MembershipDiffers int `json:"membership_status_differs"`
	ExitCode          int `json:"exit_code"`
}

// Changes since the previous run in the same state file (--state).
type Changes struct {
	SinceRun        uint64    `json:"since_run"`
	SinceStart      time.Time `json:"since_start"`
	NewlyJoined     int       `json:"newly_joined"`
	NewlyOptedOut   int       `json:"newly_opted_out"`
	StillWaiting    int       `json:"still_waiting_on_agreements"`
	LongestWaitDays int       `json:"longest_wait_days"`
	Resumed         int       `json:"resumed"` // outcomes of an interrupted run, not sent again
	Skipped         int       `json:"skipped"` // unchanged and still active: no per-row call
}

// Count adds one result's change.
func (c *Changes) Count(r Result, now time.Time) {
	switch {
	case r.Resumed:
		c.Resumed++
	case r.Skipped:
		c.Skipped++
	}
	switch {
	case r.Outcome == Joined && !r.Resumed:
		c.NewlyJoined++
	case r.Outcome == OptedOut && (r.PriorOutcome == Joined || r.PriorOutcome == AlreadyActive):
		c.NewlyOptedOut++
	case r.Outcome == NeedsAgreement && r.PriorOutcome == NeedsAgreement:
		c.StillWaiting++
		c.LongestWaitDays = max(c.LongestWaitDays, int(now.Sub(r.PriorSince).Hours()/24))
	}
}

// Input describes the input file.
type Input struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Rows   int    `json:"rows"`
	// Delimiter is the input's field separator, which the follow-up
	// files use; `pvenroll report` reads it back.
	Delimiter string `json:"delimiter,omitempty"`
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
}

// WriteSummaries writes summary.json, summary.md and report.html.
func WriteSummaries(dir string, s *Summary, meta Meta) error {
	meta.SchemaVersion = SchemaVersion
	meta.Outcomes = map[string]int{}
	for _, o := range Outcomes {
		if n := s.Counts[o]; n > 0 || o != WouldJoin {
			meta.Outcomes[string(o)] = n
		}
	}
	meta.Input.Rows = s.Rows
	meta.MembershipDiffers = s.MembershipDiffers
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

// Markdown renders the reconciliation for a person.
func Markdown(w io.Writer, s *Summary, meta Meta) error {
	var b strings.Builder
	title := "pvenroll reconciliation"
	if meta.DryRun {
		title += " (dry run: nothing was written)"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	if meta.Business.Name != "" {
		fmt.Fprintf(&b, "Business: %s (%d)  \n", mdCell(meta.Business.Name), meta.Business.ID)
	}
	fmt.Fprintf(&b, "Input: `%s`, %d rows, sha256 `%s`  \n", mdCell(meta.Input.Path), s.Rows, short(meta.Input.SHA256))
	if !meta.Start.IsZero() {
		fmt.Fprintf(&b, "Run: %s to %s (%s), exit code %d", meta.Start.UTC().Format(time.RFC3339), meta.End.UTC().Format(time.RFC3339),
			meta.End.Sub(meta.Start).Round(time.Second), meta.ExitCode)
		if meta.Stop != "" {
			fmt.Fprintf(&b, ", stopped: %s", mdCell(meta.Stop))
		}
		b.WriteString("  \n")
	}
	fmt.Fprintf(&b, "API requests: %d (%d retries, %d rate-limited)\n\n", meta.API.Requests, meta.API.Retries, meta.API.Throttled)
	b.WriteString("| outcome | rows | meaning |\n|---|---:|---|\n")
	for _, o := range Outcomes {
		if n := s.Counts[o]; n > 0 {
			fmt.Fprintf(&b, "| %s | %d | %s |\n", o, n, o.Description())
		}
	}
	fmt.Fprintf(&b, "| **total** | **%d** | every input row, once |\n", s.Rows)
	if s.MembershipDiffers > 0 {
		fmt.Fprintf(&b, "\n%d rows hold a membership status that differs from Perkville's and was not updated (see their detail).\n", s.MembershipDiffers)
	}
	if c := meta.Changes; c != nil {
		fmt.Fprintf(&b, "\n## Since the last run (run %d, %s)\n\n", c.SinceRun, c.SinceStart.UTC().Format(time.RFC3339))
		fmt.Fprintf(&b, "- newly joined: %d\n- newly opted out: %d\n- still waiting on agreements: %d (the longest for %d days)\n", c.NewlyJoined, c.NewlyOptedOut, c.StillWaiting, c.LongestWaitDays)
		fmt.Fprintf(&b, "- resumed from an unfinished run: %d\n- unchanged and still active (no call): %d\n", c.Resumed, c.Skipped)
	}
	for _, o := range FollowUp {
		rows := s.Groups[o]
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n%s. Follow-up file: `followup/%s.csv`.\n\n", o, s.Counts[o], capitalise(o.Description()), o)
		b.WriteString("| line | email | name | member id | code | detail |\n|---:|---|---|---|---|---|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", r.Line, mdCell(r.Email), mdCell(strings.TrimSpace(r.FirstName+" "+r.LastName)),
				mdCell(r.ExternalMemberID), mdCell(r.Code), mdCell(r.Detail))
		}
		if more := s.Counts[o] - len(rows); more > 0 {
			fmt.Fprintf(&b, "\n… and %d more in `followup/%s.csv`.\n", more, o)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// mdCell keeps a value inside its table cell.
func mdCell(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "`", "'", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}
