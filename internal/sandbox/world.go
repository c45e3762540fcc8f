package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// World is the sandbox's state, loaded from and dumped to JSON.
type World struct {
	Business        BusinessSeed     `json:"business"`
	Tokens          []Token          `json:"tokens"`
	Users           []User           `json:"users"`
	ExternalMembers []ExternalMember `json:"external_members,omitempty"`
	OAuthClients    []OAuthClient    `json:"oauth_clients,omitempty"`
	// Shapes: the answers the API's documentation leaves open (shapes.go).
	Shapes Shapes `json:"shapes,omitzero"`
}

// BusinessSeed is the business with the settings the API does not show.
type BusinessSeed struct {
	BusinessID               int64           `json:"business_id"`
	Name                     string          `json:"name"`
	PerkvilleURL             string          `json:"perkville_url"`
	RequiresActiveMembership bool            `json:"requires_active_membership"`
	Agreements               []AgreementSeed `json:"agreements,omitempty"`
	// Sandbox-only, to play a server that does not hold to what it is
	// asked: ListingIgnoresStatus answers a listing's every connection
	// whatever its status filter; UpsertsIgnoreMembership answers an
	// external-member upsert as usual and keeps the membership fields as
	// they were; CreateAnswersWithoutConnection leaves "connection" (and
	// "user") out of the external-member answer.
	ListingIgnoresStatus           bool `json:"listing_ignores_status,omitempty"`
	UpsertsIgnoreMembership        bool `json:"upserts_ignore_membership,omitempty"`
	CreateAnswersWithoutConnection bool `json:"create_answers_without_connection,omitempty"`
}

// AgreementSeed is one of the business's agreements.
type AgreementSeed struct {
	AgreementID     int64  `json:"agreement_id"`
	Title           string `json:"title"`
	Version         int    `json:"version"`
	Text            string `json:"text"`
	ApplyToJoinFlow bool   `json:"apply_to_join_flow"`
}

// Token is a bearer token the sandbox accepts and what it may do.
type Token struct {
	Token   string   `json:"token"`
	Name    string   `json:"name,omitempty"` // shown in the request log instead of the token
	UserID  int64    `json:"user_id"`
	Scopes  []string `json:"scopes"`
	StaffOf []int64  `json:"staff_of,omitempty"` // businesses whose admin staff this user is
	// Username and Password get this token from the token endpoint
	// (oauth.go), with one of the world's OAuthClients.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// OAuthClient is an application registered for the password grant.
type OAuthClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// User is a Perkville user, with at most one connection to the business.
type User struct {
	UserID             int64       `json:"user_id"`
	Emails             []string    `json:"emails"`
	FirstName          string      `json:"first_name,omitempty"`
	LastName           string      `json:"last_name,omitempty"`
	AcceptedAgreements []Accepted  `json:"accepted_agreements,omitempty"`
	Connection         *Connection `json:"connection,omitempty"`
	// RefuseAcceptances is sandbox-only: a batch of acceptances answers an
	// error item for this user, so one batch holds mixed results.
	RefuseAcceptances bool `json:"refuse_acceptances,omitempty"`
}

// Accepted records one accepted agreement.
type Accepted struct {
	AgreementID int64  `json:"agreement_id"`
	AcceptedDT  string `json:"accepted_dt,omitempty"`
}

// Connection is the user's connection to the business.
type Connection struct {
	ConnectionID             int64  `json:"connection_id"`
	Status                   string `json:"status"`
	ExternalMembershipStatus string `json:"external_membership_status,omitempty"`
	LastModDT                string `json:"last_mod_dt,omitempty"`
	// FailWrites is sandbox-only: every write to this connection answers
	// 500, as a record stuck in a broken state on the server would.
	FailWrites bool `json:"fail_writes,omitempty"`
	// Sandbox-only, to play a server that answers what was not asked:
	// Business is the business named in this connection's answers (another
	// one than the world's, when not 0); AnswerID the connection_id
	// answered (0 or -5, say) in place of the real one.
	Business int64  `json:"business,omitempty"`
	AnswerID *int64 `json:"answer_id,omitempty"`
}

// ExternalMember is a record created through POST /v2/external-members/.
type ExternalMember struct {
	ID               int64  `json:"id"`
	ExternalSystemID string `json:"external_system_id"`
	ExternalMemberID string `json:"external_member_id"`
	UserID           int64  `json:"user_id"`
	MembershipStatus string `json:"membership_status,omitempty"`
	MembershipType   string `json:"membership_type,omitempty"`
	HomeLocation     string `json:"home_location,omitempty"`
	JoinDate         string `json:"join_date,omitempty"`
	CancelDate       string `json:"cancel_date,omitempty"`
	Created          int    `json:"created"` // POSTs that created it: more than 1 is a bug
	Updated          int    `json:"updated"` // POSTs that updated it
	// MatchesAnyEmail is sandbox-only: an upsert of this member id lands on
	// this record, and answers its customer's connection, whatever email
	// it names (a server that keys the upsert on the member id alone).
	MatchesAnyEmail bool `json:"matches_any_email,omitempty"`
}

// LoadWorld reads a world file.
func LoadWorld(path string) (*World, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w, err := ReadWorld(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// ReadWorld decodes and checks a world.
func ReadWorld(r io.Reader) (*World, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var w World
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	return &w, w.check()
}

func (w *World) check() error {
	if w.Business.BusinessID <= 0 {
		return fmt.Errorf("world: business.business_id is required")
	}
	if len(w.Tokens) == 0 {
		return fmt.Errorf("world: at least one token is required")
	}
	seenUser := map[int64]bool{}
	seenEmail := map[string]bool{}
	seenConn := map[int64]bool{}
	for _, u := range w.Users {
		if u.UserID <= 0 || seenUser[u.UserID] {
			return fmt.Errorf("world: user_id %d is missing or repeated", u.UserID)
		}
		seenUser[u.UserID] = true
		for _, e := range u.Emails {
			k := strings.ToLower(e)
			if seenEmail[k] {
				return fmt.Errorf("world: email %s belongs to two users", e)
			}
			seenEmail[k] = true
		}
		if c := u.Connection; c != nil {
			if c.ConnectionID <= 0 || seenConn[c.ConnectionID] {
				return fmt.Errorf("world: connection_id %d of user %d is missing or repeated", c.ConnectionID, u.UserID)
			}
			seenConn[c.ConnectionID] = true
			if !slices.Contains([]string{"ACTIVE", "INACTIVE", "PENDING", "IMPORTED"}, c.Status) {
				return fmt.Errorf("world: connection %d has status %q", c.ConnectionID, c.Status)
			}
		}
	}
	return nil
}

// Clone deep-copies the world.
func (w *World) Clone() *World {
	b, err := json.Marshal(w)
	if err != nil {
		panic(err)
	}
	var c World
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &c
}
