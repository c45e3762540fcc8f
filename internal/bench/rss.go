package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// peakRSS runs the built binary against a sandbox in another process and
// reads the enroll process's peak RSS; validate on the same file is the
// baseline (the reader alone).
func peakRSS(spec string) {
	dir, err := os.MkdirTemp("", "pvenroll-bench")
	must(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pvenroll")
	out, err := exec.Command("go", "build", "-o", bin, command).CombinedOutput()
	if err != nil {
		fail(fmt.Errorf("go build: %v\n%s", err, out))
	}
	// An empty world: every row is one lookup and not-found, so a million
	// rows take one request each, through the whole pipeline.
	wf := filepath.Join(dir, "world.json")
	must(os.WriteFile(wf, []byte(`{"business": {"business_id": 25, "name": "Bench"}, "tokens": [{"token": "`+token+`", "scopes": ["ADMIN_CUSTOMER_INFO"], "staff_of": [25]}]}`), 0o600))
	addr := "127.0.0.1:18765"
	stop := startSandboxProcess(bin, addr, "--world", wf)
	defer stop()
	var first float64
	for _, s := range strings.Split(spec, ",") {
		var n int
		fmt.Sscan(s, &n)
		file := filepath.Join(dir, fmt.Sprintf("rows-%d.csv", n))
		writeRows(file, n)
		// The sandbox's log would grow with every request: it is in
		// another process, so it does not count here.
		en := exec.Command(bin, "enroll", "--api", "http://"+addr, "--business", "25", "--rate", "0", "--workers", "32", "-q",
			"--out", filepath.Join(dir, fmt.Sprint("out", n)), file)
		en.Env = append(os.Environ(), "PERKVILLE_TOKEN="+token)
		var stderr bytes.Buffer
		en.Stderr = &stderr
		start := time.Now()
		if err := en.Run(); err != nil {
			fail(fmt.Errorf("enroll %d rows: %v\n%s", n, err, stderr.String()))
		}
		took := time.Since(start)
		rss := maxRSS(en)
		val := exec.Command(bin, "validate", file)
		val.Stdout = io.Discard
		must(val.Run())
		vrss := maxRSS(val)
		if first == 0 {
			first = rss
		}
		fmt.Printf("| peak RSS of enroll, %d rows (%s, %.0f rows/s; floor: the bench's own %.0f MB at fork) | %.1f MB | %.1f MB (validate, same file) | %.2f | ≤ 64 MB; flat: %.2f× the first size |\n",
			n, took.Round(time.Second), float64(n)/took.Seconds(), selfRSS(), rss, vrss, rss/vrss, rss/first)
		os.Remove(file)
	}
	hugeAnswers(bin, dir, wf, addr)
	hostileRSS(bin, dir, wf, addr)
}

// startSandboxProcess runs `pvenroll sandbox` on addr and waits for it to
// listen; stop ends it.
func startSandboxProcess(bin, addr string, args ...string) (stop func()) {
	sb := exec.Command(bin, append([]string{"sandbox", "--listen", addr}, args...)...)
	sb.Stdout = io.Discard
	must(sb.Start())
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + addr + "/_sandbox/log"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 500 {
			fail(fmt.Errorf("sandbox did not start"))
		}
		time.Sleep(20 * time.Millisecond) // polling for the listener, bounded
	}
	return func() { _ = sb.Process.Signal(os.Interrupt); _ = sb.Wait() }
}

// hugeAnswers: the peak RSS of enroll --workers 64 when every answer a row
// reads is 1 GB (read up to its 1 MiB cap, then the row fails), against the
// same run answered normally (small, not-found answers).
func hugeAnswers(bin, dir, wf, normal string) {
	const rows, workers = 1000, 64
	addr := "127.0.0.1:18766"
	stop := startSandboxProcess(bin, addr, "--world", wf, "--huge-answer", "1000000000")
	defer stop()
	file := filepath.Join(dir, "huge.csv")
	writeRows(file, rows)
	peak := func(api string, wantCode int) (float64, time.Duration) {
		en := exec.Command(bin, "enroll", "--api", "http://"+api, "--business", "25", "--rate", "0",
			"--workers", fmt.Sprint(workers), "-q", "--out", filepath.Join(dir, "out-"+strings.ReplaceAll(api, ":", "-")), file)
		en.Env = append(os.Environ(), "PERKVILLE_TOKEN="+token)
		var stderr bytes.Buffer
		en.Stderr = &stderr
		start := time.Now()
		// Against huge answers every row fails ("answer larger than 1
		// MiB"): exit 1; against small ones every row is not-found: exit 0.
		if err := en.Run(); en.ProcessState == nil || en.ProcessState.ExitCode() != wantCode {
			fail(fmt.Errorf("enroll against %s: %v\n%s", api, err, stderr.String()))
		}
		return maxRSS(en), time.Since(start)
	}
	huge, took := peak(addr, 1)
	small, _ := peak(normal, 0)
	fmt.Printf("| peak RSS of enroll --workers %d, %d rows, every answer 1 GB, cut at 1 MiB (%s) | %.1f MB | %.1f MB (same rows, small answers) | %.2f | < 200 MB |\n",
		workers, rows, took.Round(time.Second), huge, small, huge/small)
}

func writeRows(path string, n int) {
	f, err := os.Create(path)
	must(err)
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("Email,Member ID,First Name,Last Name\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "m%d@example.com,A-%d,Pat,Lee\n", i, i)
	}
	must(w.Flush())
	must(f.Close())
}

// selfRSS is this process's resident memory now, in MB.
func selfRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb / 1024
		}
	}
	return 0
}

func maxRSS(c *exec.Cmd) float64 {
	ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}
