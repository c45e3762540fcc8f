package perkville_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// hostile serves h on loopback for the test.
func hostile(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// A server that quotes the Authorization header back, in its message (as
// sent, or spelled with JSON escapes), its Retry-After or a redirect's
// host: no error text or field holds the token.
func TestEchoedTokenIsScrubbed(t *testing.T) {
	const token = "echo-secret-token"
	answers := map[string]func(w http.ResponseWriter, auth string){
		"message": func(w http.ResponseWriter, auth string) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error_type":"validation_error %s","errors":{"email":[{"code":"pv_x","message":"you sent %s"}]}}`, auth, auth)
		},
		"escaped": func(w http.ResponseWriter, auth string) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"errors":{"email":[{"code":"pv_x","message":"you sent \u0042earer \u0065%s"}]}}`, strings.TrimPrefix(auth, "Bearer e"))
		},
		"not json": func(w http.ResponseWriter, auth string) {
			fmt.Fprintf(w, `you sent %s`, auth)
		},
		"retry-after": func(w http.ResponseWriter, auth string) {
			w.Header().Set("Retry-After", auth)
			w.WriteHeader(http.StatusTooManyRequests)
		},
		"redirect": func(w http.ResponseWriter, auth string) {
			w.Header().Set("Location", "http://"+strings.TrimPrefix(auth, "Bearer ")+".example/")
			w.WriteHeader(http.StatusFound)
		},
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
				answer(w, r.Header.Get("Authorization"))
			})
			c := newClient(t, url, token, pv.Options{})
			_, err := c.ConnectionByEmail(context.Background(), business, "pat@example.com")
			if err == nil {
				t.Fatal("want an error")
			}
			e := apiErr(t, err)
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", *e)} {
				if strings.Contains(text, token) {
					t.Fatalf("token in the error: %s", text)
				}
			}
			if name == "message" && !strings.Contains(e.Message, "you sent [redacted]") {
				t.Fatalf("message %q: the rest of the server's text should stay", e.Message)
			}
		})
	}
}

// A server or proxy that quotes the Authorization header in the headers a
// shape report keeps (Server, Via, the rate limits): the report, its
// differences and their meanings hold no piece of the token, also where a
// header is cut.
func TestEchoedTokenInHeadersIsScrubbed(t *testing.T) {
	const token = "echo-secret-token-in-headers"
	url := hostile(t, func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("Server", "edge "+auth)
		w.Header().Set("Via", "1.1 "+strings.Repeat("x", 90)+strings.TrimPrefix(auth, "Bearer "))
		w.Header().Set("RateLimit-Limit", strings.TrimPrefix(auth, "Bearer "))
		w.Header().Set("RateLimit-Remaining", "5")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"business_id":25,"name":"R","perkville_url":"https://r.example/","meta":{},"objects":[]}`)
	})
	c := newClient(t, url, token, pv.Options{})
	rep := pv.RecordShapes(context.Background(), c, business)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"Server":"edge [redacted]"`) {
		t.Fatalf("the Server header should be kept, scrubbed: %s", b)
	}
	for i := 0; i+8 <= len(token); i++ {
		if strings.Contains(string(b), token[i:i+8]) {
			t.Fatalf("piece %q of the token in the shape report: %s", token[i:i+8], b)
		}
	}
}
