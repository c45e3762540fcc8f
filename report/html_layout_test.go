package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
)

// A dry run's would-join bar is split: the rows that would join, and
// those a real run will likely see refused, each with its count.
func TestDryRunBarSplits(t *testing.T) {
	s := NewSummary()
	for _, r := range dryRows() {
		s.Add(r)
	}
	meta := fixedMeta()
	meta.DryRun = true
	var buf bytes.Buffer
	if err := HTML(&buf, s, meta); err != nil {
		t.Fatal(err)
	}
	try := s.WouldTry()
	if try == 0 {
		t.Fatal("the fixture has no would-join row at risk")
	}
	page := buf.String()
	for _, want := range []string{
		fmt.Sprintf(`title="would join: %d"`, s.Counts[enroll.WouldJoin]-try),
		fmt.Sprintf(`title="would try, likely refused: %d"`, try),
		fmt.Sprintf(`(%d would join, %d likely refused)`, s.Counts[enroll.WouldJoin]-try, try),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html has no %s", want)
		}
	}
}

// The chart of recent runs names each run under its bars.
func TestHistoryChartLabelsItsRuns(t *testing.T) {
	for _, runs := range []int{1, 7, 30} {
		meta := historyMeta(runs)
		var buf bytes.Buffer
		if err := HTML(&buf, NewSummary(), meta); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range regexp.MustCompile(`<text class="run"[^>]*>(\d+)</text>`).FindAllStringSubmatch(buf.String(), -1) {
			got = append(got, m[1])
		}
		var want []string
		for _, r := range meta.History {
			want = append(want, fmt.Sprint(r.Run))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%d runs: labels %v, want %v", runs, got, want)
		}
	}
}

// layoutCheck, run by the browser at the page's end, lists what does not
// fit the window: a page wider than it, a count past its edge, a table
// outside its own scroll box or a box past the edge, and a follow-up
// row's detail or code, or the history chart's caption, not wholly in the
// window (a scroll box would hide it: they are what the reader needs).
const layoutCheck = `<script>
(function(){const w=document.documentElement.clientWidth,bad=[];let details=0;
document.querySelectorAll('table.rows tbody td:last-child,table.rows tbody td:nth-last-child(2),.axis').forEach(c=>{const what=c.matches('td:last-child')?'detail':c.tagName==='TD'?'code':'caption';if(what==='detail')details++;
 const r=c.getBoundingClientRect();if(c.textContent&&(r.left<-0.5||r.right>w+0.5))bad.push(what+' "'+c.textContent.slice(0,30)+'" spans '+Math.round(r.left)+' to '+Math.round(r.right)+' px')});
if(document.documentElement.scrollWidth>w+1)bad.push('the page is '+document.documentElement.scrollWidth+' px wide');
document.querySelectorAll('.count').forEach(c=>{const r=c.getBoundingClientRect();if(r.right>w+0.5)bad.push('count '+c.textContent+' ends at '+Math.round(r.right)+' px')});
document.querySelectorAll('table,svg').forEach(t=>{const b=t.closest('.scroll');if(t.closest('.chart'))return;
 if(!b)bad.push('a '+t.tagName+' outside a scroll box');else if(b.getBoundingClientRect().right>w+0.5)bad.push('a scroll box ends at '+Math.round(b.getBoundingClientRect().right)+' px')});
const p=document.createElement('pre');p.id='layout';p.textContent=JSON.stringify({width:w,details:details,bad:bad});document.body.appendChild(p)})();
</script>
`

// frameAt shows a page in a frame of a width, and copies its layout
// check's result into the outer page.
const frameAt = `<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="%s" style="width:%dpx;height:900px;border:0"></iframe>
<script>document.getElementById('f').addEventListener('load',function(){var p=document.createElement('pre');p.id='layout';
var r=this.contentDocument&&this.contentDocument.getElementById('layout');p.textContent=r?r.textContent:'';document.body.appendChild(p)})</script></body></html>`

// The report reads at 1280 and 400 px in headless Chromium: nothing is
// wider than the window but inside its own scroll box, no count is cut,
// and each follow-up row's detail and code, and the history caption, are
// in the window, not scrolled out of it. Skipped where Chromium is not installed (CI installs nothing);
// make screenshots takes pictures to look at.
func TestReportLayoutInChromium(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no chromium on PATH: the layout is not checked (apt-get install chromium)")
	}
	dry := fixedMeta()
	dry.DryRun = true
	pages := map[string][]byte{}
	for name, c := range map[string]struct {
		rs   []enroll.Result
		meta Meta
	}{
		"run":     {mix(130, enroll.Joined, enroll.AlreadyActive, enroll.NeedsAgreement, enroll.MembershipInactive, enroll.Failed, enroll.OptedOut, enroll.Invalid), historyMeta(30)},
		"dry-run": {dryRows(), dry},
	} {
		s := NewSummary()
		for _, r := range c.rs {
			s.Add(r)
		}
		var buf bytes.Buffer
		if err := HTML(&buf, s, c.meta); err != nil {
			t.Fatal(err)
		}
		pages[name] = bytes.Replace(buf.Bytes(), []byte("</body>"), []byte(layoutCheck+"</body>"), 1)
	}
	dir := t.TempDir()
	for name, page := range pages {
		if err := os.WriteFile(filepath.Join(dir, name+".html"), page, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, width := range []int{1280, 400} {
			// Headless Chromium's window is at least 500 px wide: the page
			// is shown in a frame of the width, and the frame's result is
			// copied out for --dump-dom.
			frame := filepath.Join(dir, fmt.Sprintf("%s-%d.html", name, width))
			if err := os.WriteFile(frame, fmt.Appendf(nil, frameAt, name+".html", width), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
				"--allow-file-access-from-files", "--window-size=1400,900", "--virtual-time-budget=10000",
				"--dump-dom", "file://"+frame).Output()
			cancel()
			if err != nil {
				t.Fatalf("%s at %d px: chromium: %v", name, width, err)
			}
			m := regexp.MustCompile(`<pre id="layout">([^<]*)</pre>`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("%s at %d px: the layout check did not run", name, width)
			}
			var got struct {
				Width   int
				Details int
				Bad     []string
			}
			if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got); err != nil {
				t.Fatal(err)
			}
			if got.Width > width || got.Width < width*3/4 {
				t.Fatalf("%s: the window was %d px wide, asked %d", name, got.Width, width)
			}
			if got.Details == 0 {
				t.Fatalf("%s at %d px: no follow-up row's detail was checked", name, width)
			}
			for _, b := range got.Bad {
				t.Errorf("%s at %d px: %s", name, width, b)
			}
		}
	}
}
