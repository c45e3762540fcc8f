package perkville

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	Method     string
	Path       string // path without query (queries hold customer emails)
	Status     int    // 0 when no answer came (timeout, reset)
	Codes      []string
	ErrorType  string
	Message    string // the API's first message, for the operator
	Body       string // truncated raw body
	HTML       bool   // the body was an HTML page (a CDN error page)
	RetryAfter time.Duration
	Err        error // network error, when Status is 0
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	switch {
	case e.Status == 0 && e.Err != nil:
		b.WriteString(e.Err.Error())
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
		b.WriteString(" (HTML error page)")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Status != 0 && e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(": " + hint)
	}
	return b.String()
}

func (e *Error) hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "the token was refused; check PERKVILLE_TOKEN or --token-file"
	case http.StatusForbidden:
		return "the token has no rights here; it must be an admin staff member's token for this business"
	}
	return ""
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
	case e.Status == 0:
		return ClassRetryable
	case e.Status == http.StatusTooManyRequests:
		return ClassRetryable
	case e.Status >= 500:
		return ClassRetryable
	case e.Status == http.StatusUnauthorized:
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
	var e *Error
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

// ParseErrorBody extracts error_type and every code from an error body.
// Codes come from the documented shape when it parses, and every pv_* token
// anywhere in the body is added, so an unexpected shape still yields its
// codes. Unknown codes are kept verbatim.
func ParseErrorBody(body []byte) (errorType string, codes []string) {
	errorType, codes, _ = parseErrorBody(body)
	return errorType, codes
}

// parseErrorBody is ParseErrorBody plus the first message, for operators.
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
					message = truncate(d.Message, 200)
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
		if s < 0 {
			return 0
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

func newError(method, path string, resp *http.Response, body []byte, now time.Time) *Error {
	e := &Error{Method: method, Path: path, Status: resp.StatusCode}
	ct := resp.Header.Get("Content-Type")
	trimmed := strings.TrimSpace(string(body[:min(len(body), 64)]))
	e.HTML = strings.Contains(ct, "text/html") || strings.HasPrefix(strings.ToLower(trimmed), "<!doctype html") || strings.HasPrefix(strings.ToLower(trimmed), "<html")
	if !e.HTML {
		e.ErrorType, e.Codes, e.Message = parseErrorBody(body)
	}
	e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	e.Body = truncate(string(body), maxBodyInError)
	return e
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
