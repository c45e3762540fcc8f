package perkville

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is the production API [doc].
const DefaultBaseURL = "https://api.perkville.com"

// Options configure a Client.
type Options struct {
	BaseURL     string  // DefaultBaseURL when empty; http:// only for loopback hosts
	Token       Secret  // bearer token; never printed
	Rate        float64 // requests per second for all callers together; 0: unlimited
	Retries     int     // retries of one request; 0 means none
	Timeout     time.Duration
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxWait is the longest Retry-After the client waits for; a longer one
	// is a fatal *WaitError. DefaultMaxWait when 0.
	MaxWait   time.Duration
	ReadOnly  bool              // dry run: refuse every write before it is sent
	UserAgent string            // "pvenroll/<version>"
	Wire      http.RoundTripper // the underlying transport; a plain http.Transport if nil
	Clock     Clock             // the pacer's time; the real clock if nil
}

// DefaultMaxWait is the longest Retry-After a client waits for by default.
const DefaultMaxWait = 10 * time.Minute

// Client calls the Perkville v2 API. It is safe for concurrent use; every
// caller shares its rate limit.
type Client struct {
	base     *url.URL
	http     *http.Client
	pacer    *Pacer
	headers  *headers // behind a pointer: a %v of the client prints no token
	scrub    scrubber // takes the token out of whatever the server sends
	timeout  time.Duration
	readOnly bool
	Stats    *Stats
	// probePath is what the breaker probes: the business the preflight
	// read. Behind a pointer: the clients For binds share it.
	probePath *atomic.Pointer[string]
	calls     []*Calls // of a client made with For: what each request counts in
}

// New returns a client, or an error if the base URL is unusable.
func New(o Options) (*Client, error) {
	base, err := CheckBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	clock := o.Clock
	if clock == nil {
		clock = realClock{}
	}
	if o.MaxWait == 0 {
		o.MaxWait = DefaultMaxWait
	}
	wire := o.Wire
	if wire == nil {
		wire = newWire()
	}
	stats := &Stats{}
	c := &Client{
		base: base,
		http: &http.Client{Transport: wire,
			// The token goes to the API host only: a redirect is an
			// unexpected answer, returned as it came, never followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		pacer: &Pacer{Limiter: newLimiter(o.Rate, clock), Clock: clock, Retries: o.Retries,
			BackoffBase: o.BackoffBase, BackoffMax: o.BackoffMax, MaxWait: o.MaxWait, Stats: stats},
		headers: newHeaders(o.Token, o.UserAgent), scrub: newScrubber(o.Token), timeout: o.Timeout, readOnly: o.ReadOnly, Stats: stats,
		probePath: new(atomic.Pointer[string]),
	}
	c.pacer.breaker = &breaker{clock: clock, maxWait: o.MaxWait, probe: c.probe, stats: stats}
	return c, nil
}

// headers are the values every request carries, built once.
type headers struct {
	auth, accept, userAgent, contentType []string
}

func newHeaders(token Secret, userAgent string) *headers {
	h := &headers{auth: []string{"Bearer " + token.Reveal()}, accept: []string{"application/json"},
		contentType: []string{"application/json"}}
	if userAgent != "" {
		h.userAgent = []string{userAgent}
	}
	return h
}

// Turn is one request's turn at the shared rate limit, taken before the
// request is built: a batch that rows may join while it waits for its turn
// takes one, then sends on it. A turn is spent by the first attempt that
// uses it; retries wait as usual.
type Turn struct{ spent atomic.Bool }

// take reports, once, whether t is a turn not yet spent.
func (t *Turn) take() bool { return t != nil && t.spent.CompareAndSwap(false, true) }

// Turn waits until the shared rate limit lets one request go.
func (c *Client) Turn(ctx context.Context) (*Turn, error) {
	if err := c.pacer.Limiter.Wait(ctx); err != nil {
		return nil, err
	}
	return &Turn{}, nil
}

// TurnBegun is Turn for a request of callers that have begun (a batch of
// rows that were looked up): it goes ahead of callers that have not.
func (c *Client) TurnBegun(ctx context.Context) (*Turn, error) {
	if err := c.pacer.Limiter.WaitBegun(ctx); err != nil {
		return nil, err
	}
	return &Turn{}, nil
}

// BaseURL is the API base URL the client sends to.
func (c *Client) BaseURL() string { return c.base.String() }

// ErrURLCredentials refuses an API URL holding user info: a token there
// would end up in logs and reports; it is given apart from the URL.
var ErrURLCredentials = errors.New("API URL must not hold credentials; give the token apart from the URL")

// CheckBaseURL parses an API base URL: https, or http for a loopback host
// only (a token must never cross a network in clear).
func CheckBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("API URL %q is not an absolute URL like %s", raw, DefaultBaseURL)
	}
	if u.User != nil {
		return nil, ErrURLCredentials
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("API URL %q: http:// is allowed only for loopback hosts (127.0.0.1, ::1, localhost); use https://", raw)
		}
	default:
		return nil, fmt.Errorf("API URL %q: scheme must be https (or http for loopback)", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Business fetches a business: the preflight of every run.
func (c *Client) Business(ctx context.Context, id int64) (*Business, error) {
	var b Business
	path := BusinessPath(id)
	if err := c.do(ctx, request{method: http.MethodGet, path: path, out: &b}); err != nil {
		return nil, err
	}
	c.probePath.Store(&path)
	return &b, nil
}

// ProveAdmin proves, without changing anything, that the token is an admin
// staff member's of the business: it sends the admin probe (AdminProbe), a
// create that names the business and nothing else, which the API refuses
// as invalid (400) for an admin and as forbidden (403) for anyone else
// [assumed]. It is a POST, so a read-only (dry-run) client refuses it
// (ErrReadOnly) like any write. A token without the rights gets a
// *NotAdminError, which is fatal.
func (c *Client) ProveAdmin(ctx context.Context, business int64) error {
	var status int
	err := c.do(ctx, request{method: http.MethodPost, path: PathExternalMembers, in: AdminProbe{Business: business},
		status: &status})
	var ae *Error
	switch {
	case err == nil:
		return &UnexpectedAnswer{Method: http.MethodPost, Path: PathExternalMembers,
			Expected: "400 (a create without its required fields)", Got: fmt.Sprintf("%d %s", status, http.StatusText(status)), fatal: true}
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		return nil
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden && !ae.Blocked():
		return &NotAdminError{Business: business, Err: ae}
	}
	return err
}

// ConnectionByEmail finds the business's connection of the customer with
// this email (matched without case by the API [assumed]). nil, nil: none.
func (c *Client) ConnectionByEmail(ctx context.Context, business int64, email string) (*Connection, error) {
	q := url.Values{QueryBusiness: {itoa(business)}, QueryEmail: {email}}
	return c.oneConnection(ctx, business, q)
}

// ConnectionByUserID finds the business's connection of a user. nil, nil: none.
func (c *Client) ConnectionByUserID(ctx context.Context, business, userID int64) (*Connection, error) {
	q := url.Values{QueryBusiness: {itoa(business)}, QueryUserID: {itoa(userID)}}
	return c.oneConnection(ctx, business, q)
}

// Connection reads one connection of the business by its id, checked: an
// answer about another connection or business is an *UnexpectedAnswer.
func (c *Client) Connection(ctx context.Context, business, connectionID int64) (*Connection, error) {
	path := ConnectionPath(connectionID)
	conn, err := c.readConnection(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	if bad := conn.Shape(); bad != nil {
		return nil, shapeAnswer(http.MethodGet, path, bad)
	}
	if err := checkConnection(http.MethodGet, path, business, connectionID, &conn); err != nil {
		return nil, err
	}
	return &conn, nil
}

// lookupLimit is the most connections a lookup asks for: one customer has
// one, and asking for two lets a second show without reading thousands.
const lookupLimit = 2

func (c *Client) oneConnection(ctx context.Context, business int64, q url.Values) (*Connection, error) {
	q.Set(QueryLimit, strconv.Itoa(lookupLimit))
	page := newCappedPage[Connection](lookupLimit)
	if err := c.do(ctx, request{method: http.MethodGet, path: PathConnections, query: q, out: page}); err != nil {
		return nil, tooMany(err, PathConnections, "connections for one customer")
	}
	if len(page.Objects.items) == 0 {
		return nil, nil
	}
	conn := &page.Objects.items[0]
	if bad := conn.Shape(); bad != nil {
		return nil, shapeAnswer(http.MethodGet, PathConnections, bad)
	}
	if err := checkConnection(http.MethodGet, PathConnections, business, 0, conn); err != nil {
		return nil, err
	}
	return conn, nil
}

// Activate joins the customer: PATCH status ACTIVE, a no-op on an ACTIVE
// connection. The join counts only when the answer is this connection, of
// this business, ACTIVE; anything else is an *UnexpectedAnswer.
func (c *Client) Activate(ctx context.Context, business, connectionID int64) (*Connection, error) {
	method, path := http.MethodPatch, ConnectionPath(connectionID)
	if connectionID <= 0 {
		return nil, &UnexpectedAnswer{Method: method, Path: path, Expected: "a positive connection id",
			Got: fmt.Sprintf("%d; nothing was sent", connectionID)}
	}
	var conn Connection
	var bodyless bool
	err := c.do(ctx, request{method: http.MethodPatch, path: path, in: ActivateRequest{Status: StatusActive}, out: &conn, bodyless: &bodyless})
	if err != nil {
		return nil, err
	}
	if bodyless {
		// Applied, the answer says, without saying to what: what the
		// connection now holds decides.
		method, path = http.MethodGet, path+" (read after a join answered without a body)"
		if conn, err = c.readConnection(ctx, connectionID); err != nil {
			return nil, err
		}
	}
	if bad := conn.Shape(); bad != nil {
		return nil, shapeAnswer(method, path, bad)
	}
	if err := checkConnection(method, path, business, connectionID, &conn); err != nil {
		return nil, err
	}
	if conn.Status != StatusActive {
		return nil, &UnexpectedAnswer{Method: method, Path: path, Expected: "the connection ACTIVE",
			Got: "status " + quoteOrNone(conn.Status) + ": the join was not applied"}
	}
	return &conn, nil
}

// readConnection reads one connection by its id.
func (c *Client) readConnection(ctx context.Context, connectionID int64) (Connection, error) {
	var conn Connection
	err := c.do(ctx, request{method: http.MethodGet, path: ConnectionPath(connectionID), out: &conn})
	return conn, err
}

// CreateExternalMember creates (201) or updates (200) an external member and
// returns it and whether it was created. An answer that was lost (timeout,
// reset, 5xx) is returned as an error and never blindly re-sent: the write
// may have been applied, so the caller must look before sending it again.
func (c *Client) CreateExternalMember(ctx context.Context, m NewExternalMember) (*ExternalMember, bool, error) {
	return c.postExternalMember(ctx, m, true)
}

// UpdateExternalMember sends the same upsert for a customer whose
// connection exists, to update the record's membership. A lost answer is
// retried like any other: an upsert keyed on the member id of an existing
// customer cannot make a second record or a second user.
func (c *Client) UpdateExternalMember(ctx context.Context, m NewExternalMember) (*ExternalMember, bool, error) {
	return c.postExternalMember(ctx, m, false)
}

func (c *Client) postExternalMember(ctx context.Context, m NewExternalMember, once bool) (*ExternalMember, bool, error) {
	var out ExternalMember
	var status int
	// A 2xx without a body is an applied upsert that names nothing: the
	// caller reads the connection by the member's email, as for an answer
	// without the connection.
	var bodyless bool
	err := c.do(ctx, request{method: http.MethodPost, path: PathExternalMembers, in: m, out: &out, status: &status, once: once, bodyless: &bodyless})
	if err != nil {
		return nil, false, err
	}
	return &out, status == http.StatusCreated, nil
}

// Agreements lists the business's join-flow agreements for a user, with
// whether the user has accepted each.
func (c *Client) Agreements(ctx context.Context, business, userID int64) ([]Agreement, error) {
	q := url.Values{QueryBusiness: {itoa(business)}, QueryUserID: {itoa(userID)}, QueryApplyToJoinFlow: {"true"}}
	var page List[Agreement]
	if err := c.do(ctx, request{method: http.MethodGet, path: PathAgreementsView, query: q, out: &page}); err != nil {
		return nil, err
	}
	for i := range page.Objects {
		if bad := page.Objects[i].Shape(); bad != nil {
			return nil, shapeAnswer(http.MethodGet, PathAgreementsView, bad)
		}
	}
	return page.Objects, nil
}

// AcceptAgreementsOnTurn records customers' own consent to agreements.
// Accepting is idempotent, so a lost answer is retried. Per-item failures
// come back as items with Status "error". The first attempt spends a turn
// the caller took with Turn (nil: it waits for one, as usual).
func (c *Client) AcceptAgreementsOnTurn(ctx context.Context, turn *Turn, items []AgreementAcceptance) ([]AcceptanceResult, error) {
	var out AcceptanceBatch[AcceptanceResult]
	err := c.do(ctx, request{method: http.MethodPost, path: PathAgreementAcceptances,
		in: AcceptanceBatch[AgreementAcceptance]{Objects: items}, out: &out, turn: turn})
	if err != nil {
		return nil, err
	}
	return out.Objects, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
