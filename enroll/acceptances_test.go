package enroll_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// consentWorld has n customers not yet joined: four in five rows hold
// consent; of the rest, half accepted the terms themselves. User 3 refuses
// acceptances (a per-item error).
func consentWorld(n int) (*sandbox.World, string) {
	w := smallWorld()
	w.Users, w.ExternalMembers = nil, nil
	var csv strings.Builder
	csv.WriteString("email,consent\n")
	for i := 1; i <= n; i++ {
		u := sandbox.User{UserID: int64(i), Emails: []string{fmt.Sprintf("c%d@x.co", i)}, RefuseAcceptances: i == 3,
			Connection: &sandbox.Connection{ConnectionID: int64(5000 + i), Status: pv.StatusImported, ExternalMembershipStatus: pv.StatusActive}}
		consent := "2026-11-20T10:04:00Z"
		if i%5 == 0 {
			consent = ""
			if i%10 == 0 {
				u.AcceptedAgreements = []sandbox.Accepted{{AgreementID: 7}}
			}
		}
		w.Users = append(w.Users, u)
		fmt.Fprintf(&csv, "c%d@x.co,%s\n", i, consent)
	}
	return w, csv.String()
}

func batchPostsIn(s *sandbox.Server) (posts int) {
	for _, e := range s.Log() {
		if e.Method == http.MethodPost && e.Path == pv.PathAgreementAcceptances {
			posts++
		}
	}
	return posts
}

// stateOf is what a run leaves: each user's connection and accepted terms.
func stateOf(s *sandbox.Server) map[int64]string {
	out := map[int64]string{}
	for _, u := range s.State().Users {
		out[u.UserID] = fmt.Sprintf("%s accepted=%d", u.Connection.Status, len(u.AcceptedAgreements))
	}
	return out
}

// checkNoAcceptanceWithoutConsent: users whose row held no consent have
// only what they accepted themselves.
func checkNoAcceptanceWithoutConsent(t *testing.T, s *sandbox.Server) {
	t.Helper()
	for _, u := range s.State().Users {
		if u.UserID%5 == 0 && u.UserID%10 != 0 && len(u.AcceptedAgreements) > 0 {
			t.Errorf("user %d: terms accepted although the row held no consent", u.UserID)
		}
	}
}

func TestBatchedAcceptancesMapItemErrorsToTheirRows(t *testing.T) {
	w, data := consentWorld(40)
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	got, _, api := run(t, s, runCase{csv: data, consent: "consent", workers: 40, acceptBatch: 100})
	if len(got) != 40 {
		t.Fatalf("%d rows", len(got))
	}
	for i, r := range got {
		user := i + 1
		want := enroll.Joined
		switch {
		case user == 3:
			want = enroll.Failed
		case user%10 == 5:
			want = enroll.NeedsAgreement
		}
		if r.Outcome != want {
			t.Errorf("user %d: %s (%s), want %s", user, r.Outcome, r.Detail, want)
		}
	}
	if r := got[2]; r.Code != "acceptance_refused" || !strings.Contains(r.Detail, "agreement 7") {
		t.Errorf("refused item: code %q detail %q", r.Code, r.Detail)
	}
	posts := batchPostsIn(s)
	if posts == 0 || posts >= 32/2 {
		t.Errorf("%d batch requests for 32 consenting rows: want them shared", posts)
	}
	if n := api.Stats.Snapshot().Requests; n >= 40*2+32 {
		t.Errorf("%d requests: no fewer than one acceptance request a row", n)
	}
	checkNoAcceptanceWithoutConsent(t, s)
}

// The fault matrix with batches in flight: every row ends in exactly one
// outcome, the outcome of a clean run without batching, and so does the
// state; nobody's terms are accepted without their consent.
func TestFaultMatrixWithBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("fault matrix: Retry-After pauses")
	}
	w, data := consentWorld(60)
	clean := sandbox.NewServer(w, sandbox.Faults{})
	want, _, _ := run(t, clean, runCase{csv: data, consent: "consent", workers: 16, acceptBatch: 1})
	wantState := stateOf(clean)
	clean.Close()
	for _, tt := range []struct {
		name string
		f    sandbox.Faults
		wire *batchFaults // faults on the batches themselves, every one
	}{
		{"10% 5xx, half after applying", sandbox.Faults{P5xx: 0.05, P5xxApplied: 0.05}, nil},
		{"10% dropped connections, half after applying", sandbox.Faults{PDrop: 0.05, PDropApplied: 0.05}, nil},
		{"5% 429 with Retry-After", sandbox.Faults{P429: 0.05, RetryAfter: time.Second}, nil},
		{"CDN HTML 502s", sandbox.Faults{PCDN: 0.1}, nil},
		{"every batch's first answer lost after applying", sandbox.Faults{}, &batchFaults{mode: "lost"}},
		{"every batch's first attempt a 503", sandbox.Faults{}, &batchFaults{mode: "503"}},
		{"the first two batches 429", sandbox.Faults{}, &batchFaults{mode: "429"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.Seed = 7
			s := sandbox.NewServer(w, tt.f)
			defer s.Close()
			o := pv.Options{Retries: 8}
			if tt.wire != nil {
				o.Wire = tt.wire
			}
			got, out, _ := run(t, s, runCase{csv: data, consent: "consent", workers: 16,
				acceptBatch: 100, api: o})
			if out.Stop != enroll.StopNone || len(got) != len(want) {
				t.Fatalf("stop %v, %d rows of %d", out.Stop, len(got), len(want))
			}
			for i := range want {
				if got[i].Outcome != want[i].Outcome {
					t.Errorf("line %d: %s (%s), clean run: %s", got[i].Line, got[i].Outcome, got[i].Detail, want[i].Outcome)
				}
			}
			st := stateOf(s)
			for id, ws := range wantState {
				if st[id] != ws {
					t.Errorf("user %d: %s, clean run: %s", id, st[id], ws)
				}
			}
			checkNoAcceptanceWithoutConsent(t, s)
			faults, batchFaults := 0, 0
			for _, e := range s.Log() {
				if e.Fault != "" {
					faults++
					if e.Path == pv.PathAgreementAcceptances {
						batchFaults++
					}
				}
			}
			if tt.wire != nil {
				faults += int(tt.wire.injected.Load())
				batchFaults += int(tt.wire.injected.Load())
			}
			if faults == 0 {
				t.Fatal("no fault was injected")
			}
			posts := batchPostsIn(s)
			t.Logf("%d faults (%d on batches), %d batch requests, %d requests", faults, batchFaults, posts, len(s.Log()))
		})
	}
}

// batchFaults fails batch requests on the client's wire: "lost" sends every
// other attempt and loses its answer, "503" answers every other attempt
// 503 without sending it, "429" throttles the first two.
type batchFaults struct {
	mode     string
	attempts atomic.Int64
	injected atomic.Int64
}

func (b *batchFaults) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path != pv.PathAgreementAcceptances {
		return http.DefaultTransport.RoundTrip(req)
	}
	n := b.attempts.Add(1)
	answer := func(status int, header http.Header) *http.Response {
		b.injected.Add(1)
		return &http.Response{StatusCode: status, Header: header, Request: req,
			Body: io.NopCloser(strings.NewReader(`{"error_type":"x","errors":{"__all__":[{"code":"x"}]}}`))}
	}
	switch {
	case b.mode == "503" && n%2 == 1:
		return answer(http.StatusServiceUnavailable, http.Header{"Content-Type": {"application/json"}}), nil
	case b.mode == "400":
		return answer(http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}}), nil
	case b.mode == "429" && n <= 2:
		return answer(http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}), nil
	case b.mode == "lost" && n%2 == 1:
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
			b.injected.Add(1)
			return nil, errors.New("connection reset by peer (test)")
		}
		return nil, err
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A batch refused whole fails the rows it carried, and says that fewer at
// once may pass; no row joins without its acceptance.
func TestBatchRefusedWhole(t *testing.T) {
	w, data := consentWorld(20)
	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	got, _, _ := run(t, s, runCase{csv: data, consent: "consent", workers: 20,
		acceptBatch: 100, api: pv.Options{Wire: &batchFaults{mode: "400"}}})
	said := false
	for i, r := range got {
		user := i + 1
		switch {
		case user%10 == 5:
			if r.Outcome != enroll.NeedsAgreement {
				t.Errorf("user %d: %s, want needs-agreement", user, r.Outcome)
			}
		case user%10 == 0:
			if r.Outcome != enroll.Joined {
				t.Errorf("user %d: %s, want joined (accepted before)", user, r.Outcome)
			}
		default:
			if r.Outcome != enroll.Failed || r.Code != "x" {
				t.Errorf("user %d: %s %q (%s), want failed with the batch's code", user, r.Outcome, r.Code, r.Detail)
			}
			said = said || strings.Contains(r.Detail, "was refused (sending fewer at once may help)")
		}
	}
	if !said {
		t.Error("no row says the batch was refused whole")
	}
	for _, u := range s.State().Users {
		if u.Connection.Status == pv.StatusActive && u.UserID%10 != 0 {
			t.Errorf("user %d joined without an accepted agreement", u.UserID)
		}
	}
}

// cancelAfterBatch stops the run as soon as a batch of acceptances has
// been answered: a crash between a batch and its joins.
type cancelAfterBatch struct {
	once   sync.Once
	cancel context.CancelFunc
}

func (c *cancelAfterBatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.URL.Path == pv.PathAgreementAcceptances && resp.StatusCode == http.StatusOK {
		c.once.Do(c.cancel)
	}
	return resp, err
}

// A run stopped between a batch and its joins loses nothing: the next run
// accepts again (idempotent) and joins, and ends where a clean run does.
func TestStopBetweenABatchAndItsJoins(t *testing.T) {
	w, data := consentWorld(30)
	clean := sandbox.NewServer(w, sandbox.Faults{})
	run(t, clean, runCase{csv: data, consent: "consent", workers: 8, acceptBatch: 1})
	wantState := stateOf(clean)
	clean.Close()

	s := sandbox.NewServer(w, sandbox.Faults{})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api, err := pv.New(pv.Options{BaseURL: s.URL, Token: adminToken, Wire: &cancelAfterBatch{cancel: cancel}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := export.NewReader(strings.NewReader(data), export.ReaderOptions{Name: "t.csv", ConsentColumn: "consent"})
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{rows: map[int]enroll.Result{}}
	en := enroll.New(api, business(t, api), enroll.Policy{})
	out, err := enroll.Run(ctx, rows, en, sink, enroll.Options{Workers: 8, AcceptBatch: 100, Grace: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	first := sink.ordered(t)
	if out.Stop != enroll.StopInterrupted || len(first) != 30 {
		t.Fatalf("stop %v, %d rows", out.Stop, len(first))
	}
	checkNoAcceptanceWithoutConsent(t, s)
	acceptedNotJoined := 0
	for _, u := range s.State().Users {
		if len(u.AcceptedAgreements) > 0 && u.Connection.Status != pv.StatusActive {
			acceptedNotJoined++
		}
	}
	if acceptedNotJoined == 0 {
		t.Fatal("the stop did not fall between a batch and its joins")
	}
	second, _, _ := run(t, s, runCase{csv: data, consent: "consent", workers: 8, acceptBatch: 100})
	if len(second) != 30 {
		t.Fatalf("%d rows on the rerun", len(second))
	}
	st := stateOf(s)
	for id, ws := range wantState {
		if st[id] != ws {
			t.Errorf("user %d after the rerun: %s, clean run: %s", id, st[id], ws)
		}
	}
	checkNoAcceptanceWithoutConsent(t, s)
}

// forgedAcceptances lets the batch request reach the sandbox (the writes
// are applied) and replaces its answer: "empty" answers no item, "null"
// an empty object, "other" one accepted item for user 999 (not in any
// batch), "drop" every item but those of user 1 and 2.
type forgedAcceptances struct{ mode string }

func (f *forgedAcceptances) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != pv.PathAgreementAcceptances {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	switch f.mode {
	case "empty":
		data = []byte(`{"objects":[]}`)
	case "null":
		data = []byte(`{}`)
	case "other":
		data = []byte(`{"objects":[{"agreement_id":7,"user_id":999,"status":"accepted"}]}`)
	case "drop":
		var b pv.AcceptanceBatch[pv.AcceptanceResult]
		if err := json.Unmarshal(data, &b); err != nil {
			return nil, err
		}
		b.Objects = slices.DeleteFunc(b.Objects, func(it pv.AcceptanceResult) bool { return it.UserID > 2 })
		if data, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// An acceptance answer is believed only for the items it holds, for the
// same user and agreement, accepted: whatever the batch size, a row whose
// item is missing or names someone else fails and is not joined.
func TestAcceptanceAnswerWithoutTheRowsItemFailsIt(t *testing.T) {
	for _, size := range []int{1, 100} {
		for _, mode := range []string{"empty", "null", "other", "drop"} {
			t.Run(fmt.Sprintf("%s/batch%d", mode, size), func(t *testing.T) {
				w, data := consentWorld(10)
				s := sandbox.NewServer(w, sandbox.Faults{})
				defer s.Close()
				got, _, _ := run(t, s, runCase{csv: data, consent: "consent", workers: 10,
					acceptBatch: size, api: pv.Options{Wire: &forgedAcceptances{mode: mode}}})
				for i, r := range got {
					user := int64(i + 1)
					switch {
					case user == 5:
						if r.Outcome != enroll.NeedsAgreement {
							t.Errorf("user 5 (no consent): %s, want needs-agreement", r.Outcome)
						}
					case user == 10:
						if r.Outcome != enroll.Joined {
							t.Errorf("user 10 (accepted before, no consent): %s, want joined", r.Outcome)
						}
					case mode == "drop" && user <= 2:
						if r.Outcome != enroll.Joined {
							t.Errorf("user %d, whose item is in the answer: %s (%s), want joined", user, r.Outcome, r.Detail)
						}
					default:
						if r.Outcome != enroll.Failed || r.Code != "unexpected_answer" || !strings.Contains(r.Detail, "unexpected answer") {
							t.Errorf("user %d: %s %q (%s), want failed: unexpected answer", user, r.Outcome, r.Code, r.Detail)
						}
					}
				}
				for _, u := range s.State().Users {
					joined := u.Connection.Status == pv.StatusActive
					if want := u.UserID == 10 || mode == "drop" && u.UserID <= 2; joined != want {
						t.Errorf("user %d: joined %v, want %v", u.UserID, joined, want)
					}
				}
			})
		}
	}
}
