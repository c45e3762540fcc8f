package export

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// ValidEmail accepts a bare address: local@domain with a dot in the domain.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func validID(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// MembershipStatus reads a membership status cell: ACTIVE or INACTIVE, in
// the words exports use.
func MembershipStatus(s string) (string, bool) {
	switch normHeader(s) {
	case "active", "a", "current", "member", "yes", "true", "1":
		return "ACTIVE", true
	case "inactive", "i", "cancelled", "canceled", "expired", "frozen", "suspended", "terminated", "no", "false", "0":
		return "INACTIVE", true
	}
	return "", false
}

// ParseConsent reads a consent timestamp: RFC 3339, or a date and time
// without a zone (taken as UTC), or a date alone.
func ParseConsent(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("consent time %q is not a date and time like 2026-11-20T10:04:00Z or 2026-11-20 10:04", s)
}
