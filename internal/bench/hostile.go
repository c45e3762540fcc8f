package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// hostileRSS: the peak RSS of enroll against answers with 9 MB of headers
// at --workers 64 (cut at 64 KiB; the rows fail), and of a nightly rerun
// against a listing without end (bounded; the rows are looked up), each
// against the same rows answered normally.
func hostileRSS(bin, dir, wf, normal string) {
	const rows, workers = 300, 64
	file := filepath.Join(dir, "hostile.csv")
	writeRows(file, rows)
	run := func(name, api string, wantCode int, extra ...string) (float64, time.Duration) {
		args := append([]string{"enroll", "--api", "http://" + api, "--business", "25", "--rate", "0", "--workers", fmt.Sprint(workers),
			"--retries", "1", "--backoff", "1ms", "-q", "--out", filepath.Join(dir, "out-"+name)}, extra...)
		en := exec.Command(bin, append(args, file)...)
		en.Env = append(os.Environ(), "PERKVILLE_TOKEN="+token)
		var stderr bytes.Buffer
		en.Stderr = &stderr
		start := time.Now()
		if err := en.Run(); en.ProcessState == nil || en.ProcessState.ExitCode() != wantCode {
			fail(fmt.Errorf("enroll %s: %v\n%s", name, err, stderr.String()))
		}
		return maxRSS(en), time.Since(start)
	}
	small, _ := run("normal", normal, 0)

	addr := "127.0.0.1:18767"
	stop := startSandboxProcess(bin, addr, "--world", wf, "--huge-headers", "9000000")
	// Every row's lookup is refused at 64 KiB of headers: exit 1.
	huge, took := run("headers", addr, 1)
	stop()
	fmt.Printf("| peak RSS of enroll --workers %d, %d rows, every lookup answered with 9 MB of headers, cut at 64 KiB (%s) | %.1f MB | %.1f MB (same rows, plain answers) | %.2f | < 200 MB |\n",
		workers, rows, took.Round(time.Second), huge, small, huge/small)

	addr = "127.0.0.1:18768"
	stop = startSandboxProcess(bin, addr, "--world", wf, "--next-endless")
	defer stop()
	state := filepath.Join(dir, "hostile.db")
	create := []string{"--create-missing", "--system-id", "BENCH", "--state", state}
	first, _ := run("nightly-1", addr, 0, create...)      // creates and joins every row
	endless, took := run("nightly-2", addr, 0, create...) // confirms them: the listing never ends
	fmt.Printf("| peak RSS of a nightly rerun of %d joined rows against a listing without end (abandoned after %d pages; %s) | %.1f MB | %.1f MB (the first run, no listing) | %.2f | < 200 MB |\n",
		rows, rows/1000+2, took.Round(time.Second), endless, first, endless/first)
}
