package export

import (
	"net/mail"
	"strconv"
	"strings"
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
