package enroll_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
