package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pvenroll/pvenroll/internal/cli"
	"github.com/pvenroll/pvenroll/internal/sandbox"
)

func TestMain(m *testing.M) {
	testscript.Main(waitingTests{m}, map[string]func(){
		"pvenroll": func() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// waitingTests runs the package's tests with -parallel at
// parallelPerCPU × GOMAXPROCS, unless -parallel was given. The scripts
// spend most of their time waiting for the processes they start and for
// the sandbox's answers: at the default, GOMAXPROCS at a time, they kept
// about a quarter of the CPUs busy.
type waitingTests struct{ m *testing.M }

const parallelPerCPU = 3

func (w waitingTests) Run() int {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(parallelPerCPU*runtime.GOMAXPROCS(0))); err != nil {
			panic(err)
		}
	}
	return w.m.Run()
}

// TestScripts runs testdata/script/*.txtar: the built command, as a user
// runs it.
//
// Under -race the scripts run a plain build of pvenroll: a race-built
// process takes about a second to start on a loaded machine, and the
// scripts start hundreds. The concurrent code is raced by the package
// tests; PVENROLL_RACE_SCRIPTS=1 runs the scripts on the race build too
// (CI does).
//
// The scripts run beside the other parallel tests of the package, after
// its serial ones (those that time a process's exit, among them).
func TestScripts(t *testing.T) {
	t.Parallel()
	samples, err := filepath.Abs("samples")
	if err != nil {
		t.Fatal(err)
	}
	plainBin := ""
	if raceEnabled && os.Getenv("PVENROLL_RACE_SCRIPTS") == "" {
		plainBin = filepath.Dir(binary(t))
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			if plainBin != "" {
				env.Setenv("PATH", plainBin+string(os.PathListSeparator)+env.Getenv("PATH"))
			}
			env.Setenv("SAMPLES", samples)
			env.Setenv("REPO", filepath.Dir(samples))
			addr, err := loopbackAddr()
			if err != nil {
				return err
			}
			env.Setenv("SANDBOX_ADDR", addr)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitCode,
			"waitport":   cmdWaitPort,
			"csvrows":    cmdCSVRows,
			"modes":      cmdModes,
			"sandboxlog": cmdSandboxLog,
			"waitwrites": cmdWaitWrites,
			"encode":     cmdEncode,
			"mkxlsx":     cmdMkXLSX,
			"xlsxhide":   cmdXLSXHide,
			"readme":     cmdReadme,
			"jsonone":    cmdJSONOne,
		},
	})
}

// exitcode N command args...: run the command; it must exit with N.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// jsonone: the last command's standard output is one JSON object and
// nothing else.
func cmdJSONOne(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: jsonone")
	}
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile("stdout")))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		ts.Fatalf("stdout is not a JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		ts.Fatalf("stdout holds more than one JSON object")
	}
}

// waitport ADDR: wait (up to 20 s) until something listens on ADDR.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitport ADDR")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listens on %s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, with a deadline
	}
}

// csvrows N FILE: the CSV file holds N records after its header.
func cmdCSVRows(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: csvrows N FILE")
	}
	f, err := os.Open(ts.MkAbs(args[1]))
	ts.Check(err)
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	ts.Check(err)
	if got := strconv.Itoa(len(recs) - 1); (got == args[0]) == neg {
		ts.Fatalf("%s holds %s rows, want %s%s", args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[0])
	}
}

// modes DIR: every file below DIR is 0600 and every folder 0700.
func cmdModes(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: modes DIR")
	}
	ts.Check(filepath.Walk(ts.MkAbs(args[0]), func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			ts.Fatalf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		return nil
	}))
}

// sandboxlog ADDR: print, one a line, the requests the sandbox at ADDR
// logged since the last sandboxlog, as "METHOD PATH STATUS" plus " applied"
// for a write that changed its state; stdout then checks them.
func cmdSandboxLog(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sandboxlog ADDR")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + args[0] + "/_sandbox/log")
	ts.Check(err)
	defer resp.Body.Close()
	var log []sandbox.LogEntry
	ts.Check(json.NewDecoder(resp.Body).Decode(&log))
	seen, _ := strconv.Atoi(ts.Getenv("SANDBOX_LOG_SEEN"))
	for _, e := range log[min(seen, len(log)):] {
		applied := ""
		if e.Applied {
			applied = " applied"
		}
		fmt.Fprintf(ts.Stdout(), "%s %s %d%s\n", e.Method, e.Path, e.Status, applied)
	}
	ts.Setenv("SANDBOX_LOG_SEEN", strconv.Itoa(len(log)))
}
