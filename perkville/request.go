package perkville

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Size caps of an answer: a bad or hostile server must not make a worker
// hold more than this. An object (or a lookup's one-row page) is a few
// hundred bytes; a page of the connection listing at the largest limit
// is about 300 KB.
const (
	MaxObjectAnswer = 1 << 20
	MaxPageAnswer   = 16 << 20
	maxErrorAnswer  = 64 << 10 // of an error body, only the start is kept
)

// request is one call to the API.
type request struct {
	method, path string
	query        url.Values
	in, out      any
	maxAnswer    int64        // MaxObjectAnswer when 0
	status       *int         // set to the answer's status, when not nil
	header       *http.Header // set to the answer's headers, when not nil (check --report)
	size         *int64       // set to the size of a 2xx answer's body, when not nil
	// bodyless, when not nil, accepts a 2xx without a body (a write
	// answered 204, or 200 with nothing): it is set and r.out left as it is.
	bodyless *bool
	// once marks a write whose lost answer (timeout, reset, 5xx) may mean
	// it was applied: it is retried only after a 429, which the API
	// answers before applying anything; the caller looks before re-sending.
	once bool
	// turn, when not nil, is the rate-limit turn the first attempt spends.
	turn *Turn
}

// do sends r through the pacer and decodes the answer into r.out.
func (c *Client) do(ctx context.Context, r request) error {
	if c.readOnly && r.method != http.MethodGet {
		return ErrReadOnly
	}
	var body []byte
	if r.in != nil {
		b, err := json.Marshal(r.in)
		if err != nil {
			return err
		}
		body = b
	}
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawQuery = r.query.Encode()
	target := u.String()
	endpoint := Endpoint(r.method, r.path)
	return c.pacer.CallOnTurn(ctx, r.turn, c.begun(), func() (bool, error) {
		err := c.send(ctx, r, target, body, endpoint)
		if err == nil {
			return false, nil
		}
		if r.once {
			var ae *Error
			return errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests, err
		}
		return ClassOf(err) == ClassRetryable, err
	})
}

// send makes one attempt: one request, its answer read within the size cap
// and the per-attempt timeout.
func (c *Client) send(ctx context.Context, r request, target string, body []byte, endpoint string) error {
	actx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.newRequest(c.countAttempts(actx, r.method, endpoint), r.method, target, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// url.Error names the URL, whose query may hold an email: keep the
		// path and the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &Error{Method: r.method, Path: r.path, API: c.base.String(), Err: err, timeout: c.timeout, oversized: headersTooLarge(err)}
	}
	defer resp.Body.Close()
	if q, ok := parseQuota(resp.Header, c.pacer.Clock.Now()); ok {
		c.pacer.Limiter.Observe(q, c.pacer.MaxWait)
	}
	if r.status != nil {
		*r.status = resp.StatusCode
	}
	if r.header != nil {
		*r.header = resp.Header.Clone()
	}
	switch code := resp.StatusCode; {
	case code >= 300 && code <= 399:
		return &Error{Method: r.method, Path: r.path, Status: code,
			Location: c.scrub.text(locationHost(req.URL, resp.Header.Get("Location")))}
	case code < 200 || code > 299:
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		return c.answerError(r, resp, data)
	}
	return c.decodeAnswer(ctx, r, resp)
}

// decodeAnswer reads a 2xx answer's body within its bound into r.out, and
// scrubs what it decoded of the token.
func (c *Client) decodeAnswer(ctx context.Context, r request, resp *http.Response) error {
	limit := r.maxAnswer
	if limit == 0 {
		limit = MaxObjectAnswer
	}
	data, err := readAnswer(resp, limit)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var big errTooLarge
		if errors.As(err, &big) {
			return &Error{Method: r.method, Path: r.path, Status: resp.StatusCode, Err: err}
		}
		// Cut off while its body was read (time ran out, the connection
		// was reset): the answer is lost as surely as one that never came,
		// so it is retried, or for a write looked for, the same way.
		return &Error{Method: r.method, Path: r.path, API: c.base.String(), Err: err, timeout: c.timeout}
	}
	if r.size != nil {
		*r.size = int64(len(data))
	}
	if r.out == nil {
		return nil
	}
	if r.bodyless != nil && len(bytes.TrimSpace(data)) == 0 {
		*r.bodyless = true
		return nil
	}
	if err := json.Unmarshal(data, r.out); err != nil {
		e := c.answerError(r, resp, data)
		e.Err = fmt.Errorf("unexpected answer (not the documented JSON): %w", err)
		return e
	}
	// What the answer says may reach a row's detail, a report or a
	// customer message: every string of it is scrubbed of the token once
	// decoded, when escapes no longer hide it.
	c.scrub.decoded(r.out)
	return nil
}

// newRequest builds one attempt with its headers.
func (c *Client) newRequest(ctx context.Context, method, target string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	// The token is set here, on a request to the base URL's host, and
	// nowhere else: redirects are not followed and paging stays on it.
	h := c.headers
	req.Header["Authorization"], req.Header["Accept"] = h.auth, h.accept
	if h.userAgent != nil {
		req.Header["User-Agent"] = h.userAgent
	}
	if body != nil {
		req.Header["Content-Type"] = h.contentType
	}
	return req, nil
}

// answerError turns an answer into an *Error: the one place where text the
// server chose enters an error, scrubbed of the token (newError).
func (c *Client) answerError(r request, resp *http.Response, body []byte) *Error {
	return newError(r.method, r.path, resp, body, c.pacer.Clock.Now(), c.scrub)
}

// errTooLarge is an answer past its size cap.
type errTooLarge int64

func (e errTooLarge) Error() string {
	return fmt.Sprintf("answer larger than %d MiB: not read", int64(e)>>20)
}

// readAnswer reads a 2xx body of at most limit bytes: in one buffer of its
// Content-Length when the server gave one, else growing up to limit+1.
func readAnswer(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, errTooLarge(limit)
	}
	if resp.ContentLength >= 0 {
		data := make([]byte, resp.ContentLength)
		if _, err := io.ReadFull(resp.Body, data); err != nil {
			return nil, fmt.Errorf("reading the answer: %w", err)
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge(limit)
	}
	return data, nil
}

// locationHost names the host a redirect pointed to (the request's own for
// a relative Location).
func locationHost(from *url.URL, location string) string {
	if location == "" {
		return "(no Location)"
	}
	u, err := from.Parse(location)
	if err != nil || u.Host == "" {
		return "(unreadable Location)"
	}
	return u.Host
}

// timeoutText names a per-attempt timeout in an error, when there is one.
func timeoutText(d time.Duration) string {
	if d <= 0 {
		return "no answer in time"
	}
	return "no answer within " + d.String()
}
