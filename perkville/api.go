// This file holds every wire shape the tool depends on: paths, query
// parameters, JSON objects, status values and error codes. Each is tagged as
// in docs/perkville-api.md: [doc] from Perkville's public documentation,
// [seen] from public client code, [assumed] unpublished. When Perkville
// confirms or corrects an assumed shape, this is the one file to change; the
// sandbox (internal/sandbox) uses the same definitions so the two cannot drift.

package perkville

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Connection statuses. Only ACTIVE and INACTIVE may be written [doc];
// PENDING and IMPORTED are read-only states of a customer who has not joined
// [assumed values].
const (
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
	StatusPending  = "PENDING"
	StatusImported = "IMPORTED"
)

// Join validation codes [doc].
const (
	CodeMembershipNotActive = "pv_connection_membership_not_active"
	CodeAgreementRequired   = "pv_agreement_required"
)

// Customer-safe copy for the join codes [doc]. {business.perkville_url} is
// replaced by the business's program site.
const (
	MessageMembershipNotActive = "Your membership is not active. Please contact the business for help."
	MessageAgreementRequired   = "Please review and accept the required terms to join at {business.perkville_url}"
)

// Paths. Every resource is under /v2/ [doc].
const (
	PathConnections          = "/v2/connections/"
	PathExternalMembers      = "/v2/external-members/"            // [assumed]
	PathAgreementsView       = "/v2/agreements-view/"             // [doc]
	PathAgreementAcceptances = "/v2/batch/agreement-acceptances/" // [assumed]
	pathBusinesses           = "/v2/businesses/"
	pathUsers                = "/v2/users/"
)

// MaxPageLimit is the largest page the list endpoints serve [seen].
const MaxPageLimit = 1000

// BusinessPath is the path of one business [seen].
func BusinessPath(id int64) string { return pathBusinesses + strconv.FormatInt(id, 10) + "/" }

// ConnectionPath is the path of one connection [doc].
func ConnectionPath(id int64) string { return PathConnections + strconv.FormatInt(id, 10) + "/" }

// UserPath is the resource URI of a user, as related objects name them [seen].
func UserPath(id int64) string { return pathUsers + strconv.FormatInt(id, 10) + "/" }

// ExternalMemberPath is the resource URI of an external member record [assumed].
func ExternalMemberPath(id int64) string {
	return PathExternalMembers + strconv.FormatInt(id, 10) + "/"
}

// Query parameters of the connection list [doc] and agreements view [doc].
const (
	QueryBusiness        = "business"
	QueryUserID          = "user_id"
	QueryEmail           = "user__emails__email"
	QueryStatus          = "status"
	QueryLimit           = "limit"
	QueryOffset          = "offset"
	QueryApplyToJoinFlow = "apply_to_join_flow"
)

// Business is GET /v2/businesses/{id}/ [seen]. PerkvilleURL is [assumed].
type Business struct {
	BusinessID   int64  `json:"business_id"`
	Name         string `json:"name"`
	PerkvilleURL string `json:"perkville_url"`
	ResourceURI  string `json:"resource_uri"`
}

// Connection is a customer's membership in one business's program [seen].
type Connection struct {
	ConnectionID             int64  `json:"connection_id"`
	Business                 string `json:"business"`
	User                     string `json:"user"`
	Status                   string `json:"status"`
	ExternalMembershipStatus string `json:"external_membership_status"`
	LastModDT                string `json:"last_mod_dt"`
	ResourceURI              string `json:"resource_uri"`

	shape shapeProblems // needed fields the answer lacked (shape.go)
}

// UserID parses the user id from the connection's user URI.
func (c Connection) UserID() (int64, error) { return IDFromURI(c.User) }

// ListMeta is the envelope of every list answer [seen].
type ListMeta struct {
	Limit      int     `json:"limit"`
	Offset     int     `json:"offset"`
	Next       *string `json:"next"`
	Previous   *string `json:"previous"`
	TotalCount int     `json:"total_count"`
}

// List is a page of a list endpoint [seen].
type List[T any] struct {
	Meta    ListMeta `json:"meta"`
	Objects []T      `json:"objects"`
}

// ActivateRequest is the PATCH body that joins a customer [doc that status is
// set; method and body assumed].
type ActivateRequest struct {
	Status string `json:"status"`
}

// NewExternalMember is the POST /v2/external-members/ body. The first four
// fields are [doc]; the optional ones are [assumed]. The dates are ISO 8601
// (YYYY-MM-DD, or a date-time with its zone).
type NewExternalMember struct {
	Business         int64  `json:"business"`
	ExternalSystemID string `json:"external_system_id"`
	ExternalMemberID string `json:"external_member_id"`
	UserEmail        string `json:"user_email"`
	MembershipStatus string `json:"membership_status,omitempty"`
	MembershipType   string `json:"membership_type,omitempty"`
	FirstName        string `json:"first_name,omitempty"`
	LastName         string `json:"last_name,omitempty"`
	HomeLocation     string `json:"home_location,omitempty"` // the member's home club or site
	JoinDate         string `json:"join_date,omitempty"`     // member since: new-member challenges
	CancelDate       string `json:"cancel_date,omitempty"`   // an inactive member's end: point expiry
}

// AdminProbe is the body of the admin probe [assumed]: a POST to
// PathExternalMembers naming only the business. It lacks the required
// fields, so it cannot create anything: the API answers an admin staff
// member of the business 400 (validation: a required field is missing) and
// anyone else 403, the scope check coming before validation.
type AdminProbe struct {
	Business int64 `json:"business"`
}

// ExternalMember is the answer to the create: 201 created, 200 updated [doc].
type ExternalMember struct {
	ExternalMemberID string `json:"external_member_id"`
	ExternalSystemID string `json:"external_system_id"`
	User             string `json:"user"`
	Connection       string `json:"connection"`
	ResourceURI      string `json:"resource_uri"`
}

// Agreement is one object of the agreements view [fields assumed]. Version
// is text: Perkville's agreement settings call it "a human-readable
// version, e.g. v1.0" [doc], where the tool once assumed a number.
type Agreement struct {
	AgreementID int64  `json:"agreement_id"`
	Title       string `json:"title"`
	Version     string `json:"version"`
	Accepted    bool   `json:"accepted"`
	Text        string `json:"text"`

	shape shapeProblems // needed fields the answer lacked (shape.go)
}

// AgreementAcceptance records one customer's own consent [assumed shape].
type AgreementAcceptance struct {
	AgreementID int64  `json:"agreement_id"`
	UserID      int64  `json:"user_id"`
	AcceptedDT  string `json:"accepted_dt"`
}

// AcceptanceBatch is the body of the batch endpoint, request and answer [assumed].
type AcceptanceBatch[T any] struct {
	Objects []T `json:"objects"`
}

// MaxAcceptanceBatch is the most items the tool puts in one batch of
// acceptances [assumed: Perkville publishes no limit; 100 items is a body of
// about 8 KB, a tenth of the 1000 a list page may hold, and small enough
// that a batch lost to a timeout is cheap to send again].
const MaxAcceptanceBatch = 100

// AcceptanceResult is one item of the batch answer [assumed].
type AcceptanceResult struct {
	AgreementID int64  `json:"agreement_id"`
	UserID      int64  `json:"user_id"`
	Status      string `json:"status"` // "accepted" or "error"
	Code        string `json:"code,omitempty"`
	Message     string `json:"message,omitempty"`
}

// Acceptance item statuses [assumed].
const (
	AcceptanceAccepted = "accepted"
	AcceptanceError    = "error"
)

// ErrorBody is the shape of an error answer [doc for codes; shape assumed]:
// {"error_type": "...", "errors": {"field": [{"code": "...", "message": "..."}]}}.
// Clients must not rely on it: codes are searched anywhere in the body.
type ErrorBody struct {
	ErrorType string                   `json:"error_type"`
	Errors    map[string][]ErrorDetail `json:"errors"`
}

// ErrorDetail is one entry of ErrorBody.Errors.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// Error types [seen/assumed].
const (
	ErrorTypeValidation = "validation_error"
	ErrorTypeOAuth      = "oauth_error"
	CodeInvalidToken    = "invalid_token"
)

// Scopes [doc].
const (
	ScopeUserCustomerInfo  = "USER_CUSTOMER_INFO"
	ScopeAdminCustomerInfo = "ADMIN_CUSTOMER_INFO"
)

// IDFromURI returns the trailing numeric id of a resource URI such as
// "/v2/users/3106882/" (or a full URL of one).
func IDFromURI(uri string) (int64, error) {
	if uri == "" {
		return 0, fmt.Errorf("perkville: empty resource URI")
	}
	p := uri
	// A bare path, as the API answers them, needs no URL parser.
	if !strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, "?#%") {
		if u, err := url.Parse(uri); err == nil {
			p = u.Path
		}
	}
	p = strings.TrimSuffix(p, "/")
	i := strings.LastIndexByte(p, '/')
	id, err := strconv.ParseInt(p[i+1:], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("perkville: no id in resource URI %q", uri)
	}
	return id, nil
}
