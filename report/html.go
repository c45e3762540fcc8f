package report

import (
	"html/template"
	"io"
	"strings"
	"time"
)

// barColor gives each group a colour that says how it reads: green done,
// amber someone must act, red failed.
func barColor(o Outcome) string {
	switch o {
	case Joined, WouldJoin, AlreadyActive:
		return "#2e7d32"
	case Failed, NotAttempted, Conflict, Invalid:
		return "#c62828"
	case OptedOut, Duplicate:
		return "#78909c"
	}
	return "#ef8f00"
}

type htmlBar struct {
	Outcome     Outcome
	Description string
	Count       int
	Y, Width    int
	TextY       int
	Color       string
}

type htmlGroup struct {
	Outcome Outcome
	Count   int
	Rows    []Result
	More    int
	Meaning string
}

const (
	chartWidth = 420 // pixels for the longest bar
	barHeight  = 22
	barGap     = 8
)

// HTML renders one self-contained page: no scripts, no external assets.
func HTML(w io.Writer, s *Summary, meta Meta) error {
	var bars []htmlBar
	most := 0
	for _, o := range Outcomes {
		most = max(most, s.Counts[o])
	}
	y := 0
	for _, o := range Outcomes {
		n := s.Counts[o]
		if n == 0 {
			continue
		}
		width := max(2, n*chartWidth/max(most, 1))
		bars = append(bars, htmlBar{Outcome: o, Description: o.Description(), Count: n, Y: y, Width: width,
			TextY: y + barHeight*2/3, Color: barColor(o)})
		y += barHeight + barGap
	}
	var groups []htmlGroup
	for _, o := range FollowUp {
		if rows := s.Groups[o]; len(rows) > 0 {
			groups = append(groups, htmlGroup{Outcome: o, Count: s.Counts[o], Rows: rows, More: s.Counts[o] - len(rows), Meaning: capitalise(o.Description())})
		}
	}
	data := map[string]any{"Meta": meta, "Rows": s.Rows, "Bars": bars, "Groups": groups,
		"ChartHeight": max(y, barHeight), "Duration": Duration(meta.End.Sub(meta.Start)),
		"Start": meta.Start.UTC().Format(time.RFC3339), "MembershipNote": membershipNote(s, meta),
		"History": chartHistory(meta.History)}
	if meta.DryRun && s.Counts[WouldJoin] > 0 {
		data["Split"] = riskSplit(s)
	}
	return page.Execute(w, data)
}

type htmlRisk struct {
	Risk        Risk
	Description string
	Count       int
}

// riskSplit is a dry run's would-join, split as markdownRisks does.
func riskSplit(s *Summary) map[string]any {
	var risks []htmlRisk
	for _, r := range Risks {
		if n := s.AtRisk[r]; n > 0 {
			risks = append(risks, htmlRisk{r, r.Description(), n})
		}
	}
	try := s.WouldTry()
	return map[string]any{"WouldJoin": s.Counts[WouldJoin], "Likely": s.Counts[WouldJoin] - try, "Try": try,
		"Risks": risks, "Rows": s.Risky, "More": try - len(s.Risky)}
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"count":   count[int],
	"count64": count[int64],
	"name":    func(r Result) string { return strings.TrimSpace(r.FirstName + " " + r.LastName) },
	"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pvenroll reconciliation{{if .Meta.DryRun}} (dry run){{end}}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1c1c1c}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}.meta{color:#555}
svg text{font:13px system-ui,sans-serif}svg text.meta{fill:#666;font-size:11px}
</style>
</head>
<body>
<h1>pvenroll reconciliation{{if .Meta.DryRun}} — dry run: nothing was written{{end}}</h1>
<p class="meta">{{with .Meta.Business.Name}}Business: {{.}} ({{$.Meta.Business.ID}}) · {{end}}Input: {{.Meta.Input.Path}}, {{count .Rows "row" "rows"}}{{if not .Meta.Start.IsZero}} · Run {{.Start}}, {{.Duration}}, exit code {{.Meta.ExitCode}}{{end}}{{with .Meta.Stop}} · stopped: {{.}}{{end}} · API requests: {{.Meta.API.Requests}} ({{count64 .Meta.API.Retries "retry" "retries"}}, {{.Meta.API.Throttled}} rate-limited)</p>
<svg role="img" aria-label="rows per outcome" width="760" height="{{.ChartHeight}}" viewBox="0 0 760 {{.ChartHeight}}">
{{- range .Bars}}
<g class="bar" data-outcome="{{.Outcome}}"><text x="0" y="{{.TextY}}">{{.Outcome}}</text><rect x="170" y="{{.Y}}" width="{{.Width}}" height="22" fill="{{.Color}}"><title>{{.Outcome}}: {{.Count}}</title></rect><text x="{{.Width}}" dx="178" y="{{.TextY}}">{{.Count}}</text></g>
{{- end}}
</svg>
<table>
<thead><tr><th>outcome</th><th>rows</th><th>meaning</th></tr></thead>
<tbody>
{{- range .Bars}}
<tr><td>{{.Outcome}}</td><td class="n">{{.Count}}</td><td>{{.Description}}</td></tr>
{{- end}}
<tr><th>total</th><th class="n">{{.Rows}}</th><th>every input row, once</th></tr>
</tbody>
</table>
{{- with .MembershipNote}}
<p id="membership">{{.}}</p>
{{- end}}
{{- with .Split}}
<h2 id="would-join-split">would-join, split ({{.WouldJoin}})</h2>
<table class="split">
<thead><tr><th>would-join</th><th>rows</th></tr></thead>
<tbody>
<tr data-split="would-join"><td>would join</td><td class="n">{{.Likely}}</td></tr>
<tr data-split="would-try"><td>would try, likely refused</td><td class="n">{{.Try}}</td></tr>
{{- range .Risks}}
<tr data-risk="{{.Risk}}"><td>· {{.Description}}</td><td class="n">{{.Count}}</td></tr>
{{- end}}
</tbody>
</table>
<p>A real run sends every would-join row. Those it would try but that will likely be refused are why the real run's <code>joined</code> can be lower; <code>report.csv</code>'s <code>risk</code> column names each one's reason.</p>
{{- if .Rows}}
<h3>would try, likely refused ({{.Try}})</h3>
<table>
<thead><tr><th>line</th><th>email</th><th>name</th><th>member id</th><th>why</th><th>detail</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="n">{{.Line}}</td><td>{{.Email}}</td><td>{{name .}}</td><td>{{.ExternalMemberID}}</td><td>{{.Risk}}</td><td>{{.Detail}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if gt .More 0}}
<p>… and {{.More}} more in <code>report.csv</code> (its <code>risk</code> column).</p>
{{- end}}
{{- end}}
{{- end}}
{{- with .History}}
<h2 id="history">The last {{len .Rows}} runs (--state)</h2>
<svg role="img" aria-label="the last runs: joined, already active, waiting on agreements, opted out" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{- range .Panels}}
<g class="series" data-series="{{.Outcome}}"><text x="0" y="{{.LabelY}}">{{.Label}}: {{.Latest}}</text><text x="0" y="{{.LabelY}}" dy="16" class="meta">most {{.Most}}</text><line x1="200" x2="{{.EndX}}" y1="{{.BaseY}}" y2="{{.BaseY}}" stroke="#bbb"/>
{{- range .Bars}}
<rect class="run" data-series="{{.Series}}" data-run="{{.Run}}" data-count="{{.Count}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Colour}}"><title>{{.Title}}</title></rect>
{{- end}}
</g>
{{- end}}
<text x="200" y="{{.AxisY}}" class="meta">{{.Axis}}</text>
</svg>
<details>
<summary>the runs as a table</summary>
<table>
<thead><tr><th>run</th><th>start</th><th>status</th><th>joined</th><th>already active</th><th>waiting on agreements</th><th>opted out</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="n">{{.Run.Run}}</td><td>{{utc .Run.Start}}</td><td>{{.Run.Status}}</td>{{range .Counts}}<td class="n">{{.}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
</details>
{{- end}}
{{- with .Meta.Changes}}
<h2 id="changes">Since the last run (run {{.SinceRun}})</h2>
<ul>
<li>newly joined: {{.NewlyJoined}}</li>
<li>newly opted out: {{.NewlyOptedOut}}</li>
<li>still waiting on agreements: {{.StillWaiting}} (the longest for {{count .LongestWaitDays "day" "days"}})</li>
<li>resumed from an unfinished run: {{.Resumed}}</li>
<li>unchanged and still active (no call): {{.Skipped}}</li>
<li>waiting, not due for a check (no call): {{.Waited}}</li>
</ul>
{{- end}}
{{- range .Groups}}
<h2 id="{{.Outcome}}">{{.Outcome}} ({{.Count}})</h2>
<p>{{.Meaning}}. Follow-up file: <code>followup/{{.Outcome}}.csv</code>.</p>
<table>
<thead><tr><th>line</th><th>email</th><th>name</th><th>member id</th><th>code</th><th>detail</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="n">{{.Line}}</td><td>{{.Email}}</td><td>{{name .}}</td><td>{{.ExternalMemberID}}</td><td>{{.Code}}</td><td>{{.Detail}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if gt .More 0}}
<p>… and {{.More}} more in <code>followup/{{.Outcome}}.csv</code>.</p>
{{- end}}
{{- end}}
</body>
</html>
`))
