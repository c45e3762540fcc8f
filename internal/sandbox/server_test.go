package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

func sampleWorld(t *testing.T) *sandbox.World {
	t.Helper()
	w, err := sandbox.LoadWorld("../../samples/sandbox-world.json")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

type answer struct {
	status int
	body   map[string]any
	raw    string
}

func call(t *testing.T, s *sandbox.Server, token, method, path, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(b)}
	_ = json.Unmarshal(b, &a.body)
	return a
}

const admin = "sandbox-admin-token"

func TestValidation(t *testing.T) {
	s := sandbox.NewServer(sampleWorld(t), sandbox.Faults{})
	defer s.Close()
	for _, tt := range []struct {
		name, token, method, path, body string
		status                          int
		contains                        string
	}{
		{"no token", "", "GET", "/v2/businesses/25/", "", 401, `"oauth_error"`},
		{"bad token", "nope", "GET", "/v2/businesses/25/", "", 401, `"invalid_token"`},
		{"business filter required", admin, "GET", "/v2/connections/", "", 400, `"business"`},
		{"limit over 1000", admin, "GET", "/v2/connections/?business=25&limit=1001", "", 400, `"limit"`},
		{"list", admin, "GET", "/v2/connections/?business=25&limit=5", "", 200, `"total_count"`},
		{"another business's admin", "sandbox-other-admin-token", "GET", "/v2/connections/?business=25", "", 403, ""},
		{"only ACTIVE/INACTIVE writable", admin, "PATCH", "/v2/connections/6523001/", `{"status":"PENDING"}`, 400, `"invalid_choice"`},
		{"not JSON", admin, "PATCH", "/v2/connections/6523001/", `status=ACTIVE`, 400, ""},
		{"unknown connection", admin, "PATCH", "/v2/connections/1/", `{"status":"ACTIVE"}`, 404, ""},
		{"create needs fields", admin, "POST", "/v2/external-members/", `{"business":25,"external_system_id":"S"}`, 400, `"required"`},
		{"create for another business", admin, "POST", "/v2/external-members/", `{"business":77,"external_system_id":"S","external_member_id":"1","user_email":"a@b.co"}`, 403, ""},
		{"agreements view needs a user", admin, "GET", "/v2/agreements-view/?business=25", "", 400, `"user_id"`},
		{"batch needs objects", admin, "POST", "/v2/batch/agreement-acceptances/", `{}`, 400, `"objects"`},
		{"unknown path", admin, "GET", "/v2/nothing/", "", 404, ""},
		{"method", admin, "DELETE", "/v2/connections/6523001/", "", 405, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, tt.token, tt.method, tt.path, tt.body)
			if a.status != tt.status || !strings.Contains(a.raw, tt.contains) {
				t.Fatalf("%d %s, want %d containing %s", a.status, a.raw, tt.status, tt.contains)
			}
		})
	}
}

func TestPaginationEnvelope(t *testing.T) {
	s := sandbox.NewServer(sampleWorld(t), sandbox.Faults{})
	defer s.Close()
	var total float64
	seen := 0
	path := "/v2/connections/?business=25&limit=50"
	for pages := 0; path != ""; pages++ {
		a := call(t, s, admin, "GET", path, "")
		meta := a.body["meta"].(map[string]any)
		total = meta["total_count"].(float64)
		seen += len(a.body["objects"].([]any))
		next, _ := meta["next"].(string)
		if next != "" && !strings.HasPrefix(next, "/v2/connections/?") {
			t.Fatalf("next %q is not host-relative", next)
		}
		path = next
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if float64(seen) != total || seen < 100 {
		t.Fatalf("saw %d of total_count %v", seen, total)
	}
}

func TestLogStateAndDrop(t *testing.T) {
	s := sandbox.NewServer(sampleWorld(t), sandbox.Faults{PDropApplied: 1})
	defer s.Close()
	req, _ := http.NewRequest("PATCH", s.URL+"/v2/connections/6523001/", bytes.NewReader([]byte(`{"status":"ACTIVE"}`)))
	req.Header.Set("Authorization", "Bearer "+admin)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("want a dropped connection, got %d", resp.StatusCode)
	}
	log := s.Log()
	if len(log) != 1 || log[0].Status != 0 || !log[0].Applied || log[0].Fault != "drop-after-apply" || log[0].Token != "admin" {
		t.Fatalf("log: %+v", log)
	}
	// The write was applied although its answer was lost.
	var w sandbox.World
	resp, err := http.Get(s.URL + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		t.Fatal(err)
	}
	for _, u := range w.Users {
		if u.Connection != nil && u.Connection.ConnectionID == 6523001 && u.Connection.Status != pv.StatusActive {
			t.Fatalf("connection not applied: %+v", u.Connection)
		}
	}
}

func TestServerRateLimit(t *testing.T) {
	s := sandbox.NewServer(sampleWorld(t), sandbox.Faults{RateLimit: 2})
	defer s.Close()
	codes := map[int]int{}
	for i := 0; i < 5; i++ {
		codes[call(t, s, admin, "GET", "/v2/businesses/25/", "").status]++
	}
	if codes[429] == 0 || codes[200] == 0 {
		t.Fatalf("5 quick requests at a limit of 2/s: %v", codes)
	}
	for _, e := range s.Log() {
		if e.Status == 429 && e.Fault != "rate-limit" {
			t.Fatalf("429 not marked as the rate limit: %+v", e)
		}
	}
}

func TestLatency(t *testing.T) {
	s := sandbox.NewServer(sampleWorld(t), sandbox.Faults{Latency: 30 * time.Millisecond})
	defer s.Close()
	call(t, s, admin, "GET", "/v2/businesses/25/", "")
	e := s.Log()[0]
	if d := e.End.Sub(e.Start); d < 30*time.Millisecond {
		t.Fatalf("answer took %v, latency is 30ms", d)
	}
}

func TestWorldFileChecks(t *testing.T) {
	for _, bad := range []string{
		`{"business": {"business_id": 0}, "tokens": [{"token": "x"}]}`,
		`{"business": {"business_id": 1}, "tokens": []}`,
		`{"business": {"business_id": 1}, "tokens": [{"token": "x"}], "users": [{"user_id": 1, "emails": ["a@b.co"]}, {"user_id": 2, "emails": ["A@b.co"]}]}`,
		`{"business": {"business_id": 1}, "tokens": [{"token": "x"}], "users": [{"user_id": 1, "connection": {"connection_id": 5, "status": "JOINED"}}]}`,
		`{"business": {"business_id": 1}, "tokens": [{"token": "x"}], "surprise": 1}`,
	} {
		if _, err := sandbox.ReadWorld(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if _, err := os.Stat("../../samples/sandbox-world.json"); err != nil {
		t.Fatal(err)
	}
}
