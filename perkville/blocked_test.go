package perkville_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// A CDN's HTML block page is not the API's answer: whatever its status, the
// error says the request was blocked before the API and names the page's
// title; a 403 page stops the run, and is never "not an admin".
func TestBlockPagesAreNotAPIAnswers(t *testing.T) {
	for _, tt := range []struct {
		status int
		class  pv.Class
	}{
		{http.StatusForbidden, pv.ClassFatal},
		{http.StatusTooManyRequests, pv.ClassRetryable},
		{http.StatusServiceUnavailable, pv.ClassRetryable},
	} {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			s := startSandbox(t, sandbox.Faults{BlockPage: tt.status})
			c := newClient(t, s.URL, adminToken, pv.Options{Retries: 1})
			_, err := c.ConnectionByEmail(context.Background(), business, "pat@example.com")
			e := apiErr(t, err)
			if !e.Blocked() || e.Status != tt.status || pv.ClassOf(err) != tt.class {
				t.Fatalf("blocked %v, status %d, class %v: %v", e.Blocked(), e.Status, pv.ClassOf(err), err)
			}
			msg := err.Error()
			for _, want := range []string{`blocked before the API: an HTML page (title: "Attention Required! | Cloudflare") from a proxy, firewall or CDN`} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q lacks %q", msg, want)
				}
			}
			for _, never := range []string{"rights", "admin", "<html"} {
				if strings.Contains(msg, never) {
					t.Errorf("%q says %q", msg, never)
				}
			}
			var na *pv.NotAdminError
			if err := c.ProveAdmin(context.Background(), business); errors.As(err, &na) || pv.IsFatal(err) != (tt.class == pv.ClassFatal) {
				t.Errorf("admin probe behind a %d page: %T %v", tt.status, err, err)
			}
		})
	}
}

// The preflight's first line fails, fatally, behind a block page: the API
// was not reached, so nothing is said of the token or the business.
func TestPreflightBehindBlockPage(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{BlockPage: http.StatusForbidden})
	c := newClient(t, s.URL, adminToken, pv.Options{})
	checks := pv.Preflight(context.Background(), c, business)
	if len(checks) != 1 || checks[0].OK || !checks[0].Fatal || !strings.Contains(checks[0].Detail, "blocked before the API") {
		t.Fatalf("checks: %+v", checks)
	}
}

// An answer's headers are read up to 64 KiB: a server sending megabytes of
// them gets an error naming the cause, and nothing of them is kept. Such an
// answer is final for the row, as a body past its cap is: sent once, not
// retried, and no outage (each of 183 rows spent its six attempts on it,
// and the breaker opened and closed two dozen times).
func TestHugeHeadersAreRefused(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{HugeHeaders: 1 << 20})
	c := newClient(t, s.URL, adminToken, pv.Options{Retries: 5})
	_, err := c.ConnectionByEmail(context.Background(), business, "pat@example.com")
	e := apiErr(t, err)
	if !e.Unreached() || !strings.Contains(err.Error(), "the answer's headers were over 64 KiB: not read") {
		t.Fatalf("got %v", err)
	}
	if c := pv.ClassOf(err); c != pv.ClassRow {
		t.Errorf("class %v, want ClassRow", c)
	}
	if n := len(s.Log()); n != 1 {
		t.Errorf("%d requests sent, want 1 (no retry)", n)
	}
	small := startSandbox(t, sandbox.Faults{HugeHeaders: 32 << 10})
	c = newClient(t, small.URL, adminToken, pv.Options{})
	if _, err := c.ConnectionByEmail(context.Background(), business, "pat@example.com"); err != nil {
		t.Fatalf("32 KiB of headers: %v", err)
	}
}
