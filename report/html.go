package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

// barColor gives each group a colour that says how it reads: green done,
// amber someone must act, red failed.
func barColor(o enroll.Outcome) string {
	switch o {
	case enroll.Joined, enroll.WouldJoin, enroll.AlreadyActive:
		return "#2e7d32"
	case enroll.Failed, enroll.NotAttempted, enroll.Conflict, enroll.Invalid:
		return "#c62828"
	case enroll.OptedOut, enroll.Duplicate:
		return "#78909c"
	}
	return "#ef8f00"
}

// htmlBar is a row of the outcome chart: HTML, not SVG, so that it reflows
// at any width and its count is never cut.
type htmlBar struct {
	Outcome     enroll.Outcome
	Description string
	Count       int
	Parts       []barPart
	Note        string // after the count: a dry run's "11 likely refused"
}

// barPart is a stretch of a bar: its share of the longest bar's track.
type barPart struct {
	Share string // 0 to 1, for CSS calc()
	Color string
	Title string
}

type htmlGroup struct {
	Outcome enroll.Outcome
	Count   int
	Rows    []enroll.Result
	More    int
	Meaning string
}

// likelyRefusedColor marks the dry run's would-join rows a real run will
// likely see refused: amber, as rows someone must act on.
const likelyRefusedColor = "#ef8f00"

// HTML renders one self-contained page: no scripts, no external assets.
func HTML(w io.Writer, s *Summary, meta Meta) error {
	var bars []htmlBar
	most := 0
	for _, o := range enroll.Outcomes {
		most = max(most, s.Counts[o])
	}
	for _, o := range enroll.Outcomes {
		if n := s.Counts[o]; n > 0 {
			bars = append(bars, outcomeBar(s, o, n, most, meta.DryRun))
		}
	}
	var groups []htmlGroup
	for _, o := range enroll.FollowUp {
		if rows := s.Groups[o]; len(rows) > 0 {
			groups = append(groups, htmlGroup{Outcome: o, Count: s.Counts[o], Rows: rows, More: s.Counts[o] - len(rows), Meaning: capitalise(o.Description())})
		}
	}
	run, earlier, api := runLines(meta)
	data := map[string]any{"Meta": meta, "Rows": s.Rows, "Bars": bars, "Groups": groups,
		"RunLine": run, "Earlier": earlier, "APILine": api, "MembershipNote": membershipNote(s, meta),
		"History": chartHistory(meta.History)}
	if meta.DryRun && s.Counts[enroll.WouldJoin] > 0 {
		data["Split"] = riskSplit(s)
	}
	if meta.Changes != nil {
		data["Waiting"] = waitingLine(s, meta.Changes)
	}
	return page.Execute(w, data)
}

// outcomeBar is outcome o's row of the chart; a dry run's would-join is
// split into the rows that would join and those likely refused.
func outcomeBar(s *Summary, o enroll.Outcome, n, most int, dryRun bool) htmlBar {
	share := func(k int) string { return fmt.Sprintf("%.4f", float64(k)/float64(max(most, 1))) }
	b := htmlBar{Outcome: o, Description: s.Resumed.Describe(o, n), Count: n}
	if try := s.WouldTry(); o == enroll.WouldJoin && dryRun && try > 0 {
		b.Parts = []barPart{{share(n - try), barColor(o), fmt.Sprintf("would join: %d", n-try)},
			{share(try), likelyRefusedColor, fmt.Sprintf("would try, likely refused: %d", try)}}
		b.Note = fmt.Sprintf("(%d would join, %d likely refused)", n-try, try)
		return b
	}
	b.Parts = []barPart{{share(n), barColor(o), fmt.Sprintf("%s: %d", o, n)}}
	return b
}

type htmlRisk struct {
	Risk        enroll.Risk
	Description string
	Count       int
}

// riskSplit is a dry run's would-join, split as markdownRisks does.
func riskSplit(s *Summary) map[string]any {
	var risks []htmlRisk
	for _, r := range enroll.Risks {
		if n := s.AtRisk[r]; n > 0 {
			risks = append(risks, htmlRisk{r, r.Description(), n})
		}
	}
	try := s.WouldTry()
	return map[string]any{"WouldJoin": s.Counts[enroll.WouldJoin], "Likely": s.Counts[enroll.WouldJoin] - try, "Try": try,
		"Risks": risks, "Rows": s.Risky, "More": try - len(s.Risky)}
}

// page is report.html. Up to 600 px wide a row table (table.rows) shows
// each row as a card, one labelled cell (data-label) a line and empty
// cells left out, so a row's code and detail, the reason it needs
// attention, are read without scrolling sideways. The history chart's
// caption is HTML under the chart, not SVG text, so it wraps.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"count":   count[int],
	"count64": count[int64],
	"name":    func(r enroll.Result) string { return strings.TrimSpace(r.FirstName + " " + r.LastName) },
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
svg text{font:13px system-ui,sans-serif}svg text.meta{fill:#666;font-size:11px}svg text.run{font-size:10px;fill:#555}
.scroll{overflow-x:auto;max-width:100%}table.rows{min-width:48rem}table.rows td:last-child{min-width:16rem}
.chart{max-width:44rem;margin:1rem 0}.axis{margin-top:.2rem;font-size:13px}
.bar{display:grid;grid-template-columns:minmax(0,9.5rem) minmax(0,1fr);column-gap:.5rem;align-items:center;margin:.3rem 0;font-size:13px}
.label{overflow-wrap:anywhere}.track{display:flex;align-items:center;min-width:0}
.fill{display:block;height:20px;min-width:2px;flex:none}
.count{padding-left:.4rem;white-space:nowrap}.note{grid-column:2;color:#555;font-size:12px}
@media (max-width:30rem){body{margin:1rem auto}}
@media (max-width:600px){table.rows{min-width:0;width:100%}table.rows thead{display:none}
table.rows,table.rows tbody,table.rows tr,table.rows td{display:block}
table.rows tr{border-bottom:1px solid #ddd;padding:.4rem 0}
table.rows td,table.rows td:last-child{border:0;padding:.05rem 0;min-width:0;text-align:left;overflow-wrap:anywhere}
table.rows td::before{content:attr(data-label) ": ";color:#555}table.rows td:empty{display:none}}
</style>
</head>
<body>
<h1>pvenroll reconciliation{{if .Meta.DryRun}} — dry run: nothing was written{{end}}</h1>
{{- with .Meta.Warnings}}
<div class="warnings" role="alert" style="border-left:4px solid #b35900;background:#fff4e5;padding:.4rem .8rem"><strong>Warnings</strong><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></div>
{{- end}}
<p class="meta">{{with .Meta.Business.Name}}Business: {{.}} ({{$.Meta.Business.ID}}) · {{end}}Input: {{.Meta.Input.Path}}, {{count .Rows "row" "rows"}}{{with .RunLine}} · {{.}}{{end}}{{with .Meta.Stop}} · stopped: {{.}}{{end}}{{range .Earlier}} · {{.}}{{end}} · {{.APILine}}</p>
<div class="chart" role="img" aria-label="rows per outcome">
{{- range .Bars}}
<div class="bar" data-outcome="{{.Outcome}}"><span class="label">{{.Outcome}}</span><span class="track">{{range .Parts}}<span class="fill" style="width:calc((100% - 7em) * {{.Share}});background:{{.Color}}" title="{{.Title}}"></span>{{end}}<span class="count">{{.Count}}</span></span>{{with .Note}}<span class="note">{{.}}</span>{{end}}</div>
{{- end}}
</div>
<div class="scroll"><table>
<thead><tr><th>outcome</th><th>rows</th><th>meaning</th></tr></thead>
<tbody>
{{- range .Bars}}
<tr><td>{{.Outcome}}</td><td class="n">{{.Count}}</td><td>{{.Description}}</td></tr>
{{- end}}
<tr><th>total</th><th class="n">{{.Rows}}</th><th>every input row, once</th></tr>
</tbody>
</table></div>
{{- with .MembershipNote}}
<p id="membership">{{.}}</p>
{{- end}}
{{- with .Split}}
<h2 id="would-join-split">would-join, split ({{.WouldJoin}})</h2>
<div class="scroll"><table class="split">
<thead><tr><th>would-join</th><th>rows</th></tr></thead>
<tbody>
<tr data-split="would-join"><td>would join</td><td class="n">{{.Likely}}</td></tr>
<tr data-split="would-try"><td>would try, likely refused</td><td class="n">{{.Try}}</td></tr>
{{- range .Risks}}
<tr data-risk="{{.Risk}}"><td>· {{.Description}}</td><td class="n">{{.Count}}</td></tr>
{{- end}}
</tbody>
</table></div>
<p>A real run sends every would-join row. Those it would try but that will likely be refused are why the real run's <code>joined</code> can be lower; <code>report.csv</code>'s <code>risk</code> column names each one's reason.</p>
{{- if .Rows}}
<h3>would try, likely refused ({{.Try}})</h3>
<div class="scroll"><table class="rows">
<thead><tr><th>line</th><th>email</th><th>name</th><th>member id</th><th>why</th><th>detail</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="n" data-label="line">{{.Line}}</td><td data-label="email">{{.Email}}</td><td data-label="name">{{name .}}</td><td data-label="member id">{{.ExternalMemberID}}</td><td data-label="why">{{.Risk}}</td><td data-label="detail">{{.Detail}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- if gt .More 0}}
<p>… and {{.More}} more in <code>report.csv</code> (its <code>risk</code> column).</p>
{{- end}}
{{- end}}
{{- end}}
{{- with .History}}
<h2 id="history">The last {{if eq (len .Rows) 1}}run{{else}}{{len .Rows}} runs{{end}} (--state)</h2>
<div class="scroll"><svg role="img" aria-label="the last runs: joined, already active, waiting on agreements, opted out" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{- range .Panels}}
<g class="series" data-series="{{.Outcome}}"><text x="0" y="{{.LabelY}}">{{.Label}}: {{.Latest}}</text><text x="0" y="{{.LabelY}}" dy="16" class="meta">most {{.Most}}</text><line x1="200" x2="{{.EndX}}" y1="{{.BaseY}}" y2="{{.BaseY}}" stroke="#bbb"/>
{{- range .Bars}}
<rect class="run" data-series="{{.Series}}" data-run="{{.Run}}" data-count="{{.Count}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Colour}}"><title>{{.Title}}</title></rect>
{{- end}}
</g>
{{- end}}
{{- range .RunLabels}}
<text class="run" x="{{.X}}" y="{{$.History.RunLabelY}}" text-anchor="middle">{{.Text}}</text>
{{- end}}
</svg></div>
<p class="meta axis">{{.Axis}}</p>
<details>
<summary>the runs as a table</summary>
<div class="scroll"><table>
<thead><tr><th>run</th><th>start</th><th>status</th><th>joined</th><th>already active</th><th>waiting on agreements</th><th>opted out</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="n">{{.Run.Run}}</td><td>{{utc .Run.Start}}</td><td>{{.Run.Status}}</td>{{range .Counts}}<td class="n">{{.}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table></div>
</details>
{{- end}}
{{- with .Meta.Changes}}
<h2 id="changes">Since the last run (run {{.SinceRun}})</h2>
<ul>
<li>newly joined: {{.NewlyJoined}}</li>
<li>newly opted out: {{.NewlyOptedOut}}</li>
<li>{{$.Waiting}}</li>
<li>resumed from an unfinished run: {{.Resumed}}</li>
<li>unchanged and still active (no call): {{.Skipped}}</li>
<li>waiting, not due for a check (no call): {{.Waited}}</li>
</ul>
{{- end}}
{{- range .Groups}}
<h2 id="{{.Outcome}}">{{.Outcome}} ({{.Count}})</h2>
<p>{{.Meaning}}. Follow-up file: <code>followup/{{.Outcome}}.csv</code>.</p>
<div class="scroll"><table class="rows">
<thead><tr><th>line</th><th>email</th><th>name</th><th>member id</th><th>code</th><th>detail</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td class="n" data-label="line">{{.Line}}</td><td data-label="email">{{.Email}}</td><td data-label="name">{{name .}}</td><td data-label="member id">{{.ExternalMemberID}}</td><td data-label="code">{{.Code}}</td><td data-label="detail">{{.Detail}}</td></tr>
{{- end}}
</tbody>
</table></div>
{{- if gt .More 0}}
<p>… and {{.More}} more in <code>followup/{{.Outcome}}.csv</code>.</p>
{{- end}}
{{- end}}
</body>
</html>
`))
