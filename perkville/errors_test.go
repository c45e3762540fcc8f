package perkville

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestParseErrorBody(t *testing.T) {
	for _, tt := range []struct {
		body      string
		errorType string
		codes     []string
	}{
		{`{"error_type": "validation_error", "errors": {"status": [{"code": "pv_connection_membership_not_active", "message": "Membership is not active."}]}}`,
			"validation_error", []string{"pv_connection_membership_not_active"}},
		{`{"error_type": "oauth_error", "errors": {"__all__": [{"code": "invalid_token"}]}}`, "oauth_error", []string{"invalid_token"}},
		// An unexpected shape still yields its pv_* codes.
		{`{"detail": {"reasons": ["pv_agreement_required", "pv_something_new"]}}`, "", []string{"pv_agreement_required", "pv_something_new"}},
		{`{"errors": {"b": [{"code": "pv_b"}], "a": [{"code": "pv_a"}, {"code": "pv_b"}]}}`, "", []string{"pv_a", "pv_b"}},
		{`<html>pv_in_html</html>`, "", []string{"pv_in_html"}},
		{``, "", nil},
	} {
		et, codes, _ := parseErrorBody([]byte(tt.body))
		if et != tt.errorType || !slices.Equal(codes, tt.codes) {
			t.Errorf("%s: got %q %q, want %q %q", tt.body, et, codes, tt.errorType, tt.codes)
		}
	}
}

func FuzzParseErrorBody(f *testing.F) {
	f.Add([]byte(`{"error_type": "validation_error", "errors": {"status": [{"code": "pv_agreement_required"}]}}`))
	f.Add([]byte(`{"errors": {"x": "pv_"}}`))
	f.Add([]byte(`<!DOCTYPE html><title>502</title>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, codes, _ := parseErrorBody(body)
		seen := map[string]bool{}
		for _, c := range codes {
			if c == "" || seen[c] {
				t.Fatalf("empty or repeated code %q in %q", c, codes)
			}
			seen[c] = true
		}
		// Every pv_ token of the body is found. (Codes may also come from
		// the decoded JSON, where escapes make them differ from the bytes.)
		for _, m := range codeRE.FindAllString(string(body), -1) {
			if !seen[m] {
				t.Fatalf("code %q in the body was missed: %q", m, codes)
			}
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":     0,
		"3":    3 * time.Second,
		"0.5":  500 * time.Millisecond,
		"-1":   0,
		"soon": 0,
		now.Add(7 * time.Second).Format(http.TimeFormat):  7 * time.Second,
		now.Add(-7 * time.Second).Format(http.TimeFormat): 0,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}

func TestIDFromURI(t *testing.T) {
	for uri, want := range map[string]int64{
		"/v2/users/3106882/":                          3106882,
		"/v2/connections/6523892":                     6523892,
		"https://api.perkville.com/v2/businesses/25/": 25,
		"/v2/users/":                                  0,
		"":                                            0,
		"/v2/users/x/":                                0,
		"/v2/users/-5/":                               0,
		"/v2/users/12/?x=1":                           12,
	} {
		got, err := IDFromURI(uri)
		if got != want || (err == nil) != (want > 0) {
			t.Errorf("%q: %d %v, want %d", uri, got, err, want)
		}
	}
}

func TestClassOf(t *testing.T) {
	for err, want := range map[error]Class{
		context.Canceled:                    ClassRow,
		fmt.Errorf("x: %w", ErrReadOnly):    ClassRow,
		&Error{Status: 401}:                 ClassFatal,
		fmt.Errorf("wrapped: %w", &Error{}): ClassRetryable,
		errors.New("something else"):        ClassRetryable,
	} {
		if got := ClassOf(err); got != want {
			t.Errorf("%v: %v, want %v", err, got, want)
		}
	}
}

func TestErrorClass(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want Class
	}{
		{Error{Status: 0}, ClassRetryable},
		{Error{Status: 429}, ClassRetryable},
		{Error{Status: 502, HTML: true}, ClassRetryable},
		{Error{Status: 503}, ClassRetryable},
		{Error{Status: 401}, ClassFatal},
		{Error{Status: 403}, ClassFatal},
		{Error{Status: 400}, ClassRow},
		{Error{Status: 404}, ClassRow},
		{Error{Status: 409}, ClassRow},
	} {
		if got := tt.e.Class(); got != tt.want {
			t.Errorf("%d: %v, want %v", tt.e.Status, got, tt.want)
		}
	}
}
