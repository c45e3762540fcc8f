package sandbox

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	pv "github.com/pvenroll/pvenroll/perkville"
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

	// Hostile servers, each answering every request (or every listing) so.
	RetryAfterHeader string // the 429's Retry-After, verbatim ("1000000000", an HTTP date…)
	Redirect         string // answer 302 to this URL plus the request's path and query
	HugeAnswer       int64  // every answer of /v2/connections/ is padded to about this many bytes, streamed
	NextLoop         bool   // the listing's meta.next never advances
	NextHost         string // the listing's meta.next is an absolute URL on this host
	UnappliedJoins   bool   // a join answers 200 with the connection as it was, unchanged
	// EchoToken: a lookup by email answers 400 whose message quotes the
	// request's Authorization header, as a careless server's may.
	EchoToken bool
	// BlockPage: every request is answered with this status (403, 429,
	// 503…) and a CDN's HTML "you have been blocked" page, as a firewall in
	// front of the API answers a User-Agent or an address it refuses.
	BlockPage int
	// HugeHeaders: every answer of /v2/connections/ carries about this
	// many bytes of headers.
	HugeHeaders int64
	// EndlessListing: the connection listing (not a lookup) never ends:
	// every page is full of made-up ACTIVE connections padded to about
	// 1 KiB each, names a next page further on, and claims a total_count
	// of 10^12.
	EndlessListing bool

	// An outage: after OutageAfter requests answered as usual (0: no
	// outage), every request fails for OutageFor (0: for ever), timed from
	// the first that fails on Now (time.Now when nil; a test's fake
	// clock): a 500, or with OutageHang no answer at all until the client
	// gives up, as a server that accepts connections and hangs.
	OutageAfter int
	OutageFor   time.Duration
	OutageHang  bool
	Now         func() time.Time `json:"-"`
}

type faultInjector struct {
	f   Faults
	mu  sync.Mutex
	rnd *rand.Rand
	lim *rate.Limiter

	requests    int       // drawn so far
	outageStart time.Time // the first request of the outage
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
	faultRedirect
	faultBlockPage
	faultOutage
	faultHang
)

var faultNames = map[faultKind]string{
	fault429: "429", faultRateLimited: "rate-limit", fault5xx: "5xx", faultCDN: "cdn-502",
	faultDrop: "drop", fault5xxApplied: "5xx-after-apply", faultDropApplied: "drop-after-apply",
	faultRedirect: "redirect", faultBlockPage: "block-page", faultOutage: "outage", faultHang: "outage-hang",
}

// faultPlan is what happens to one request.
type faultPlan struct {
	kind       faultKind
	delay      time.Duration
	retryAfter time.Duration
	date       bool
	f          *Faults
}

func (p faultPlan) name() string { return faultNames[p.kind] }

// plan draws the fate of one request.
func (fi *faultInjector) plan(write bool) faultPlan {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	f := fi.f
	p := faultPlan{delay: f.Latency, retryAfter: f.RetryAfter, date: f.RetryAfterDate, f: &fi.f}
	if f.Jitter > 0 {
		p.delay += time.Duration(fi.rnd.Int64N(int64(f.Jitter)))
	}
	if fi.outage() {
		p.kind = faultOutage
		if f.OutageHang {
			p.kind = faultHang
		}
		return p
	}
	if fi.lim != nil && !fi.lim.Allow() {
		p.kind, p.retryAfter = faultRateLimited, time.Second
		return p
	}
	if f.Redirect != "" {
		p.kind = faultRedirect
		return p
	}
	if f.BlockPage != 0 {
		p.kind = faultBlockPage
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

// outage counts a request and reports whether it falls in the outage;
// fi.mu is held.
func (fi *faultInjector) outage() bool {
	fi.requests++
	if fi.f.OutageAfter <= 0 || fi.requests <= fi.f.OutageAfter {
		return false
	}
	now := time.Now()
	if fi.f.Now != nil {
		now = fi.f.Now()
	}
	if fi.outageStart.IsZero() {
		fi.outageStart = now
	}
	return fi.f.OutageFor <= 0 || now.Sub(fi.outageStart) < fi.f.OutageFor
}

// before answers the request in place of the API, if the plan says so.
func (p faultPlan) before(r *http.Request) (answer, bool) {
	if a, ok := p.endless(r); ok {
		return a, true
	}
	if p.f.EchoToken && r.Method == http.MethodGet && r.URL.Path == pv.PathConnections && r.URL.Query().Has(pv.QueryEmail) {
		return jsonAnswer(http.StatusBadRequest, map[string]any{"error_type": "validation_error",
			"errors": map[string]any{"email": []map[string]string{{"code": "pv_echo",
				"message": "you sent " + r.Header.Get("Authorization")}}}}), true
	}
	switch p.kind {
	case fault429, faultRateLimited:
		ra := max(p.retryAfter, time.Second)
		a := jsonAnswer(http.StatusTooManyRequests, map[string]any{"error_type": "throttled",
			"errors": map[string]any{"__all__": []map[string]string{{"code": "throttled", "message": "Request was throttled."}}}})
		switch {
		case p.f.RetryAfterHeader != "" && p.kind == fault429:
			a.header.Set("Retry-After", p.f.RetryAfterHeader)
		case p.date:
			a.header.Set("Retry-After", time.Now().Add(ra+time.Second).UTC().Format(http.TimeFormat))
		default:
			a.header.Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
		}
		return a, true
	case fault5xx, faultOutage:
		return serverError(), true
	case faultHang:
		<-r.Context().Done() // the client gave up
		return answer{drop: true}, true
	case faultCDN:
		return answer{status: http.StatusBadGateway, header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
			body: []byte("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>The origin did not answer. cdn-ray 8f1c2d</p></body></html>\n")}, true
	case faultDrop:
		return answer{drop: true}, true
	case faultRedirect:
		return answer{status: http.StatusFound, header: http.Header{"Location": {p.f.Redirect + r.URL.RequestURI()}},
			body: []byte("moved\n")}, true
	case faultBlockPage:
		return answer{status: p.f.BlockPage, header: http.Header{"Content-Type": {"text/html; charset=UTF-8"}},
			body: []byte(blockPage)}, true
	}
	return answer{}, false
}

// after replaces the answer to an applied write, if the plan says so.
func (p faultPlan) after() (answer, bool) {
	switch p.kind {
	case fault5xxApplied:
		return serverError(), true
	case faultDropApplied:
		return answer{drop: true}, true
	}
	return answer{}, false
}

// huge replaces every answer of the connection endpoints (lookups, the
// listing, joins: what each row reads) by a 200 of HugeAnswer bytes,
// streamed without a Content-Length from a small buffer: a 1 GB answer
// costs the sandbox nothing, and only a client that reads it all pays. The
// preflight's business and admin probe are answered as usual.
func (p faultPlan) huge(r *http.Request) (answer, bool) {
	if p.f.HugeAnswer <= 0 || !strings.HasPrefix(r.URL.Path, pv.PathConnections) {
		return answer{}, false
	}
	head := []byte(`{"meta": {"limit": 1, "offset": 0, "next": null, "total_count": 0}, "objects": [], "padding": "`)
	return answer{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: head,
		pad: p.f.HugeAnswer - int64(len(head))}, true
}

// endless answers a page of the listing that never ends (EndlessListing).
func (p faultPlan) endless(r *http.Request) (answer, bool) {
	q := r.URL.Query()
	if !p.f.EndlessListing || r.Method != http.MethodGet || r.URL.Path != pv.PathConnections ||
		q.Has(pv.QueryEmail) || q.Has(pv.QueryUserID) {
		return answer{}, false
	}
	limit, _ := strconv.Atoi(q.Get(pv.QueryLimit))
	offset, _ := strconv.Atoi(q.Get(pv.QueryOffset))
	limit, offset = min(max(limit, 1), pv.MaxPageLimit), max(offset, 0)
	next := cloneValues(q)
	next.Set(pv.QueryOffset, strconv.Itoa(offset+limit))
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"meta": {"limit": %d, "offset": %d, "next": %q, "total_count": 1000000000000}, "objects": [`,
		limit, offset, pv.PathConnections+"?"+next.Encode())
	pad := strings.Repeat("x", 800)
	for i := range limit {
		id := int64(900_000_000 + offset + i)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"connection_id": %d, "business": "/v2/businesses/%s/", "user": "/v2/users/%d/", "status": "ACTIVE", `+
			`"external_membership_status": "ACTIVE", "resource_uri": "/v2/connections/%d/", "padding": %q}`, id, q.Get(pv.QueryBusiness), id, id, pad)
	}
	b.WriteString("]}\n")
	return answer{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: b.Bytes()}, true
}

// blockPage is a CDN's block page, as its firewall answers a request it
// refuses; the API never sees the request.
const blockPage = `<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8"></head><body><h1>Sorry, you have been blocked</h1>
<h2>You are unable to access api.perkville.com</h2>
<p>This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: 8f1c2d3e4a5b6c7d</p></body></html>
`

// padHeaders adds HugeHeaders bytes of headers to an answer of the
// connection endpoints (what each row reads; the preflight's answers are
// left alone), in lines of 8 KiB.
func (p faultPlan) padHeaders(r *http.Request, h http.Header) {
	if !strings.HasPrefix(r.URL.Path, pv.PathConnections) {
		return
	}
	line := strings.Repeat("p", 8<<10)
	for i := 0; int64(i)*int64(len(line)) < p.f.HugeHeaders; i++ {
		h.Set("X-Pad-"+strconv.Itoa(i), line)
	}
}

func serverError() answer {
	return jsonAnswer(http.StatusInternalServerError, map[string]any{"error_type": "server_error",
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
