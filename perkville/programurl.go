package perkville

import (
	"fmt"
	"net/url"
	"strings"
)

// ProgramURL is the business's perkville_url when it is fit for a message
// to customers: an absolute https URL with a host, holding no user info
// and no query (where a server may put credentials or tracking). Else it
// returns an error saying why, and messages name the business instead.
func (b Business) ProgramURL() (string, error) {
	raw := strings.TrimSpace(b.PerkvilleURL)
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("perkville_url %q %s: customer messages name the business instead", truncate(b.ShownURL(), 100), why)
	}
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return bad("is empty")
	case err != nil || u.Host == "" || !u.IsAbs():
		return bad("is not an absolute URL")
	case u.Scheme != "https":
		return bad("is not https")
	case u.User != nil:
		return bad("holds user info")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("holds a query")
	case strings.ContainsAny(raw, " \t\r\n\x00\x1b\x7f"):
		return bad("holds spaces or control characters")
	}
	return raw, nil
}

// ProgramName is what customer messages call the program's site: its
// ProgramURL, or else the business's name.
func (b Business) ProgramName() string {
	if u, err := b.ProgramURL(); err == nil {
		return u
	}
	if name := strings.TrimSpace(b.Name); name != "" {
		return name
	}
	return "the business's rewards program page"
}

// ShownURL is the perkville_url as logs, reports and check show it: a
// password in its user info (https://user:PASSWORD@host/) reads xxxxx.
func (b Business) ShownURL() string {
	u, err := url.Parse(strings.TrimSpace(b.PerkvilleURL))
	if err != nil || u.User == nil {
		return b.PerkvilleURL
	}
	return u.Redacted()
}
