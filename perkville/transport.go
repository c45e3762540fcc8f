package perkville

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// newWire is the HTTP transport under the pacer: a plain http.Transport
// (proxies from the environment, as curl does; TLS as the system trusts)
// that keeps enough idle connections for every worker, so connections are
// reused rather than re-dialled at each request. An answer's headers are
// read up to MaxHeaderBytes: Go's default, 10 MB an answer, would let a
// hostile server make 64 workers hold 640 MB.
func newWire() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.MaxResponseHeaderBytes = MaxHeaderBytes
	return t
}

// MaxHeaderBytes bounds the headers of one answer; an API's are a few
// hundred bytes.
const MaxHeaderBytes = 64 << 10

// countAttempts counts and paces every request net/http writes for one
// attempt of the pacer. net/http re-sends a request by itself when a reused
// keep-alive connection turns out dead (the server closed it as the request
// left): for a GET, and for any request of which nothing was written. That
// resend is invisible above the transport, so it would skip the Limiter and
// the counters. GetConn runs before each connection net/http takes for the
// request, its own resends included: the first is the pacer's attempt,
// already paced; any later one waits for the Limiter here and is counted
// as a retry. It is also the last moment before a write may reach the
// server, so the client's Calls learn of a write there. (The alternative,
// a body net/http cannot replay, costs a goroutine per request and hides
// the intent.)
func (c *Client) countAttempts(ctx context.Context, method, endpoint string) context.Context {
	conns := 0
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GetConn: func(string) {
		conns++ // GetConn calls of one request are sequential
		if conns > 1 {
			c.pacer.Stats.retry()
			_ = c.pacer.Limiter.WaitBegun(ctx) // a done ctx fails the dial just after
		}
		c.pacer.Stats.request(endpoint)
		for _, calls := range c.calls {
			calls.sent(method != http.MethodGet)
		}
	}})
}

// Endpoint names a request for the counters: "PATCH /v2/connections/{id}/".
func Endpoint(method, path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i > 0 && i < len(parts)-1 && p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = "{id}"
		}
	}
	return method + " " + strings.Join(parts, "/")
}

// Stats counts what a client sent. The zero value is ready; a nil *Stats
// counts nothing.
type Stats struct {
	mu         sync.Mutex
	byEndpoint map[string]int64
	retries    atomic.Int64
	throttles  atomic.Int64
	probes     atomic.Int64
}

func (s *Stats) request(endpoint string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.byEndpoint == nil {
		s.byEndpoint = map[string]int64{}
	}
	s.byEndpoint[endpoint]++
	s.mu.Unlock()
}

func (s *Stats) retry() {
	if s != nil {
		s.retries.Add(1)
	}
}

func (s *Stats) probed() {
	if s != nil {
		s.probes.Add(1)
	}
}

func (s *Stats) throttled() {
	if s != nil {
		s.throttles.Add(1)
	}
}

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	Requests   int64            `json:"requests"`
	ByEndpoint map[string]int64 `json:"by_endpoint"`
	Retries    int64            `json:"retries"`
	Throttled  int64            `json:"throttled_429"`
	Probes     int64            `json:"outage_probes"` // requests of an open breaker, also in Requests
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	out := StatsSnapshot{ByEndpoint: map[string]int64{}}
	if s == nil {
		return out
	}
	s.mu.Lock()
	keys := make([]string, 0, len(s.byEndpoint))
	for k := range s.byEndpoint {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.ByEndpoint[k] = s.byEndpoint[k]
		out.Requests += s.byEndpoint[k]
	}
	s.mu.Unlock()
	out.Retries = s.retries.Load()
	out.Throttled = s.throttles.Load()
	out.Probes = s.probes.Load()
	return out
}
