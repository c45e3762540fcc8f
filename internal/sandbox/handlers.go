package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	pv "github.com/pvenroll/pvenroll/perkville"
)

func (s *Sandbox) token(r *http.Request) *Token {
	h := r.Header.Get("Authorization")
	t, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || t == "" {
		return nil
	}
	for i := range s.world.Tokens {
		if s.world.Tokens[i].Token == t {
			return &s.world.Tokens[i]
		}
	}
	return nil
}

// result is a handler's answer; applied says whether it changed the state.
type result struct {
	status  int
	body    any
	applied bool
}

func ok(status int, body any) result { return result{status: status, body: body} }

func errorResult(status int, errorType, field, code, message string) result {
	return result{status: status, body: pv.ErrorBody{ErrorType: errorType,
		Errors: map[string][]pv.ErrorDetail{field: {{Code: code, Message: message}}}}}
}

func validation(field, code, message string) result {
	return errorResult(http.StatusBadRequest, pv.ErrorTypeValidation, field, code, message)
}

func notFound() result {
	return errorResult(http.StatusNotFound, "not_found", "__all__", "not_found", "Not found.")
}

func forbidden(why string) result {
	return errorResult(http.StatusForbidden, "permission_denied", "__all__", "permission_denied", why)
}

func (s *Sandbox) route(tok *Token, r *http.Request, body []byte) result {
	p := r.URL.Path
	q := r.URL.Query()
	switch {
	case strings.HasPrefix(p, "/v2/businesses/"):
		id, okID := tailID(p, "/v2/businesses/")
		if r.Method != http.MethodGet || !okID {
			return methodOrNotFound(r.Method, okID)
		}
		return s.getBusiness(id)
	case p == pv.PathConnections:
		if r.Method != http.MethodGet {
			return methodNotAllowed()
		}
		return s.listConnections(tok, q)
	case strings.HasPrefix(p, pv.PathConnections):
		id, okID := tailID(p, pv.PathConnections)
		if !okID {
			return notFound()
		}
		switch r.Method {
		case http.MethodGet:
			return s.getConnection(tok, id)
		case http.MethodPatch, http.MethodPut:
			return s.patchConnection(tok, id, body)
		}
		return methodNotAllowed()
	case p == pv.PathExternalMembers:
		if r.Method != http.MethodPost {
			return methodNotAllowed()
		}
		return s.postExternalMember(tok, body)
	case p == pv.PathAgreementsView:
		if r.Method != http.MethodGet {
			return methodNotAllowed()
		}
		return s.agreementsView(tok, q)
	case p == pv.PathAgreementAcceptances:
		if r.Method != http.MethodPost {
			return methodNotAllowed()
		}
		return s.acceptAgreements(tok, body)
	}
	return notFound()
}

func methodNotAllowed() result {
	return errorResult(http.StatusMethodNotAllowed, "method_not_allowed", "__all__", "method_not_allowed", "Method not allowed.")
}

func methodOrNotFound(method string, found bool) result {
	if !found {
		return notFound()
	}
	return methodNotAllowed()
}

func tailID(path, prefix string) (int64, bool) {
	rest := strings.TrimPrefix(path, prefix)
	rest, slash := strings.CutSuffix(rest, "/")
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, slash && err == nil && id > 0
}

func (t *Token) has(scope string) bool { return slices.Contains(t.Scopes, scope) }

// admin reports whether the token is an admin staff member of the business.
func (t *Token) admin(business int64) bool {
	return t.has(pv.ScopeAdminCustomerInfo) && slices.Contains(t.StaffOf, business)
}

func (s *Sandbox) business() pv.Business {
	b := s.world.Business
	return pv.Business{BusinessID: b.BusinessID, Name: b.Name, PerkvilleURL: b.PerkvilleURL,
		ResourceURI: pv.BusinessPath(b.BusinessID)}
}

func (s *Sandbox) getBusiness(id int64) result {
	if id != s.world.Business.BusinessID {
		return notFound()
	}
	return ok(http.StatusOK, s.business())
}

func (s *Sandbox) connectionJSON(u *User) pv.Connection {
	c := u.Connection
	id, business := c.ConnectionID, s.world.Business.BusinessID
	if c.AnswerID != nil {
		id = *c.AnswerID
	}
	if c.Business != 0 {
		business = c.Business
	}
	return pv.Connection{ConnectionID: id, Business: pv.BusinessPath(business),
		User: pv.UserPath(u.UserID), Status: c.Status, ExternalMembershipStatus: c.ExternalMembershipStatus,
		LastModDT: c.LastModDT, ResourceURI: pv.ConnectionPath(id)}
}

// businessParam reads the required business filter.
func (s *Sandbox) businessParam(q url.Values) (int64, *result) {
	v := q.Get(pv.QueryBusiness)
	if v == "" {
		r := validation(pv.QueryBusiness, "required", "The business filter is required.")
		return 0, &r
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		r := validation(pv.QueryBusiness, "invalid", "Enter a whole number.")
		return 0, &r
	}
	return id, nil
}

func (s *Sandbox) listConnections(tok *Token, q url.Values) result {
	business, bad := s.businessParam(q)
	if bad != nil {
		return *bad
	}
	admin := tok.admin(business)
	if !admin && !tok.has(pv.ScopeUserCustomerInfo) {
		return forbidden("You are not an admin staff member of this business.")
	}
	limit, offset, bad := pageParams(q)
	if bad != nil {
		return *bad
	}
	var matches []pv.Connection
	if business == s.world.Business.BusinessID {
		matches = s.matchConnections(tok, admin, q)
	}
	total := len(matches)
	page := matches[min(offset, total):min(offset+limit, total)]
	meta := pv.ListMeta{Limit: limit, Offset: offset, TotalCount: total}
	if offset+limit < total || s.faults.f.NextLoop {
		nq := cloneValues(q)
		nq.Set(pv.QueryLimit, strconv.Itoa(limit))
		nq.Set(pv.QueryOffset, strconv.Itoa(offset+limit))
		if s.faults.f.NextLoop {
			nq.Set(pv.QueryOffset, strconv.Itoa(offset)) // the same page, forever
		}
		next := pv.PathConnections + "?" + nq.Encode()
		if h := s.faults.f.NextHost; h != "" {
			next = "http://" + h + next
		}
		meta.Next = &next
	}
	if offset > 0 {
		pq := cloneValues(q)
		pq.Set(pv.QueryLimit, strconv.Itoa(limit))
		pq.Set(pv.QueryOffset, strconv.Itoa(max(0, offset-limit)))
		prev := pv.PathConnections + "?" + pq.Encode()
		meta.Previous = &prev
	}
	if page == nil {
		page = []pv.Connection{}
	}
	return ok(http.StatusOK, pv.List[pv.Connection]{Meta: meta, Objects: page})
}

// pageParams reads limit and offset as the API validates them.
func pageParams(q url.Values) (limit, offset int, bad *result) {
	limit, offset = 20, 0
	if v := q.Get(pv.QueryLimit); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > pv.MaxPageLimit {
			r := validation(pv.QueryLimit, "invalid", fmt.Sprintf("limit must be 1 to %d.", pv.MaxPageLimit))
			return 0, 0, &r
		}
		limit = n
	}
	if v := q.Get(pv.QueryOffset); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			r := validation(pv.QueryOffset, "invalid", "offset must be 0 or more.")
			return 0, 0, &r
		}
		offset = n
	}
	return limit, offset, nil
}

// matchConnections finds the business's connections a listing asks for, in
// connection id order.
func (s *Sandbox) matchConnections(tok *Token, admin bool, q url.Values) []pv.Connection {
	var matches []pv.Connection
	var candidates []*User
	switch {
	case q.Has(pv.QueryUserID):
		id, _ := strconv.ParseInt(q.Get(pv.QueryUserID), 10, 64)
		if u := s.users[id]; u != nil {
			candidates = append(candidates, u)
		}
	case q.Has(pv.QueryEmail):
		if id, found := s.byEmail[strings.ToLower(strings.TrimSpace(q.Get(pv.QueryEmail)))]; found {
			candidates = append(candidates, s.users[id])
		}
	default:
		for _, u := range s.users {
			candidates = append(candidates, u)
		}
	}
	status := q.Get(pv.QueryStatus)
	for _, u := range candidates {
		if u.Connection == nil || (status != "" && u.Connection.Status != status && !s.world.Business.ListingIgnoresStatus) {
			continue
		}
		// A user token sees its own connection only [doc].
		if !admin && u.UserID != tok.UserID {
			continue
		}
		matches = append(matches, s.connectionJSON(u))
	}
	slices.SortFunc(matches, func(a, b pv.Connection) int { return int(a.ConnectionID - b.ConnectionID) })
	return matches
}

func cloneValues(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = slices.Clone(v)
	}
	return c
}

func (s *Sandbox) connectionFor(tok *Token, id int64) (*User, *result) {
	uid, found := s.byConn[id]
	if !found {
		r := notFound()
		return nil, &r
	}
	u := s.users[uid]
	if !tok.admin(s.world.Business.BusinessID) && !(tok.has(pv.ScopeUserCustomerInfo) && tok.UserID == uid) {
		r := forbidden("You may not read or change this connection.")
		return nil, &r
	}
	return u, nil
}

func (s *Sandbox) getConnection(tok *Token, id int64) result {
	u, bad := s.connectionFor(tok, id)
	if bad != nil {
		return *bad
	}
	return ok(http.StatusOK, s.connectionJSON(u))
}

func (s *Sandbox) patchConnection(tok *Token, id int64, body []byte) result {
	u, bad := s.connectionFor(tok, id)
	if bad != nil {
		return *bad
	}
	var in struct {
		Status *string `json:"status"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return validation("__all__", "parse_error", "The body is not JSON.")
	}
	if in.Status == nil {
		return ok(http.StatusOK, s.connectionJSON(u))
	}
	c := u.Connection
	if s.faults.f.UnappliedJoins {
		return ok(http.StatusOK, s.connectionJSON(u)) // 200, and nothing changed
	}
	if c.FailWrites {
		return errorResult(http.StatusInternalServerError, "server_error", "__all__", "server_error", "Internal error.")
	}
	switch *in.Status {
	case pv.StatusActive:
		if c.Status == pv.StatusActive {
			return ok(http.StatusOK, s.connectionJSON(u)) // no-op [doc]
		}
		if s.world.Business.RequiresActiveMembership && c.ExternalMembershipStatus != pv.StatusActive {
			return validation("status", pv.CodeMembershipNotActive, "Membership is not active.")
		}
		if missing := s.unaccepted(u); len(missing) > 0 {
			return validation("status", pv.CodeAgreementRequired, "Agreement terms must be accepted.")
		}
	case pv.StatusInactive:
		if c.Status == pv.StatusInactive {
			return ok(http.StatusOK, s.connectionJSON(u))
		}
	default:
		return validation("status", "invalid_choice", "Only ACTIVE and INACTIVE may be written.")
	}
	c.Status = *in.Status
	c.LastModDT = s.now().UTC().Format("2006-01-02T15:04:05")
	return result{status: http.StatusOK, body: s.connectionJSON(u), applied: true}
}

// unaccepted lists the join-flow agreements the user has not accepted.
func (s *Sandbox) unaccepted(u *User) []int64 {
	var out []int64
	for _, a := range s.world.Business.Agreements {
		if a.ApplyToJoinFlow && !slices.ContainsFunc(u.AcceptedAgreements, func(x Accepted) bool { return x.AgreementID == a.AgreementID }) {
			out = append(out, a.AgreementID)
		}
	}
	return out
}
