package perkville_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// The password grant is sent as RFC 6749 §4.3 says, and its answer read
// in the shapes servers give; neither the password nor a token is ever in
// an error.
func TestRequestToken(t *testing.T) {
	const password = "s3cret-pass word"
	for _, tt := range []struct {
		name, answer string
		status       int
		scopes       []string
		err          string
	}{
		{"scope as RFC text", `{"access_token": "tok-1", "token_type": "Bearer", "scope": "USER_CUSTOMER_INFO ADMIN_CUSTOMER_INFO"}`, 200,
			[]string{pv.ScopeUserCustomerInfo, pv.ScopeAdminCustomerInfo}, ""},
		{"scope as a list", `{"access_token": "tok-1", "token_type": "bearer", "scope": ["ADMIN_CUSTOMER_INFO"]}`, 200, []string{pv.ScopeAdminCustomerInfo}, ""},
		{"no scope", `{"access_token": "tok-1"}`, 200, nil, ""},
		{"not a bearer token", `{"access_token": "tok-1", "token_type": "mac"}`, 200, nil, `token_type "mac"`},
		{"no token", `{"token_type": "Bearer"}`, 200, nil, "holds no access_token"},
		{"refused, echoing the password", `{"error": "invalid_grant", "error_description": "bad password ` + password + `"}`, 400, nil,
			"[invalid_grant]: bad password [redacted]: the username or password was refused"},
		{"a proxy's page", `<!DOCTYPE html><html><title>blocked</title></html>`, 403, nil, "an HTML page, not the token endpoint's JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, secret, ok := r.BasicAuth()
				if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || !ok || id != "client%2F1" || secret != "sec" ||
					r.PostForm.Get("grant_type") != "password" || r.PostForm.Get("username") != "a@b.co" || r.PostForm.Get("password") != password ||
					r.URL.Query().Has("password") {
					t.Errorf("not a password grant: %s %v %q %q", r.Method, r.PostForm, id, secret)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.answer))
			}))
			defer srv.Close()
			g, err := pv.RequestToken(context.Background(), pv.PasswordGrant{BaseURL: srv.URL, ClientID: "client/1", ClientSecret: "sec",
				Username: "a@b.co", Password: password})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "tok-1") {
					t.Fatalf("got %v, want an error saying %q, without the password or token", err, tt.err)
				}
				return
			}
			if err != nil || g.Token.Reveal() != "tok-1" || !slices.Equal(g.Scopes, tt.scopes) {
				t.Fatalf("got %+v, %v", g, err)
			}
		})
	}
}

// The password crosses no network in clear: http:// only for loopback.
func TestTokenEndpointIsHTTPS(t *testing.T) {
	for raw, ok := range map[string]bool{"https://api.perkville.com/v2/oauth/token/": true, "http://127.0.0.1:9/t": true,
		"http://login.example.com/token": false, "https://u:p@login.example.com/": false} {
		if _, err := (pv.PasswordGrant{TokenURL: raw}).Endpoint(); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
	u, err := pv.PasswordGrant{BaseURL: "https://api.perkville.com"}.Endpoint()
	if err != nil || u.String() != "https://api.perkville.com"+pv.PathToken {
		t.Errorf("default endpoint %v, %v", u, err)
	}
}
