package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/internal/ledger"
	"github.com/pvenroll/pvenroll/internal/sandbox"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds pvenroll once for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pvenroll-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pvenroll")
		ctx, cancel := context.WithTimeout(context.Background(), processDeadline)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// processDeadline bounds every process a test runs: a hung pvenroll fails
// its test instead of waiting for the suite's timeout.
const processDeadline = 2 * time.Minute

// command is the built pvenroll with args, killed at processDeadline.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processDeadline)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.WaitDelay = time.Second
	return cmd
}

// proc is a started pvenroll whose stderr lines a test can wait for.
type proc struct {
	cmd    *exec.Cmd
	lines  chan string // stderr, a line at a time; closed at EOF
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1024), exited: make(chan struct{})}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		defer close(p.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody waits for lines this late
			}
		}
	}()
	go func() {
		<-scanned // Wait closes the pipe: read it to the end first
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// waitLine waits up to d for a stderr line holding substr.
func (p *proc) waitLine(t *testing.T, substr string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("pvenroll ended its stderr without a line holding %q", substr)
			}
			if strings.Contains(line, substr) {
				return
			}
		case <-deadline:
			t.Fatalf("no stderr line holding %q within %v", substr, d)
		}
	}
}

// wait waits up to d for the process to exit, and returns Wait's error.
func (p *proc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(d):
		t.Fatalf("pvenroll did not exit within %v", d)
		return nil
	}
}

func countRows(t *testing.T, path string) (int, map[string]int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for _, r := range recs[1:] {
		by[r[4]]++
	}
	return len(recs) - 1, by
}

// SIGINT: in-flight rows finish or are marked, the report is complete, and
// the process exits 130 promptly.
func TestInterruptExits130WithACompleteReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	p := start(t, command(t, "enroll", "--sandbox", "--sandbox-latency", "200ms", "--rate", "0", "--workers", "4",
		"--log-format", "json", "--out", out, "samples/members.csv"))
	// Wait until the run is past its preflight and sending rows.
	p.waitLine(t, `"msg":"start"`, time.Minute)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	err := p.wait(t, time.Minute)
	took := time.Since(signalled)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v, want code 130", err)
	}
	if took > 2*time.Second {
		t.Fatalf("exited %v after SIGINT; in-flight requests must be bounded to 2 s", took)
	}
	n, by := countRows(t, filepath.Join(out, "report.csv"))
	if n != 183 || by["not-attempted"] == 0 {
		t.Fatalf("%d rows, outcomes %v", n, by)
	}
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if !strings.Contains(string(b), `"exit_code": 130`) {
		t.Fatalf("summary.json: %s", b)
	}
}

// SIGTERM ends a run whose standard input stalls (a pipe that sends rows,
// then nothing) within 2 s, with the rows read in its report.
func TestTermEndsAStalledStdinRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cmd := command(t, "enroll", "--sandbox", "--rate", "0", "--delimiter", ",", "--log-format", "json", "--out", out, "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	p := start(t, cmd)
	if _, err := io.WriteString(stdin, "email,first name\nharper.smith55@example.com,Harper\nnot-an-email,X\n"); err != nil {
		t.Fatal(err)
	}
	p.waitLine(t, `"msg":"start"`, time.Minute)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	err = p.wait(t, time.Minute)
	took := time.Since(signalled)
	if !isExit(err, 130) {
		t.Fatalf("exit: %v, want code 130", err)
	}
	if took > 2*time.Second {
		t.Fatalf("exited %v after SIGTERM with stdin stalled; want within 2 s", took)
	}
	n, by := countRows(t, filepath.Join(out, "report.csv"))
	if n != 2 || by["invalid"] != 1 {
		t.Fatalf("%d rows, outcomes %v; want the 2 rows sent", n, by)
	}
}

// SIGTERM ends a run whose standard input sends nothing, not even a
// header, within 2 s: nothing was sent, and no report is left.
func TestTermEndsARunWaitingForAHeader(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	cmd := command(t, "enroll", "--sandbox", "--log-format", "json", "--out", out, "-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	p := start(t, cmd)
	p.waitLine(t, `"msg":"reading"`, time.Minute)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	err = p.wait(t, time.Minute)
	if took := time.Since(signalled); took > 2*time.Second {
		t.Fatalf("exited %v after SIGTERM; want within 2 s", took)
	}
	if !isExit(err, 130) {
		t.Fatalf("exit: %v, want code 130", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a run that read no header left %s", out)
	}
}

func freeAddr(t *testing.T) string {
	addr, err := loopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func startSandbox(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := command(t, append([]string{"sandbox", "--listen", addr}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatal("sandbox did not start")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, with a deadline
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// canonical describes a sandbox state by email, not by the ids that the
// order of creation decides.
func canonical(w *sandbox.World) []string {
	var out []string
	emails := map[int64]string{}
	for _, u := range w.Users {
		emails[u.UserID] = strings.Join(u.Emails, "+")
		var acc []string
		for _, a := range u.AcceptedAgreements {
			acc = append(acc, fmt.Sprint(a.AgreementID))
		}
		status := "none"
		if u.Connection != nil {
			status = u.Connection.Status + "/" + u.Connection.ExternalMembershipStatus
		}
		out = append(out, fmt.Sprintf("user %s %s agreements=%s", emails[u.UserID], status, strings.Join(acc, ",")))
	}
	for _, m := range w.ExternalMembers {
		out = append(out, fmt.Sprintf("member %s/%s %s created=%d", m.ExternalSystemID, m.ExternalMemberID, emails[m.UserID], m.Created))
	}
	slices.Sort(out)
	return out
}

// The crash test: runs killed with SIGKILL at seeded moments, then a run to
// completion, leave the sandbox as one uninterrupted run does, with no
// member created twice and no half report that looks complete.
// With --state, the final run also sends nothing for rows the killed runs
// finished.
func TestKilledRunsConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs processes")
	}
	// Each case has sandboxes of its own, so the two run side by side; but
	// not beside the scripts: a kill moment is counted in requests, and on
	// a crowded machine a kill lands later, after more rows, until a killed
	// run can leave the next too little to do to be killed at all.
	t.Run("without state", func(t *testing.T) {
		t.Parallel()
		killedRunsConverge(t, "")
	})
	t.Run("with state", func(t *testing.T) {
		t.Parallel()
		killedRunsConverge(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

func killedRunsConverge(t *testing.T, state string) {
	args := []string{"enroll", "--rate", "0", "--backoff", "1ms", "--workers", "8", "--business", "25", "--create-missing", "--system-id", "RIVERSIDE_ABC",
		"--consent-column", "Terms Accepted At", "-q", "samples/members.csv"}
	run := func(api, out string, withState bool) *exec.Cmd {
		a := append(slices.Clone(args), "--api", api, "--out", out)
		if withState {
			a = append(a, "--state", state)
		}
		cmd := command(t, a...)
		cmd.Env = append(os.Environ(), "PERKVILLE_TOKEN=sandbox-admin-token")
		return cmd
	}
	withState := state != ""

	// The uninterrupted run, without a state file.
	clean := startSandbox(t)
	if err := run(clean, filepath.Join(t.TempDir(), "clean"), false).Run(); err != nil && !isExit(err, 1) {
		t.Fatal(err)
	}
	var want sandbox.World
	getJSON(t, clean+"/_sandbox/state", &want)

	sandboxArgs := []string{"--latency", "5ms", "--jitter", "10ms"}
	api := startSandbox(t, sandboxArgs...)
	rnd := rand.New(rand.NewPCG(2026, 11))
	// resumable counts the rows the final run must resume: those settled
	// by killed runs. On a loaded machine a kill may come before the first
	// batch of records was written, or after the run had already ended;
	// the loop goes on until a kill left something to resume (or gives up
	// after a few tries).
	resumable := 0
	// A run that ended before its kill leaves the next runs less to do,
	// so that they too would end before theirs: the next run starts
	// afresh, on a new sandbox and a new state file.
	afresh := func() {
		api = startSandbox(t, sandboxArgs...)
		if withState {
			state = filepath.Join(t.TempDir(), "state.db")
		}
		resumable = 0
	}
	for k := 0; k < 8 && (k < 3 || (withState && resumable == 0)); k++ {
		out := filepath.Join(t.TempDir(), fmt.Sprint("killed", k))
		var before []sandbox.LogEntry
		getJSON(t, api+"/_sandbox/log", &before)
		at := len(before) + 30 + rnd.IntN(120)
		cmd := run(api, out, withState)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		killed := false
	poll:
		for {
			select {
			case <-exited:
				break poll // the run finished before its kill moment
			default:
			}
			var log []sandbox.LogEntry
			getJSON(t, api+"/_sandbox/log", &log)
			if len(log) >= at {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				// The run may have ended by itself between the poll and the
				// kill: only a run the signal ended counts as killed.
				ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
				killed = ok && ws.Signaled()
				break
			}
			time.Sleep(2 * time.Millisecond) // polling the sandbox's log for the kill moment
		}
		if !killed {
			t.Logf("run %d ended before its kill: starting afresh", k)
			afresh()
			continue
		}
		if _, err := os.Stat(filepath.Join(out, "report.csv")); err == nil {
			// The signal came after the run had written its whole report
			// (report.csv is committed last): it ended, in all but name.
			if _, err := os.Stat(filepath.Join(out, "summary.json")); err != nil {
				t.Fatalf("a killed run left %s/report.csv without its summary: %v", out, err)
			}
			t.Logf("run %d was killed after its report: starting afresh", k)
			afresh()
			continue
		}
		if withState {
			resumable = resumableRows(t, state)
			t.Logf("kill %d, at request %d of the sandbox's log, left %d rows to resume", k, at, resumable)
		}
	}
	if withState && resumable == 0 {
		t.Fatal("no kill left a settled row in the state file: nothing to prove a resume with")
	}
	var before []sandbox.LogEntry
	getJSON(t, api+"/_sandbox/log", &before)
	final := filepath.Join(t.TempDir(), "final")
	if err := run(api, final, withState).Run(); err != nil && !isExit(err, 1) {
		t.Fatal(err)
	}
	if withState {
		var log []sandbox.LogEntry
		getJSON(t, api+"/_sandbox/log", &log)
		if n := resumedRowsNotRead(t, filepath.Join(final, "report.csv"), log[len(before):]); n != resumable {
			t.Errorf("%d rows resumed; the killed runs settled %d", n, resumable)
		}
	}
	var got sandbox.World
	getJSON(t, api+"/_sandbox/state", &got)
	g, w := canonical(&got), canonical(&want)
	if !slices.Equal(g, w) {
		for i := range max(len(g), len(w)) {
			if i >= len(g) || i >= len(w) || g[i] != w[i] {
				t.Fatalf("state differs from an uninterrupted run's at %d:\n got %v\nwant %v", i, g[min(i, len(g)-1)], w[min(i, len(w)-1)])
			}
		}
	}
}

// resumedRowsNotRead: no request of the final run names a resumed row.
func resumedRowsNotRead(t *testing.T, reportCSV string, log []sandbox.LogEntry) int {
	t.Helper()
	f, err := os.Open(reportCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, _ := csv.NewReader(f).ReadAll()
	resumed := 0
	for _, r := range recs[1:] {
		if !strings.HasPrefix(r[7], "resumed") {
			continue
		}
		resumed++
		if r[10] != "0" {
			t.Errorf("line %s resumed with %s requests", r[0], r[10])
		}
		for _, e := range log {
			if strings.Contains(e.Query, strings.ReplaceAll(r[1], "@", "%40")) {
				t.Errorf("line %s was finished by a killed run, yet read again", r[0])
			}
		}
	}
	return resumed
}

// resumableRows reads a state file no run holds: the customers whose
// settled outcome was written by a run that never finished, after the last
// one that did.
func resumableRows(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.View(func(tx *bolt.Tx) error {
		status := map[uint64]string{}
		var lastFinished uint64
		if err := tx.Bucket([]byte("runs")).ForEach(func(_, v []byte) error {
			var r ledger.Run
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			status[r.ID] = r.Status
			if r.Status == ledger.RunFinished {
				lastFinished = max(lastFinished, r.ID)
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket([]byte("customers")).ForEach(func(_, v []byte) error {
			var e struct {
				Outcome enroll.Outcome `json:"outcome"`
				Run     uint64         `json:"run"`
			}
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Run > lastFinished && status[e.Run] != ledger.RunFinished && e.Outcome.Settled() {
				n++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A second run on a state file another run holds exits 5 at once.
func TestLockedStateExits5(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.db")
	l, err := ledger.Open(state, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out := filepath.Join(t.TempDir(), "out")
	cmd := command(t, "enroll", "--sandbox", "--state", state, "--out", out, "samples/members.csv")
	msg, err := cmd.CombinedOutput()
	if !isExit(err, 5) || !strings.Contains(string(msg), "another pvenroll run holds the state file") {
		t.Fatalf("exit %v: %s", err, msg)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a locked-out run wrote a report")
	}
}

func isExit(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}
