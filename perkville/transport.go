package perkville

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Transport is the one place every request passes: it refuses writes in a
// read-only (dry-run) client, adds the bearer token and the headers, waits
// for the shared Limiter before every attempt (retries included), retries
// what is transient, and counts what it sends.
type Transport struct {
	Base        http.RoundTripper // the wire; http.DefaultTransport if nil
	Token       Secret
	UserAgent   string
	Limiter     *Limiter
	Retries     int           // retries of one request after its first attempt
	Timeout     time.Duration // per attempt, until the answer's headers
	BackoffBase time.Duration // first backoff for 5xx and resets; doubles, with full jitter
	BackoffMax  time.Duration
	ReadOnly    bool // refuse every method but GET and HEAD
	Stats       *Stats
}

type ctxKey int

const (
	keyNoBlindRetry ctxKey = iota
	keyAttempts
	keyTurn
)

// withNoBlindRetry marks a request whose lost answer (timeout, reset, 5xx)
// may mean it was applied: the transport returns the error instead of
// re-sending, so the caller can look first.
func withNoBlindRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, keyNoBlindRetry, true)
}

// WithAttemptCounter makes every HTTP attempt under ctx add one to *n, so a
// row can say how many requests it cost; a nil n counts nothing.
func WithAttemptCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, keyAttempts, n)
}

// turnTaken reports, once, whether ctx holds a turn of the Limiter taken
// by Client.Turn for the request about to be sent.
func turnTaken(ctx context.Context) bool {
	t, _ := ctx.Value(keyTurn).(*atomic.Bool)
	return t != nil && t.Swap(false)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.ReadOnly && req.Method != http.MethodGet && req.Method != http.MethodHead {
		return nil, ErrReadOnly
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	ctx := req.Context()
	noBlind, _ := ctx.Value(keyNoBlindRetry).(bool)
	counter, _ := ctx.Value(keyAttempts).(*atomic.Int64)
	endpoint := Endpoint(req.Method, req.URL.Path)

	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			t.Stats.retry()
		}
		if t.Limiter != nil && !(attempt == 0 && turnTaken(ctx)) {
			if err := t.Limiter.Wait(ctx); err != nil {
				return nil, err
			}
		}
		r, cancel, err := t.prepare(req)
		if err != nil {
			return nil, err
		}
		t.Stats.request(endpoint)
		if counter != nil {
			counter.Add(1)
		}
		resp, err := base.RoundTrip(r)
		last := attempt >= t.Retries
		if err != nil {
			cancel()
			if ctx.Err() != nil || last || noBlind {
				return nil, err
			}
			if !t.sleep(ctx, t.backoff(attempt, 0)) {
				return nil, ctx.Err()
			}
			continue
		}
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		status := resp.StatusCode
		switch {
		case status == http.StatusTooManyRequests:
			t.Stats.throttled()
			ra := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if t.Limiter != nil {
				t.Limiter.Throttled(ra)
			}
			if last {
				return resp, nil
			}
			drain(resp)
			// A 429 was refused before it was applied: safe to resend any
			// request. The Limiter's gate holds it until Retry-After.
			if t.Limiter == nil && !t.sleep(ctx, max(ra, t.backoff(attempt, 0))) {
				return nil, ctx.Err()
			}
		case status >= 500 || (status >= 400 && isHTML(resp)):
			if last || noBlind {
				return resp, nil
			}
			ra := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			drain(resp)
			if !t.sleep(ctx, t.backoff(attempt, ra)) {
				return nil, ctx.Err()
			}
		default:
			if t.Limiter != nil && status < 400 {
				t.Limiter.Succeeded()
			}
			return resp, nil
		}
	}
}

// prepare clones req for one attempt with the headers and a timeout.
func (t *Transport) prepare(req *http.Request) (*http.Request, context.CancelFunc, error) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if t.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
	}
	r := req.Clone(ctx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			cancel()
			return nil, nil, err
		}
		r.Body = body
	} else {
		// net/http re-sends a bodiless GET by itself when a reused
		// connection drops; that resend would skip the Limiter and the
		// counters. An empty body without GetBody makes the attempt
		// non-replayable, so every retry is this loop's, paced and counted.
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader("")), 0
	}
	r.GetBody = nil
	r.Header.Set("Authorization", "Bearer "+t.Token.Reveal())
	r.Header.Set("Accept", "application/json")
	if t.UserAgent != "" {
		r.Header.Set("User-Agent", t.UserAgent)
	}
	return r, cancel, nil
}

func (t *Transport) backoff(attempt int, retryAfter time.Duration) time.Duration {
	base, ceil := t.BackoffBase, t.BackoffMax
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if ceil <= 0 {
		ceil = 15 * time.Second
	}
	d := base << min(attempt, 16)
	if d > ceil || d <= 0 {
		d = ceil
	}
	// Full jitter: workers that failed together do not retry together.
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	return max(d, retryAfter)
}

func (t *Transport) sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

func isHTML(resp *http.Response) bool {
	ct := resp.Header.Get("Content-Type")
	return len(ct) >= 9 && ct[:9] == "text/html"
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// cancelBody ends the attempt's timeout context once the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

var idSegment = regexp.MustCompile(`/[0-9]+/`)

// Endpoint names a request for the counters: "PATCH /v2/connections/{id}/".
func Endpoint(method, path string) string {
	return method + " " + idSegment.ReplaceAllString(path, "/{id}/")
}

// Stats counts what a client sent. The zero value is ready; a nil *Stats
// counts nothing.
type Stats struct {
	mu         sync.Mutex
	byEndpoint map[string]int64
	retries    atomic.Int64
	throttles  atomic.Int64
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
	return out
}
