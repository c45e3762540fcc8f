package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	pv "github.com/pvenroll/pvenroll/perkville"
)

// Sandbox is the sandbox API. Its handler is safe for concurrent use.
type Sandbox struct {
	faults *faultInjector

	mu         sync.Mutex
	world      *World
	users      map[int64]*User
	byEmail    map[string]int64 // lowercased email -> user id
	byConn     map[int64]int64  // connection id -> user id
	members    map[string]*ExternalMember
	nextUser   int64
	nextConn   int64
	nextMember int64
	log        []LogEntry
	now        func() time.Time
	shapeState shapeState
}

// LogEntry is one request the sandbox received (sandbox inspection paths
// excluded). It never holds the token: Token is the token's name.
type LogEntry struct {
	Seq      int       `json:"seq"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query,omitempty"`
	Token    string    `json:"token,omitempty"`
	Status   int       `json:"status"` // 0: the connection was dropped
	Fault    string    `json:"fault,omitempty"`
	Applied  bool      `json:"applied,omitempty"` // a write changed the state
	Endpoint string    `json:"endpoint"`
}

// New returns a sandbox serving a copy of the world with the faults.
func New(w *World, f Faults) *Sandbox {
	s := &Sandbox{faults: newFaultInjector(f), now: time.Now}
	s.load(w.Clone())
	return s
}

func (s *Sandbox) load(w *World) {
	s.world = w
	s.users = map[int64]*User{}
	s.byEmail = map[string]int64{}
	s.byConn = map[int64]int64{}
	s.members = map[string]*ExternalMember{}
	s.nextUser, s.nextConn, s.nextMember = 1_000_000, 10_000_000, 100
	for i := range w.Users {
		u := &w.Users[i]
		s.users[u.UserID] = u
		for _, e := range u.Emails {
			s.byEmail[strings.ToLower(e)] = u.UserID
		}
		if u.Connection != nil {
			s.byConn[u.Connection.ConnectionID] = u.UserID
			s.nextConn = max(s.nextConn, u.Connection.ConnectionID+1)
		}
		s.nextUser = max(s.nextUser, u.UserID+1)
	}
	for i := range w.ExternalMembers {
		m := &w.ExternalMembers[i]
		s.members[memberKey(m.ExternalSystemID, m.ExternalMemberID)] = m
		s.nextMember = max(s.nextMember, m.ID+1)
	}
}

func memberKey(system, id string) string { return system + "\x00" + id }

// State returns a copy of the sandbox's world as it is now.
func (s *Sandbox) State() *World {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := *s.world
	w.Users = make([]User, 0, len(s.users))
	for _, u := range s.users {
		w.Users = append(w.Users, *u)
	}
	slices.SortFunc(w.Users, func(a, b User) int { return int(a.UserID - b.UserID) })
	w.ExternalMembers = make([]ExternalMember, 0, len(s.members))
	for _, m := range s.members {
		w.ExternalMembers = append(w.ExternalMembers, *m)
	}
	slices.SortFunc(w.ExternalMembers, func(a, b ExternalMember) int { return int(a.ID - b.ID) })
	return w.Clone()
}

// Log returns a copy of the request log.
func (s *Sandbox) Log() []LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// ResetLog empties the request log.
func (s *Sandbox) ResetLog() {
	s.mu.Lock()
	s.log = nil
	s.mu.Unlock()
}

// Server is a sandbox listening on loopback.
type Server struct {
	*Sandbox
	URL string
	srv *http.Server
	ln  net.Listener
}

// NewServer starts a sandbox on 127.0.0.1 on a free port.
func NewServer(w *World, f Faults) *Server {
	s, err := Listen("127.0.0.1:0", w, f)
	if err != nil {
		panic(fmt.Sprintf("sandbox: %v", err))
	}
	return s
}

// Listen starts a sandbox on addr, which must be a loopback address.
func Listen(addr string, w *World, f Faults) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !pv.IsLoopback(host) {
		return nil, fmt.Errorf("the sandbox listens on loopback only, not %q", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	sb := New(w, f)
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	return &Server{Sandbox: sb, URL: "http://" + ln.Addr().String(), srv: srv, ln: ln}, nil
}

// Close stops the server and its connections.
func (s *Server) Close() error { return s.srv.Close() }

// Shutdown stops the server gracefully.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// ServeHTTP implements http.Handler.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_sandbox/log":
		writeJSON(w, http.StatusOK, s.Log())
		return
	case "/_sandbox/state":
		writeJSON(w, http.StatusOK, s.State())
		return
	}
	entry := LogEntry{Start: s.now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Endpoint: pv.Endpoint(r.Method, r.URL.Path)}
	plan := s.faults.plan(r.Method != http.MethodGet)
	entry.Fault = plan.name()
	plan.padHeaders(r, w.Header())
	if plan.delay > 0 {
		select {
		case <-time.After(plan.delay):
		case <-r.Context().Done():
			s.send(w, &entry, answer{drop: true})
			return
		}
	}
	if a, ok := plan.before(r); ok {
		s.send(w, &entry, a)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var res result
	tok := s.token(r)
	switch {
	case isTokenPath(r.URL.Path):
		s.mu.Lock()
		res.status, res.body = s.tokenEndpoint(r, body)
		s.mu.Unlock()
	case tok == nil:
		res = errorResult(http.StatusUnauthorized, pv.ErrorTypeOAuth, "__all__", pv.CodeInvalidToken, "Invalid token.")
	default:
		entry.Token = tok.Name
		s.mu.Lock()
		res = s.route(tok, r, body)
		s.mu.Unlock()
	}
	entry.Applied = res.applied
	if res.applied {
		if a, ok := plan.after(); ok {
			s.send(w, &entry, a)
			return
		}
	}
	if a, ok := plan.huge(r); ok {
		s.send(w, &entry, a)
		return
	}
	s.mu.Lock()
	a := s.shaped(res, entry.Endpoint)
	s.rateHeaders(a.header)
	s.mu.Unlock()
	s.send(w, &entry, a)
}

// answer is what the sandbox sends back for one request.
type answer struct {
	status int
	header http.Header
	body   []byte
	drop   bool  // close the connection with no answer
	pad    int64 // stream this many more bytes after body (a huge answer)
}

func jsonAnswer(status int, v any) answer {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // an API answers "&" in meta.next, not "\u0026"
	_ = enc.Encode(v)
	return answer{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b.Bytes()}
}

// send records the request in the log, then answers it. The entry is in the
// log before any byte of the answer leaves (or the connection is closed),
// so a client that has its answer finds its request in the log.
func (s *Sandbox) send(w http.ResponseWriter, entry *LogEntry, a answer) {
	entry.End = s.now()
	entry.Status = a.status
	if a.drop {
		entry.Status = 0
	}
	s.mu.Lock()
	entry.Seq = len(s.log) + 1
	s.log = append(s.log, *entry)
	s.mu.Unlock()
	if a.drop {
		drop(w)
		return
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	if _, err := w.Write(a.body); err != nil || a.pad <= 0 {
		return
	}
	chunk := bytes.Repeat([]byte{' '}, 64<<10)
	for n := a.pad; n > 0; n -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(n, int64(len(chunk)))]); err != nil {
			return // the client stopped reading
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	a := jsonAnswer(status, v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(a.body)
}
