package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Ports for the sandboxes the tests start as processes. A port the kernel
// hands out for ":0" comes from the ephemeral range, where it is free only
// until closed: the many loopback connections of scripts running side by
// side take their own ports from that same range, and one of them took a
// script's port between its pick and the sandbox's bind ("address already
// in use"; the script's waitport then reached that other socket). So the
// tests pick below the ephemeral range (Linux's starts at 32768), each port
// at most once a process, and check that it can be bound.
const (
	firstTestPort = 20000
	lastTestPort  = 32000
)

var testPorts struct {
	sync.Mutex
	next int
}

// loopbackAddr is a 127.0.0.1 address no other test of this process was
// given, outside the ephemeral range, free when picked.
func loopbackAddr() (string, error) {
	testPorts.Lock()
	defer testPorts.Unlock()
	if testPorts.next == 0 {
		// another test process (a second go test) starts elsewhere
		testPorts.next = firstTestPort + rand.IntN(lastTestPort-firstTestPort)
	}
	for range lastTestPort - firstTestPort {
		port := testPorts.next
		testPorts.next++
		if testPorts.next > lastTestPort {
			testPorts.next = firstTestPort
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue // taken by something else
		}
		if err := ln.Close(); err != nil {
			return "", err
		}
		return addr, nil
	}
	return "", fmt.Errorf("no free loopback port in %d-%d", firstTestPort, lastTestPort)
}

// No two tests of a process get the same port, and none from the
// ephemeral range.
func TestLoopbackAddrsAreDistinctAndBelowTheEphemeralRange(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		addr, err := loopbackAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		if seen[addr] || port < firstTestPort || port > lastTestPort {
			t.Fatalf("%s: given twice, or outside %d-%d", addr, firstTestPort, lastTestPort)
		}
		seen[addr] = true
	}
}
