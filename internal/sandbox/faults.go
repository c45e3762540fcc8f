package sandbox

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Faults makes the sandbox misbehave as the real API and its CDN may. Each
// probability is per request, drawn from a generator seeded with Seed, so a
// run's faults are reproducible for a given order of requests.
type Faults struct {
	Seed int64

	Latency time.Duration // added to every answer
	Jitter  time.Duration // plus a uniform 0..Jitter

	P429           float64       // 429 with Retry-After
	RetryAfter     time.Duration // the Retry-After sent (rounded up to seconds); 1 s when 0
	RetryAfterDate bool          // send Retry-After as an HTTP date instead of seconds

	P5xx         float64 // 500 JSON, before anything is applied
	P5xxApplied  float64 // writes only: applied, then 500 JSON
	PCDN         float64 // 502 HTML page from the "CDN", before anything is applied
	PDrop        float64 // the connection is closed with no answer, before anything is applied
	PDropApplied float64 // writes only: applied, then the connection is closed

	RateLimit float64 // requests per second the server accepts; more get 429 (0: none)
	RateBurst int     // burst of the server-side limit; 1 when 0
}

// Enabled reports whether any fault is set.
func (f Faults) Enabled() bool {
	return f != (Faults{Seed: f.Seed, RetryAfterDate: f.RetryAfterDate, RateBurst: f.RateBurst})
}

type faultInjector struct {
	f   Faults
	mu  sync.Mutex
	rnd *rand.Rand
	lim *rate.Limiter
}

func newFaultInjector(f Faults) *faultInjector {
	fi := &faultInjector{f: f, rnd: rand.New(rand.NewPCG(uint64(f.Seed), 0x9e3779b97f4a7c15))}
	if f.RateLimit > 0 {
		fi.lim = rate.NewLimiter(rate.Limit(f.RateLimit), max(1, f.RateBurst))
	}
	return fi
}

type faultKind int

const (
	faultNone faultKind = iota
	faultRateLimited
	fault429
	fault5xx
	faultCDN
	faultDrop
	fault5xxApplied
	faultDropApplied
)

var faultNames = map[faultKind]string{
	fault429: "429", faultRateLimited: "rate-limit", fault5xx: "5xx", faultCDN: "cdn-502",
	faultDrop: "drop", fault5xxApplied: "5xx-after-apply", faultDropApplied: "drop-after-apply",
}

// faultPlan is what happens to one request.
type faultPlan struct {
	kind       faultKind
	delay      time.Duration
	retryAfter time.Duration
	date       bool
}

func (p faultPlan) name() string { return faultNames[p.kind] }

// plan draws the fate of one request.
func (fi *faultInjector) plan(write bool) faultPlan {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	f := fi.f
	p := faultPlan{delay: f.Latency, retryAfter: f.RetryAfter, date: f.RetryAfterDate}
	if f.Jitter > 0 {
		p.delay += time.Duration(fi.rnd.Int64N(int64(f.Jitter)))
	}
	if fi.lim != nil && !fi.lim.Allow() {
		p.kind, p.retryAfter = faultRateLimited, time.Second
		return p
	}
	x := fi.rnd.Float64()
	for _, c := range []struct {
		k  faultKind
		pr float64
		w  bool // writes only
	}{
		{fault429, f.P429, false}, {fault5xx, f.P5xx, false}, {faultCDN, f.PCDN, false},
		{faultDrop, f.PDrop, false}, {fault5xxApplied, f.P5xxApplied, true}, {faultDropApplied, f.PDropApplied, true},
	} {
		if c.w && !write {
			continue
		}
		if x < c.pr {
			p.kind = c.k
			return p
		}
		x -= c.pr
	}
	return p
}

// before answers the request in place of the API, if the plan says so.
func (p faultPlan) before(w http.ResponseWriter, r *http.Request) bool {
	switch p.kind {
	case fault429, faultRateLimited:
		ra := max(p.retryAfter, time.Second)
		if p.date {
			w.Header().Set("Retry-After", time.Now().Add(ra+time.Second).UTC().Format(http.TimeFormat))
		} else {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
		}
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error_type": "throttled",
			"errors": map[string]any{"__all__": []map[string]string{{"code": "throttled", "message": "Request was throttled."}}}})
		return true
	case fault5xx:
		serverError(w)
		return true
	case faultCDN:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>The origin did not answer. cdn-ray 8f1c2d</p></body></html>\n"))
		return true
	case faultDrop:
		drop(w)
		return true
	}
	return false
}

// after replaces the answer to an applied write, if the plan says so.
func (p faultPlan) after(w http.ResponseWriter) bool {
	switch p.kind {
	case fault5xxApplied:
		serverError(w)
		return true
	case faultDropApplied:
		drop(w)
		return true
	}
	return false
}

func serverError(w http.ResponseWriter) {
	writeJSON(w, http.StatusInternalServerError, map[string]any{"error_type": "server_error",
		"errors": map[string]any{"__all__": []map[string]string{{"code": "server_error", "message": "Internal error."}}}})
}

// drop closes the connection without an answer, as a reset or a timeout at
// the CDN would look to the client.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
