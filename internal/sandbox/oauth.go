package sandbox

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// tokenEndpoint answers the OAuth 2.0 password grant (RFC 6749 §4.3) at
// pv.PathToken: a world token whose username and password match, for a
// client of the world's OAuthClients, with the token's scopes. Errors are
// RFC 6749 §5.2's. Called with s.mu held.
func (s *Sandbox) tokenEndpoint(r *http.Request, body []byte) (int, any) {
	oauthError := func(status int, code, description string) (int, any) {
		return status, map[string]string{"error": code, "error_description": description}
	}
	if r.Method != http.MethodPost {
		return oauthError(http.StatusMethodNotAllowed, "invalid_request", "POST only.")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return oauthError(http.StatusBadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", "The body is not a form.")
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if !s.knownClient(id, secret) {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	}
	if form.Get("grant_type") != "password" {
		return oauthError(http.StatusBadRequest, "unsupported_grant_type", "Only the password grant is served.")
	}
	user, password := form.Get("username"), form.Get("password")
	for _, t := range s.world.Tokens {
		if t.Username != "" && strings.EqualFold(t.Username, user) && t.Password != "" &&
			subtle.ConstantTimeCompare([]byte(t.Password), []byte(password)) == 1 {
			return http.StatusOK, map[string]any{"access_token": t.Token, "token_type": "Bearer",
				"scope": strings.Join(t.Scopes, " ")}
		}
	}
	return oauthError(http.StatusBadRequest, "invalid_grant", "Invalid credentials given.")
}

func (s *Sandbox) knownClient(id, secret string) bool {
	for _, c := range s.world.OAuthClients {
		if c.ClientID == id && subtle.ConstantTimeCompare([]byte(c.ClientSecret), []byte(secret)) == 1 {
			return true
		}
	}
	return false
}

// isTokenPath reports whether a request is for the token endpoint, which
// takes no bearer token.
func isTokenPath(p string) bool { return p == pv.PathToken }
