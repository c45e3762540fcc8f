package perkville

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Class says what a caller should do with an error.
type Class int

const (
	// ClassRow: final for this row (400 validation, 404, 409, an unexpected
	// answer). Not retried; the row records it.
	ClassRow Class = iota
	// ClassRetryable: transient (429, 5xx, CDN pages, timeouts, resets).
	ClassRetryable
	// ClassFatal: every later call would fail too (401 bad token, 403 no
	// rights to the business): the run stops.
	ClassFatal
)

func (c Class) String() string {
	switch c {
	case ClassRetryable:
		return "retryable"
	case ClassFatal:
		return "fatal"
	default:
		return "row"
	}
}

// maxBodyInError bounds the raw body kept in an error.
const maxBodyInError = 512

// Error is an API answer that was not a success, or a request that got no
// answer (Status 0, Err set). It never holds the bearer token: it is built
// from the status, body and path only.
type Error struct {
	Method    string
	Path      string // path without query (queries hold customer emails)
	Status    int    // 0 when no answer came (timeout, reset)
	Codes     []string
	ErrorType string
	Message   string // the API's first message, for the operator
	Body      string // truncated raw body
	HTML      bool   // the body was an HTML page (a CDN error page)
	Title     string // the HTML page's <title>, scrubbed and cut, for a person
	// RetryAfter is the wait the answer asked for (0: none), as read from
	// RetryAfterHeader; the pacer honours it.
	RetryAfter       time.Duration
	RetryAfterHeader string
	Location         string // the host a redirect (3xx) pointed to; never followed
	API              string // the base URL, named when no answer came
	Err              error  // network error, when Status is 0

	timeout time.Duration // the per-attempt timeout, to name it
	// oversized: an answer came, but its headers were past MaxHeaderBytes
	// and were not read. It is an answer, not an outage, and final for the
	// row, as an answer past its size cap is: a header that size is no
	// passing fault.
	oversized bool
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Status == 0 && e.API != "" {
		fmt.Fprintf(&b, "%s %s%s: ", e.Method, e.API, e.Path)
	} else {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	switch {
	case e.Status == 0 && e.Err != nil:
		b.WriteString(netCause(e.Err, e.timeout) + ": " + e.Err.Error())
	case e.Status == 0:
		b.WriteString("no answer")
	default:
		b.WriteString(strconv.Itoa(e.Status))
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" " + t)
		}
	}
	if len(e.Codes) > 0 {
		b.WriteString(" [" + strings.Join(e.Codes, ", ") + "]")
	} else if e.ErrorType != "" {
		b.WriteString(" [" + e.ErrorType + "]")
	}
	if e.HTML {
		b.WriteString(": " + e.blocked())
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Status != 0 && e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Redirect() {
		b.WriteString(": a redirect to host " + e.Location + ", not followed (the token goes to the API host only)")
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(": " + hint)
	}
	return b.String()
}

func (e *Error) hint() string {
	if e.Blocked() {
		return "" // not the API's answer: the token was never judged
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return "the token was refused"
	case http.StatusForbidden:
		return "the token has no rights here; it must be an admin staff member's token for this business"
	}
	return ""
}

// Blocked reports whether the answer is an HTML page where the API answers
// JSON, on a status a proxy, firewall or CDN sends when it stops a request
// (403, 429, 5xx): the request never reached the API, whatever the status
// would mean from it (a 403 page is not "no rights").
func (e *Error) Blocked() bool {
	return e.HTML && (e.Status == http.StatusForbidden || e.Status == http.StatusTooManyRequests || e.Status >= 500)
}

// blocked says what an HTML page is, for a person.
func (e *Error) blocked() string {
	title := "none"
	if e.Title != "" {
		title = strconv.Quote(e.Title)
	}
	if e.Blocked() {
		return "blocked before the API: an HTML page (title: " + title + ") from a proxy, firewall or CDN"
	}
	return "an HTML page (title: " + title + "), not the API's JSON"
}

// Redirect reports whether the answer was a redirect (3xx).
func (e *Error) Redirect() bool { return e.Status >= 300 && e.Status <= 399 }

// Conflict reports whether the answer was 409 Conflict [assumed]: not
// retried, the row's outcome.
func (e *Error) Conflict() bool { return e.Status == http.StatusConflict }

// Unreached reports whether no answer came at all: the name did not
// resolve, the connection was refused or reset, TLS failed, or time ran out.
func (e *Error) Unreached() bool { return e.Status == 0 && e.Err != nil }

// headersTooLarge reports whether net/http refused an answer for its
// headers' size (Transport.MaxResponseHeaderBytes): net/http's own words,
// for it exports no error for them.
func headersTooLarge(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server response headers exceeded")
}

// netCause names, for a person, why a request got no answer.
func netCause(err error, timeout time.Duration) string {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return "cannot reach the API: its host name does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "cannot reach the API: connection refused (nothing listens there)"
	case errors.As(err, &cert), errors.As(err, &hostErr), errors.As(err, &authErr), errors.As(err, &invalid),
		errors.As(err, &rec), errors.As(err, &alert):
		return "cannot reach the API: TLS failed"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return timeoutText(timeout)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed before an answer"
	case headersTooLarge(err):
		return fmt.Sprintf("the answer's headers were over %d KiB: not read", MaxHeaderBytes>>10)
	}
	return "no answer"
}

func (e *Error) Unwrap() error { return e.Err }

// Code is the first pv_* code of the answer, else the first other code.
func (e *Error) Code() string {
	for _, c := range e.Codes {
		if strings.HasPrefix(c, "pv_") {
			return c
		}
	}
	if len(e.Codes) > 0 {
		return e.Codes[0]
	}
	return ""
}

// Has reports whether the answer carried the code.
func (e *Error) Has(code string) bool { return slices.Contains(e.Codes, code) }

// Class classifies the error.
func (e *Error) Class() Class {
	switch {
	case e.Redirect():
		// Not the API's answer: the row fails, naming where it pointed.
		return ClassRow
	case e.Status == 0 && e.oversized:
		return ClassRow
	case e.Status == 0:
		return ClassRetryable
	case e.Status == http.StatusTooManyRequests:
		return ClassRetryable
	case e.Status >= 500:
		return ClassRetryable
	case e.Status == http.StatusUnauthorized:
		return ClassFatal
	case e.Status == http.StatusForbidden && e.HTML:
		// A proxy's or CDN's block page: it would stop every later
		// request as well, and retrying a block makes it last longer.
		return ClassFatal
	case e.Status == http.StatusForbidden:
		// Every 403 of this API is about the token's scope or staff rights
		// for the business [doc], so no later call would fare better.
		return ClassFatal
	case e.HTML:
		// An HTML page in place of JSON is the CDN talking, not the API.
		return ClassRetryable
	default:
		return ClassRow
	}
}

// ClassOf classifies any error: a context error is final for the row (the
// run is stopping), an unknown error is retryable.
func ClassOf(err error) Class {
	var e interface{ Class() Class }
	if errors.As(err, &e) {
		return e.Class()
	}
	if errors.Is(err, ErrReadOnly) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ClassRow
	}
	return ClassRetryable
}

// IsFatal reports whether err must stop the whole run.
func IsFatal(err error) bool { return err != nil && ClassOf(err) == ClassFatal }

// ErrReadOnly is returned, before anything is sent, for a write through a
// read-only (dry-run) client.
var ErrReadOnly = errors.New("perkville: dry run: write not sent")

var codeRE = regexp.MustCompile(`\bpv_[a-z0-9_]+`)

// parseErrorBody extracts error_type, every code and the first message (for
// operators, whole: it is scrubbed before it is cut) from an error body.
// Codes come from the documented shape when it parses, and every pv_* token
// anywhere in the body is added, so an unexpected shape still yields its
// codes. Unknown codes are kept verbatim.
func parseErrorBody(body []byte) (errorType string, codes []string, message string) {
	add := func(c string) {
		if c != "" && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) == nil {
		errorType = eb.ErrorType
		keys := make([]string, 0, len(eb.Errors))
		for k := range eb.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, d := range eb.Errors[k] {
				add(d.Code)
				if message == "" {
					message = d.Message
				}
			}
		}
	}
	for _, m := range codeRE.FindAll(body, -1) {
		add(string(m))
	}
	return errorType, codes, message
}

// ParseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
// It returns 0 when absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case s < 0 || s != s:
			return 0
		case s >= float64(math.MaxInt64)/float64(time.Second):
			return math.MaxInt64 // ~292 years: past any limit
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// newError reads an answer that was not a success. Every text in it the
// server chose (its body, message, codes, title, Retry-After) is scrubbed of
// the token before it is cut to length: the body as JSON decodes it, so
// that an escaped spelling of the token is found too.
func newError(method, path string, resp *http.Response, body []byte, now time.Time, scrub scrubber) *Error {
	e := &Error{Method: method, Path: path, Status: resp.StatusCode}
	raw := json.RawMessage(body)
	scrub.walk(reflect.ValueOf(&raw))
	body = scrub.bytes(raw)
	e.HTML = isHTML(resp.Header.Get("Content-Type"), body)
	if e.HTML {
		e.Title = truncate(scrub.text(htmlTitle(body)), 100)
	} else {
		e.ErrorType, e.Codes, e.Message = parseErrorBody(body)
		e.ErrorType, e.Message = scrub.text(e.ErrorType), truncate(scrub.text(e.Message), 200)
		for i, code := range e.Codes {
			e.Codes[i] = scrub.text(code)
		}
	}
	e.RetryAfterHeader = truncate(scrub.text(resp.Header.Get("Retry-After")), 64)
	e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	e.Body = truncate(string(body), maxBodyInError)
	return e
}

// isHTML reports whether an answer is an HTML page (a CDN or proxy error
// page) rather than the API's JSON: by its Content-Type, or by its first
// bytes when the type is missing or wrong. The one place HTML is detected.
func isHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "text/html") {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 64)])))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// htmlTitle is the <title> of an HTML page, its spaces collapsed and its
// entities decoded: what a person recognises a block page by ("Attention
// Required! | Cloudflare").
func htmlTitle(body []byte) string {
	m := titleRE.FindSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.Join(strings.Fields(html.UnescapeString(string(m[1]))), " ")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
