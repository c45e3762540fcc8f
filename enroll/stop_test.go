package enroll_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pvenroll/pvenroll/enroll"
	"github.com/pvenroll/pvenroll/export"
	"github.com/pvenroll/pvenroll/internal/sandbox"
	pv "github.com/pvenroll/pvenroll/perkville"
)

// joinWorld has n customers who accepted the terms and can join.
func joinWorld(n int) (*sandbox.World, string) {
	w := smallWorld()
	w.Users, w.ExternalMembers = nil, nil
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := 1; i <= n; i++ {
		w.Users = append(w.Users, sandbox.User{UserID: int64(i), Emails: []string{fmt.Sprintf("j%d@x.co", i)},
			AcceptedAgreements: []sandbox.Accepted{{AgreementID: 7}},
			Connection:         &sandbox.Connection{ConnectionID: int64(5000 + i), Status: pv.StatusImported, ExternalMembershipStatus: pv.StatusActive}})
		fmt.Fprintf(&csv, "j%d@x.co\n", i)
	}
	return w, csv.String()
}

// revokedMidRun lets every join reach the sandbox, where it is applied,
// and holds the answers of the first held ones; once these are applied,
// every lookup is answered 401. A held answer is given once release is closed, or
// lost when the request's context ends first.
type revokedMidRun struct {
	held    int
	release chan struct{}

	mu      sync.Mutex
	patches int
	heldOn  map[string]bool // the held joins' paths
	holding sync.WaitGroup
}

func (h *revokedMidRun) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch {
		h.mu.Lock()
		h.patches++
		hold := h.patches <= h.held
		if hold {
			h.heldOn[req.URL.Path] = true
		}
		h.mu.Unlock()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil || !hold {
			return resp, err
		}
		h.holding.Done()
		select {
		case <-h.release:
			return resp, nil
		case <-req.Context().Done():
			resp.Body.Close()
			return nil, req.Context().Err()
		}
	}
	h.mu.Lock()
	revoked := h.patches >= h.held
	h.mu.Unlock()
	if revoked && strings.HasPrefix(req.URL.Path, "/v2/connections/") {
		h.holding.Wait() // the held joins are applied before the 401
		return &http.Response{StatusCode: http.StatusUnauthorized, Request: req, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"error_type":"oauth_error","errors":{"__all__":[{"code":"invalid_token"}]}}`))}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

// stopSink closes stopped once the row that met the 401 is reported:
// the run has stopped by then.
type stopSink struct {
	memSink
	once    sync.Once
	stopped chan struct{}
}

func (s *stopSink) Add(seq int, r enroll.Result) error {
	if r.Outcome == enroll.NotAttempted && strings.Contains(r.Detail, "401") {
		s.once.Do(func() { close(s.stopped) })
	}
	return s.memSink.Add(seq, r)
}

// A token revoked while joins are on the wire: the joins the server
// received are never reported not-attempted. Their answers come within
// the grace period ("answered": joined), or are lost to the stop
// ("lost": interrupted, saying the write may have been applied); rows that
// had sent no write stop at once.
func TestFatalStopLeavesWritesOnTheWireTheirGrace(t *testing.T) {
	for _, mode := range []string{"answered", "lost"} {
		t.Run(mode, func(t *testing.T) {
			const rows, held = 12, 3
			w, data := joinWorld(rows)
			s := sandbox.NewServer(w, sandbox.Faults{})
			defer s.Close()
			wire := &revokedMidRun{held: held, release: make(chan struct{}), heldOn: map[string]bool{}}
			wire.holding.Add(held)
			api, err := pv.New(pv.Options{BaseURL: s.URL, Token: adminToken, Wire: wire, Retries: -1})
			if err != nil {
				t.Fatal(err)
			}
			sink := &stopSink{memSink: memSink{rows: map[int]enroll.Result{}}, stopped: make(chan struct{})}
			o := enroll.Options{Workers: 4, Grace: time.Millisecond}
			if mode == "answered" {
				o.Grace = time.Minute // the answers are released as soon as the run has stopped
				go func() {
					select {
					case <-sink.stopped:
						close(wire.release)
					case <-time.After(time.Minute):
					}
				}()
			}
			rd, err := export.NewReader(strings.NewReader(data), export.ReaderOptions{Name: "t.csv"})
			if err != nil {
				t.Fatal(err)
			}
			en := enroll.New(api, &pv.Business{BusinessID: 25, PerkvilleURL: "https://riverside.perkville.com/"}, enroll.Policy{})
			out, err := enroll.Run(context.Background(), rd, en, sink, o)
			if err != nil {
				t.Fatal(err)
			}
			if out.Stop != enroll.StopFatal {
				t.Fatalf("stop %v (%v), want the 401's", out.Stop, out.StopErr)
			}
			got := sink.ordered(t)
			if len(got) != rows {
				t.Fatalf("%d rows reported of %d", len(got), rows)
			}
			applied := 0
			for i, r := range got {
				u := s.State().Users[i]
				if u.Connection.Status != pv.StatusActive {
					if r.Outcome != enroll.NotAttempted {
						t.Errorf("line %d, no write applied: %s (%s), want not-attempted", r.Line, r.Outcome, r.Detail)
					}
					continue
				}
				applied++
				switch {
				case !wire.heldOn[pv.ConnectionPath(u.Connection.ConnectionID)]:
					if r.Outcome != enroll.Joined {
						t.Errorf("line %d, joined before the stop: %s (%s)", r.Line, r.Outcome, r.Detail)
					}
				case mode == "answered":
					if r.Outcome != enroll.Joined {
						t.Errorf("line %d, joined on the server, answer released after the stop: %s (%s), want joined", r.Line, r.Outcome, r.Detail)
					}
				default:
					if r.Outcome != enroll.Interrupted || !strings.Contains(r.Detail, "may have been applied; the rerun will check") {
						t.Errorf("line %d, joined on the server, answer lost: %s (%s), want interrupted: may have been applied", r.Line, r.Outcome, r.Detail)
					}
				}
			}
			if applied < held {
				t.Errorf("%d joins applied, want at least the %d held", applied, held)
			}
		})
	}
}

// heldBeforeTheWire holds, before they reach the wire, the joins and the
// lookups of one email: such a request is never sent, and ends only with
// its context. reached gets one value per request held.
type heldBeforeTheWire struct {
	email   string
	reached chan string
}

func (h *heldBeforeTheWire) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch || strings.Contains(req.URL.RawQuery, url.QueryEscape(h.email)) {
		h.reached <- req.Method
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// An interrupt that stops a row between its writes (its create answered,
// its join never sent) says what was done and what was not: interrupted,
// not "may have been applied", and the rerun finishes it without a second
// create. A row stopped before its first write is not-attempted, and says
// so.
func TestStopBetweenWritesSaysWhatWasDone(t *testing.T) {
	const csv = "email,member id,consent\nnew@x.co,N-1,2026-11-20T10:04:00Z\njoin@x.co,,\n"
	s := sandbox.NewServer(smallWorld(), sandbox.Faults{})
	defer s.Close()
	wire := &heldBeforeTheWire{email: "join@x.co", reached: make(chan string, 2)}
	api, err := pv.New(pv.Options{BaseURL: s.URL, Token: adminToken, Wire: wire})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := export.NewReader(strings.NewReader(csv), export.ReaderOptions{Name: "t.csv", ConsentColumn: "consent"})
	if err != nil {
		t.Fatal(err)
	}
	policy := enroll.Policy{CreateMissing: true, SystemID: "SYS"}
	en := enroll.New(api, business(t, api), policy)
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	held := make(chan bool, 1)
	go func() {
		defer interrupt()
		for range 2 { // the join of new@x.co, the lookup of join@x.co
			select {
			case <-wire.reached:
			case <-time.After(time.Minute):
				held <- false
				return
			}
		}
		held <- true
	}()
	sink := &memSink{rows: map[int]enroll.Result{}}
	out, err := enroll.Run(ctx, rd, en, sink, enroll.Options{Workers: 2, Grace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !<-held {
		t.Fatal("the join and the lookup were not held within a minute")
	}
	if out.Stop != enroll.StopInterrupted {
		t.Fatalf("stop %v, want interrupted", out.Stop)
	}
	got := sink.ordered(t)
	created := got[0]
	const betweenWrites = "the run stopped between this row's writes: done, as answered: created-member, accepted-agreements (connection "
	if created.Outcome != enroll.Interrupted || !strings.Contains(created.Detail, betweenWrites) ||
		!strings.Contains(created.Detail, "; not joined: the next run finds the customer and finishes it, without creating them again") ||
		strings.Contains(created.Detail, "may have been applied") {
		t.Errorf("created, not joined: %s (%s), want interrupted: %q", created.Outcome, created.Detail, betweenWrites)
	}
	if !created.Outcome.Retryable() || !created.Outcome.Recorded() || created.Outcome.Settled() {
		t.Errorf("%s: a rerun must take it up again, and the ledger remember it", created.Outcome)
	}
	if r := got[1]; r.Outcome != enroll.NotAttempted || !strings.Contains(r.Detail, "the run stopped before this row sent a write: nothing was written for it") {
		t.Errorf("stopped at its lookup: %s (%s), want not-attempted before its first write", r.Outcome, r.Detail)
	}

	again, _, _ := run(t, s, runCase{csv: csv, consent: "consent", policy: policy, workers: 2})
	if r := again[0]; r.Outcome != enroll.Joined || slices.Contains(r.Actions, enroll.ActionCreated) || r.ConnectionID != created.ConnectionID {
		t.Errorf("rerun: %s %v connection %d (%s), want joined without a create, connection %d", r.Outcome, r.Actions, r.ConnectionID, r.Detail, created.ConnectionID)
	}
	members := 0
	for _, m := range s.State().ExternalMembers {
		if m.ExternalMemberID == "N-1" {
			members++
		}
	}
	if members != 1 {
		t.Errorf("%d external members N-1, want the one created", members)
	}
}
