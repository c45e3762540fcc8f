package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// killRerun: a run of rows customers at --rate rate with --state, killed
// (SIGKILL) at a given moment, then run again with the same command to
// its end: the requests of both runs together against those of one
// uninterrupted run, at several moments (seconds after the start, and
// shares of the joins applied), the worst shown with its extra requests by
// kind. The extra are the rows the killed run had begun and not recorded:
// those in flight (a row once begun goes ahead at the rate limit, so few
// are) and those whose records were not yet committed (every 16 rows or
// 200 ms, whatever --workers is); the rerun looks them up again, and
// re-sends no write blindly (checked: each connection is written once).
//
// With consent, every row holds the customer's consent and no customer has
// accepted the terms: each row's acceptance is sent in a batch
// (--accept-batch 100, --consent-column), between its lookup and its join.
func killRerun(rows int, rate float64, consent bool) {
	dir, err := os.MkdirTemp("", "pvenroll-bench-kill")
	must(err)
	defer os.RemoveAll(dir)
	k := killBench{dir: dir, bin: filepath.Join(dir, "pvenroll"), rows: rows, rate: rate}
	if out, err := exec.Command("go", "build", "-o", k.bin, command).CombinedOutput(); err != nil {
		fail(fmt.Errorf("go build: %v\n%s", err, out))
	}
	w, data, what := world(rows), csvRows(rows), ""
	if consent {
		w, what = consentWorld(rows), ", every row consenting (acceptances batched)"
		data, _ = consentCSV(rows, true)
		k.args = []string{"--consent-column", "Consent"}
	}
	k.world = filepath.Join(dir, "world.json")
	body, err := json.Marshal(w)
	must(err)
	must(os.WriteFile(k.world, body, 0o600))
	k.file = filepath.Join(dir, "rows.csv")
	must(os.WriteFile(k.file, []byte(data), 0o600))

	whole := k.run(killMoment{})
	var moments []killMoment
	for _, s := range []int{1, 2, 4, 6} {
		moments = append(moments, killMoment{after: time.Duration(s) * time.Second})
	}
	for _, share := range []int{10, 30, 50, 70, 90} {
		moments = append(moments, killMoment{share: share, joins: rows * share / 100})
	}
	var worst kinds
	var worstAt killMoment
	var each []string
	for _, m := range moments {
		both := k.run(m)
		each = append(each, fmt.Sprintf("%s %.3f", m, both.ratio(whole)))
		if worst == nil || both.total() > worst.total() {
			worst, worstAt = both, m
		}
	}
	workers := enroll.DefaultWorkers(rate)
	if consent {
		workers = enroll.DefaultBatchWorkers(rate)
	}
	fmt.Printf("| kill -9 of a %d-row run at --rate %g%s (default workers, %d), then the same command: requests of both runs, the worst of kills at %s (at %s) | %d | %d (one uninterrupted run) | %.3f | ≤ 1.05 |\n",
		rows, rate, what, workers, strings.Join(each, ", "), worstAt, worst.total(), whole.total(), worst.ratio(whole))
	fmt.Printf("| kill -9 at --rate %g%s, its worst kill (at %s): extra requests by kind, both runs less the uninterrupted run | %s | %d (one uninterrupted run) | %.3f | rows begun and not recorded, looked up again |\n",
		rate, what, worstAt, worst.extra(whole), whole.total(), float64(worst.total()-whole.total())/float64(whole.total()))
}

// killBench runs a file against fresh sandbox processes.
type killBench struct {
	dir, bin, world, file string
	args                  []string // more flags of enroll
	rows                  int
	rate                  float64
	runs                  int // runs so far, naming each one's files
}

// killMoment is when the first run is killed: after a time from its start,
// or once joins of the rows (share %) were applied; the zero value: never.
type killMoment struct {
	after        time.Duration
	share, joins int
}

func (m killMoment) String() string {
	if m.after > 0 {
		return fmt.Sprint(m.after)
	}
	return fmt.Sprintf("%d%%", m.share)
}

// run runs the file against a fresh sandbox, killed at m and then run again
// (m zero: once, to its end), and counts the requests of both runs. It
// fails the bench when the runs got a row wrong: every connection is
// joined exactly once, by one write, and the report counts every row once.
func (k *killBench) run(m killMoment) kinds {
	k.runs++
	addr := freeAddr()
	if resp, err := http.Get("http://" + addr + "/_sandbox/log"); err == nil {
		resp.Body.Close()
		// Taken since freeAddr looked: its log would be counted as this run's.
		fail(fmt.Errorf("a sandbox already answers at %s: is another bench running?", addr))
	}
	stop := startSandboxProcess(k.bin, addr, "--world", k.world)
	defer stop()
	state := filepath.Join(k.dir, fmt.Sprintf("s%d.db", k.runs))
	out := filepath.Join(k.dir, fmt.Sprintf("out%d", k.runs))
	cmd := func() *exec.Cmd {
		args := append([]string{"enroll", "--api", "http://" + addr, "--business", "25", "--rate", fmt.Sprint(k.rate), "-q",
			"--state", state, "--out", out}, k.args...)
		en := exec.Command(k.bin, append(args, k.file)...)
		en.Env = append(os.Environ(), "PERKVILLE_TOKEN="+token)
		return en
	}
	if m != (killMoment{}) {
		en := cmd()
		must(en.Start())
		if m.after > 0 {
			<-time.After(m.after) // the kill moment itself, not a wait for something
		}
		for applied(addr) < m.joins {
			time.Sleep(5 * time.Millisecond) // polling the sandbox, until the share of joins
		}
		must(en.Process.Kill())
		_ = en.Wait()
	}
	killed := len(sandboxLog(addr))
	en := cmd()
	var stderr bytes.Buffer
	en.Stderr = &stderr
	if err := en.Run(); err != nil {
		fail(fmt.Errorf("enroll: %v\n%s", err, stderr.String()))
	}
	log := sandboxLog(addr)
	checkKilledRows(log, out, k.rows, m)
	counts := countKinds(log[:killed])
	for kind, n := range countKinds(log[killed:]) {
		counts[kind] += n
	}
	return counts
}

// checkKilledRows fails the bench unless each connection was written once
// and the report's outcomes are every row, each joined.
func checkKilledRows(log []sandbox.LogEntry, out string, rows int, m killMoment) {
	writes := map[string]int{}
	for _, e := range log {
		if e.Method == http.MethodPatch {
			writes[e.Path]++
		}
	}
	for path, n := range writes {
		if n != 1 {
			fail(fmt.Errorf("kill at %s: %s written %d times", m, path, n))
		}
	}
	body, err := os.ReadFile(filepath.Join(out, "summary.json"))
	must(err)
	var s struct {
		Outcomes map[string]int `json:"outcomes"`
	}
	must(json.Unmarshal(body, &s))
	got := s.Outcomes[string(enroll.Joined)] + s.Outcomes[string(enroll.AlreadyActive)]
	if len(writes) != rows || got != rows {
		fail(fmt.Errorf("kill at %s: %d connections written, report %v, want %d rows joined", m, len(writes), s.Outcomes, rows))
	}
}

// kinds counts requests by what they were for.
type kinds map[string]int

// The kinds of request, in the order they are shown.
var kindOrder = []string{"preflight", "rights probe", "lookups", "joins", "listing pages", "probes", "agreement views", "acceptances", "creates", "other"}

// countKinds counts the requests of one run.
func countKinds(log []sandbox.LogEntry) kinds {
	k := kinds{}
	for _, e := range log {
		kind := kindOf(e)
		if kind == "preflight" && k[kind] > 0 {
			kind = "probes" // the breaker's: a run reads its business once
		}
		k[kind]++
	}
	return k
}

func kindOf(e sandbox.LogEntry) string {
	q, _ := url.ParseQuery(e.Query)
	switch {
	case e.Method == http.MethodGet && strings.HasPrefix(e.Path, "/v2/businesses/"):
		return "preflight"
	case e.Method == http.MethodGet && e.Path == pv.PathConnections && (q.Has(pv.QueryEmail) || q.Has(pv.QueryUserID)):
		return "lookups"
	case e.Method == http.MethodGet && e.Path == pv.PathConnections:
		return "listing pages"
	case e.Method == http.MethodGet && strings.HasPrefix(e.Path, pv.PathConnections):
		return "lookups" // a connection read back
	case e.Method == http.MethodPatch:
		return "joins"
	case e.Path == pv.PathAgreementsView:
		return "agreement views"
	case e.Path == pv.PathAgreementAcceptances:
		return "acceptances"
	case e.Method == http.MethodPost && e.Path == pv.PathExternalMembers && e.Status == http.StatusBadRequest:
		return "rights probe" // the preflight's admin probe, a create that cannot happen (no run here sends a bad create)
	case e.Path == pv.PathExternalMembers:
		return "creates"
	}
	return "other"
}

func (k kinds) total() int {
	n := 0
	for _, v := range k {
		n += v
	}
	return n
}

func (k kinds) ratio(base kinds) float64 { return float64(k.total()) / float64(base.total()) }

// extra says, kind by kind, how many more requests k holds than base.
func (k kinds) extra(base kinds) string {
	var parts []string
	for _, name := range kindOrder {
		if d := k[name] - base[name]; d != 0 || k[name] != 0 {
			parts = append(parts, fmt.Sprintf("%s %+d", name, d))
		}
	}
	return strings.Join(parts, ", ")
}

// freeAddr is a loopback address nothing listens at now: each sandbox of
// the bench gets its own, so that benches run at once (another engineer's
// make bench) do not share one and count each other's requests.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

// applied counts the writes the sandbox at addr applied.
func applied(addr string) int {
	n := 0
	for _, e := range sandboxLog(addr) {
		if e.Applied {
			n++
		}
	}
	return n
}

func sandboxLog(addr string) []sandbox.LogEntry {
	resp, err := http.Get("http://" + addr + "/_sandbox/log")
	must(err)
	defer resp.Body.Close()
	var log []sandbox.LogEntry
	must(json.NewDecoder(resp.Body).Decode(&log))
	return log
}
