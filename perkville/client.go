package perkville

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
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
	ReadOnly    bool              // dry run: refuse every write before it is sent
	UserAgent   string            // "pvenroll/<version>"
	Wire        http.RoundTripper // the underlying transport; http.DefaultTransport if nil
}

// Client calls the Perkville v2 API. It is safe for concurrent use; every
// caller shares its rate limit.
type Client struct {
	base    *url.URL
	http    *http.Client
	limiter *Limiter
	Stats   *Stats
}

// New returns a client, or an error if the base URL is unusable.
func New(o Options) (*Client, error) {
	base, err := CheckBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	stats := &Stats{}
	t := &Transport{
		Base: o.Wire, Token: o.Token, UserAgent: o.UserAgent,
		Limiter: NewLimiter(o.Rate), Retries: o.Retries, Timeout: o.Timeout,
		BackoffBase: o.BackoffBase, BackoffMax: o.BackoffMax,
		ReadOnly: o.ReadOnly, Stats: stats,
	}
	return &Client{base: base, http: &http.Client{Transport: t}, limiter: t.Limiter, Stats: stats}, nil
}

// Turn waits until the shared rate limit lets one request go, and returns
// a context whose next request spends that turn instead of waiting again.
// A caller that builds its request only once its turn has come, as a batch
// that rows may join while it waits, uses it. Retries wait as usual.
func (c *Client) Turn(ctx context.Context) (context.Context, error) {
	if err := c.limiter.Wait(ctx); err != nil {
		return ctx, err
	}
	taken := &atomic.Bool{}
	taken.Store(true)
	return context.WithValue(ctx, keyTurn, taken), nil
}

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
		return nil, fmt.Errorf("API URL must not hold credentials; use PERKVILLE_TOKEN or --token-file")
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
	if err := c.do(ctx, http.MethodGet, BusinessPath(id), nil, nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// ConnectionByEmail finds the business's connection of the customer with
// this email (matched case-insensitively by the API). nil, nil: none.
func (c *Client) ConnectionByEmail(ctx context.Context, business int64, email string) (*Connection, error) {
	q := url.Values{QueryBusiness: {itoa(business)}, QueryEmail: {email}}
	return c.oneConnection(ctx, q)
}

// ConnectionByUserID finds the business's connection of a user. nil, nil: none.
func (c *Client) ConnectionByUserID(ctx context.Context, business, userID int64) (*Connection, error) {
	q := url.Values{QueryBusiness: {itoa(business)}, QueryUserID: {itoa(userID)}}
	return c.oneConnection(ctx, q)
}

func (c *Client) oneConnection(ctx context.Context, q url.Values) (*Connection, error) {
	var page List[Connection]
	if err := c.do(ctx, http.MethodGet, PathConnections, q, nil, &page); err != nil {
		return nil, err
	}
	if len(page.Objects) == 0 {
		return nil, nil
	}
	return &page.Objects[0], nil
}

// Connections lists the business's connections with the status (all when
// empty), following meta.next page by page.
func (c *Client) Connections(ctx context.Context, business int64, status string, limit int) iter.Seq2[Connection, error] {
	return func(yield func(Connection, error) bool) {
		if limit <= 0 || limit > MaxPageLimit {
			limit = MaxPageLimit
		}
		q := url.Values{QueryBusiness: {itoa(business)}, QueryLimit: {strconv.Itoa(limit)}, QueryOffset: {"0"}}
		if status != "" {
			q.Set(QueryStatus, status)
		}
		path := PathConnections
		for {
			var page List[Connection]
			if err := c.do(ctx, http.MethodGet, path, q, nil, &page); err != nil {
				yield(Connection{}, err)
				return
			}
			for _, conn := range page.Objects {
				if !yield(conn, nil) {
					return
				}
			}
			if page.Meta.Next == nil || *page.Meta.Next == "" {
				return
			}
			// next is relative to the host, not to /v2/ [seen].
			next, err := url.Parse(*page.Meta.Next)
			if err != nil {
				yield(Connection{}, fmt.Errorf("perkville: bad meta.next %q: %w", *page.Meta.Next, err))
				return
			}
			path, q = next.Path, next.Query()
		}
	}
}

// Activate joins the customer: PATCH status ACTIVE. A no-op on an ACTIVE
// connection.
func (c *Client) Activate(ctx context.Context, connectionID int64) (*Connection, error) {
	var conn Connection
	err := c.do(ctx, http.MethodPatch, ConnectionPath(connectionID), nil, ActivateRequest{Status: StatusActive}, &conn)
	if err != nil {
		return nil, err
	}
	return &conn, nil
}

// CreateExternalMember creates (201) or updates (200) an external member and
// returns it and whether it was created. An answer that was lost (timeout,
// reset, 5xx) is returned as an error and never blindly re-sent: the write
// may have been applied, so the caller must look before sending it again.
func (c *Client) CreateExternalMember(ctx context.Context, m NewExternalMember) (*ExternalMember, bool, error) {
	return c.postExternalMember(withNoBlindRetry(ctx), m)
}

// UpdateExternalMember sends the same upsert for a customer whose
// connection exists, to update the record's membership. A lost answer is
// retried like any other: an upsert keyed on the member id of an existing
// customer cannot make a second record or a second user.
func (c *Client) UpdateExternalMember(ctx context.Context, m NewExternalMember) (*ExternalMember, bool, error) {
	return c.postExternalMember(ctx, m)
}

func (c *Client) postExternalMember(ctx context.Context, m NewExternalMember) (*ExternalMember, bool, error) {
	var out ExternalMember
	var status int
	err := c.doStatus(ctx, http.MethodPost, PathExternalMembers, nil, m, &out, &status)
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
	if err := c.do(ctx, http.MethodGet, PathAgreementsView, q, nil, &page); err != nil {
		return nil, err
	}
	return page.Objects, nil
}

// AcceptAgreements records customers' own consent to agreements. Accepting
// is idempotent, so a lost answer is retried. Per-item failures come back as
// items with Status "error".
func (c *Client) AcceptAgreements(ctx context.Context, items []AgreementAcceptance) ([]AcceptanceResult, error) {
	var out AcceptanceBatch[AcceptanceResult]
	err := c.do(ctx, http.MethodPost, PathAgreementAcceptances, nil, AcceptanceBatch[AgreementAcceptance]{Objects: items}, &out)
	if err != nil {
		return nil, err
	}
	return out.Objects, nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	return c.doStatus(ctx, method, path, q, in, out, nil)
}

func (c *Client) doStatus(ctx context.Context, method, path string, q url.Values, in, out any, status *int) error {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = q.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrReadOnly) {
			return ErrReadOnly
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// url.Error names the URL, whose query may hold an email: keep the
		// path and the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &Error{Method: method, Path: path, Err: err}
	}
	defer resp.Body.Close()
	if status != nil {
		*status = resp.StatusCode
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return &Error{Method: method, Path: path, Status: 0, Err: fmt.Errorf("reading the answer to %d: %w", resp.StatusCode, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newError(method, path, resp, data, time.Now())
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		e := newError(method, path, resp, data, time.Now())
		e.Err = fmt.Errorf("unexpected answer (not the documented JSON): %w", err)
		return e
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
