package perkville

import (
	"net/http"
	"testing"
	"time"
)

func TestParseQuota(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		h  http.Header
		q  Quota
		ok bool
	}{
		{http.Header{"Ratelimit-Limit": {"100"}, "Ratelimit-Remaining": {"7"}, "Ratelimit-Reset": {"30"}},
			Quota{Header: "RateLimit-", Limit: 100, Remaining: 7, Reset: 30 * time.Second}, true},
		{http.Header{"X-Ratelimit-Limit": {"100;w=60"}, "X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Reset": {"1796090445"}}, // a Unix time: 45 s from now
			Quota{Header: "X-RateLimit-", Limit: 100, Remaining: 0, Reset: 45 * time.Second}, true},
		{http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"many"}}, Quota{}, false},
		{http.Header{"Retry-After": {"5"}}, Quota{}, false},
	} {
		q, ok := parseQuota(tt.h, now)
		if q != tt.q || ok != tt.ok {
			t.Errorf("%v: got %+v %v, want %+v %v", tt.h, q, ok, tt.q, tt.ok)
		}
	}
}
