package perkville_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// check --report records each answer's field types and says, for each
// way it differs from the assumed shape, what it means: handled, or the
// rows that fail. It sends only GET and keeps no value a customer gave.
func TestRecordShapes(t *testing.T) {
	answers := map[string]string{
		"/v2/businesses/25/": `{"business_id": "25", "name": "Riverside", "extra": 1}`,
		"/v2/connections/": `{"meta": {"limit": 2, "offset": 0}, "objects": [
			{"resource_uri": "/v2/connections/5/", "business": "/v2/businesses/25/", "user": "/v2/users/7/", "status": "ACTIVE", "email": "pat@example.com"}]}`,
		"/v2/connections/5/":   `{"connection_id": 5, "business": "/v2/businesses/25/", "user": {"id": 7}, "status": "ACTIVE"}`,
		"/v2/agreements-view/": `{"meta": {}, "objects": [{"agreement_id": 7, "version": "v1.0", "accepted": false, "title": "Terms"}]}`,
	}
	var mu sync.Mutex
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "300")
		w.Header().Set("Server", "nginx")
		_, _ = w.Write([]byte(answers[r.URL.Path]))
	}))
	defer srv.Close()
	rep := pv.RecordShapes(context.Background(), newClient(t, srv.URL, adminToken, pv.Options{}), business)
	if len(rep.Shapes) != 4 {
		t.Fatalf("%d shapes: %+v", len(rep.Shapes), rep.Shapes)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range methods {
		if !strings.HasPrefix(m, "GET ") {
			t.Fatalf("sent %s", m)
		}
	}
	var lines []string
	failing := 0
	for _, s := range rep.Shapes {
		for _, d := range s.Differences {
			lines = append(lines, s.Shape+": "+d.Meaning)
			if d.FailsRows {
				failing++
			}
		}
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"business: business business_id is text: handled",
		"business: the API announces its rate limit (X-RateLimit-Limit: 300",
		"business: business has fields pvenroll does not use (extra): ignored",
		"business: no business perkville_url: customer messages cannot name the program's site",
		"connections page: no meta.total_count: the listing pages by offset",
		"connections page: no meta.next: the listing pages by offset until a short page",
		"connections page: connection connection_id is missing: read from another field: handled",
		"connection: connection user is an object: not usable, so rows fail with unexpected_answer naming it",
		"agreements-view page: agreement version is text: handled (kept as text)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no line %q in:\n%s", want, all)
		}
	}
	if failing != 1 {
		t.Errorf("%d differences fail rows, want 1 (the connection's user):\n%s", failing, all)
	}
	data, _ := json.Marshal(rep)
	if strings.Contains(string(data), "pat@example.com") || strings.Contains(string(data), "Riverside") {
		t.Errorf("the report holds a value, not only names and types: %s", data)
	}
	if rep.Shapes[1].Fields["email"] != "string" || rep.Shapes[0].Headers["Server"] != "nginx" {
		t.Errorf("fields or headers not recorded: %+v", rep.Shapes[:2])
	}
}
