package perkville

// The OAuth 2.0 password grant (RFC 6749 §4.3): how an operator gets a
// token for a staff member. Perkville's automation guide describes it: a
// POST of the staff member's username and password, with the
// application's client id and secret, answers a long-lived token and its
// scopes [doc]. The token endpoint's path is [assumed].

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// PathToken is the token endpoint, under the API's host [assumed].
const PathToken = "/v2/oauth/token/"

// PasswordGrant is a token request for a staff member.
type PasswordGrant struct {
	TokenURL     string // the token endpoint; the API base URL plus PathToken when empty
	BaseURL      string // the API base URL, for the default TokenURL
	ClientID     string
	ClientSecret Secret
	Username     string
	Password     Secret
	UserAgent    string
	Wire         http.RoundTripper // a plain transport when nil
	Timeout      time.Duration     // 30 s when 0
}

// Grant is the token endpoint's answer: the token and the scopes it holds.
type Grant struct {
	Token     Secret
	TokenType string
	Scopes    []string
}

// HasScope reports whether the grant holds the scope.
func (g *Grant) HasScope(scope string) bool {
	for _, s := range g.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// GrantError is a token request the endpoint refused (RFC 6749 §5.2), or
// whose answer was not a token.
type GrantError struct {
	URL         string
	Status      int
	Code        string // "invalid_grant", "invalid_client", …
	Description string
}

func (e *GrantError) Error() string {
	msg := fmt.Sprintf("token request to %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		msg += " [" + e.Code + "]"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	switch e.Code {
	case "invalid_grant":
		msg += ": the username or password was refused"
	case "invalid_client", "unauthorized_client":
		msg += ": the client id or secret was refused"
	}
	return msg
}

// Endpoint is the token endpoint a grant posts to: TokenURL as given, or
// the API's host with PathToken. Either must be https (http for loopback
// only): the password crosses no network in clear.
func (g PasswordGrant) Endpoint() (*url.URL, error) {
	if g.TokenURL == "" {
		base, err := CheckBaseURL(g.BaseURL)
		if err != nil {
			return nil, err
		}
		u := *base
		u.Path = base.Path + PathToken
		return &u, nil
	}
	if _, err := CheckBaseURL(g.TokenURL); err != nil {
		return nil, fmt.Errorf("token URL: %w", err)
	}
	return url.Parse(g.TokenURL)
}

// RequestToken sends the password grant and returns the token with its
// scopes. Neither the password nor the token is ever in an error.
func RequestToken(ctx context.Context, g PasswordGrant) (*Grant, error) {
	target, err := g.Endpoint()
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"password"}, "username": {g.Username}, "password": {g.Password.Reveal()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if g.UserAgent != "" {
		req.Header.Set("User-Agent", g.UserAgent)
	}
	// Client authentication by HTTP Basic, which every server must take
	// (RFC 6749 §2.3.1), the id and secret form-encoded first.
	req.SetBasicAuth(url.QueryEscape(g.ClientID), url.QueryEscape(g.ClientSecret.Reveal()))
	wire := g.Wire
	if wire == nil {
		wire = newWire()
	}
	timeout := g.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	hc := &http.Client{Transport: wire, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("token request to %s: %s: %w", target, netCause(err, timeout), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorAnswer))
	if err != nil {
		return nil, fmt.Errorf("token request to %s: reading the answer: %w", target, err)
	}
	return readGrant(target.String(), resp.StatusCode, body, newScrubber(g.Password))
}

// readGrant reads the token endpoint's answer (RFC 6749 §5.1, §5.2).
func readGrant(target string, status int, body []byte, scrub scrubber) (*Grant, error) {
	var ans struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       any    `json:"scope"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	decodeErr := json.Unmarshal(body, &ans)
	if status != http.StatusOK || decodeErr != nil || ans.AccessToken == "" {
		e := &GrantError{URL: target, Status: status, Code: truncate(scrub.text(ans.Error), 64),
			Description: truncate(scrub.text(ans.Description), 200)}
		if status == http.StatusOK {
			e.Description = "the answer holds no access_token"
		}
		if isHTML("", body) {
			e.Description = "an HTML page, not the token endpoint's JSON (check the token URL)"
		}
		return nil, e
	}
	if ans.TokenType != "" && !strings.EqualFold(ans.TokenType, "bearer") {
		return nil, &GrantError{URL: target, Status: status, Description: fmt.Sprintf("token_type %q, where pvenroll sends bearer tokens", truncate(ans.TokenType, 40))}
	}
	g := &Grant{Token: Secret(ans.AccessToken), TokenType: ans.TokenType}
	switch s := ans.Scope.(type) {
	case string: // RFC 6749 §3.3: space-delimited
		g.Scopes = strings.Fields(s)
	case []any: // a list, as some servers answer
		for _, v := range s {
			if t, ok := v.(string); ok {
				g.Scopes = append(g.Scopes, t)
			}
		}
	}
	return g, nil
}
