package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
)

// killRerun: a run of rows customers at --rate rate with --state, killed
// (SIGKILL) when a given share of its joins were applied, then run again
// with the same command to its end: the requests of both runs together
// against those of one uninterrupted run. The ledger commits every 16 rows
// or 200 ms, so the rerun repeats the rows in flight at the kill and the
// few whose records were not yet committed, whatever --workers is.
func killRerun(rows int, rate float64) {
	dir, err := os.MkdirTemp("", "pvenroll-bench-kill")
	must(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pvenroll")
	if out, err := exec.Command("go", "build", "-o", bin, command).CombinedOutput(); err != nil {
		fail(fmt.Errorf("go build: %v\n%s", err, out))
	}
	wf := filepath.Join(dir, "world.json")
	body, err := json.Marshal(world(rows))
	must(err)
	must(os.WriteFile(wf, body, 0o600))
	file := filepath.Join(dir, "rows.csv")
	must(os.WriteFile(file, []byte(csvRows(rows)), 0o600))

	port := 18770
	// once runs the file against a fresh sandbox; kill > 0 kills the
	// first run once that many joins were applied, then runs it again.
	once := func(kill int) int {
		port++
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		stop := startSandboxProcess(bin, addr, "--world", wf)
		defer stop()
		state, out := filepath.Join(dir, fmt.Sprintf("s%d.db", port)), filepath.Join(dir, fmt.Sprintf("out%d", port))
		cmd := func() *exec.Cmd {
			en := exec.Command(bin, "enroll", "--api", "http://"+addr, "--business", "25", "--rate", fmt.Sprint(rate), "-q",
				"--state", state, "--out", out, file)
			en.Env = append(os.Environ(), "PERKVILLE_TOKEN="+token)
			return en
		}
		if kill > 0 {
			en := cmd()
			must(en.Start())
			for applied(addr) < kill {
				time.Sleep(5 * time.Millisecond) // polling the sandbox, until the share of joins
			}
			must(en.Process.Kill())
			_ = en.Wait()
		}
		en := cmd()
		var stderr bytes.Buffer
		en.Stderr = &stderr
		if err := en.Run(); err != nil {
			fail(fmt.Errorf("enroll: %v\n%s", err, stderr.String()))
		}
		return len(sandboxLog(addr))
	}
	whole := once(0)
	worst, at := 0.0, 0
	for _, share := range []int{10, 30, 50, 70, 90} {
		ratio := float64(once(rows*share/100)) / float64(whole)
		if ratio > worst {
			worst, at = ratio, share
		}
	}
	fmt.Printf("| kill -9 of a %d-row run at --rate %g (default workers), then the same command: requests of both runs, the worst of kills at 10, 30, 50, 70, 90%% of the joins (at %d%%) | %.0f | %d (one uninterrupted run) | %.3f | ≤ 1.05 |\n",
		rows, rate, at, worst*float64(whole), whole, worst)
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
