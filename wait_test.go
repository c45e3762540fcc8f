package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pvenroll/pvenroll/internal/sandbox"
)

// waitwrites ADDR N: wait (up to 60 s) until the sandbox at ADDR has
// applied N writes, so that a script can stop a run part-way, after it
// has done some of its work.
func cmdWaitWrites(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitwrites ADDR N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		applied := 0
		if resp, err := client.Get("http://" + args[0] + "/_sandbox/log"); err == nil {
			var log []sandbox.LogEntry
			err = json.NewDecoder(resp.Body).Decode(&log)
			resp.Body.Close()
			ts.Check(err)
			for _, e := range log {
				if e.Applied {
					applied++
				}
			}
		}
		if applied >= want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the sandbox applied %d writes in 60 s, want %d", applied, want)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, with a deadline
	}
}
