package perkville

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxListingBytes bounds the answers of one listing, all pages together.
const MaxListingBytes = 100 << 20

// DefaultListingPages bounds a listing whose caller cannot say how many
// pages it may need (an input read from standard input): 100 pages of
// 1000 connections.
const DefaultListingPages = 100

// ListBounds bound a listing: past either bound it is abandoned (an error
// wrapping ErrListingAbandoned), and its caller looks its rows up one by
// one, so that an endless listing costs a bounded number of requests and
// bytes.
type ListBounds struct {
	PageSize int   // connections asked for a page; MaxPageLimit when 0
	MaxPages int   // DefaultListingPages when 0
	MaxBytes int64 // MaxListingBytes when 0
}

// ListBoundsFor are the bounds of a listing that confirms rows rows: the
// pages they can fill, plus two (a page the listing may have grown by
// since, and the short page that ends it).
func ListBoundsFor(rows int) ListBounds {
	b := ListBounds{PageSize: MaxPageLimit}
	if rows > 0 {
		b.MaxPages = rows/b.PageSize + 2
	}
	return b
}

// Connections lists the business's connections with the status (all when
// empty), page by page: following meta.next when the answer gives one,
// else by offset until a short page (total_count, when given, ends it
// too). A next that does not advance or leaves the API host or the
// listing, more pages than total_count allows, or the listing passing its
// bounds abandons it with an error wrapping ErrListingAbandoned.
func (c *Client) Connections(ctx context.Context, business int64, status string, bounds ListBounds) iter.Seq2[Connection, error] {
	return func(yield func(Connection, error) bool) {
		limit := bounds.PageSize
		if limit <= 0 || limit > MaxPageLimit {
			limit = MaxPageLimit
		}
		q := url.Values{QueryBusiness: {itoa(business)}, QueryLimit: {strconv.Itoa(limit)}, QueryOffset: {"0"}}
		if status != "" {
			q.Set(QueryStatus, status)
		}
		pg := pager{base: c.base, bounds: bounds}
		for {
			page := newCappedPage[Connection](limit)
			var size int64
			if err := c.do(ctx, request{method: http.MethodGet, path: PathConnections, query: q, out: page,
				maxAnswer: pg.maxAnswer(), size: &size}); err != nil {
				if refused := tooMany(err, PathConnections, "connections in a page of the listing"); refused != err {
					err = fmt.Errorf("%w: %w", ErrListingAbandoned, refused)
				}
				yield(Connection{}, pg.overBytes(err))
				return
			}
			pg.bytes += size
			for i := range page.Objects.items {
				conn := page.Objects.items[i]
				if conn.Shape() != nil {
					// Not listed, so its row is looked up, and fails alone.
					continue
				}
				if err := checkConnection(http.MethodGet, PathConnections, business, 0, &conn); err != nil {
					yield(Connection{}, fmt.Errorf("%w: %w", ErrListingAbandoned, err))
					return
				}
				if !yield(conn, nil) {
					return
				}
			}
			next, err := pg.next(q, page.Meta, len(page.Objects.items))
			if err != nil {
				yield(Connection{}, err)
				return
			}
			if next == nil {
				return
			}
			q = next
		}
	}
}

// pager decides each next page of a listing, and keeps it in its bounds.
type pager struct {
	base   *url.URL
	bounds ListBounds
	pages  int   // read so far
	bytes  int64 // of their answers
}

func (p *pager) maxBytes() int64 {
	if p.bounds.MaxBytes > 0 {
		return p.bounds.MaxBytes
	}
	return MaxListingBytes
}

// maxAnswer is the most the next page may hold: a page's cap, or what is
// left of the listing's bytes, whichever is less.
func (p *pager) maxAnswer() int64 {
	return max(1, min(MaxPageAnswer, p.maxBytes()-p.bytes))
}

// overBytes names, as an abandoned listing, a page refused for its size
// when it is the listing's bytes that ran out.
func (p *pager) overBytes(err error) error {
	var big errTooLarge
	if p.bytes+MaxPageAnswer > p.maxBytes() && errors.As(err, &big) {
		return fmt.Errorf("%w: its answers passed %d MiB in all after %d pages", ErrListingAbandoned, p.maxBytes()>>20, p.pages)
	}
	return err
}

// next returns the query of the next page, nil after the last, or an error
// wrapping ErrListingAbandoned. It follows meta.next when the answer gives
// one, after checking it: it must stay on the API host and on the listing,
// keep its filters, advance the offset, and not make more than
// ceil(total_count/limit)+1 pages. Without it, the next page is the one at
// the offset after this page's n objects, unless this page was short (or
// empty), or total_count says it was the last.
func (p *pager) next(cur url.Values, meta ListMeta, n int) (url.Values, error) {
	p.pages++
	limit := meta.Limit
	if limit <= 0 {
		limit, _ = strconv.Atoi(cur.Get(QueryLimit))
	}
	was, _ := strconv.Atoi(cur.Get(QueryOffset))
	var q url.Values
	switch {
	case meta.Next != nil && *meta.Next != "":
		var err error
		if q, err = p.followNext(cur, *meta.Next); err != nil {
			return nil, err
		}
	case n == 0 || n < limit || meta.TotalCount > 0 && was+n >= meta.TotalCount:
		return nil, nil
	default:
		q = url.Values{}
		for k, v := range cur {
			q[k] = v
		}
		q.Set(QueryOffset, strconv.Itoa(was+n))
	}
	maxPages := p.bounds.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultListingPages
	}
	if p.pages >= maxPages {
		return nil, fmt.Errorf("%w: after %d pages, the most the rows can need", ErrListingAbandoned, p.pages)
	}
	if meta.TotalCount > 0 && limit > 0 && p.pages >= (meta.TotalCount+limit-1)/limit+1 {
		return nil, fmt.Errorf("%w: after %d pages: total_count %d at %d a page allows no more", ErrListingAbandoned, p.pages, meta.TotalCount, limit)
	}
	return q, nil
}

// followNext checks a meta.next before it is followed.
func (p *pager) followNext(cur url.Values, next string) (url.Values, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: meta.next %q %s", ErrListingAbandoned, truncate(next, 200), why)
	}
	// next is relative to the host, not to /v2/ [seen]; an absolute one
	// must name the API's own scheme and host.
	u, err := p.base.Parse(next)
	if err != nil {
		return nil, bad("is not a URL")
	}
	if u.Scheme != p.base.Scheme || !strings.EqualFold(u.Host, p.base.Host) {
		return nil, bad("leaves the API host " + p.base.Host)
	}
	if u.Path != p.base.Path+PathConnections && u.Path != PathConnections {
		return nil, bad("leaves the listing " + PathConnections)
	}
	q := u.Query()
	if q.Get(QueryBusiness) != cur.Get(QueryBusiness) || q.Get(QueryStatus) != cur.Get(QueryStatus) {
		return nil, bad("changes the listing's filters")
	}
	offset, err1 := strconv.Atoi(q.Get(QueryOffset))
	was, _ := strconv.Atoi(cur.Get(QueryOffset))
	if err1 != nil || offset <= was {
		return nil, bad(fmt.Sprintf("does not advance the offset past %d", was))
	}
	return q, nil
}
